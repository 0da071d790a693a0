"""The acting user for services.

Every service takes the person acting as ``actor: User`` (decision 0015).  A view behind
``login_required`` knows the request's user is signed in, but its type is still
``User | AnonymousUser``; ``signed_in_actor`` makes that a ``User`` once, and refuses (with
``PermissionDenied``, a 403) if a view ever reaches it without a signed-in user.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from localsocial.accounts.models import User


def signed_in_actor(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied
    return user


def actor_or_none(request: HttpRequest) -> User | None:
    """The signed-in user, or None for a visitor (services that anyone may call)."""
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None
