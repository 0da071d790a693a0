"""Small helpers shared by the account pages."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from localsocial.core.views import safe_next


def next_url(request: HttpRequest, default: str = "accounts:profile") -> str:
    """Where to go after this page: the ``next`` parameter if it is on this site, or ``default``
    (a URL name)."""
    return safe_next(request, fallback=reverse(default))


def with_next(url_name: str, next_: str) -> str:
    from urllib.parse import urlencode

    return f"{reverse(url_name)}?{urlencode({'next': next_})}"


def language_cookie_set(response: HttpResponse, language: str) -> HttpResponse:
    """Remember the person's language in the cookie ``LocaleMiddleware`` reads."""
    if language and language in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE or 60 * 60 * 24 * 365,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
        )
    return response
