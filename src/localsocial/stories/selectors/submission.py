"""Reads for telling a story and for the author's private page.  Each returns everything its
page needs in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from localsocial.directory.models import Service
from localsocial.directory.selectors import SEARCH_QUERYSET_ORDERING, service_queryset_search
from localsocial.stories.models import Story, StoryService, Tag, TagPolarity
from localsocial.stories.models.story import CROSS_AUTHOR_DUPLICATE_DAYS, MAX_SERVICES
from localsocial.stories.selectors.common import secret_hash

SERVICE_RESULTS_SHOWN = 25


# --- Choosing services ------------------------------------------------------------------------

@dataclass
class ServiceChoice:
    chosen: list[Service]
    results: list[Service]
    more: bool  # there were more results than shown
    unknown_ids: bool  # some chosen ids were not (or no longer) active services


def services_for_telling(*, query: str, chosen_ids: Iterable[Any]) -> ServiceChoice:
    """The services already chosen (in the order chosen) and, when there is a query, the
    active services matching it, best first, as the directory search finds and ranks them
    (name words, the last one also as the start of a word; ODS code or postcode), the chosen
    ones left out.  Two queries at most."""
    ids: list[int] = []
    for value in chosen_ids:
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        if number not in ids:
            ids.append(number)
    ids = ids[:MAX_SERVICES]
    chosen: list[Service] = []
    if ids:
        found = {s.pk: s for s in Service.objects.filter(pk__in=ids, is_active=True).select_related("organisation")}
        chosen = [found[i] for i in ids if i in found]
    results: list[Service] = []
    more = False
    query = (query or "").strip()
    if query:
        queryset = (
            service_queryset_search(Service.objects.filter(is_active=True), query)
            .exclude(pk__in=ids)
            .select_related("organisation")
            .order_by(*SEARCH_QUERYSET_ORDERING)
        )
        results = list(queryset[: SERVICE_RESULTS_SHOWN + 1])
        more = len(results) > SERVICE_RESULTS_SHOWN
        results = results[:SERVICE_RESULTS_SHOWN]
    return ServiceChoice(chosen=chosen, results=results, more=more, unknown_ids=len(chosen) != len(ids))


def tags_for_telling() -> dict[str, list[Tag]]:
    """The curated tags offered to authors, by polarity ("good", "improve"): one query."""
    grouped: dict[str, list[Tag]] = {TagPolarity.GOOD: [], TagPolarity.IMPROVE: []}
    for tag in Tag.objects.filter(is_active=True).order_by("name", "id"):
        grouped.setdefault(tag.polarity, []).append(tag)
    return grouped


# --- The author's private page ----------------------------------------------------------------

def _for_author() -> QuerySet[Story]:
    return Story.objects.select_related("entered_by").prefetch_related(
        Prefetch(
            "story_services",
            queryset=StoryService.objects.select_related("service__organisation").order_by("position"),
        ),
        Prefetch("tags", queryset=Tag.objects.order_by("polarity", "name")),
        "tag_suggestions",
    )


def story_get_for_author(*, secret: str) -> Story:
    """The story whose private link holds ``secret``, with its services, tags and suggested
    tags (four queries).  Looked up by the secret's SHA-256 on a unique index, so a wrong
    secret costs the same as a right one and the secret itself is never compared.  Raises
    Http404 for an unknown secret."""
    if not secret or len(secret) > 200:
        raise Http404(_("This link does not work. It may be mistyped, or replaced by a newer link."))
    story = _for_author().filter(author_token_hash=secret_hash(secret)).first()
    if story is None:
        raise Http404(_("This link does not work. It may be mistyped, or replaced by a newer link."))
    return story


# --- Duplicates, for moderators ---------------------------------------------------------------

def story_duplicates(*, story: Story) -> list[Story]:
    """Other stories with exactly the same text sent within a day of this one (from another
    address: the same address's resends are never stored twice).  Moderators see them as a
    warning that the same text may be spam or sent by someone pretending to be many.  One
    query."""
    window = timedelta(days=CROSS_AUTHOR_DUPLICATE_DAYS)
    return list(
        Story.objects.filter(
            text_hash=story.text_hash,
            submitted_at__gte=story.submitted_at - window,
            submitted_at__lte=story.submitted_at + window,
        )
        .exclude(pk=story.pk)
        .only("id", "title", "status", "submitted_at", "author_email", "route")
        .order_by("submitted_at", "id")
    )


def story_ids_with_duplicates(*, stories: Iterable[Story]) -> set[int]:
    """Of ``stories``, the ids of those that have a duplicate as ``story_duplicates`` finds
    them: one query for a whole page of the moderation queue."""
    stories = list(stories)
    if not stories:
        return set()
    window = timedelta(days=CROSS_AUTHOR_DUPLICATE_DAYS)
    rows = list(
        Story.objects.filter(text_hash__in={s.text_hash for s in stories}).values_list(
            "id", "text_hash", "submitted_at"
        )
    )
    flagged: set[int] = set()
    for story in stories:
        for other_id, other_hash, other_at in rows:
            if (
                other_id != story.pk
                and other_hash == story.text_hash
                and abs(other_at - story.submitted_at) <= window
            ):
                flagged.add(story.pk)
                break
    return flagged
