"""Reads for the stories API (``stories.api``): published stories, their responses and tags,
each a fixed number of queries whatever the filters or the page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db.models import BooleanField, Prefetch, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone

from localsocial.core.pagination import KeysetPage, keyset_paginate
from localsocial.core.search import search_parse
from localsocial.directory.models import GSS_RE, Area, Organisation, Service
from localsocial.stories.models import (
    ListingScope,
    Progress,
    Response,
    ResponseStatus,
    Story,
    StoryListing,
    StoryService,
    StoryStatus,
    Tag,
)
from localsocial.stories.models.story import PUBLIC_STATUSES
from localsocial.stories.selectors.reading import STORY_SEARCH

STORY_ORDERING = ("-published_at", "-story_id")
RESPONSE_ORDERING = ("published_at", "id")
TAG_ORDERING = ("name", "id")
# Most selective first: the list a filtered request walks; the other filters narrow it.
_SCOPE_PRIORITY = (ListingScope.SERVICE, ListingScope.ORGANISATION, ListingScope.TAG, ListingScope.AREA)


def stories_with_links() -> QuerySet[Story]:
    """Stories with their services (and organisations) and tags to prefetch: the public
    shape's needs (``stories.representations``)."""
    return Story.objects.prefetch_related(
        Prefetch(
            "story_services",
            queryset=StoryService.objects.select_related("service__organisation").order_by("position"),
        ),
        "tags",
    )


@dataclass
class StoryListFilters:
    """Filters already resolved to ids (``story_list_filters_for_api`` turns slugs and codes
    into these)."""

    scopes: dict[str, int]  # ListingScope → id, at most one of each
    progress: int | None = None
    published_from: datetime | None = None
    published_until: datetime | None = None
    story_ids: QuerySet[Any] | None = None  # a full-text match, as a subquery
    raw_condition: Any = None  # or a boolean SQL expression on the listing row (a full-text check)


def story_page_for_api(*, filters: StoryListFilters, cursor: str | None, page_size: int) -> KeysetPage[Any]:
    """Published stories, newest first, as ``KeysetPage`` whose items are Story objects with
    services, organisations and tags loaded: four queries whatever the filters or the page.

    The page is read from ``StoryListing`` (one row per published story per list), walking the
    most selective list's index; the other lists narrow it with ``story_id IN (…)``."""
    chosen = next((scope for scope in _SCOPE_PRIORITY if scope in filters.scopes), None)
    if chosen is None:
        rows = StoryListing.objects.filter(scope=ListingScope.ALL, scope_id=0)
    else:
        rows = StoryListing.objects.filter(scope=chosen, scope_id=filters.scopes[chosen])
    for scope, scope_id in filters.scopes.items():
        if scope != chosen:
            rows = rows.filter(
                story_id__in=StoryListing.objects.filter(scope=scope, scope_id=scope_id).values("story_id")
            )
    if filters.progress is not None:
        rows = rows.filter(progress=filters.progress)
    if filters.published_from is not None:
        rows = rows.filter(published_at__gte=filters.published_from)
    if filters.published_until is not None:
        rows = rows.filter(published_at__lt=filters.published_until)
    if filters.story_ids is not None:
        rows = rows.filter(story_id__in=filters.story_ids)
    if filters.raw_condition is not None:
        rows = rows.alias(matches=filters.raw_condition).filter(matches=True)
    page = keyset_paginate(
        rows.only("story", "published_at"), ordering=STORY_ORDERING, cursor=cursor, page_size=page_size
    )
    ids = [row.story_id for row in page.items]
    stories = {story.pk: story for story in stories_with_links().filter(pk__in=ids)} if ids else {}
    # A story unpublished between the two reads is left out rather than shown.
    page.items = [stories[pk] for pk in ids if pk in stories and stories[pk].status == StoryStatus.PUBLISHED]
    return page


def story_get_for_api(*, story_id: int) -> Story:
    """A story the public may know of (published, or the stub of a restricted or withdrawn
    one) with its services and tags; Http404 for any other (pending, held, rejected …), so
    that nobody can tell those from ids never used.  Three queries."""
    story = stories_with_links().filter(pk=story_id, status__in=PUBLIC_STATUSES).first()
    if story is None:
        raise Http404(f"There is no public story with the id {story_id}.")
    return story


def story_responses_for_api(*, story: Story, cursor: str | None, page_size: int) -> KeysetPage[Any]:
    """The published responses to ``story``, oldest first; none for a stub.  One query."""
    responses = Response.objects.filter(story=story, status=ResponseStatus.PUBLISHED).select_related("organisation")
    if story.status != StoryStatus.PUBLISHED:
        responses = responses.none()
    return keyset_paginate(responses, ordering=RESPONSE_ORDERING, cursor=cursor, page_size=page_size)


