"""JSON shapes every module's API and webhook payloads share.  A module's own shapes live in
the module (``stories.representations``, ``circles.api.representations``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

_ENCODER = DjangoJSONEncoder()


def iso_time(value: datetime | None) -> str | None:
    # As the API's JSON gives times (DjangoJSONEncoder), so a webhook's payload and the API's
    # answer for the same record are the same.
    return _ENCODER.default(value) if value is not None else None


_MOVED_TO_STORIES = frozenset({"response_public", "story_detail", "story_stub", "story_summary"})


def __getattr__(name: str) -> Any:
    # Compatibility for api/webhooks.py until the stories payloads move into the stories
    # module: the story shapes now live in stories.representations.  To be removed then.
    if name in _MOVED_TO_STORIES:
        from importlib import import_module

        return getattr(import_module("localsocial.stories.representations"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
