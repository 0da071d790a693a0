"""Reads for the public side of stories: the story page, every list (all stories, an
organisation with its subtree, a service, a tag, an area), search, feeds, the widget and the
open data.

Every list is read from ``StoryListing`` (one row per published story per list): page N is one
walk of one index, ``WHERE scope = … AND scope_id = … ORDER BY published_at DESC, story_id
DESC``, however many stories there are.  A page is then three queries whatever its length:
the ordered story ids, the stories, and their services.  Search adds one query first (see
``story_list_page`` and docs/decisions/0007-story-lists-and-search.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Substr
from django.http import Http404, HttpRequest
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from localsocial.core.pagination import (
    AFTER,
    BEFORE,
    InvalidCursorError,
    decode_cursor,
    encode_cursor,
    keyset_condition,
)
from localsocial.core.search import FullTextIndex, SearchQuery
from localsocial.directory.models import Area, Organisation, Service
from localsocial.stories.models import (
    ListingScope,
    MeToo,
    Progress,
    Story,
    StoryFollower,
    StoryListing,
    StoryService,
    StoryStatus,
    Tag,
    TagPolarity,
)
from localsocial.stories.models.story import PUBLIC_STATUSES

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from localsocial.accounts.models import User

# The full-text index of stories; only published stories can ever match.
STORY_SEARCH = FullTextIndex(
    table="stories_story", fts_table="stories_story_fts", where="stories_story.status = %s",
    where_params=(StoryStatus.PUBLISHED.value,),
)
# Search (see _search_ids and docs/decisions/0007-story-lists-and-search.md): how many stories
# of the list to check one by one before asking the index; the most matches the index may
# return for one page; and the most stories checked one by one when it may not.
SEARCH_FIRST_WINDOW = 1000
SEARCH_CANDIDATES = 20_000
SEARCH_WINDOW = 4000
EXCERPT_WORDS = 40
EXCERPT_CHARS = 400  # read from the database: enough for 40 words, never the whole text

NEWEST, OLDEST = "newest", "oldest"
ORDERINGS: dict[str, tuple[str, str]] = {
    NEWEST: ("-published_at", "-story_id"),
    OLDEST: ("published_at", "story_id"),
}

# The author's role as shown to the public (the form asks it in the first person).
PUBLIC_ROLES = {
    "patient": gettext_lazy("someone who used the service"),
    "carer": gettext_lazy("a carer"),
    "relative": gettext_lazy("a relative or friend"),
    "staff": gettext_lazy("a member of staff"),
    "other": "",
}

PROGRESS_MEANING = {
    Progress.UNHEARD: gettext_lazy("The story is published; the service has not yet been told."),
    Progress.HEARD: gettext_lazy("The service has been sent the story."),
    Progress.READ: gettext_lazy("Staff at the service have read it."),
    Progress.RESPONDED: gettext_lazy("The service has answered in public."),
    Progress.CHANGED: gettext_lazy("The service says it has made a change because of it."),
}


# --- Text -------------------------------------------------------------------------------------

def text_paragraphs(text: str) -> list[list[str]]:
    """Paragraphs (split at blank lines), each a list of its lines.  Templates escape every
    line and join them with <br>: nothing an author writes is ever read as HTML."""
    normalised = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for line in normalised.split("\n"):
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    return paragraphs


def text_excerpt(text: str, *, words: int = EXCERPT_WORDS) -> str:
    """The first ``words`` words, with "…" when there is more."""
    parts = (text or "").split()
    if len(parts) <= words:
        return " ".join(parts)
    return " ".join(parts[:words]) + "…"


# --- The story page ---------------------------------------------------------------------------

@dataclass
class ProgressStep:
    value: int
    label: str
    meaning: str
    state: str  # "done", "current" or "todo"


def progress_steps(progress: int) -> list[ProgressStep]:
    """The five steps, each marked done, current or still to come."""
    steps = []
    for choice in Progress:
        state = "done" if choice.value < progress else "current" if choice.value == progress else "todo"
        steps.append(ProgressStep(choice.value, str(choice.label), str(PROGRESS_MEANING[choice]), state))
    return steps


@dataclass
class StoryPage:
    story: Story
    services: list[Service] = field(default_factory=list)
    good_tags: list[Tag] = field(default_factory=list)
    improve_tags: list[Tag] = field(default_factory=list)
    body: list[list[str]] = field(default_factory=list)
    feelings: list[list[str]] = field(default_factory=list)
    steps: list[ProgressStep] = field(default_factory=list)
    role: str = ""
    age_group: str = ""


def story_get_for_page(*, story_id: int) -> StoryPage:
    """A story for its public page: a published story with its services (and their
    organisations) and tags, or the bare stub of a restricted or withdrawn one (no text, no
    services, no tags).  Raises Http404 for anything else.  At most three queries."""
    story = (
        Story.objects.filter(pk=story_id, status__in=PUBLIC_STATUSES)
        .prefetch_related(
            Prefetch(
                "story_services",
                queryset=StoryService.objects.select_related("service__organisation").order_by("position", "id"),
            ),
            Prefetch("tags", queryset=Tag.objects.order_by("name")),
        )
        .first()
    )
    if story is None:
        raise Http404("No such story")
    if story.status != StoryStatus.PUBLISHED:
        return StoryPage(story=story)
    tags = list(story.tags.all())
    return StoryPage(
        story=story,
        services=[link.service for link in story.story_services.all()],
        good_tags=[t for t in tags if t.polarity == TagPolarity.GOOD],
        improve_tags=[t for t in tags if t.polarity == TagPolarity.IMPROVE],
        body=text_paragraphs(story.body),
        feelings=text_paragraphs(story.feelings),
        steps=progress_steps(story.progress),
        role=str(PUBLIC_ROLES.get(story.author_role, "")),
        age_group=story.get_age_group_display() if story.age_group else "",  # type: ignore[attr-defined]
    )


def me_too_given(*, story_id: int, person_key: str | None) -> bool:
    """Whether this person has already said the story happened to them too."""
    if not person_key:
        return False
    return MeToo.objects.filter(story_id=story_id, person_key=person_key).exists()


def follower_for_user(*, story_id: int, user: User | AnonymousUser) -> StoryFollower | None:
    """The signed-in person's own following of the story (by account or by their address)."""
    if not user.is_authenticated:
        return None
    return (
        StoryFollower.objects.filter(story_id=story_id)
        .filter(Q(user=user) | Q(email__iexact=user.email))
        .order_by("-confirmed_at")
        .first()
    )


