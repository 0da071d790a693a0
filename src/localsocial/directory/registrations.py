"""The directory's entries in the platform's registries: its section of the site, its search
source and its open data.  ``register()`` is called from ``DirectoryConfig.ready()``."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from localsocial.core.navigation import navigation_register
from localsocial.core.open_data import DatasetFormat, dataset_register
from localsocial.core.search_sources import SearchHit, search_source_register

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from localsocial.accounts.models import User


def directory_search_hits(query: str, limit: int, user: User | AnonymousUser) -> list[SearchHit]:
    """Organisations and services whose names have every word (or whose code or postcode
    matches), by name.  One query."""
    from localsocial.directory.selectors import directory_search

    page = directory_search(query=query, kind="all", cursor=None, page_size=limit)
    return [SearchHit(title=item.name, url=item.url, snippet=item.context) for item in page.items]


def _directory_search_url(query: str) -> str:
    return reverse("directory:search") + "?" + urlencode({"q": query})


def register() -> None:
    navigation_register(
        "directory", label=_("Directory"), url_name="directory:index", order=70,
        description=_("Find councils, NHS bodies, charities and the services they run."),
    )
    search_source_register(
        "directory", label=_("Organisations and services"), fn=directory_search_hits, order=90,
        more_url=_directory_search_url,
    )
    dataset_register(
        "directory", title=_("Organisations and services"), order=90,
        description=_(
            "Every organisation in the directory (with its place in its organisation, its ONS, NHS "
            "and charity codes and the areas it serves), every service it runs, and the areas, "
            "in the format the directory imports. Contact email addresses and phone numbers are "
            "left out."
        ),
        formats=[DatasetFormat("CSV", "directory:open_data_csv", "text/csv")],
    )
