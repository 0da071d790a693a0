"""The registry of the site's sections: the header's navigation and the home page's cards.

Each app registers its section in its ``AppConfig.ready()``:

    navigation_register(
        "stories", label=gettext_lazy("Stories"), url_name="stories:index", order=10,
        description=gettext_lazy("Tell your story about a service and get an answer in public."),
    )

* ``label`` names the section in the header and on its home page card (lazy, so that it is
  read in each request's language);
* ``url_name`` is the URL name of its landing page; the header marks the section as current
  for every page under that address;
* ``order`` places it (lowest first; ties by name);
* ``description`` is the sentence on the home page card; a section without one has no card;
* ``built`` is False for a module whose landing page says "coming soon": it is listed all the
  same (the landing pages exist), the flag is there for pages that list finished modules only.

Registering the same name twice replaces the earlier entry, so reloading a module is safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NavigationEntry:
    name: str
    label: Any  # a lazy translation: str() it in the request's language
    url_name: str
    order: int = 100
    description: Any = ""
    built: bool = True


_entries: dict[str, NavigationEntry] = {}


def navigation_register(
    name: str, *, label: Any, url_name: str, order: int = 100, description: Any = "", built: bool = True
) -> None:
    """Add (or replace) the section ``name`` in the header and, with a description, on the home page."""
    _entries[name] = NavigationEntry(
        name=name, label=label, url_name=url_name, order=order, description=description, built=built
    )


def navigation_unregister(name: str) -> None:
    """Take the section ``name`` away (for tests, and for a deployment that leaves a module out)."""
    _entries.pop(name, None)


def navigation_entries() -> list[NavigationEntry]:
    """Every registered section, by ``order`` then name."""
    return sorted(_entries.values(), key=lambda entry: (entry.order, entry.name))
