"""Signed, expiring links sent by email.

An email-confirmation link carries the account id, the address it was sent to and (for a change
of address) the new address, signed with ``SECRET_KEY`` and timestamped.  It is single-use in
effect: it is only accepted while the account's address is still the one it was sent to and,
for a first confirmation, while the address is still unconfirmed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing

_SALT = "localsocial.accounts.email-confirmation"


def email_confirmation_max_age() -> int:
    """How long a confirmation link lasts, in seconds (``EMAIL_CONFIRMATION_MAX_AGE``, 3 days)."""
    return int(getattr(settings, "EMAIL_CONFIRMATION_MAX_AGE", 60 * 60 * 24 * 3))


@dataclass(frozen=True)
class EmailConfirmation:
    user_id: int
    sent_to: str
    new_email: str | None  # None: confirm the address the account already has


def email_confirmation_make(*, user_id: int, sent_to: str, new_email: str | None = None) -> str:
    payload = {"u": user_id, "e": sent_to}
    if new_email is not None:
        payload["n"] = new_email
    return signing.dumps(payload, salt=_SALT, compress=True)


def email_confirmation_read(token: str) -> EmailConfirmation | None:
    """The confirmation a token stands for, or None when it is forged, mangled or expired."""
    try:
        payload = signing.loads(token, salt=_SALT, max_age=email_confirmation_max_age())
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        return None
    sent_to, new_email = payload.get("e"), payload.get("n")
    if not isinstance(sent_to, str) or not (new_email is None or isinstance(new_email, str)):
        return None
    return EmailConfirmation(user_id=payload["u"], sent_to=sent_to, new_email=new_email)
