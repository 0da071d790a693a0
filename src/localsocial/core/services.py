"""Writes shared by every module."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.db import models

from localsocial.core.logging import client_ip_var, request_id_var
from localsocial.core.models import AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from localsocial.accounts.models import User


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime) and value.tzinfo is not None:
        # One moment, one text: 10:00 in London in summer is 09:00 UTC as read back from the
        # database, and a snapshot must not tell them apart.
        value = value.astimezone(UTC)
    return str(value)


def client_ip() -> str | None:
    """The client's address, which RequestIdMiddleware put in context for this request (the
    real one behind our proxies); None in a task or a command."""
    return client_ip_var.get()


def audit_record(
    *,
    actor: User | AnonymousUser | None,
    action: str,
    target: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    on_behalf_of: Any = None,
) -> AuditEvent:
    """Add one row to the audit log: who did what to which record, and what changed.  The
    request id and the client's address come from the context the middleware set (none
    outside a request), so no caller passes the request."""
    actor_obj = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.create(
        actor=actor_obj,
        actor_label=str(actor_obj.email) if actor_obj is not None else "system",
        on_behalf_of=on_behalf_of,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:300] if target is not None else "",
        before=_jsonable(before or {}),
        after=_jsonable(after or {}),
        request_id=request_id_var.get() if request_id_var.get() != "-" else "",
        ip_address=client_ip(),
    )


def model_snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """The named fields of a record, ready for ``audit_record(before=…, after=…)``."""
    return {name: _jsonable(getattr(instance, name)) for name in fields}
