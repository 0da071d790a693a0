"""Reads for responses.  (Filled in by the responses work; signatures fixed.)"""

from __future__ import annotations

from typing import Any

from localsocial.stories.models import Story


def story_thread(*, story: Story, user: Any = None, person_key: str | None = None) -> dict[str, Any]:
    """Everything the conversation partial needs, in a fixed number of queries."""
    return {"responses": [], "can_respond": False}
