"""Writes shared by every module."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import models
from django.http import HttpRequest

from localsocial.core.logging import request_id_var
from localsocial.core.models import AuditEvent


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


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    on_behalf_of: Any = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Add one row to the audit log: who did what to which record, and what changed."""
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
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
        ip_address=client_ip(request),
    )


def model_snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """The named fields of a record, ready for ``audit_record(before=…, after=…)``."""
    return {name: _jsonable(getattr(instance, name)) for name in fields}
