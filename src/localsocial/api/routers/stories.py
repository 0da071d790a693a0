"""/api/stories/ and /api/tags/: read published stories and their responses (no token needed);
submit a story (scope ``stories:write``) and respond for an organisation (scope
``responses:write``).

Lists are newest first and paginated with an opaque ``cursor`` as in the directory API; each
is a fixed number of queries, read from ``StoryListing`` so that a list is one index walk
however many stories there are.  A restricted or withdrawn story is a stub without its text;
any story not yet (or never) published is a 404.  The author's email never appears.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Header, Path, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from localsocial.api.auth import token_auth, token_require_scope, write_throttle
from localsocial.api.errors import FieldErrors, Problem
from localsocial.api.models import ApiToken, TokenScope
from localsocial.api.representations import response_public, story_detail, story_summary
from localsocial.api.selectors import (
    StoryListFilters,
    story_get_for_api,
    story_page_for_api,
    story_responses_for_api,
    tag_page_for_api,
)
from localsocial.api.services import IdempotencyKeyReused, api_story_submit, request_fingerprint
from localsocial.core.pagination import InvalidCursorError, KeysetPage
from localsocial.core.search import search_parse
from localsocial.directory.models import GSS_RE, Area, Organisation, Service
from localsocial.stories.models import (
    AgeGroup,
    AuthorRole,
    ListingScope,
    Progress,
    Story,
    StoryListing,
    StoryStatus,
    Tag,
    TagPolarity,
)
from localsocial.stories.models.story import BODY_MAX_CHARS, PSEUDONYM_MAX, TITLE_MAX
from localsocial.stories.selectors.reading import STORY_SEARCH

router = Router()

MAX_ID = 2**63 - 1
RESPONSES_SHOWN = 50
# Full-text matches up to this many are fetched as a list of ids; beyond it the list's own
# index is walked and each row checked against the search index.
SEARCH_ID_LIMIT = 1000
_RESPONSE_MAX_CHARS = 10_000
_CHANGE_DESCRIPTION_MAX = 2_000
_DATE_RE = r"^(\d{4}-\d{2}-\d{2})?$"
ProgressName = Literal["unheard", "heard", "read", "responded", "changed"]
ChangeName = Literal["", "planned", "made"]


# --- Schemas ----------------------------------------------------------------------------------

class ErrorOut(Schema):
    detail: Any = Field(
        description="A sentence saying what is wrong; for 422 on a body, a list of "
        "{loc, msg, type} for each field."
    )


class Ref(Schema):
    slug: str
    name: str


class ServiceRef(Ref):
    organisation: Ref


class TagOut(Schema):
    slug: str
    name: str
    polarity: str = Field(description="good (what was good) or improve (what could be improved).")


class StorySummary(Schema):
    id: int
    title: str
    summary: str = Field(description="The start of what happened, cut at a word.")
    pseudonym: str = Field(description="The name the author chose to show.")
    author_role: str
    age_group: str | None
    happened_month: str = Field(description="YYYY-MM")
    published_at: datetime
    progress: str = Field(description="unheard, heard, read, responded or changed.")
    progress_label: str
    services: list[ServiceRef] = Field(description="The main service first.")
    tags: list[TagOut]
    response_count: int
    me_too_count: int
    url: str = Field(description="Its page on this site.")


class ResponseOut(Schema):
    id: int
    story_id: int
    is_author_reply: bool = Field(description="A reply from the story's author, not from an organisation.")
    organisation: Ref | None
    signature: str
    body: str
    change: str | None = Field(description="planned or made when the response claims a change.")
    change_description: str | None
    author_confirmed: bool | None = Field(description="Whether the author confirmed the change (null: not asked or no answer).")
    published_at: datetime | None
    edited_at: datetime | None
    helpful_count: int
    not_helpful_count: int


class StoryDetail(Schema):
    id: int
    status: str = Field(description="published; or restricted or withdrawn, for a stub without text.")
    status_label: str
    title: str | None
    summary: str | None
    body: str | None
    feelings: str | None
    pseudonym: str | None
    author_role: str | None
    age_group: str | None
    happened_month: str | None
    published_at: datetime | None
    progress: str | None
    progress_label: str | None
    services: list[ServiceRef]
    tags: list[TagOut]
    response_count: int
    me_too_count: int
    restricted_by: str | None = Field(description="For a restricted story: who restricted it.")
    restriction_reason: str | None = Field(description="For a restricted story: why.")
    url: str
    responses: list[ResponseOut] = Field(
        description=f"The first {RESPONSES_SHOWN} published responses, oldest first."
    )
    more_responses: bool = Field(description="True if there are more: list them with /stories/{id}/responses/.")


class StoryPage(Schema):
    items: list[StorySummary]
    next_cursor: str | None
    previous_cursor: str | None


class ResponsePage(Schema):
    items: list[ResponseOut]
    next_cursor: str | None
    previous_cursor: str | None


class TagPage(Schema):
    items: list[TagOut]
    next_cursor: str | None
    previous_cursor: str | None


class StoryFilters(Schema):
    organisation: str | None = Field(None, max_length=220, description="Stories about this organisation or anything in it (slug).")
    service: str | None = Field(None, max_length=220, description="Stories about this service (slug).")
    tag: str | None = Field(None, max_length=80, description="Stories with this tag (slug).")
    area: str | None = Field(None, max_length=20, description="Stories about organisations serving this area (ONS GSS code).")
    progress: ProgressName | None = Field(None, description="Only stories this far on.")
    published_after: str | None = Field(
        None, pattern=_DATE_RE,
        description="Published on or after this date (YYYY-MM-DD, UK time).",
    )
    published_before: str | None = Field(
        None, pattern=_DATE_RE,
        description="Published before this date (YYYY-MM-DD, UK time).",
    )
    q: str | None = Field(None, max_length=200, description='Words in the title or text; "a phrase"; -word to leave out.')
    cursor: str | None = Field(None, max_length=1000)
    limit: int = Field(20, ge=1, le=100)


class PageParams(Schema):
    cursor: str | None = Field(None, max_length=1000)
    limit: int = Field(20, ge=1, le=100)


class TagFilters(PageParams):
    polarity: TagPolarity | None = Field(None, description="good or improve.")


class SuggestedTagIn(Schema):
    name: str = Field(max_length=60)
    polarity: TagPolarity


class StoryIn(Schema):
    title: str = Field(max_length=TITLE_MAX)
    body: str = Field(max_length=BODY_MAX_CHARS, description="What happened: plain text, shown as text.")
    feelings: str = Field("", max_length=BODY_MAX_CHARS, description="How it felt.")
    services: list[str] = Field(min_length=1, max_length=10, description="Service slugs, the main one first.")
    tags: list[str] = Field(default_factory=list, max_length=30, description="Tag slugs from /api/tags/.")
    suggested_tags: list[SuggestedTagIn] = Field(default_factory=list, max_length=5)
    author_role: AuthorRole
    age_group: AgeGroup | Literal[""] = ""
    happened_month: str = Field(
        pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM: within the last two years."
    )
    pseudonym: str = Field(max_length=PSEUDONYM_MAX, description="The name to show with the story.")
    email: str = Field(
        max_length=254,
        description="The author's email address: they are sent a private link to their story. Never shown.",
    )


class StoryCreated(Schema):
    id: int
    status: str = Field(description="pending: it waits for a moderator before anyone can read it.")
    duplicate: bool = Field(description="True when we already had this story from this address: nothing new was stored.")


class ResponseIn(Schema):
    body: str = Field(max_length=_RESPONSE_MAX_CHARS)
    change: ChangeName = Field("", description="planned or made, to claim a change; the author is asked to confirm it.")
    change_description: str = Field("", max_length=_CHANGE_DESCRIPTION_MAX)


class ResponseCreated(Schema):
    id: int
    story_id: int
    status: str = Field(description="published, or pending when a moderator checks it first.")
    published_at: datetime | None


# --- Helpers ------------------------------------------------------------------------------------

def _page(page: KeysetPage[Any], convert: Any) -> dict[str, Any]:
    return {
        "items": [convert(item) for item in page.items],
        "next_cursor": page.next_cursor,
        "previous_cursor": page.previous_cursor,
    }


def _bad_cursor(exc: InvalidCursorError) -> HttpError:
    return HttpError(422, "cursor is not valid: use next_cursor or previous_cursor from a response.")


def _blank(value: str | None) -> str | None:
    # "?service=" from a form left blank means no filter.
    return value.strip() if value and value.strip() else None


def _scope_id(model: Any, name: str, field: str, value: str | None) -> int | None:
    value = _blank(value)
    if value is None:
        return None
    found = model.objects.filter(**{field: value}).values_list("pk", flat=True).first()
    if found is None:
        raise HttpError(422, f"{name}: there is nothing with the {field} '{value}'.")
    return int(found)


def _day_start(value: str | None, name: str) -> datetime | None:
    """The start of the day ``value`` (YYYY-MM-DD) in UK time; None for no value."""
    if not value:
        return None
    try:
        return timezone.make_aware(datetime.combine(date.fromisoformat(value), time.min))
    except (OverflowError, ValueError) as exc:
        raise HttpError(422, f"{name} is not a real date: use YYYY-MM-DD, like 2026-03-31.") from exc


def _search_condition(q: str | None) -> dict[str, Any]:
    """Filters on StoryListing for a full-text search: a list of matching ids when the words
    are rare, else a per-row check while walking the list's index."""
    text = _blank(q)
    if text is None:
        return {}
    query = search_parse(text)
    if not query.has_positive_terms:
        raise HttpError(422, "q needs at least one word to look for (letters or numbers).")
    ids = STORY_SEARCH.match_ids(query, limit=SEARCH_ID_LIMIT)
    if ids is not None:
        return {"ids": ids}
    table = StoryListing._meta.db_table
    sql, params = STORY_SEARCH.row_matches_sql(query, id_reference=f"{table}.story_id")
    return {"raw": RawSQL(sql, params, output_field=BooleanField())}  # noqa: S611 -- built from parameters only


