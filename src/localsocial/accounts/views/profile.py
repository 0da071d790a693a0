"""The person's own account: details, email address, password, their data, deleting it."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from localsocial.accounts import selectors, services
from localsocial.accounts.forms import (
    DeleteAccountForm,
    EmailChangeForm,
    PasswordChangeForm,
    ProfileForm,
)
from localsocial.accounts.models import SiteRole, User
from localsocial.accounts.views.common import language_cookie_set
from localsocial.core.work_links import work_links_for


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@never_cache
@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "accounts/profile.html",
        {
            "page_title": _("Your account"),
            "account": user,
            "site_roles": [str(label) for value, label in SiteRole.choices if value in user.site_roles()],
            "language_name": str(
                dict(settings.LANGUAGES).get(
                    user.preferred_language or getattr(request, "LANGUAGE_CODE", ""), ""
                )
            ),
            "memberships": selectors.user_memberships_cached(user=user),
            "two_factor": selectors.two_factor_status(user=user),
            "two_factor_required": selectors.user_requires_two_factor(user=user),
            "session_verified": user.is_verified(),  # type: ignore[attr-defined]
            # What each module's roles give this person to do (core.work_links).
            "work_links": work_links_for(user=user),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def profile_details(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    initial = {
        "display_name": user.display_name,
        "preferred_language": user.preferred_language or getattr(request, "LANGUAGE_CODE", "en-gb"),
    }
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.user_profile_update(
            user=user,
            display_name=form.cleaned_data["display_name"],
            preferred_language=form.cleaned_data["preferred_language"],
        )
        messages.success(request, _("Your details have been saved."))
        return language_cookie_set(redirect("accounts:profile"), user.preferred_language)
    return render(request, "accounts/profile_details.html", {"page_title": _("Change your details"), "form": form})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def email_change(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = EmailChangeForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        new_email = form.cleaned_data["new_email"]
        services.user_email_change_request(user=user, new_email=new_email)
        messages.success(
            request,
            _("We have sent a link to %(email)s. Your email address will change when you follow it.")
            % {"email": new_email},
        )
        return redirect("accounts:profile")
    return render(request, "accounts/email_change.html", {"page_title": _("Change your email address"), "form": form})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = PasswordChangeForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        services.user_password_change(user=user, password=form.cleaned_data["new_password"])
        update_session_auth_hash(request, user)
        messages.success(request, _("Your password has been changed."))
        return redirect("accounts:profile")
    return render(request, "accounts/password_change.html", {"page_title": _("Change your password"), "form": form})


@never_cache
@login_required
def data_export(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/data_export.html", {"page_title": _("Download your data")})


@never_cache
@login_required
def data_export_download(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    data = services.user_export_data(user=user)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    filename = f"local-social-your-data-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = DeleteAccountForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        services.user_erase(user=user, actor=user)
        logout(request)
        return redirect("accounts:account_deleted")
    return render(request, "accounts/account_delete.html", {"page_title": _("Delete your account"), "form": form})


def account_deleted(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/account_deleted.html", {"page_title": _("Your account has been deleted")})
