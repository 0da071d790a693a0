"""Reads for responses: the conversation under a story, the respond and edit pages, the
moderation queue of responses, and an organisation's story settings and templates.  Each
reads a fixed number of queries, however long the conversation or the queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from localsocial.core.pagination import KeysetPage, keyset_paginate
from localsocial.directory.models import Organisation, OrganisationMembership
from localsocial.stories.models import (
    HelpfulRating,
    Response,
    ResponseStatus,
    ResponseTemplate,
    Story,
    StoryStatus,
)
from localsocial.stories.selectors.common import secret_hash, story_responder_memberships

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from localsocial.accounts.models import User

MODERATION_PAGE_SIZE = 50


def author_person_key(*, story_id: int) -> str:
    """The person key of a story's author when they act from their private page: one per
    story, whichever device they use."""
    return secret_hash(f"author:{story_id}")


def response_edit_deadline(response: Response) -> datetime:
    return response.created_at + timedelta(minutes=settings.STORIES_RESPONSE_EDIT_MINUTES)


def response_can_edit(*, response: Response, user: User | AnonymousUser, now: datetime | None = None) -> bool:
    """The writer may still change this response: it is theirs, not rejected, and within the
    edit window (``STORIES_RESPONSE_EDIT_MINUTES`` after it was written)."""
    return bool(
        getattr(user, "is_authenticated", False)
        and response.responder_id == user.pk
        and not response.is_author_reply
        and response.status != ResponseStatus.REJECTED
        and (now or timezone.now()) < response_edit_deadline(response)
    )


class HeldBecause:
    """Why a response waits in the moderation queue (worked out from the response itself)."""

    AUTHOR_REPLY = "author_reply"
    CHANGE_CLAIM = "change_claim"
    NEW_RESPONDER = "new_responder"


@dataclass
class ThreadItem:
    """One message in the conversation, with what the person looking at it may do."""

    response: Response
    my_rating: bool | None = None  # this person's rating: True helpful, False not, None none
    can_edit: bool = False
    waiting: bool = False  # not yet published: shown only to its writer
    can_confirm: bool = False  # on the author's page: a change claim they may confirm
    author_rating: bool | None = None  # the author's own rating, shown apart
    edit_until: Any = None


@dataclass
class ModerationItem:
    response: Response
    held_because: str
    responder_published: int = 0


def _author_story(story: Story, author_token: str | None) -> bool:
    return bool(author_token) and story.author_token_hash == secret_hash(author_token or "")


def story_thread(
    *, story: Story, user: User | AnonymousUser | None = None, person_key: str | None = None, author_token: str | None = None
) -> dict[str, Any]:
    """Everything the conversation partial (stories/responses/_thread.html) needs, in a fixed
    number of queries (at most five).  ``author_token`` is given on the author's private page,
    so that the partial offers the author's own actions (reply, confirm a change, rate); the
    author's ratings are then theirs as the author, whatever ``person_key`` is.

    Shows published responses and replies in the order they were written; a response still
    waiting for moderation is shown to its own writer (the responder, or the author on their
    page), marked as waiting."""
    is_author = _author_story(story, author_token)
    viewer = user if user is not None and user.is_authenticated else None  # signed in
    visible = Q(status=ResponseStatus.PUBLISHED)
    if viewer is not None:
        visible |= Q(status=ResponseStatus.PENDING, responder_id=viewer.pk, is_author_reply=False)
    if is_author:
        visible |= Q(status=ResponseStatus.PENDING, is_author_reply=True)
    responses = list(
        Response.objects.filter(visible, story_id=story.pk)
        .select_related("organisation")
        .order_by("created_at", "id")
    )
    rater_key = author_person_key(story_id=story.pk) if is_author else person_key
    published_ids = [r.pk for r in responses if r.status == ResponseStatus.PUBLISHED]
    # This person's ratings and the author's, in one query over the story's responses.
    my_ratings: dict[int, bool] = {}
    author_ratings: dict[int, bool] = {}
    if published_ids:
        wanted = Q(by_author=True) | Q(person_key=rater_key) if rater_key else Q(by_author=True)
        for response_id, key, helpful, by_author in HelpfulRating.objects.filter(
            wanted, response__story_id=story.pk
        ).values_list("response_id", "person_key", "helpful", "by_author"):
            if by_author:
                author_ratings[response_id] = helpful
            if rater_key and key == rater_key:
                my_ratings[response_id] = helpful
    can_respond = (
        viewer is not None
        and not is_author
        and story.status == StoryStatus.PUBLISHED
        and story_responder_memberships(user=viewer, story=story).exists()
    )
    items = []
    for response in responses:
        published = response.status == ResponseStatus.PUBLISHED
        can_edit = viewer is not None and response_can_edit(response=response, user=viewer)
        items.append(
            ThreadItem(
                response=response,
                my_rating=my_ratings.get(response.pk),
                can_edit=can_edit,
                edit_until=response_edit_deadline(response) if can_edit else None,
                author_rating=author_ratings.get(response.pk),
                waiting=not published,
                can_confirm=is_author and published and bool(response.change) and not response.is_author_reply,
            )
        )
    return {
        "story": story,
        "responses": items,
        "published_count": len(published_ids),
        "can_respond": can_respond,
        "is_author": is_author,
        "author_token": author_token if is_author else "",
        "can_rate": story.status == StoryStatus.PUBLISHED,
        "can_reply": is_author and story.status == StoryStatus.PUBLISHED,
    }


# --- Responding -------------------------------------------------------------------------------


def story_get_for_responding(*, user: User, story_id: int) -> tuple[Story, list[OrganisationMembership]]:
    """A published story and the memberships through which ``user`` may answer it (at least
    one).  Raises Http404 when there is no such published story, PermissionDenied when the
    user may not respond for any organisation it is about."""
    story = Story.objects.filter(pk=story_id, status=StoryStatus.PUBLISHED).first()
    if story is None:
        raise Http404(_("There is no published story at this address."))
    memberships = list(story_responder_memberships(user=user, story=story))
    if not memberships:
        raise PermissionDenied(_("You cannot respond to this story: it is not about an organisation you respond for."))
    return story, memberships


def story_services_for_display(*, story: Story) -> list[Any]:
    """The services a story is about, with their organisations, main one first."""
    return [link.service for link in story.story_services.select_related("service__organisation").order_by("position")]


def response_templates_for(*, organisation: Organisation) -> list[ResponseTemplate]:
    """The templates a responder for ``organisation`` may start from: its own and those of
    the organisations above it (a trust's templates serve its hospitals)."""
    return list(
        ResponseTemplate.objects.filter(organisation_id__in=organisation.lineage_ids)
        .select_related("organisation")
        .order_by("organisation__depth", "title", "id")
    )


def response_get_for_edit(*, user: User, response_id: int) -> Response:
    """The user's own response from an organisation, with its story.  Http404 when there is
    none, PermissionDenied when it is someone else's."""
    response = Response.objects.select_related("story", "organisation").filter(
        pk=response_id, is_author_reply=False
    ).first()
    if response is None:
        raise Http404(_("There is no response at this address."))
    if response.responder_id != getattr(user, "pk", None):
        raise PermissionDenied(_("You can only change your own responses."))
    return response


# --- Moderation -------------------------------------------------------------------------------


def response_held_because(response: Response) -> str:
    if response.is_author_reply:
        return HeldBecause.AUTHOR_REPLY
    if response.change:
        return HeldBecause.CHANGE_CLAIM
    return HeldBecause.NEW_RESPONDER


def response_moderation_queue(*, user: User, cursor: str | None, page_size: int = MODERATION_PAGE_SIZE) -> KeysetPage[ModerationItem]:
    """Responses and author replies waiting for a moderator, oldest first, each with why it is
    held and, for a new responder, how many of theirs are published.  Two queries, whatever
    the length of the queue.  PermissionDenied for anyone but moderators."""
    if not user.has_perm("stories.moderate"):
        raise PermissionDenied(_("Only moderators can see the responses waiting for moderation."))
    page = keyset_paginate(
        Response.objects.filter(status=ResponseStatus.PENDING).select_related("story", "organisation", "responder"),
        ordering=("created_at", "id"), cursor=cursor, page_size=page_size,
    )
    responder_ids = {r.responder_id for r in page.items if r.responder_id}
    published: dict[int, int] = {}
    if responder_ids:
        published = dict(
            Response.objects.filter(
                responder_id__in=responder_ids, status=ResponseStatus.PUBLISHED, is_author_reply=False
            )
            .values("responder_id")
            .annotate(n=Count("id"))
            .values_list("responder_id", "n")
        )
    page.items = [
        ModerationItem(
            response=r, held_because=response_held_because(r), responder_published=published.get(r.responder_id or 0, 0)
        )
        for r in page.items
    ]
    return page


def response_get_for_moderation(*, user: User, response_id: int) -> Response:
    """A response for a moderator to decide on, with its story.  PermissionDenied for anyone
    but moderators, Http404 when there is none."""
    if not user.has_perm("stories.moderate"):
        raise PermissionDenied(_("Only moderators can moderate responses."))
    response = Response.objects.select_related("story", "organisation", "responder").filter(pk=response_id).first()
    if response is None:
        raise Http404(_("There is no response at this address."))
    return response


# --- Organisation settings --------------------------------------------------------------------


def organisation_get_for_story_settings(*, user: User, slug: str) -> Organisation:
    """The organisation with this slug, if ``user`` may manage its story settings and
    templates (its administrators, and site administrators).  Http404 / PermissionDenied."""
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None:
        raise Http404(_("There is no organisation at this address."))
    if not user.has_perm("stories.manage_organisation", organisation):
        raise PermissionDenied(_("You cannot manage the story settings of this organisation."))
    return organisation


def response_templates_of(*, organisation: Organisation) -> list[ResponseTemplate]:
    """The organisation's own templates, by name."""
    return list(ResponseTemplate.objects.filter(organisation=organisation).order_by("title", "id"))


def response_template_get(*, organisation: Organisation, template_id: int) -> ResponseTemplate:
    template = ResponseTemplate.objects.filter(organisation=organisation, pk=template_id).first()
    if template is None:
        raise Http404(_("There is no template at this address."))
    return template
