"""The webhook event types the modules bring, registered with the platform's webhook engine.

The platform (``api.webhooks``: queueing, signing, sending, retries) never imports a module.
Each module describes its events in its own ``webhooks.py``, which ``ApiConfig.ready()``
imports (``autodiscover_modules("webhooks")``)::

    from localsocial.api.webhook_registry import WebhookMessage, webhook_event_register

    def _matched(visit_id: int) -> WebhookMessage | None:
        ...  # load the subject; None when there is nothing to send
        return WebhookMessage(payload={"event": ..., "id": ..., "occurred_at": ..., "data": ...},
                              organisation_ids=[...])

    webhook_event_register(
        name="request.matched",
        label=_("In a circle the organisation runs, a helper accepted a request for help"),
        summary="A helper accepted a request for help",
        payload_schema=RequestMatchedPayload,   # a pydantic model (or a JSON Schema dict)
        build=_matched,
    )

and its services queue an event, after their transaction commits, with
``api.webhooks.webhook_event_queue(event="request.matched", subject_id=visit.pk)``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from pydantic import BaseModel


@dataclass(frozen=True)
class WebhookMessage:
    """What an event's builder returns: the payload to post (``event``, ``id``, ``occurred_at``
    and ``data``; ``id`` is the event's stable id, the same each time the event is queued)
    and the organisations whose webhooks hear of it (every one above them included)."""

    payload: dict[str, Any]
    organisation_ids: Collection[int]


def _always(payload: dict[str, Any]) -> bool:
    return True


@dataclass(frozen=True)
class WebhookEventType:
    """One kind of event a module sends.

    * ``name``: what endpoints subscribe to and receivers see (``story.published``).
    * ``label``: one plain-English line for the developer pages (may be lazily translated).
    * ``summary`` and ``description``: for the OpenAPI document's ``webhooks`` section.
    * ``payload_schema``: the posted JSON, as a pydantic model or a JSON Schema dict.
    * ``build(subject_id)``: the ``WebhookMessage`` for a subject, or None when nothing is to
      be sent (the subject is not public, or concerns no organisation).
    * ``still_public(payload)``: run before every attempt; False cancels the delivery (a story
      withdrawn since it was queued is not sent).
    """

    name: str
    label: Any
    summary: str
    payload_schema: type[BaseModel] | dict[str, Any]
    build: Callable[[int], WebhookMessage | None]
    still_public: Callable[[dict[str, Any]], bool] = _always
    description: str = ""
    module: str = field(default="")


_EVENT_TYPES: dict[str, WebhookEventType] = {}


def webhook_event_register(
    *,
    name: str,
    label: Any,
    summary: str,
    payload_schema: type[BaseModel] | dict[str, Any],
    build: Callable[[int], WebhookMessage | None],
    still_public: Callable[[dict[str, Any]], bool] = _always,
    description: str = "",
) -> WebhookEventType:
    """Register an event type (once, from a module's ``webhooks.py``).  Names are unique:
    registering one twice is a configuration error."""
    if name in _EVENT_TYPES:
        raise ImproperlyConfigured(f"The webhook event {name!r} is registered twice.")
    if not name or len(name) > 40:  # WebhookDelivery.event holds 40 characters
        raise ImproperlyConfigured(f"A webhook event needs a name of 1 to 40 characters, not {name!r}.")
    event_type = WebhookEventType(
        name=name, label=label, summary=summary, payload_schema=payload_schema, build=build,
        still_public=still_public, description=description, module=getattr(build, "__module__", ""),
    )
    _EVENT_TYPES[name] = event_type
    return event_type


def webhook_event_types() -> list[WebhookEventType]:
    """Every registered event type, in the order registered."""
    return list(_EVENT_TYPES.values())


def webhook_event_type(name: str) -> WebhookEventType | None:
    """The registered event type called ``name`` (None if no module brings it)."""
    return _EVENT_TYPES.get(name)


def webhook_event_names() -> list[str]:
    return list(_EVENT_TYPES)


def webhook_event_choices() -> list[tuple[str, str]]:
    """For a form's choices (callable, so it is read once the modules have registered)."""
    return [(name, name) for name in _EVENT_TYPES]


# --- The OpenAPI document's `webhooks` section ---------------------------------------------------

def _inline_refs(node: Any, definitions: dict[str, Any]) -> Any:
    """``node`` with every ``{"$ref": "#/$defs/X"}`` replaced by X itself, so a payload's schema
    stands alone in the document (no name can clash with the API's own component schemas)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            target = _inline_refs(copy.deepcopy(definitions[ref.removeprefix("#/$defs/")]), definitions)
            extra = {key: value for key, value in node.items() if key != "$ref"}
            return {**target, **extra}
        return {key: _inline_refs(value, definitions) for key, value in node.items() if key != "$defs"}
    if isinstance(node, list):
        return [_inline_refs(item, definitions) for item in node]
    return node


def webhook_payload_json_schema(event_type: WebhookEventType) -> dict[str, Any]:
    """The JSON Schema of an event's payload, self-contained."""
    schema = event_type.payload_schema
    raw = copy.deepcopy(schema) if isinstance(schema, dict) else schema.model_json_schema()
    result: dict[str, Any] = _inline_refs(raw, raw.get("$defs", {}))
    return result


_SIGNATURE_HEADERS = [
    {
        "name": "webhook-id",
        "in": "header",
        "required": True,
        "description": "The event's id: the same on every attempt (use it to ignore a repeat).",
        "schema": {"type": "string"},
    },
    {
        "name": "webhook-timestamp",
        "in": "header",
        "required": True,
        "description": "When this attempt was signed, in seconds since 1970 (refuse old ones).",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    {
        "name": "webhook-signature",
        "in": "header",
        "required": True,
        "description": (
            "Standard Webhooks signature: `v1,` and the base64 HMAC-SHA256, keyed with the "
            "secret's decoded bytes, of `{webhook-id}.{webhook-timestamp}.{body}`. For 24 hours "
            "after the secret is rotated, two signatures separated by a space (new and previous)."
        ),
        "schema": {"type": "string"},
    },
]


def webhooks_openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 ``webhooks`` map: for every registered event, the POST we make to a
    receiver, its signature headers and the payload's schema."""
    section: dict[str, Any] = {}
    for event_type in webhook_event_types():
        section[event_type.name] = {
            "post": {
                "operationId": "webhook_" + event_type.name.replace(".", "_"),
                "summary": event_type.summary,
                "description": event_type.description or str(event_type.label),
                "tags": ["Webhooks"],
                "parameters": copy.deepcopy(_SIGNATURE_HEADERS),
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": webhook_payload_json_schema(event_type)}},
                },
                "responses": {
                    "200": {"description": "Received. Any 2xx within 10 seconds counts; anything else is retried."},
                },
            }
        }
    return section
