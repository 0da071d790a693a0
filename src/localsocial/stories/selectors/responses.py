"""Reads for responses.  (Filled in by the responses work; signatures fixed.)"""

from __future__ import annotations

from typing import Any

from localsocial.stories.models import Story


def story_thread(
    *, story: Story, user: Any = None, person_key: str | None = None, author_token: str | None = None
) -> dict[str, Any]:
    """Everything the conversation partial (stories/responses/_thread.html) needs, in a fixed
    number of queries.  ``author_token`` is given on the author's private page, so that the
    partial offers the author's own actions (reply, confirm a change, rate)."""
    return {"responses": [], "can_respond": False}
