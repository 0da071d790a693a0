"""The groups of cached public pages the stories module's data appears on (core.page_cache).

* ``stories``: every list of stories (all, by organisation, service, tag and area) and the feeds;
* ``story:<id>``: that story's own page.

A service that changes what a visitor sees calls ``story_pages_changed(story_id=…)``; the pages
are out of date at once and again when its transaction commits.  Tags are only ever added
(a moderator's accepted suggestion refreshes its story); a tag renamed in the admin site makes
every page out of date (``core.page_cache.all_pages_changed``).
"""

from __future__ import annotations

from localsocial.core.page_cache import pages_changed

STORY_LISTS = "stories"


def story_page_group(story_id: int) -> str:
    return f"story:{story_id}"


def story_pages_changed(*, story_id: int) -> None:
    """The story's page and every list are out of date (it was published, edited, answered,
    hidden, withdrawn, restricted or erased; its counts or progress moved)."""
    pages_changed(STORY_LISTS, story_page_group(story_id))


def stories_pages_changed(*, story_ids: list[int]) -> None:
    """As ``story_pages_changed`` for several stories at once."""
    if story_ids:
        pages_changed(STORY_LISTS, *(story_page_group(story_id) for story_id in story_ids))

