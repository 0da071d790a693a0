"""Signing up, confirming an email address, signing in and out, and resetting a password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import user_has_device

from localsocial.accounts import ratelimits, selectors, services
from localsocial.accounts.forms import EmailOnlyForm, SetPasswordForm, SignInForm, SignUpForm
from localsocial.accounts.models import User
from localsocial.accounts.views.common import language_cookie_set, next_url, with_next
from localsocial.core.views import rate_limited, safe_next

SIGN_UP_EMAIL_KEY = "accounts:sign_up_email"
SIGN_UP_NEXT_KEY = "accounts:sign_up_next"
UNCONFIRMED_USER_KEY = "accounts:unconfirmed_user_id"
RESET_EMAIL_KEY = "accounts:reset_email"


def _account_email_limited(request: HttpRequest, email: str) -> bool:
    """Counts one email about an account to this address; True when that is one too many."""
    return ratelimits.attempt_limited(
        request, group="accounts.account-email", keys=[ratelimits.value_key(email)],
        rate_=ratelimits.rate("ACCOUNT_EMAIL_RATE", "5/h"),
    )


@never_cache
@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    # Where the person was going (say, joining a circle): kept through the confirmation email and
    # signing in.  Only a page on this site, so the sign-up page is never an open redirect.
    next_ = safe_next(request, fallback="")
    form = SignUpForm(request.POST or None)
    if request.method == "POST":
        if ratelimits.attempt_limited(
            request, group="accounts.sign-up", keys=[ratelimits.ip_key()],
            rate_=ratelimits.rate("SIGN_UP_RATE", "10/h"),
        ):
            return rate_limited(request)
        if form.is_valid():
            email = form.cleaned_data["email"]
            if _account_email_limited(request, email):
                return rate_limited(request)
            services.user_sign_up(
                email=email,
                display_name=form.cleaned_data["display_name"],
                password=form.cleaned_data["password"],
                language=getattr(request, "LANGUAGE_CODE", "") or "",
                next_path=next_,
            )
            request.session[SIGN_UP_EMAIL_KEY] = email
            request.session[SIGN_UP_NEXT_KEY] = next_
            return redirect(with_next("accounts:check_email", next_) if next_ else "accounts:check_email")
    return render(request, "accounts/sign_up.html", {
        "page_title": _("Create an account"), "form": form, "next": next_,
        "sign_in_href": with_next("accounts:sign_in", next_) if next_ else "",
    })


@never_cache
def check_email(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/check_email.html",
        {"page_title": _("Check your email"), "email": request.session.get(SIGN_UP_EMAIL_KEY, ""),
         "sign_in_href": _sign_in_href(request)},
    )


def _sign_in_href(request: HttpRequest) -> str:
    """The sign-in page, carrying on to where the person was going when they signed up: the
    ``next`` in the address (checked again: a link can be edited) or else the one kept in the
    session when they signed up in this browser."""
    next_ = safe_next(request, fallback="") or request.session.get(SIGN_UP_NEXT_KEY, "")
    return with_next("accounts:sign_in", next_) if next_ else reverse("accounts:sign_in")


@never_cache
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    outcome = services.user_email_confirm(token=token)
    titles = {
        services.ConfirmOutcome.CONFIRMED: _("Your email address is confirmed"),
        services.ConfirmOutcome.ALREADY_CONFIRMED: _("Your email address is already confirmed"),
        services.ConfirmOutcome.CHANGED: _("Your email address has changed"),
        services.ConfirmOutcome.TAKEN: _("That email address is already in use"),
        services.ConfirmOutcome.INVALID: _("This link has expired or has already been used"),
    }
    if outcome in (services.ConfirmOutcome.CONFIRMED, services.ConfirmOutcome.CHANGED):
        request.session.pop(UNCONFIRMED_USER_KEY, None)
    status = 200 if outcome != services.ConfirmOutcome.INVALID else 400
    return render(
        request,
        "accounts/verify_email.html",
        {"page_title": titles[outcome], "outcome": outcome.value, "sign_in_href": _sign_in_href(request)},
        status=status,
    )


def _sign_in_keys(email: str) -> list[ratelimits.Key]:
    return [ratelimits.value_key(email), ratelimits.ip_key()]


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    next_ = next_url(request)
    if request.user.is_authenticated and request.method == "GET":
        return redirect(next_)
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        keys = _sign_in_keys(email)
        rate = ratelimits.sign_in_rate()
        if ratelimits.failures_exhausted(request, group="accounts.sign-in", keys=keys, rate_=rate):
            return rate_limited(request)
        user = authenticate(request, email=email, password=form.cleaned_data["password"])
        if user is None:
            ratelimits.failure_record(request, group="accounts.sign-in", keys=keys, rate_=rate)
            form.add_error(None, _("The email address or password is not right. Check them and try again."))
        elif not isinstance(user, User) or not user.is_email_verified:
            # The password was right, but the address has not been confirmed: no session yet.
            request.session[UNCONFIRMED_USER_KEY] = user.pk
            return redirect("accounts:email_unconfirmed")
        else:
            login(request, user)
            response = redirect(_after_sign_in(user, next_))
            return language_cookie_set(response, user.preferred_language)
    return render(
        request,
        "accounts/sign_in.html",
        {"page_title": _("Sign in"), "form": form, "next": next_,
         "sign_up_href": with_next("accounts:sign_up", next_) if safe_next(request, fallback="") else ""},
    )


def _after_sign_in(user: User, next_: str) -> str:
    """Staff and people with site roles go through two-step verification first."""
    if selectors.user_requires_two_factor(user=user):
        target = "accounts:two_factor_verify" if user_has_device(user, confirmed=True) else "accounts:two_factor_setup"
        return with_next(target, next_)
    return next_


@never_cache
@require_http_methods(["GET", "POST"])
def email_unconfirmed(request: HttpRequest) -> HttpResponse:
    """Shown when someone signs in before confirming their address; offers a new link."""
    user_id = request.session.get(UNCONFIRMED_USER_KEY)
    user = selectors.user_get_awaiting_confirmation(user_id=user_id)
    if user is None:
        return redirect("accounts:sign_in")
    sent = False
    if request.method == "POST":
        if ratelimits.attempt_limited(
            request, group="accounts.resend", keys=[ratelimits.ip_key()],
            rate_=ratelimits.rate("ACCOUNT_EMAIL_RATE", "5/h"),
        ) or _account_email_limited(request, user.email):
            return rate_limited(request)
        sent = services.user_confirmation_resend(user=user)
    return render(
        request,
        "accounts/email_unconfirmed.html",
        {"page_title": _("Confirm your email address first"), "email": user.email, "sent": sent},
    )


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, _("You have signed out."))
    return redirect("core:home")


@never_cache
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    form = EmailOnlyForm(request.POST or None)
    if request.method == "POST":
        if ratelimits.attempt_limited(
            request, group="accounts.password-reset", keys=[ratelimits.ip_key()],
            rate_=ratelimits.rate("PASSWORD_RESET_RATE", "10/h"),
        ):
            return rate_limited(request)
        if form.is_valid():
            email = form.cleaned_data["email"]
            if _account_email_limited(request, email):
                return rate_limited(request)
            services.password_reset_request(email=email)
            request.session[RESET_EMAIL_KEY] = email
            return redirect("accounts:password_reset_sent")
    return render(request, "accounts/password_reset.html", {"page_title": _("Reset your password"), "form": form})


@never_cache
def password_reset_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/password_reset_sent.html",
        {"page_title": _("Check your email"), "email": request.session.get(RESET_EMAIL_KEY, "")},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def password_reset_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    user = selectors.user_get_for_password_reset(uidb64=uidb64, token=token)
    if user is None:
        return render(
            request,
            "accounts/password_reset_invalid.html",
            {"page_title": _("This link has expired or has already been used")},
            status=400,
        )
    form = SetPasswordForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        services.password_reset_complete(user=user, password=form.cleaned_data["new_password"])
        request.session.pop(UNCONFIRMED_USER_KEY, None)
        messages.success(request, _("Your password has been changed. Sign in with your new password."))
        return redirect("accounts:sign_in")
    return render(
        request, "accounts/password_reset_confirm.html", {"page_title": _("Choose a new password"), "form": form}
    )