def tag_page_for_api(*, polarity: str | None, cursor: str | None, page_size: int) -> KeysetPage[Any]:
    """Tags offered to authors, by name.  One query."""
    tags = Tag.objects.filter(is_active=True)
    if polarity:
        tags = tags.filter(polarity=polarity)
    return keyset_paginate(tags, ordering=TAG_ORDERING, cursor=cursor, page_size=page_size)


def story_get_submitted(*, story_id: int) -> Story | None:
    """Any story by id, whatever its state (what an API request made, found again for a
    retry with the same Idempotency-Key), or None.  One query."""
    return Story.objects.filter(pk=story_id).first()


# --- Filters of the story list ---------------------------------------------------------------

# Full-text matches up to this many are fetched as a list of ids; beyond it the list's own
# index is walked and each row checked against the search index.
SEARCH_ID_LIMIT = 1000


class StoryFilterError(ValueError):
    """A filter that cannot be used; the message says why, for the person who sent it."""


def _blank(value: str | None) -> str | None:
    # "?service=" from a form left blank means no filter.
    return value.strip() if value and value.strip() else None


def _scope_id(model: Any, name: str, field: str, value: str | None) -> int | None:
    value = _blank(value)
    if value is None:
        return None
    found = model.objects.filter(**{field: value}).values_list("pk", flat=True).first()
    if found is None:
        raise StoryFilterError(f"{name}: there is nothing with the {field} '{value}'.")
    return int(found)


def _day_start(value: str | None, name: str) -> datetime | None:
    """The start of the day ``value`` (YYYY-MM-DD) in UK time; None for no value."""
    if not value:
        return None
    try:
        return timezone.make_aware(datetime.combine(date.fromisoformat(value), time.min))
    except (OverflowError, ValueError) as exc:
        raise StoryFilterError(f"{name} is not a real date: use YYYY-MM-DD, like 2026-03-31.") from exc


def _search_condition(q: str | None) -> dict[str, Any]:
    """Filters on StoryListing for a full-text search: a list of matching ids when the words
    are rare, else a per-row check while walking the list's index."""
    text = _blank(q)
    if text is None:
        return {}
    query = search_parse(text)
    if not query.has_positive_terms:
        raise StoryFilterError("q needs at least one word to look for (letters or numbers).")
    ids = STORY_SEARCH.match_ids(query, limit=SEARCH_ID_LIMIT)
    if ids is not None:
        return {"ids": ids}
    table = StoryListing._meta.db_table
    sql, params = STORY_SEARCH.row_matches_sql(query, id_reference=f"{table}.story_id")
    return {"raw": RawSQL(sql, params, output_field=BooleanField())}  # noqa: S611 -- built from parameters only


def story_list_filters_for_api(
    *,
    organisation: str | None = None,
    service: str | None = None,
    tag: str | None = None,
    area: str | None = None,
    progress: str | None = None,
    published_after: str | None = None,
    published_before: str | None = None,
    q: str | None = None,
) -> StoryListFilters:
    """The list's filters as the API receives them (slugs, a GSS code, a progress name,
    YYYY-MM-DD dates, search words; blank means no filter) resolved to ids: one query per
    slug or code given, and one for rare search words.  Raises StoryFilterError, saying
    which filter and why, for one that names nothing or cannot be read."""
    scopes: dict[str, int] = {}
    service_id = _scope_id(Service, "service", "slug", service)
    if service_id is not None:
        scopes[ListingScope.SERVICE] = service_id
    organisation_id = _scope_id(Organisation, "organisation", "slug", organisation)
    if organisation_id is not None:
        scopes[ListingScope.ORGANISATION] = organisation_id
    tag_id = _scope_id(Tag, "tag", "slug", tag)
    if tag_id is not None:
        scopes[ListingScope.TAG] = tag_id
    area = _blank(area)
    if area is not None:
        if not re.match(GSS_RE, area.upper()):
            raise StoryFilterError("area is not valid: expected an ONS GSS code like E09000028.")
        area_id = _scope_id(Area, "area", "gss_code", area.upper())
        assert area_id is not None
        scopes[ListingScope.AREA] = area_id
    search = _search_condition(q)
    story_ids = None
    if "ids" in search:
        story_ids = Story.objects.filter(pk__in=search["ids"] or [0]).values("pk")
    return StoryListFilters(
        scopes=scopes,
        progress=Progress[progress.upper()].value if progress else None,
        published_from=_day_start(published_after, "published_after"),
        published_until=_day_start(published_before, "published_before"),
        story_ids=story_ids,
        raw_condition=search.get("raw"),
    )


def submission_ids_for_slugs(
    *, service_slugs: list[str], tag_slugs: list[str]
) -> tuple[dict[str, int], dict[str, int]]:
    """The ids of the services and of the active tags with these slugs, by slug (slugs that
    name nothing are left out): what a story sent through the API is about.  Two queries."""
    services = dict(Service.objects.filter(slug__in=service_slugs).values_list("slug", "pk"))
    tags = dict(Tag.objects.filter(slug__in=tag_slugs, is_active=True).values_list("slug", "pk"))
    return services, tags
