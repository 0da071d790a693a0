"""``Idempotency-Key`` for any POST that makes something: one design for every module.

A key is remembered per token in ``ApiIdempotencyKey`` with the ``operation`` it was used for
(``<module>.<service>``, such as ``stories.story_submit``), a SHA-256 of the request
(``request_fingerprint``) and the id of what the request made (``object_id``).  A retry with
the same key and body gets what the first request made, without the service being called
again; the same key with another operation or body is refused (``IdempotencyKeyReused``).

The key row is written in the same transaction as what the service makes, and is unique per
token: of two requests with the same key at the same moment, the one that loses is rolled
back whole and answers with the winner's object.  Services that are idempotent themselves
(the circles services) are handed ``service_key`` — derived from the token and the key — so
that the race is safe inside the service too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from django.db import IntegrityError, transaction

from localsocial.api.models import ApiIdempotencyKey, ApiToken


class _Made(Protocol):
    @property
    def pk(self) -> Any: ...


Made = TypeVar("Made", bound=_Made)


class IdempotencyKeyReused(Exception):  # noqa: N818 -- reads as a sentence
    """The key was already used by this token for a different request."""


def request_fingerprint(data: dict[str, Any]) -> str:
    """A SHA-256 of a request's operation and body (``data``, as JSON with sorted keys)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def idempotency_service_key(*, token: ApiToken, key: str) -> str:
    """The key handed to an idempotent service for a token's Idempotency-Key: short enough
    for every key column, and never equal to another token's or a web form's."""
    return f"api:{token.pk}:{hashlib.sha256(key.encode('utf-8')).hexdigest()[:40]}"


def _earlier_id(*, token: ApiToken, key: str, operation: str, fingerprint: str) -> int | None:
    """What an earlier request with this key made, or None; raises IdempotencyKeyReused when
    the earlier request was another operation or had another body."""
    earlier = ApiIdempotencyKey.objects.filter(token=token, key=key).only(
        "request_hash", "operation", "object_id"
    ).first()
    if earlier is None:
        return None
    if earlier.request_hash != fingerprint or earlier.operation != operation:
        raise IdempotencyKeyReused(key)
    return earlier.object_id


def idempotent_call(
    *,
    token: ApiToken,
    idempotency_key: str | None,
    operation: str,
    fingerprint: str,
    perform: Callable[[str | None], Made],
    load: Callable[[int], Made | None],
) -> tuple[Made, bool]:
    """Run ``perform`` once per token and ``idempotency_key``.

    ``perform(service_key)`` calls the service and returns what it made (``service_key`` is
    None without an Idempotency-Key); ``load(object_id)`` finds it again, or returns None if it
    is gone.  Returns ``(object, replayed)``: for a key this token already used for the same
    ``operation`` and ``fingerprint``, what that request made and ``replayed`` True, without
    calling ``perform``.  Raises IdempotencyKeyReused for a key used for something else.

    Without a key, ``perform`` simply runs.  If what a key made has since been deleted (an
    erased story), the key is forgotten and the request runs again, as if it were new."""
    if not idempotency_key:
        return perform(None), False
    found = _earlier_id(token=token, key=idempotency_key, operation=operation, fingerprint=fingerprint)
    if found is not None:
        earlier = load(found)
        if earlier is not None:
            return earlier, True
        ApiIdempotencyKey.objects.filter(token=token, key=idempotency_key, object_id=found).delete()
    try:
        with transaction.atomic():
            made = perform(idempotency_service_key(token=token, key=idempotency_key))
            ApiIdempotencyKey.objects.create(
                token=token, key=idempotency_key, request_hash=fingerprint, operation=operation, object_id=made.pk
            )
    except IntegrityError:
        found = _earlier_id(token=token, key=idempotency_key, operation=operation, fingerprint=fingerprint)
        if found is None:
            raise
        earlier = load(found)
        if earlier is None:
            raise
        return earlier, True
    return made, False