# --- Lists ------------------------------------------------------------------------------------

@dataclass
class ListScope:
    """Which list: ``scope``/``scope_id`` as in ``StoryListing``, with the thing it is about."""

    scope: str
    scope_id: int
    name: str = ""
    obj: Any = None

    @property
    def kind(self) -> str:
        return str(self.scope)


ALL_STORIES = ListScope(scope=ListingScope.ALL, scope_id=0)


def list_scope_for(*, kind: str, key: str) -> ListScope:
    """The list of an organisation (by slug), a service (slug), a tag (slug) or an area (GSS
    code).  Raises Http404 when there is none.  One query."""
    if kind == ListingScope.ORGANISATION:
        org = Organisation.objects.filter(slug=key).only("id", "name", "slug", "path").first()
        if org is None:
            raise Http404("No such organisation")
        return ListScope(ListingScope.ORGANISATION, org.pk, org.name, org)
    if kind == ListingScope.SERVICE:
        service = Service.objects.filter(slug=key).select_related("organisation").first()
        if service is None:
            raise Http404("No such service")
        return ListScope(ListingScope.SERVICE, service.pk, service.name, service)
    if kind == ListingScope.TAG:
        tag = Tag.objects.filter(slug=key).first()
        if tag is None:
            raise Http404("No such tag")
        return ListScope(ListingScope.TAG, tag.pk, tag.name, tag)
    if kind == ListingScope.AREA:
        area = Area.objects.filter(gss_code=key.upper()).first()
        if area is None:
            raise Http404("No such area")
        return ListScope(ListingScope.AREA, area.pk, area.name, area)
    raise Http404("No such list")


