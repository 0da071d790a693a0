"""Rate limits for sign-in and the other forms that send email or check secrets.

Counts are kept in the cache (``settings.RATELIMIT_USE_CACHE``) by django-ratelimit, per email
address and per IP address.  Rates come from settings so that an operator can change them:

* ``SIGN_IN_RATE`` (default ``5/15m``): failed sign-ins, and wrong two-step codes, per account
  and per IP address.  Only failures count, so a person who signs in often is never blocked.
* ``SIGN_UP_RATE`` (default ``10/h``): sign-up forms sent, per IP address.
* ``ACCOUNT_EMAIL_RATE`` (default ``3/h``): emails about one account (confirmation links,
  password resets) per address, so nobody can flood someone's inbox through us.
* ``PASSWORD_RESET_RATE`` (default ``10/h``): password-reset requests per IP address.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

Key = tuple[str, str]  # ("ip", "") for the client's address, or ("value", "some text")


def rate(name: str, default: str) -> str:
    return str(getattr(settings, name, default) or default)


def sign_in_rate() -> str:
    return rate("SIGN_IN_RATE", "5/15m")


def _usage(request: HttpRequest, *, group: str, key: Key, rate_: str, increment: bool) -> dict | None:
    kind, value = key
    ratelimit_key = "ip" if kind == "ip" else (lambda _group, _request: value)
    return get_usage(request, group=group, key=ratelimit_key, rate=rate_, increment=increment)


def failures_exhausted(request: HttpRequest, *, group: str, keys: Iterable[Key], rate_: str) -> bool:
    """True when any key has already used up its allowance of failures (nothing is counted)."""
    for key in keys:
        usage = _usage(request, group=group, key=key, rate_=rate_, increment=False)
        if usage is not None and usage["count"] >= usage["limit"]:
            return True
    return False


def failure_record(request: HttpRequest, *, group: str, keys: Iterable[Key], rate_: str) -> None:
    """Count one failure against every key."""
    for key in keys:
        _usage(request, group=group, key=key, rate_=rate_, increment=True)


def attempt_limited(request: HttpRequest, *, group: str, keys: Iterable[Key], rate_: str) -> bool:
    """Count one attempt against every key; True when any key is now over its limit."""
    limited = False
    for key in keys:
        usage = _usage(request, group=group, key=key, rate_=rate_, increment=True)
        if usage is not None and usage["should_limit"]:
            limited = True
    return limited


def ip_key() -> Key:
    return ("ip", "")


def value_key(value: str) -> Key:
    return ("value", value)
