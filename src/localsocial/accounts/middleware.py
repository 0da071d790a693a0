"""Two-factor authentication is required for staff, moderators and administrators.

Such a person who has signed in with a password but not yet with a code may only reach the
pages that set up or check two-factor, sign out, and static files; everything else sends them
there first.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from localsocial.accounts.selectors import user_requires_two_factor


class TwoFactorRequiredMiddleware:
    allowed_url_names = {
        "accounts:two_factor_setup",
        "accounts:two_factor_verify",
        "accounts:sign_out",
        "core:healthz",
        "set_language",
    }

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()  # type: ignore[union-attr,attr-defined]
            and not request.path.startswith(("/static/", "/api/"))
            and user_requires_two_factor(user=user)
        ):
            match = getattr(request, "resolver_match", None)
            from django.urls import Resolver404, resolve

            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
            if match is None or match.view_name not in self.allowed_url_names:
                from django_otp import devices_for_user

                has_device = any(True for _ in devices_for_user(user, confirmed=True))
                target = "accounts:two_factor_verify" if has_device else "accounts:two_factor_setup"
                return redirect(f"{reverse(target)}?next={request.get_full_path()}")
        return self.get_response(request)
