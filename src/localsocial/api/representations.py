"""JSON shapes every module's API and webhook payloads share.  A module's own shapes live in
the module (``stories.representations``, ``circles.api.representations``)."""

from __future__ import annotations

from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder

_ENCODER = DjangoJSONEncoder()


def iso_time(value: datetime | None) -> str | None:
    # As the API's JSON gives times (DjangoJSONEncoder), so a webhook's payload and the API's
    # answer for the same record are the same.
    return _ENCODER.default(value) if value is not None else None

