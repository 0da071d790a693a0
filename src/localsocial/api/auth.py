"""API tokens: how a request proves who it acts for, what it may do, and how fast it may go.

* ``Authorization: Bearer <token>`` only.  Session cookies are never accepted by the API, so
  nothing a browser holds can write through it (and the two-factor middleware, which skips
  /api/, is not needed here).
* A token is kept as a SHA-256; it is refused once revoked or expired, or when its person's
  account is no longer active.
* Scopes are registered by the modules they belong to (``api.registry``; ``webhooks:manage``,
  the platform's own, below).  Organisation scopes (those registered with
  ``organisation_roles``, such as ``responses:write`` and ``webhooks:manage``) are checked
  again on every request against the person's current roles: a token stops working for an
  organisation the moment its person loses the role there.
* Rate limits: ``API_RATE`` for reads and ``API_WRITE_RATE`` for writes, per token (or per
  address without one), counted by django-ratelimit; over the limit is a 429 problem with
  ``Retry-After``.  Every answer says where its sender stands (``RateLimit-Policy`` and
  ``RateLimit``, added by api.middleware from ``rate_usage_for_request``).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_ratelimit.core import _split_rate, get_usage
from ninja.security import HttpBearer
from ninja.throttling import BaseThrottle

from localsocial.accounts.ratelimits import rate
from localsocial.api.models import ApiToken
from localsocial.api.registry import scope_get, scope_register
from localsocial.directory.models import OrganisationMembership, StaffRole

TOKEN_PREFIX = "ls_"
PREFIX_SHOWN = 10  # "ls_" and 7 characters: enough to tell tokens apart, useless to guess with
LAST_USED_GRANULARITY = timedelta(minutes=1)

# The platform's own scope; modules register theirs in their api modules.
WEBHOOKS_MANAGE = scope_register(
    "webhooks:manage", _("Manage the organisation's webhooks"), organisation_roles=(StaffRole.ADMINISTRATOR,)
).name


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def token_generate() -> tuple[str, str, str]:
    """A new secret token: ``(token, prefix, sha256)``.  Only the prefix and hash are kept."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return raw, raw[:PREFIX_SHOWN], token_hash(raw)


def api_token_for_secret(*, raw: str) -> ApiToken | None:
    """The live token with this secret, with its person and organisation (one query), or
    None when it is unknown, revoked, expired or its person's account is closed.  Records
    ``last_used_at``, at most once a minute (one conditional UPDATE when due)."""
    if not raw or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user", "organisation")
        .filter(token_hash=token_hash(raw), revoked_at__isnull=True)
        .first()
    )
    now = timezone.now()
    if token is None or (token.expires_at is not None and token.expires_at <= now):
        return None
    user = token.user
    if not user.is_active or getattr(user, "erased_at", None) is not None:
        return None
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_GRANULARITY)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token


def token_require_scope(*, token: ApiToken, scope: str) -> None:
    """Raise PermissionDenied (a JSON 403) unless ``token`` has ``scope`` and, for an
    organisation scope, its person still holds a role there that allows it (one query)."""
    if scope not in (token.scopes or []):
        raise PermissionDenied(f"This token does not have the {scope} scope.")
    registered = scope_get(scope)
    roles = registered.organisation_roles if registered is not None else ()
    if not roles:
        return
    organisation = token.organisation
    if organisation is None:
        raise PermissionDenied(f"The {scope} scope needs a token made for an organisation.")
    holds_role = OrganisationMembership.objects.filter(
        user_id=token.user_id, role__in=roles, organisation_id__in=organisation.lineage_ids
    ).exists()
    if not holds_role:
        raise PermissionDenied(
            f"The token's owner no longer has a role at {organisation.name} that allows {scope}."
        )


