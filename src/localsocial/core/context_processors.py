"""Context every page needs: the site name, navigation, account links, language switch."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

COOKIE_SEEN = "ls_cookies_seen"


def _nav_items(request: HttpRequest) -> list[dict[str, Any]]:
    items = [
        (_("Stories"), "stories:index"),
        (_("Circles"), "circles:index"),
        (_("Green Things"), "green:index"),
        (_("Communities"), "communities:index"),
        (_("Insight"), "insight:index"),
        (_("Engage"), "engage:index"),
        (_("Directory"), "directory:index"),
    ]
    path = request.path
    out = []
    for text, name in items:
        href = reverse(name)
        active = path.startswith(href)
        out.append({"href": href, "text": text, "active": active, "current": path == href})
    return out


def _account_slot(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        links = [
            (reverse("accounts:profile"), _("Your account")),
        ]
        signout = format_html(
            '<form method="post" action="{}" class="ls-inline-form">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<button type="submit" class="ls-link-button ls-account__link">{}</button></form>',
            reverse("accounts:sign_out"),
            _csrf(request),
            _("Sign out"),
        )
    else:
        links = [
            (reverse("accounts:sign_in"), _("Sign in")),
            (reverse("accounts:sign_up"), _("Create an account")),
        ]
        signout = ""
    inner = format_html_join(
        "", '<li class="ls-account__item"><a class="govuk-link ls-account__link" href="{}">{}</a></li>', links
    )
    if signout:
        inner = format_html('{}<li class="ls-account__item">{}</li>', inner, signout)
    return str(format_html('<nav class="ls-account" aria-label="{}"><ul class="ls-account__list">{}</ul></nav>', _("Account"), inner))


def _csrf(request: HttpRequest) -> str:
    from django.middleware.csrf import get_token

    return get_token(request)


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "site_name": "Local Social",
        "phase": settings.LOCALSOCIAL_PHASE,
        "feedback_url": settings.LOCALSOCIAL_FEEDBACK_URL,
        "nav_items": _nav_items(request),
        "account_slot_html": _account_slot(request),
        "languages": [(code, str(name)) for code, name in settings.LANGUAGES],
        "show_cookie_banner": COOKIE_SEEN not in request.COOKIES,
    }
