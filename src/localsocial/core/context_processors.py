"""Context every page needs: the site name, navigation, account links, language switch."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils.html import format_html
from django.utils.safestring import SafeString

from localsocial.core.jinja2env import url
from localsocial.core.navigation import navigation_entries

COOKIE_SEEN = "ls_cookies_seen"


def _nav_items(request: HttpRequest) -> list[dict[str, Any]]:
    """The header's links: every section registered in ``core.navigation``, in order."""
    path = request.path
    out = []
    for entry in navigation_entries():
        href = url(entry.url_name)
        active = path.startswith(href)
        out.append({"href": href, "text": str(entry.label), "active": active, "current": path == href})
    return out


class _TokenOnce:
    """The CSRF token, masked once for the whole page.  Django's own ``csrf_input`` masks a new
    copy each time a template shows it (32 random characters each, about 25 µs; a story page
    shows nine forms).  Still lazy: a page without a form never reads it, so sets no cookie."""

    __slots__ = ("_html", "_request", "_value")

    def __init__(self, request: HttpRequest, *, html: bool) -> None:
        self._request, self._html = request, html
        self._value: str | None = None

    def __str__(self) -> str:
        if self._value is None:
            token = get_token(self._request)
            self._value = (
                format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)
                if self._html else SafeString(token)
            )
        return self._value

    __html__ = __str__

    def __bool__(self) -> bool:
        return True


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "csrf_input": _TokenOnce(request, html=True),
        "csrf_token": _TokenOnce(request, html=False),
        # The govuk template's start-up script tests ``{% if cspNonce %}``; django-csp's lazy
        # nonce is falsy until first read, so the script went out without one and was blocked.
        # str() reads it now (which also puts the nonce in the header).
        "cspNonce": str(request.csp_nonce) if hasattr(request, "csp_nonce") else "",
        "site_name": "Local Social",
        "phase": settings.LOCALSOCIAL_PHASE,
        "feedback_url": settings.LOCALSOCIAL_FEEDBACK_URL,
        "nav_items": _nav_items(request),
        "languages": [(code, str(name)) for code, name in settings.LANGUAGES],
        "show_cookie_banner": COOKIE_SEEN not in request.COOKIES,
    }
