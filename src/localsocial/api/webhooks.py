"""Webhooks.  (Filled in by the API work; the signature is fixed.)"""

from __future__ import annotations


def webhook_event_queue(*, event: str, story_id: int | None = None, response_id: int | None = None) -> None:
    """Queue ``event`` for every active endpoint of the organisations concerned (after commit)."""
