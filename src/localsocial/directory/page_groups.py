"""The group of cached public pages the directory's data appears on (core.page_cache).

``directory``: the directory's own pages and every page that names an organisation, a service
or an area (story lists and pages, circle pages …).  The directory's services call
``directory_pages_changed()`` after any change to what those pages show.
"""

from __future__ import annotations

from localsocial.core.page_cache import pages_changed

DIRECTORY_PAGES = "directory"


def directory_pages_changed() -> None:
    pages_changed(DIRECTORY_PAGES)
