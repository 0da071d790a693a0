"""Context every page needs: the site name, navigation, account links, language switch."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from localsocial.core.navigation import navigation_entries

COOKIE_SEEN = "ls_cookies_seen"


def _nav_items(request: HttpRequest) -> list[dict[str, Any]]:
    """The header's links: every section registered in ``core.navigation``, in order."""
    path = request.path
    out = []
    for entry in navigation_entries():
        href = reverse(entry.url_name)
        active = path.startswith(href)
        out.append({"href": href, "text": str(entry.label), "active": active, "current": path == href})
    return out


def site(request: HttpRequest) -> dict[str, Any]:
    return {
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
