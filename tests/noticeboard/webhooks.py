"""The noticeboard's one webhook event, registered with the platform's webhook engine."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.utils import timezone
from ninja import Schema

from localsocial.api.representations import iso_time
from localsocial.api.webhook_registry import WebhookMessage, webhook_event_register

NOTICE_PINNED = "notice.pinned"


class NoticeRef(Schema):
    organisation_id: int


class NoticePinnedData(Schema):
    notice: NoticeRef


class NoticePinnedPayload(Schema):
    event: Literal["notice.pinned"]
    id: str
    occurred_at: datetime
    data: NoticePinnedData


def _build(organisation_id: int) -> WebhookMessage:
    # The subject is the organisation whose board the notice went on.
    return WebhookMessage(
        payload={"event": NOTICE_PINNED, "id": f"{NOTICE_PINNED}:{organisation_id}",
                 "occurred_at": iso_time(timezone.now()),
                 "data": {"notice": {"organisation_id": organisation_id}}},
        organisation_ids=[organisation_id],
    )


webhook_event_register(
    name=NOTICE_PINNED, label="A notice was pinned (noticeboard test module)",
    summary="A notice was pinned", payload_schema=NoticePinnedPayload, build=_build,
)
