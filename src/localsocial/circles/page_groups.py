"""The group of cached public pages the circles module's data appears on (core.page_cache).

``circles``: the list of circles and each circle's public page (its name, area, bundles on
sale and partners).  Services that change those call ``circle_pages_changed()``.
"""

from __future__ import annotations

from localsocial.core.page_cache import pages_changed

CIRCLE_PAGES = "circles"


def circle_pages_changed() -> None:
    pages_changed(CIRCLE_PAGES)