class ApiTokenAuth(HttpBearer):
    """``Authorization: Bearer <token>``; ``request.auth`` is then the ApiToken."""

    openapi_description = "An API token made at /developers/, sent as `Authorization: Bearer <token>`."

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = api_token_for_secret(raw=token.strip())
        if found is not None:
            request.api_token = found  # type: ignore[attr-defined]
        return found


token_auth = ApiTokenAuth()


# --- Rate limits -------------------------------------------------------------------------------

def _bearer(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def rate_limit_key(request: HttpRequest) -> str:
    """Whom a request counts against: its token when it sends a valid one, else its address.
    An invalid token counts against the address, so made-up tokens cannot dodge the limit."""
    token = getattr(request, "api_token", None)
    if token is None and _bearer(request):
        token = api_token_for_secret(raw=_bearer(request))
        if token is not None:
            request.api_token = token  # type: ignore[attr-defined]
    if token is not None:
        return f"token:{token.pk}"
    return f"ip:{request.META.get('REMOTE_ADDR') or '-'}"


@dataclass(frozen=True)
class RateUsage:
    """Where a token (or address) stands against one rate limit, for the RateLimit headers."""

    policy: str  # "read" or "write"
    limit: int
    window: int  # seconds
    remaining: int
    reset: int  # seconds until the window ends (django-ratelimit staggers windows per key)


_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ApiRateThrottle(BaseThrottle):
    """A ninja throttle counted by django-ratelimit, so the counts live in the shared cache
    with the site's other limits.  ``write`` chooses ``API_WRITE_RATE`` over ``API_RATE``.
    The usage it counted is kept on the request (``api_rate_usage``) for the headers."""

    def __init__(self, *, write: bool = False) -> None:
        self.write = write
        self._local = threading.local()

    @property
    def policy(self) -> str:
        return "write" if self.write else "read"

    def rate(self) -> str:
        return rate("API_WRITE_RATE", "60/h") if self.write else rate("API_RATE", "600/h")

    def usage(self, request: HttpRequest, *, increment: bool) -> RateUsage | None:
        """Count this request (``increment``) or only look; None when limits are off."""
        if not getattr(settings, "RATELIMIT_ENABLE", True):
            return None
        key = rate_limit_key(request)
        found: dict[str, Any] | None = get_usage(
            request,
            group="api-write" if self.write else "api-read",
            key=lambda _group, _request: key,
            rate=self.rate(),
            increment=increment,
        )
        if found is None:
            return None
        limit, window = _split_rate(self.rate())
        usage = RateUsage(
            policy=self.policy, limit=limit, window=window,
            remaining=max(0, limit - int(found["count"])), reset=max(0, int(found["time_left"])),
        )
        if found["should_limit"] and increment:
            self._local.wait = max(1, usage.reset)
        return usage

    def allow_request(self, request: HttpRequest) -> bool:
        self._local.wait = None
        usage = self.usage(request, increment=True)
        if usage is None:
            return True
        request.api_rate_usage = usage  # type: ignore[attr-defined]
        return self._local.wait is None

    def wait(self) -> float | None:
        return getattr(self._local, "wait", None)


read_throttle = ApiRateThrottle(write=False)
write_throttle = ApiRateThrottle(write=True)


def request_token(request: HttpRequest) -> ApiToken:
    """The token a request authenticated with (on an operation with ``auth=token_auth``)."""
    token = request.auth  # type: ignore[attr-defined]
    assert isinstance(token, ApiToken)
    return token


def rate_usage_for_request(request: HttpRequest) -> RateUsage | None:
    """The usage the request's throttle counted; for an answer given before any throttle ran
    (a 401, a 404 of an unknown path, a preflight), the allowance the request would have
    counted against — writes' for a write method, else reads' — looked at without counting."""
    counted = getattr(request, "api_rate_usage", None)
    if counted is not None:
        return counted  # type: ignore[no-any-return]
    throttle = write_throttle if request.method in _WRITE_METHODS else read_throttle
    return throttle.usage(request, increment=False)