def _token(request: HttpRequest) -> ApiToken:
    token = request.auth  # type: ignore[attr-defined]
    assert isinstance(token, ApiToken)
    return token


# --- Reading ------------------------------------------------------------------------------------

@router.get(
    "/stories/",
    response={200: StoryPage, 422: ErrorOut},
    summary="List published stories",
)
def story_list(request: HttpRequest, filters: Query[StoryFilters]) -> dict[str, Any]:
    """Published stories, newest first, with filters.  A fixed number of queries."""
    scopes: dict[str, int] = {}
    service_id = _scope_id(Service, "service", "slug", filters.service)
    if service_id is not None:
        scopes[ListingScope.SERVICE] = service_id
    organisation_id = _scope_id(Organisation, "organisation", "slug", filters.organisation)
    if organisation_id is not None:
        scopes[ListingScope.ORGANISATION] = organisation_id
    tag_id = _scope_id(Tag, "tag", "slug", filters.tag)
    if tag_id is not None:
        scopes[ListingScope.TAG] = tag_id
    area = _blank(filters.area)
    if area is not None:
        import re

        if not re.match(GSS_RE, area.upper()):
            raise HttpError(422, "area is not valid: expected an ONS GSS code like E09000028.")
        area_id = _scope_id(Area, "area", "gss_code", area.upper())
        assert area_id is not None
        scopes[ListingScope.AREA] = area_id
    search = _search_condition(filters.q)
    story_ids = None
    if "ids" in search:
        story_ids = Story.objects.filter(pk__in=search["ids"] or [0]).values("pk")
    selection = StoryListFilters(
        scopes=scopes,
        progress=Progress[filters.progress.upper()].value if filters.progress else None,
        published_from=_day_start(filters.published_after, "published_after"),
        published_until=_day_start(filters.published_before, "published_before"),
        story_ids=story_ids,
        raw_condition=search.get("raw"),
    )
    try:
        page = story_page_for_api(filters=selection, cursor=_blank(filters.cursor), page_size=filters.limit)
    except InvalidCursorError as exc:
        raise _bad_cursor(exc) from exc
    return _page(page, story_summary)


