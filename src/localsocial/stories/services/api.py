"""Stories written through the API (``stories.api``), with the platform's idempotency keys."""

from __future__ import annotations

from typing import Any

from localsocial.api.idempotency import idempotent_call
from localsocial.api.models import ApiToken
from localsocial.stories.models import Story
from localsocial.stories.selectors.api import story_get_submitted
from localsocial.stories.services.submission import story_submit

# The operation an Idempotency-Key of ``POST /api/stories/`` is recorded for (the data
# migration api.0003 gives keys made before operations were recorded this name too).
STORY_SUBMIT_OPERATION = "stories.story_submit"


def api_story_submit(
    *,
    token: ApiToken,
    idempotency_key: str | None,
    fingerprint: str,
    fields: dict[str, Any],
) -> tuple[Story, bool]:
    """Submit a story through the API (route "api"): ``fields`` are ``story_submit``'s.
    Returns ``(story, replayed)``: with an idempotency key already used by this token for the
    same request, the story that request made and ``replayed`` True; nothing new is stored.
    Two requests with the same key at the same moment make one story: the key is unique per
    token in the database, and the request that loses the race is rolled back whole.  Raises
    IdempotencyKeyReused for a key this token used for another request."""

    def perform(_service_key: str | None) -> Story:
        story, _secret = story_submit(**fields, actor=None, route="api")
        return story

    return idempotent_call(
        token=token, idempotency_key=idempotency_key, operation=STORY_SUBMIT_OPERATION, fingerprint=fingerprint,
        perform=perform, load=lambda story_id: story_get_submitted(story_id=story_id),
    )
