"""Reads for the API and the developer pages, each a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import Http404

from localsocial.api.models import ApiToken, WebhookDelivery, WebhookEndpoint
from localsocial.core.pagination import KeysetPage, keyset_paginate
from localsocial.directory.models import Organisation, OrganisationMembership, StaffRole
from localsocial.stories.models import (
    ListingScope,
    Response,
    ResponseStatus,
    Story,
    StoryListing,
    StoryService,
    StoryStatus,
    Tag,
)
from localsocial.stories.models.story import PUBLIC_STATUSES

STORY_ORDERING = ("-published_at", "-story_id")
RESPONSE_ORDERING = ("published_at", "id")
TAG_ORDERING = ("name", "id")
DELIVERY_ORDERING = ("-created_at", "-id")
# Most selective first: the list a filtered request walks; the other filters narrow it.
_SCOPE_PRIORITY = (ListingScope.SERVICE, ListingScope.ORGANISATION, ListingScope.TAG, ListingScope.AREA)


def _stories_with_links() -> QuerySet[Story]:
    return Story.objects.prefetch_related(
        Prefetch(
            "story_services",
            queryset=StoryService.objects.select_related("service__organisation").order_by("position"),
        ),
        "tags",
    )


@dataclass
class StoryListFilters:
    """Filters already resolved to ids (the router turns slugs and codes into these)."""

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
    stories = {story.pk: story for story in _stories_with_links().filter(pk__in=ids)} if ids else {}
    # A story unpublished between the two reads is left out rather than shown.
    page.items = [stories[pk] for pk in ids if pk in stories and stories[pk].status == StoryStatus.PUBLISHED]
    return page


def story_get_for_api(*, story_id: int) -> Story:
    """A story the public may know of (published, or the stub of a restricted or withdrawn
    one) with its services and tags; Http404 for any other (pending, held, rejected …), so
    that nobody can tell those from ids never used.  Three queries."""
    story = _stories_with_links().filter(pk=story_id, status__in=PUBLIC_STATUSES).first()
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


# --- Developer pages ---------------------------------------------------------------------------

def api_tokens_for_user(*, user: Any) -> list[ApiToken]:
    """Every token ``user`` has made, newest first, revoked ones included.  One query."""
    return list(ApiToken.objects.filter(user=user).select_related("organisation").order_by("-created_at", "-id"))


def api_token_get_for_owner(*, user: Any, token_id: int) -> ApiToken:
    """One of ``user``'s own tokens; Http404 for anybody else's."""
    token = ApiToken.objects.select_related("organisation").filter(pk=token_id, user=user).first()
    if token is None:
        raise Http404
    return token


def organisations_for_tokens(*, user: Any) -> list[tuple[Organisation, str]]:
    """The organisations ``user`` may make organisation tokens for: where they are a
    responder or an administrator, with that role.  One query."""
    memberships = (
        OrganisationMembership.objects.filter(
            user=user, role__in=(StaffRole.RESPONDER, StaffRole.ADMINISTRATOR)
        )
        .select_related("organisation")
        .order_by("organisation__name", "organisation__id")
    )
    return [(m.organisation, m.role) for m in memberships]


def organisations_for_webhooks(*, user: Any) -> list[Organisation]:
    """The organisations ``user`` administers directly (their webhooks pages).  One query."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [
        m.organisation
        for m in OrganisationMembership.objects.filter(user=user, role=StaffRole.ADMINISTRATOR)
        .select_related("organisation")
        .order_by("organisation__name", "organisation__id")
    ]


def organisation_get_for_webhooks(*, user: Any, slug: str) -> Organisation:
    """The organisation whose webhooks ``user`` manages: Http404 if there is none with the
    slug, PermissionDenied unless they hold ``stories.manage_organisation`` on it."""
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None:
        raise Http404
    if not user.has_perm("stories.manage_organisation", organisation):
        raise PermissionDenied("Only the organisation's administrators can manage its webhooks.")
    return organisation


def webhook_endpoints_for_organisation(*, organisation: Organisation) -> list[WebhookEndpoint]:
    return list(WebhookEndpoint.objects.filter(organisation=organisation).order_by("url", "id"))


def webhook_endpoint_get(*, organisation: Organisation, endpoint_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(organisation=organisation, pk=endpoint_id).first()
    if endpoint is None:
        raise Http404
    return endpoint


def webhook_delivery_page(*, endpoint: WebhookEndpoint, cursor: str | None, page_size: int) -> KeysetPage[Any]:
    """The delivery log of ``endpoint``, newest first.  One query."""
    return keyset_paginate(
        WebhookDelivery.objects.filter(endpoint=endpoint).defer("payload"),
        ordering=DELIVERY_ORDERING, cursor=cursor, page_size=page_size,
    )


def webhook_delivery_get(*, endpoint: WebhookEndpoint, delivery_id: int) -> WebhookDelivery:
    """One delivery of ``endpoint`` with its attempts (two queries)."""
    delivery = (
        WebhookDelivery.objects.filter(endpoint=endpoint, pk=delivery_id).prefetch_related("attempt_log").first()
    )
    if delivery is None:
        raise Http404
    return delivery


# --- Circles -------------------------------------------------------------------------------------

CIRCLE_ORDERING = ("name", "id")
HELP_REQUEST_ORDERING = ("-starts_at", "-id")


def _circles_with_bundles() -> QuerySet[Any]:
    from localsocial.circles.models import Circle, TokenBundle

    return Circle.objects.select_related("area", "organisation").prefetch_related(
        Prefetch("bundles", queryset=TokenBundle.objects.filter(is_active=True).order_by("quarters", "id"),
                 to_attr="bundles_on_sale")
    )


def circle_page_for_api(*, cursor: str | None, page_size: int) -> KeysetPage[Any]:
    """Circles open to new members, by name, with their area, organisation and bundles on
    sale (``bundles_on_sale``).  Two queries."""
    return keyset_paginate(
        _circles_with_bundles().filter(is_active=True), ordering=CIRCLE_ORDERING, cursor=cursor, page_size=page_size
    )


def circle_get_for_api(*, slug: str) -> Any:
    """Any circle by its slug (as its public page), with its bundles on sale; Http404 if
    there is none.  Two queries."""
    circle = _circles_with_bundles().filter(slug=slug).first()
    if circle is None:
        raise Http404("There is no circle with this slug.")
    return circle


def help_request_page_for_member(*, member: Any, cursor: str | None, page_size: int) -> KeysetPage[Any]:
    """The member's own requests, latest first, each with its visit and helper.  One query."""
    from localsocial.circles.models import HelpRequest

    return keyset_paginate(
        HelpRequest.objects.filter(member=member).select_related("visit__helper"),
        ordering=HELP_REQUEST_ORDERING, cursor=cursor, page_size=page_size,
    )


def member_account_for_api(*, member: Any) -> Any:
    """The member's token account, or None before their first tokens.  One query."""
    from localsocial.circles.models import Account

    return Account.objects.filter(member=member).first()
