"""Site administrators: who holds a site role, finding a person, giving and taking away roles,
and resetting someone's two-step verification.  Every change is audited by the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from localsocial.accounts import selectors, services
from localsocial.accounts.actors import signed_in_actor
from localsocial.accounts.forms import PeopleSearchForm, RoleGrantForm, RoleRevokeForm
from localsocial.accounts.models import SiteRole, User


def _person(request: HttpRequest, user_id: int) -> User:
    try:
        return selectors.person_get_for_role_admin(actor=signed_in_actor(request), user_id=user_id)
    except User.DoesNotExist as exc:
        raise Http404 from exc


@never_cache
@login_required
def people(request: HttpRequest) -> HttpResponse:
    actor = signed_in_actor(request)
    page = selectors.people_with_site_roles(actor=actor, page_number=request.GET.get("page", 1))
    form = PeopleSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    results = selectors.people_search(actor=actor, query=query) if query else None
    return render(
        request,
        "accounts/people.html",
        {
            "page_title": _("People and roles"),
            "page": page,
            "form": form,
            "query": query,
            "results": results,
        },
    )


def _render_person(request: HttpRequest, person: User, *, grant_form: RoleGrantForm | None = None,
                   status: int = 200) -> HttpResponse:
    held = {grant.role for grant in person.role_grants.all()}
    grant_form = grant_form or RoleGrantForm()
    role_field = grant_form.fields["role"]
    assert isinstance(role_field, forms.ChoiceField)
    role_field.choices = [(v, label) for v, label in SiteRole.choices if v not in held]
    context: dict[str, Any] = {
        "page_title": _("Roles for %(name)s") % {"name": person.public_name},
        "person": person,
        "grants": [
            {"grant": grant, "label": SiteRole(grant.role).label, "form": RoleRevokeForm(initial={"role": grant.role}, auto_id=False)}
            for grant in person.role_grants.all()
        ],
        "grant_form": grant_form,
        "can_grant": bool(role_field.choices) and person.erased_at is None,
        "two_factor": selectors.two_factor_status(user=person),
        "is_self": person.pk == request.user.pk,
    }
    return render(request, "accounts/person.html", context, status=status)


@never_cache
@login_required
def person(request: HttpRequest, user_id: int) -> HttpResponse:
    return _render_person(request, _person(request, user_id))


@login_required
@require_POST
def person_role_grant(request: HttpRequest, user_id: int) -> HttpResponse:
    person = _person(request, user_id)
    form = RoleGrantForm(request.POST)
    if form.is_valid():
        role = form.cleaned_data["role"]
        try:
            services.role_grant(actor=signed_in_actor(request), user=person, role=role)
        except services.AccountActionRefusedError as refusal:
            form.add_error("role", str(refusal))
        else:
            messages.success(
                request,
                _("%(name)s is now a %(role)s.") % {"name": person.public_name, "role": SiteRole(role).label.lower()},
            )
            return redirect("accounts:person", user_id=person.pk)
    return _render_person(request, person, grant_form=form, status=400)


@login_required
@require_POST
def person_role_revoke(request: HttpRequest, user_id: int) -> HttpResponse:
    person = _person(request, user_id)
    form = RoleRevokeForm(request.POST)
    if not form.is_valid():
        return redirect("accounts:person", user_id=person.pk)
    role = form.cleaned_data["role"]
    try:
        services.role_revoke(actor=signed_in_actor(request), user=person, role=role)
    except services.AccountActionRefusedError as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request,
            _("%(name)s is no longer a %(role)s.") % {"name": person.public_name, "role": SiteRole(role).label.lower()},
        )
    return redirect("accounts:person", user_id=person.pk)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def person_two_factor_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    actor = signed_in_actor(request)
    person = _person(request, user_id)
    if not actor.has_perm("accounts.reset_two_factor", person) or person.pk == actor.pk:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    if request.method == "POST":
        services.two_factor_reset(actor=actor, user=person)
        messages.success(
            request,
            _("Two-step verification for %(name)s has been reset. They will set it up again when they next sign in.")
            % {"name": person.public_name},
        )
        return redirect("accounts:person", user_id=person.pk)
    return render(
        request,
        "accounts/person_two_factor_reset.html",
        {"page_title": _("Reset two-step verification"), "person": person},
    )
