"""The stories module's webhook events, registered with the platform's webhook engine
(api.webhook_registry; found by ApiConfig.ready()).

* ``story.published`` (subject: the story's id): a story about the organisation, or anything
  below it, is published; ``data.story`` is the story as ``GET /api/stories/{id}`` gives it,
  without its responses.
* ``response.published`` and ``change.marked`` (subject: the response's id): an organisation's
  response to such a story is published; ``change.marked`` when it claims a change planned or
  made.  ``data`` holds the story as in a list and the response.

Only what the public pages show is ever sent, and a story withdrawn (or a response rejected)
after the event was queued is not sent.  The services queue them after commit with
``api.webhooks.webhook_event_queue(event=…, subject_id=…)``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Schema
from pydantic import Field

from localsocial.api.representations import iso_time
from localsocial.api.webhook_registry import WebhookMessage, webhook_event_register
from localsocial.stories.api.schemas import ResponseOut, StorySummary
from localsocial.stories.models import Response, ResponseStatus, Story, StoryStatus
from localsocial.stories.representations import response_public, story_detail, story_summary
from localsocial.stories.selectors.api import stories_with_links

STORY_PUBLISHED = "story.published"
RESPONSE_PUBLISHED = "response.published"
CHANGE_MARKED = "change.marked"


# --- The payloads' schemas (for the OpenAPI document's `webhooks` section) -----------------------

class PublishedStory(StorySummary):
    status: str = Field(description="published.")
    status_label: str
    body: str
    feelings: str
    restricted_by: None = None
    restriction_reason: None = None


class StoryPublishedData(Schema):
    story: PublishedStory = Field(description="As GET /api/stories/{id} gives it, without its responses.")


class StoryPublishedPayload(Schema):
    event: Literal["story.published"]
    id: str = Field(description="story.published:<story id>: the same each time, to spot a repeat.")
    occurred_at: datetime = Field(description="When the story was published.")
    data: StoryPublishedData


class ResponseData(Schema):
    story: StorySummary = Field(description="The story, as in a list.")
    response: ResponseOut


class ResponsePublishedPayload(Schema):
    event: Literal["response.published"]
    id: str = Field(description="response.published:<story id>:<response id>.")
    occurred_at: datetime = Field(description="When the response was published.")
    data: ResponseData


class ChangeMarkedPayload(Schema):
    event: Literal["change.marked"]
    id: str = Field(description="change.marked:<story id>:<response id>.")
    occurred_at: datetime = Field(description="When the response was published.")
    data: ResponseData = Field(description="response.change is planned or made, with change_description.")


# --- Building them --------------------------------------------------------------------------------

def event_id_for(*, event: str, story_id: int, response_id: int | None) -> str:
    """The same for every endpoint, and the same each time the event is queued: receivers
    use it to ignore a repeat."""
    return f"{event}:{story_id}" if response_id is None else f"{event}:{story_id}:{response_id}"


def _story_loaded(story_id: int) -> Story | None:
    return stories_with_links().filter(pk=story_id).first()


def webhook_payload(*, event: str, story: Story, response: Response | None) -> dict[str, Any]:
    """The JSON posted for an event: only what the public pages show (see docs/api.md)."""
    base = settings.SITE_URL
    if response is None:
        occurred_at = story.published_at or timezone.now()
        data: dict[str, Any] = {"story": story_detail(story, base=base)}
    else:
        occurred_at = response.published_at or timezone.now()
        data = {"story": story_summary(story, base=base), "response": response_public(response)}
    return {
        "event": event,
        "id": event_id_for(event=event, story_id=story.pk, response_id=response.pk if response else None),
        "occurred_at": iso_time(occurred_at),
        "data": data,
    }


def _message(*, event: str, story: Story | None, response: Response | None) -> WebhookMessage | None:
    from localsocial.stories.selectors.common import story_organisation_ids

    if story is None or story.status != StoryStatus.PUBLISHED:
        return None
    return WebhookMessage(
        payload=webhook_payload(event=event, story=story, response=response),
        organisation_ids=story_organisation_ids(story=story),
    )


def story_published_message(story_id: int) -> WebhookMessage | None:
    """``story.published`` for a published story (None for any other)."""
    return _message(event=STORY_PUBLISHED, story=_story_loaded(story_id), response=None)


def _response_message(event: str, response_id: int) -> WebhookMessage | None:
    """A published organisation's response (never an author's reply) to a published story."""
    response = (
        Response.objects.select_related("organisation")
        .filter(pk=response_id, status=ResponseStatus.PUBLISHED, is_author_reply=False)
        .first()
    )
    if response is None:
        return None
    return _message(event=event, story=_story_loaded(response.story_id), response=response)


def response_published_message(response_id: int) -> WebhookMessage | None:
    return _response_message(RESPONSE_PUBLISHED, response_id)


def change_marked_message(response_id: int) -> WebhookMessage | None:
    return _response_message(CHANGE_MARKED, response_id)


def still_public(payload: dict[str, Any]) -> bool:
    """Checked before every attempt: a story withdrawn (or a response rejected) since the event
    was queued is not sent on."""
    data = payload.get("data") or {}
    story_id = (data.get("story") or {}).get("id")
    response_id = (data.get("response") or {}).get("id")
    if story_id is None or not Story.objects.filter(pk=story_id, status=StoryStatus.PUBLISHED).exists():
        return False
    if response_id is not None:
        return Response.objects.filter(pk=response_id, status=ResponseStatus.PUBLISHED).exists()
    return True


webhook_event_register(
    name=STORY_PUBLISHED,
    label=_("A story about the organisation (or any part of it) is published"),
    summary="A story about the organisation, or anything below it, is published",
    description="data.story is the story as GET /api/stories/{id} gives it, without its responses.",
    payload_schema=StoryPublishedPayload,
    build=story_published_message,
    still_public=still_public,
)
webhook_event_register(
    name=RESPONSE_PUBLISHED,
    label=_("A response to such a story is published"),
    summary="An organisation's response to a story about the organisation is published",
    description="data holds the story (as in a list) and the response. Authors' replies send nothing.",
    payload_schema=ResponsePublishedPayload,
    build=response_published_message,
    still_public=still_public,
)
webhook_event_register(
    name=CHANGE_MARKED,
    label=_("A published response says a change is planned or made"),
    summary="A published response says a change is planned or made",
    description="As response.published; data.response.change is planned or made.",
    payload_schema=ChangeMarkedPayload,
    build=change_marked_message,
    still_public=still_public,
)