@router.get(
    "/stories/{story_id}",
    response={200: StoryDetail, 404: ErrorOut, 422: ErrorOut},
    summary="One story, with its responses",
)
def story_get(request: HttpRequest, story_id: int = Path(..., ge=1, le=MAX_ID)) -> dict[str, Any]:
    """A published story with its services, tags, progress, counts and first responses; for a
    restricted or withdrawn story, a stub without its text.  404 for any other."""
    try:
        story = story_get_for_api(story_id=story_id)
    except Http404 as exc:
        raise HttpError(404, str(exc)) from exc
    responses = story_responses_for_api(story=story, cursor=None, page_size=RESPONSES_SHOWN)
    return {
        **story_detail(story),
        "responses": [response_public(r) for r in responses.items],
        "more_responses": responses.has_next,
    }


@router.get(
    "/stories/{story_id}/responses/",
    response={200: ResponsePage, 404: ErrorOut, 422: ErrorOut},
    summary="The responses to a story",
)
def story_responses(
    request: HttpRequest, params: Query[PageParams], story_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    """Published responses (and the author's replies), oldest first.  None for a stub."""
    try:
        story = story_get_for_api(story_id=story_id)
    except Http404 as exc:
        raise HttpError(404, str(exc)) from exc
    try:
        page = story_responses_for_api(story=story, cursor=_blank(params.cursor), page_size=params.limit)
    except InvalidCursorError as exc:
        raise _bad_cursor(exc) from exc
    return _page(page, response_public)


@router.get("/tags/", response={200: TagPage, 422: ErrorOut}, summary="List tags")
def tag_list(request: HttpRequest, filters: Query[TagFilters]) -> dict[str, Any]:
    """The tags authors may choose, by name."""
    try:
        page = tag_page_for_api(polarity=filters.polarity, cursor=_blank(filters.cursor), page_size=filters.limit)
    except InvalidCursorError as exc:
        raise _bad_cursor(exc) from exc
    return _page(page, lambda tag: {"slug": tag.slug, "name": tag.name, "polarity": tag.polarity})


# --- Writing --------------------------------------------------------------------------------------

_STORY_FIELD_NAMES = {"service_ids": "services", "tag_ids": "tags"}


@router.post(
    "/stories/",
    auth=token_auth,
    throttle=[write_throttle],
    response={201: StoryCreated, 200: StoryCreated, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Submit a story (scope stories:write)",
)
def story_create(
    request: HttpRequest,
    response: HttpResponse,
    payload: StoryIn,
    idempotency_key: str | None = Header(
        None, alias="Idempotency-Key", max_length=255,
        description="Any unique string (a UUID): a request retried with the same key makes no second story.",
    ),
) -> Status[dict[str, Any]]:
    """A new story, waiting for moderation; the author is emailed a private link.  201 with
    its id; 200 when we already had the same story from the same address.  With an
    ``Idempotency-Key``, a retry returns the first request's answer (and
    ``Idempotent-Replayed: true``)."""
    token = _token(request)
    token_require_scope(token=token, scope=TokenScope.STORIES_WRITE)
    year, month = (int(part) for part in payload.happened_month.split("-"))
    if year < 1:
        raise FieldErrors.one("happened_month", "Enter a real month, as YYYY-MM.")
    fields = payload.model_dump()
    service_slugs = [slug.strip() for slug in payload.services]
    found_services = dict(Service.objects.filter(slug__in=service_slugs).values_list("slug", "pk"))
    missing = [slug for slug in service_slugs if slug not in found_services]
    tag_slugs = [slug.strip() for slug in payload.tags]
    found_tags = dict(Tag.objects.filter(slug__in=tag_slugs, is_active=True).values_list("slug", "pk"))
    missing_tags = [slug for slug in tag_slugs if slug not in found_tags]
    errors = []
    if missing:
        errors.append({"loc": ["body", "payload", "services"], "type": "invalid",
                       "msg": f"There is no service with the slug {', '.join(repr(s) for s in missing[:5])}."})
    if missing_tags:
        errors.append({"loc": ["body", "payload", "tags"], "type": "invalid",
                       "msg": f"There is no tag with the slug {', '.join(repr(s) for s in missing_tags[:5])}."})
    if errors:
        raise FieldErrors(errors)
    submit_fields = {
        "title": payload.title,
        "body": payload.body,
        "feelings": payload.feelings,
        "service_ids": [found_services[slug] for slug in service_slugs],
        "tag_ids": [found_tags[slug] for slug in tag_slugs],
        "suggested_tags": [(s.name, s.polarity) for s in payload.suggested_tags],
        "author_role": payload.author_role,
        "age_group": payload.age_group,
        "happened_month": date(year, month, 1),
        "pseudonym": payload.pseudonym,
        "email": payload.email,
    }
    key = _blank(idempotency_key)
    try:
        story, replayed = api_story_submit(
            token=token, idempotency_key=key, fingerprint=request_fingerprint(fields),
            fields=submit_fields, request=request,
        )
    except IdempotencyKeyReused as exc:
        raise Problem(
            422, "This Idempotency-Key was already used with a different request: use a new key for a new story.",
            type_slug="idempotency-key-reused",
        ) from exc
    except ValidationError as error:
        raise FieldErrors.from_validation_error(error, _STORY_FIELD_NAMES) from error
    duplicate = bool(getattr(story, "submitted_again", False))
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return Status(200 if duplicate else 201, {"id": story.pk, "status": story.status, "duplicate": duplicate})


@router.post(
    "/stories/{story_id}/responses/",
    auth=token_auth,
    throttle=[write_throttle],
    response={201: ResponseCreated, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Respond to a story for your organisation (scope responses:write)",
)
def story_respond(
    request: HttpRequest, payload: ResponseIn, story_id: int = Path(..., ge=1, le=MAX_ID)
) -> Status[dict[str, Any]]:
    """A response from the token's organisation, written by the token's person, who must be
    a responder or administrator there; the story must be about that organisation (or
    something in it).  Published at once for trusted responders without a change claim,
    else it waits for a moderator (status pending)."""
    from django.core.exceptions import PermissionDenied

    from localsocial.stories.selectors.common import story_organisation_ids
    from localsocial.stories.services.responses import response_create

    token = _token(request)
    token_require_scope(token=token, scope=TokenScope.RESPONSES_WRITE)
    try:
        story = story_get_for_api(story_id=story_id)
    except Http404 as exc:
        raise HttpError(404, str(exc)) from exc
    organisation = token.organisation
    assert organisation is not None  # token_require_scope checked it
    if organisation.pk not in story_organisation_ids(story=story):
        raise PermissionDenied(f"This story is not about {organisation.name}, so it cannot respond to it.")
    if story.status != StoryStatus.PUBLISHED:
        raise HttpError(409, "This story is no longer published, so it cannot be answered.")
    try:
        response = response_create(
            story=story, user=token.user, organisation=organisation, body=payload.body,
            change=payload.change, change_description=payload.change_description, request=request,
        )
    except ValidationError as error:
        raise FieldErrors.from_validation_error(error) from error
    return Status(201, {
        "id": response.pk,
        "story_id": story.pk,
        "status": response.status,
        "published_at": response.published_at,
    })