@dataclass(frozen=True)
class ListFilters:
    query: SearchQuery | None = None
    progress: int | None = None
    published_from: dt.date | None = None
    published_to: dt.date | None = None
    sort: str = NEWEST

    @property
    def is_search(self) -> bool:
        return self.query is not None and self.query.has_positive_terms


@dataclass
class StoryListPage:
    """One page of a list: the stories (each with ``excerpt`` and ``service_list``) and the
    cursors of the pages either side.  ``window_ended`` is True when a search of common words
    looked at ``SEARCH_WINDOW`` stories without filling the page: "Next" carries on from there."""

    items: list[ListedStory]
    ordering: Sequence[str]
    has_next: bool
    has_previous: bool
    first_key: list[Any] | None = None
    last_key: list[Any] | None = None
    window_ended: bool = False

    @property
    def next_cursor(self) -> str | None:
        if not self.has_next or self.last_key is None:
            return None
        return encode_cursor(AFTER, self.last_key, self.ordering)

    @property
    def previous_cursor(self) -> str | None:
        if not self.has_previous or self.first_key is None:
            return None
        return encode_cursor(BEFORE, self.first_key, self.ordering)

    def url_for(self, request: HttpRequest, cursor: str | None) -> str:
        query = request.GET.copy()
        query.pop("cursor", None)
        if cursor:
            query["cursor"] = cursor
        encoded = query.urlencode()
        return f"{request.path}?{encoded}" if encoded else request.path

    def govuk_params(self, request: HttpRequest, *, landmark_label: str) -> dict[str, Any] | None:
        """Parameters for ``govukPagination`` keeping the filters; None on a single page."""
        previous_cursor, next_cursor = self.previous_cursor, self.next_cursor
        if not (previous_cursor or next_cursor):
            return None
        params: dict[str, Any] = {"landmarkLabel": landmark_label}
        if previous_cursor:
            params["previous"] = {
                "href": self.url_for(request, previous_cursor),
                "html": _('Previous<span class="govuk-visually-hidden"> page</span>'),
            }
        if next_cursor:
            params["next"] = {
                "href": self.url_for(request, next_cursor),
                "html": _('Next<span class="govuk-visually-hidden"> page</span>'),
            }
        return params


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _key(published_at: dt.datetime, story_id: int) -> list[Any]:
    # Full precision: a cursor must name the exact row (JSON dates would keep milliseconds only).
    return [published_at.isoformat(), int(story_id)]


def _decode(cursor: str, ordering: Sequence[str]) -> tuple[str, list[Any]]:
    direction, values = decode_cursor(cursor, ordering)
    try:
        published_at = dt.datetime.fromisoformat(str(values[0]))
        story_id = int(values[1])
    except (TypeError, ValueError) as exc:
        raise InvalidCursorError("This cursor is not valid.") from exc
    if timezone.is_naive(published_at):
        raise InvalidCursorError("This cursor is not valid.")
    return direction, [published_at, story_id]


def _listing_rows(scope: ListScope, filters: ListFilters) -> QuerySet[StoryListing]:
    rows = StoryListing.objects.filter(scope=scope.scope, scope_id=scope.scope_id)
    if filters.progress is not None:
        rows = rows.filter(progress=filters.progress)
    if filters.published_from is not None:
        rows = rows.filter(published_at__gte=_day_start(filters.published_from))
    if filters.published_to is not None:
        rows = rows.filter(published_at__lt=_day_start(filters.published_to + dt.timedelta(days=1)))
    return rows


def _reverse(ordering: Sequence[str]) -> list[str]:
    return [term[1:] if term.startswith("-") else f"-{term}" for term in ordering]


