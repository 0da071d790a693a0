"""Two-step verification: setting up an authenticator app, backup codes, and checking a code
after signing in with a password."""

from __future__ import annotations

from base64 import b32encode

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice

from localsocial.accounts import ratelimits, selectors, services
from localsocial.accounts.forms import CodeForm
from localsocial.accounts.models import User
from localsocial.accounts.views.common import next_url, with_next
from localsocial.core.views import rate_limited

BACKUP_CODES_KEY = "accounts:backup_codes"
BACKUP_CODES_NEXT_KEY = "accounts:backup_codes_next"


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _verified(request: HttpRequest) -> bool:
    return bool(request.user.is_verified())  # type: ignore[union-attr]


def qr_code_svg(data: str, *, title: str) -> SafeString:
    """An inline SVG QR code (no script, no image request: the CSP allows it), named for
    screen readers."""
    svg = segno.make(data, micro=False, error="m").svg_inline(
        scale=1, border=4, omitsize=True, light="#ffffff", dark="#000000", title=title,
    )
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(title)}" focusable="false" ', 1)
    return mark_safe(svg)


def _secret_for_typing(device: object) -> str:
    key = b32encode(device.bin_key).decode("ascii")  # type: ignore[attr-defined]
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def _code_limit_keys(user: User) -> list[ratelimits.Key]:
    return [ratelimits.value_key(f"user:{user.pk}"), ratelimits.ip_key()]


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    next_ = next_url(request)
    if user_has_device(user, confirmed=True) and not _verified(request):
        # Replacing a device needs a code from the current one (or a backup code) first,
        # otherwise a stolen password alone would be enough to add a new device.
        return redirect(with_next("accounts:two_factor_verify", request.get_full_path()))
    device = services.two_factor_setup_begin(user=user)
    form = CodeForm(
        request.POST or None,
        numeric=True,
        label=_("Code from your app"),
        hint=_("Your app shows a 6-digit code that changes every 30 seconds."),
    )
    if request.method == "POST" and form.is_valid():
        keys = _code_limit_keys(user)
        rate = ratelimits.sign_in_rate()
        if ratelimits.failures_exhausted(request, group="accounts.two-factor", keys=keys, rate_=rate):
            return rate_limited(request)
        result = services.two_factor_setup_confirm(user=user, code=form.cleaned_data["code"])
        if result is None:
            ratelimits.failure_record(request, group="accounts.two-factor", keys=keys, rate_=rate)
            form.add_error(
                "code",
                _("The code is not right. Enter the 6-digit code your app shows now. "
                  "If it still does not work, check the time on your phone is correct."),
            )
        else:
            confirmed_device, codes = result
            otp_login(request, confirmed_device)
            request.session[BACKUP_CODES_KEY] = codes
            request.session[BACKUP_CODES_NEXT_KEY] = next_
            return redirect("accounts:two_factor_backup_codes")
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "page_title": _("Set up two-step verification"),
            "form": form,
            "next": next_,
            "qr_svg": qr_code_svg(device.config_url, title=_("QR code to scan with your authenticator app")),
            "secret": _secret_for_typing(device),
            "replacing": user_has_device(user, confirmed=True),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def backup_codes(request: HttpRequest) -> HttpResponse:
    """Shows new backup codes once, until the person says they have saved them."""
    codes = request.session.get(BACKUP_CODES_KEY)
    next_ = request.session.get(BACKUP_CODES_NEXT_KEY) or next_url(request)
    if not codes or not _verified(request):
        return redirect("accounts:profile")
    if request.method == "POST":
        request.session.pop(BACKUP_CODES_KEY, None)
        request.session.pop(BACKUP_CODES_NEXT_KEY, None)
        messages.success(request, _("Two-step verification is set up."))
        return redirect(next_)
    return render(
        request,
        "accounts/backup_codes.html",
        {"page_title": _("Save your backup codes"), "codes": codes},
    )


@never_cache
@login_required
@require_POST
def backup_codes_new(request: HttpRequest) -> HttpResponse:
    """Replace the person's backup codes (their session must be verified with a code)."""
    if not _verified(request):
        return redirect(with_next("accounts:two_factor_verify", "/accounts/profile/"))
    request.session[BACKUP_CODES_KEY] = services.backup_codes_replace(user=_user(request))
    request.session[BACKUP_CODES_NEXT_KEY] = next_url(request)
    return redirect("accounts:two_factor_backup_codes")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    next_ = next_url(request)
    if _verified(request):
        return redirect(next_)
    if not user_has_device(user, confirmed=True):
        return redirect(with_next("accounts:two_factor_setup", next_))
    form = CodeForm(
        request.POST or None,
        label=_("Security code"),
        hint=_("Enter the 6-digit code from your authenticator app, or one of your backup codes."),
    )
    if request.method == "POST" and form.is_valid():
        keys = _code_limit_keys(user)
        rate = ratelimits.sign_in_rate()
        if ratelimits.failures_exhausted(request, group="accounts.two-factor", keys=keys, rate_=rate):
            return rate_limited(request)
        outcome, device = services.two_factor_code_check(user=user, code=form.cleaned_data["code"])
        if outcome is services.CodeCheck.ACCEPTED:
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = selectors.two_factor_status(user=user).backup_codes_left
                messages.success(
                    request,
                    ngettext(
                        "You used a backup code. You have %(count)d backup code left.",
                        "You used a backup code. You have %(count)d backup codes left.",
                        left,
                    ) % {"count": left},
                )
            return redirect(next_)
        ratelimits.failure_record(request, group="accounts.two-factor", keys=keys, rate_=rate)
        if outcome is services.CodeCheck.TOO_MANY:
            form.add_error("code", _("You have entered too many wrong codes. Wait a minute, then try again."))
        else:
            form.add_error("code", _("The code is not right. Check it and try again."))
    return render(
        request,
        "accounts/two_factor_verify.html",
        {"page_title": _("Enter your security code"), "form": form, "next": next_},
    )
