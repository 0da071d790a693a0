"""The registry of open datasets, listed on /open-data/.

A module (or the directory) registers each dataset it publishes in its ``AppConfig.ready()``:

    dataset_register(
        "stories", title=gettext_lazy("Stories"), description=gettext_lazy("Every published story."),
        licence=OGL_V3, about_url_name="stories:open_data",
        formats=[DatasetFormat("CSV", "stories:open_data_csv"), DatasetFormat("JSON", "stories:open_data_json")],
    )

Each format names the URL (without arguments) that downloads it; ``about_url_name``, if given,
is a page that explains the fields.  Every dataset must be public: anyone may download it
without signing in.  Registering the same name twice replaces the earlier dataset, so
reloading a module is safe.  (A DCAT catalogue, when Insight builds one, reads this registry.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Licence:
    name: str
    url: str


OGL_V3 = Licence("Open Government Licence v3.0", "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/")


@dataclass(frozen=True)
class DatasetFormat:
    label: str  # "CSV", "JSON"
    url_name: str
    media_type: str = ""


@dataclass(frozen=True)
class Dataset:
    name: str
    title: Any  # lazy translations
    description: Any
    licence: Licence
    formats: tuple[DatasetFormat, ...] = field(default_factory=tuple)
    about_url_name: str = ""
    order: int = 100


_datasets: dict[str, Dataset] = {}


def dataset_register(
    name: str, *, title: Any, description: Any, formats: Sequence[DatasetFormat], licence: Licence = OGL_V3,
    about_url_name: str = "", order: int = 100,
) -> None:
    """Add (or replace) the dataset ``name``."""
    _datasets[name] = Dataset(
        name=name, title=title, description=description, licence=licence, formats=tuple(formats),
        about_url_name=about_url_name, order=order,
    )


def datasets() -> list[Dataset]:
    """Every registered dataset, by ``order`` then name."""
    return sorted(_datasets.values(), key=lambda dataset: (dataset.order, dataset.name))