def _window_ids(
    rows: QuerySet[StoryListing], order_by: list[str], query: SearchQuery, limit: int, *, size: int
) -> list[int]:
    """Story ids, in list order, of the first ``limit`` matches among the next ``size`` rows
    of the list.  The inner query walks the list's index; the outer one checks each of those
    stories in turn and stops at ``limit``."""
    inner_sql, inner_params = rows.order_by(*order_by).values("story_id", "published_at")[:size].query.sql_with_params()
    match_sql, match_params = STORY_SEARCH.row_matches_sql(query, id_reference="w.story_id")
    direction = {term.lstrip("-"): ("DESC" if term.startswith("-") else "ASC") for term in order_by}
    sql = (
        f"SELECT w.story_id FROM ({inner_sql}) w WHERE {match_sql} "  # noqa: S608
        f"ORDER BY w.published_at {direction['published_at']}, w.story_id {direction['story_id']} LIMIT %s"
    )
    params: list[Any] = [*inner_params, *match_params, limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _window_edge(rows: QuerySet[StoryListing], order_by: list[str], size: int) -> list[Any] | None:
    """The cursor key of the ``size``-th row of the list from here, or None if it is shorter."""
    last = list(rows.order_by(*order_by).values_list("published_at", "story_id")[size - 1 : size])
    return _key(*last[0]) if last else None


def _ids_among_matches(
    rows: QuerySet[StoryListing], order_by: list[str], query: SearchQuery, limit: int
) -> list[int] | None:
    """The first ``limit`` story ids of the list that match, from the index's full answer; None
    when the index has more than ``SEARCH_CANDIDATES`` matches in all."""
    if connection.vendor != "postgresql":
        # SQLite: FTS5 answers the whole query at once, and a small site has few rows.
        sql, params = STORY_SEARCH.ids_sql(query)
        return list(rows.filter(story_id__in=RawSQL(sql, params)).order_by(*order_by).values_list("story_id", flat=True)[:limit])  # noqa: S611 -- fixed SQL; the words are a parameter
    candidates = STORY_SEARCH.match_ids(query, limit=SEARCH_CANDIDATES)
    if candidates is None:
        return None
    if not candidates:
        return []
    # One array parameter, however many ids; the list's index is walked in order and each row
    # looked up in the array (as bigint[], the column's type, PostgreSQL hashes it: as int[] it
    # searched the array row by row, 300 ms for 4,000 ids).
    among = rows.extra(where=['"stories_storylisting"."story_id" = ANY(%s::bigint[])'], params=[candidates])
    return list(among.order_by(*order_by).values_list("story_id", flat=True)[:limit])


def _beyond(rows: QuerySet[StoryListing], ordering: Sequence[str], values: list[Any], *, forward: bool) -> QuerySet[StoryListing]:
    """The rows after (``forward``) or before ``values`` = [published_at, story_id] in
    ``ordering``.  The exact condition is an OR that PostgreSQL cannot use as an index bound;
    the redundant "published_at on or beyond" can, so the walk starts where it should instead
    of reading down to it."""
    descending = ordering[0].startswith("-")
    bound = "published_at__lte" if forward == descending else "published_at__gte"
    return rows.filter(Q(**{bound: values[0]}) & keyset_condition(ordering, values, forward=forward))


def _search_ids(
    scope: ListScope, filters: ListFilters, rows: QuerySet[StoryListing], ordering: Sequence[str], forward: bool, limit: int
) -> tuple[list[int], list[Any] | None]:
    """The first ``limit`` matching story ids from here, and, when the search stopped at its
    window before the list ended, the key to carry on from.  See decision 0007.

    1. Check the next ``SEARCH_FIRST_WINDOW`` stories of the list one by one: common words
       fill the page at once.
    2. Too few there, so the words are rare in this list.  If they are rare overall too, the
       index lists every match and the page is those in the list.  Rare overall means: the
       planner estimates at most ``SEARCH_CANDIDATES``, or, for the unfiltered list of all
       stories (which step 1 has just sampled), the query has no phrase (phrases are checked
       row by row against every story that has all the words).
    3. Otherwise (common words, seldom in this list) check up to ``SEARCH_WINDOW`` more."""
    query = filters.query
    assert query is not None
    order_by = list(ordering) if forward else _reverse(ordering)
    ids = _window_ids(rows, order_by, query, limit, size=SEARCH_FIRST_WINDOW)
    if len(ids) >= limit:
        return ids, None
    edge = _window_edge(rows, order_by, SEARCH_FIRST_WINDOW)
    if edge is None:
        return ids, None  # the rest of the list has been looked at
    sampled_all = (
        scope.scope == ListingScope.ALL and filters.progress is None
        and filters.published_from is None and filters.published_to is None
    )
    has_phrase = any(len(words) > 1 for words in query.include)
    if (sampled_all and not has_phrase) or STORY_SEARCH.estimate(query) <= SEARCH_CANDIDATES:
        among = _ids_among_matches(rows, order_by, query, limit)
        if among is not None:
            return among, None
    edge_values = [dt.datetime.fromisoformat(edge[0]), edge[1]]
    rest = _beyond(rows, ordering, edge_values, forward=forward)
    ids += _window_ids(rest, order_by, query, limit - len(ids), size=SEARCH_WINDOW)
    if len(ids) >= limit:
        return ids, None
    return ids, _window_edge(rest, order_by, SEARCH_WINDOW)


@dataclass(frozen=True, slots=True)
class ListedService:
    """A service as a list item names it: its name and the address of its stories."""

    name: str
    slug: str


@dataclass(frozen=True, slots=True)
class ListedStory:
    """A published story as a list, a feed or the widget shows it: only what they show, read
    as plain values (no model object, no deferred fields)."""

    pk: int
    title: str
    excerpt: str
    service_list: tuple[ListedService, ...]
    pseudonym: str
    published_at: dt.datetime
    progress: int
    response_count: int
    me_too_count: int

    @property
    def id(self) -> int:
        return self.pk

    def get_progress_display(self) -> str:
        return progress_label(self.progress)

    def get_absolute_url(self) -> str:
        return story_url(self.pk)


def progress_label(progress: int) -> str:
    """The progress in words ("Responded") in the current language, from a table made once
    per language (a model's ``get_progress_display`` rebuilds Django's choices each call)."""
    language = get_language()
    table = _PROGRESS_LABELS.get(language)
    if table is None:
        table = _PROGRESS_LABELS[language] = {int(value): str(label) for value, label in Progress.choices}
    return table.get(progress, str(progress))


_PROGRESS_LABELS: dict[str | None, dict[int, str]] = {}


def story_url(pk: int) -> str:
    """A story's address, from the address of story 0 cut around its number (no reverse per
    story)."""
    head, tail = _story_url_parts(get_script_prefix())
    return f"{head}/{int(pk)}/{tail}"


@lru_cache(maxsize=8)
def _story_url_parts(prefix: str) -> tuple[str, str]:
    head, found, tail = reverse("stories:story", kwargs={"pk": 0}).rpartition("/0/")
    assert found, "a story's address holds its number between slashes"
    return head, tail


def _stories_for_list(ids: list[int]) -> list[ListedStory]:
    """The stories with these ids, in that order, with what a list item shows.  Two queries,
    both as plain rows."""
    if not ids:
        return []
    rows = {
        row[0]: row
        for row in Story.objects.filter(pk__in=ids, status=StoryStatus.PUBLISHED)
        .annotate(body_start=Substr("body", 1, EXCERPT_CHARS))
        .values_list("id", "title", "pseudonym", "published_at", "progress", "response_count", "me_too_count",
                     "body_start")
    }
    services: dict[int, list[ListedService]] = {}
    for story_id, name, slug in (
        StoryService.objects.filter(story_id__in=list(rows))
        .order_by("story_id", "position", "id")
        .values_list("story_id", "service__name", "service__slug")
    ):
        services.setdefault(story_id, []).append(ListedService(name=name, slug=slug))
    ordered: list[ListedStory] = []
    for story_id in ids:
        row = rows.get(story_id)
        if row is None:
            continue
        pk, title, pseudonym, published_at, progress, response_count, me_too_count, body_start = row
        assert published_at is not None  # a constraint: every published story has its time
        ordered.append(ListedStory(
            pk=pk, title=title, excerpt=text_excerpt(body_start), service_list=tuple(services.get(story_id, ())),
            pseudonym=pseudonym, published_at=published_at, progress=progress, response_count=response_count,
            me_too_count=me_too_count,
        ))
    return ordered


def story_list_page(
    *, scope: ListScope, filters: ListFilters, cursor: str | None, page_size: int
) -> StoryListPage:
    """One page of a list of published stories, filtered, sorted and (with a query) searched.

    Without a search: the ids from one walk of the list's index, then the stories (3 queries).
    With a search, see ``_search_ids``: every page costs at most a bounded walk of the list and
    a bounded read of the index, whatever the words.  Raises InvalidCursorError for a cursor
    not made here."""
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    ordering = ORDERINGS.get(filters.sort, ORDERINGS[NEWEST])
    direction, values = _decode(cursor, ordering) if cursor else (AFTER, [])
    forward = direction == AFTER
    order_by = list(ordering) if forward else _reverse(ordering)
    rows = _listing_rows(scope, filters)
    if values:
        rows = _beyond(rows, ordering, values, forward=forward)
    limit = page_size + 1
    window_ended = False
    window_key: list[Any] | None = None
    if filters.is_search:
        ids, window_key = _search_ids(scope, filters, rows, ordering, forward, limit)
        window_ended = window_key is not None
    else:
        ids = list(rows.order_by(*order_by).values_list("story_id", flat=True)[:limit])
    more = len(ids) > page_size
    ids = ids[:page_size]
    items = _stories_for_list(ids)
    if not forward:
        items.reverse()
    if forward:
        has_next, has_previous = more or window_ended, bool(values)
    else:
        has_next, has_previous = bool(values), more or window_ended
    first_key = _key(items[0].published_at, items[0].pk) if items else None
    last_key = _key(items[-1].published_at, items[-1].pk) if items else None
    cursor_key = [values[0].isoformat(), values[1]] if values else None
    if window_key is not None:
        # The search window ended before the page filled: the stories up to its last row have
        # been looked at, so the next page (in the direction of travel) starts after it.
        if forward:
            last_key, first_key = window_key, first_key or cursor_key
        else:
            first_key, last_key = window_key, last_key or cursor_key
    return StoryListPage(
        items=items, ordering=ordering, has_next=has_next, has_previous=has_previous,
        first_key=first_key, last_key=last_key, window_ended=window_ended,
    )


# --- Widget -----------------------------------------------------------------------------------

def service_find(*, slug: str) -> Service | None:
    return Service.objects.filter(slug=slug).only("id", "name", "slug").first()


def service_get_for_widget(*, slug: str) -> Service:
    service = Service.objects.filter(slug=slug).select_related("organisation").first()
    if service is None:
        raise Http404("No such service")
    return service


def widget_stories(*, service: Service, count: int) -> list[ListedStory]:
    """The service's latest published stories, newest first (three queries)."""
    scope = ListScope(ListingScope.SERVICE, service.pk, service.name, service)
    return story_list_page(scope=scope, filters=ListFilters(), cursor=None, page_size=count).items


# --- Open data --------------------------------------------------------------------------------

OPEN_DATA_FIELDS = [
    "id", "url", "title", "text", "feelings", "service_ids", "service_names", "organisation_ids",
    "organisation_names", "tags_good", "tags_improve", "pseudonym", "author_role", "age_group",
    "happened_month", "published_at", "progress", "response_count", "me_too_count", "criticality",
]


def open_data_stories(*, chunk_size: int = 1000) -> Iterator[Story]:
    """Every published story, in id order, with services, their organisations and tags.

    Streams: the rows come ``chunk_size`` at a time from a server-side cursor with their
    services and tags fetched per chunk, so memory stays flat at a million stories.  Selects
    only public fields: never the author's email, address or moderation notes."""
    return (
        Story.objects.filter(status=StoryStatus.PUBLISHED)
        .order_by("id")
        .only(
            "id", "title", "body", "feelings", "pseudonym", "author_role", "age_group", "happened_month",
            "published_at", "progress", "response_count", "me_too_count", "criticality", "status",
        )
        .prefetch_related(
            Prefetch(
                "story_services",
                queryset=StoryService.objects.select_related("service__organisation")
                .only(
                    "id", "story_id", "position", "service__id", "service__name", "service__slug",
                    "service__organisation__id", "service__organisation__name", "service__organisation__slug",
                )
                .order_by("position", "id"),
            ),
            Prefetch("tags", queryset=Tag.objects.only("id", "name", "slug", "polarity").order_by("name")),
        )
        .iterator(chunk_size=chunk_size)
    )
