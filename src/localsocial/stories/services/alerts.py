"""Staff alerts.  (Filled in by the alerts work; the signature is fixed.)"""

from __future__ import annotations


def alerts_queue_for_story(*, story_id: int) -> None:
    """Enqueue the alert task for a newly published story (after commit)."""
