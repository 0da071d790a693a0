"""/api/stories/ and /api/tags/: read published stories and their responses (no token needed);
submit a story (scope ``stories:write``) and respond for an organisation (scope
``responses:write``).

Lists are newest first and paginated with an opaque ``cursor`` as in the directory API; each
is a fixed number of queries, read from ``StoryListing`` so that a list is one index walk
however many stories there are.  A restricted or withdrawn story is a stub without its text;
any story not yet (or never) published is a 404.  The author's email never appears.

Each operation parses, checks the token's scope, and calls one of the stories selectors
(``stories.selectors.api``) or services; the JSON shapes are ``stories.representations``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Header, Path, Query, Router, Status
from ninja.errors import HttpError

from localsocial.api.auth import request_token, token_auth, token_require_scope, write_throttle
from localsocial.api.errors import FieldErrors, Problem
from localsocial.api.idempotency import IdempotencyKeyReused, request_fingerprint
from localsocial.api.pagination import bad_cursor, blank, page_out
from localsocial.core.pagination import InvalidCursorError
from localsocial.stories.api.schemas import (
    RESPONSES_SHOWN,
    ErrorOut,
    PageParams,
    ResponseCreated,
    ResponseIn,
    ResponsePage,
    StoryCreated,
    StoryDetail,
    StoryFilters,
    StoryIn,
    StoryPage,
    TagFilters,
    TagPage,
)
from localsocial.stories.api.scopes import RESPONSES_WRITE, STORIES_WRITE
from localsocial.stories.models import StoryStatus
from localsocial.stories.representations import response_public, story_detail, story_summary
from localsocial.stories.selectors.api import (
    StoryFilterError,
    story_get_for_api,
    story_list_filters_for_api,
    story_page_for_api,
    story_responses_for_api,
    submission_ids_for_slugs,
    tag_page_for_api,
)
from localsocial.stories.selectors.common import story_organisation_ids
from localsocial.stories.services.api import api_story_submit
from localsocial.stories.services.responses import response_create

router = Router()

MAX_ID = 2**63 - 1


# --- Reading ------------------------------------------------------------------------------------

@router.get(
    "/stories/",
    response={200: StoryPage, 422: ErrorOut},
    summary="List published stories",
)
def story_list(request: HttpRequest, filters: Query[StoryFilters]) -> dict[str, Any]:
    """Published stories, newest first, with filters.  A fixed number of queries."""
    try:
        selection = story_list_filters_for_api(
            organisation=filters.organisation, service=filters.service, tag=filters.tag, area=filters.area,
            progress=filters.progress, published_after=filters.published_after,
            published_before=filters.published_before, q=filters.q,
        )
    except StoryFilterError as exc:
        raise HttpError(422, str(exc)) from exc
    try:
        page = story_page_for_api(filters=selection, cursor=blank(filters.cursor), page_size=filters.limit)
    except InvalidCursorError as exc:
        raise bad_cursor(exc) from exc
    return page_out(page, story_summary)


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
        page = story_responses_for_api(story=story, cursor=blank(params.cursor), page_size=params.limit)
    except InvalidCursorError as exc:
        raise bad_cursor(exc) from exc
    return page_out(page, response_public)


@router.get("/tags/", response={200: TagPage, 422: ErrorOut}, summary="List tags")
def tag_list(request: HttpRequest, filters: Query[TagFilters]) -> dict[str, Any]:
    """The tags authors may choose, by name."""
    try:
        page = tag_page_for_api(polarity=filters.polarity, cursor=blank(filters.cursor), page_size=filters.limit)
    except InvalidCursorError as exc:
        raise bad_cursor(exc) from exc
    return page_out(page, lambda tag: {"slug": tag.slug, "name": tag.name, "polarity": tag.polarity})


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
    token = request_token(request)
    token_require_scope(token=token, scope=STORIES_WRITE)
    year, month = (int(part) for part in payload.happened_month.split("-"))
    if year < 1:
        raise FieldErrors.one("happened_month", "Enter a real month, as YYYY-MM.")
    fields = payload.model_dump()
    service_slugs = [slug.strip() for slug in payload.services]
    tag_slugs = [slug.strip() for slug in payload.tags]
    found_services, found_tags = submission_ids_for_slugs(service_slugs=service_slugs, tag_slugs=tag_slugs)
    missing = [slug for slug in service_slugs if slug not in found_services]
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
    try:
        story, replayed = api_story_submit(
            token=token, idempotency_key=blank(idempotency_key), fingerprint=request_fingerprint(fields),
            fields=submit_fields,
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
    token = request_token(request)
    token_require_scope(token=token, scope=RESPONSES_WRITE)
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
            story=story, actor=token.user, organisation=organisation, body=payload.body,
            change=payload.change, change_description=payload.change_description,
        )
    except ValidationError as error:
        raise FieldErrors.from_validation_error(error) from error
    return Status(201, {
        "id": response.pk,
        "story_id": story.pk,
        "status": response.status,
        "published_at": response.published_at,
    })
