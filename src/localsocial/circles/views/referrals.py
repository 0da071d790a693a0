"""Referral pages: "Refer someone to <circle>" for partner staff, the coordinators' lists,
"Refer this member to a partner", one referral with what happened, joining someone up from a
referral, and "Referrals for your organisation" for partner staff.

Every page fetches and authorises together: a coordinator's page goes through
``coordinator_page`` (403 for a coordinator of another circle); a referral goes through
``referral_get_for_user`` (404 for anyone who may not see it).  Referrals hold personal data,
so the pages are never cached.  No page needs JavaScript.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, re_path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from localsocial.accounts.actors import signed_in_actor
from localsocial.circles.forms.membership import AssistedJoinForm, new_key
from localsocial.circles.forms.referrals import ReferInForm, ReferOutForm, ReferralUpdateForm
from localsocial.circles.models import Circle, ReferralDirection, ReferralStatus
from localsocial.circles.selectors import membership as membership_selectors
from localsocial.circles.selectors import referrals as selectors
from localsocial.circles.services import referrals as services
from localsocial.circles.services.circles import SLUG_URL
from localsocial.circles.views.coordinate import coordinator_page
from localsocial.core.forms import form_errors_apply, page_title


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    return response


def _referral_url(pk: int) -> str:
    return reverse("circles:referral", kwargs={"pk": pk})


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def refer_in(request: HttpRequest, slug: str) -> HttpResponse:
    """Refer someone to the circle, for one of the user's organisations that is its partner."""
    circle = membership_selectors.circle_get(slug=slug)
    partners = selectors.referral_partners_for_referrer(user=signed_in_actor(request), circle=circle)
    is_coordinator = request.user.has_perm("circles.coordinate", circle)
    if not partners:
        return _private(render(request, "circles/referrals/refused.html", {
            "page_title": _("You cannot refer people to %(circle)s") % {"circle": circle.name}, "circle": circle,
            "is_coordinator": is_coordinator,
        }, status=403))
    if request.method == "POST":
        form = ReferInForm(request.POST, partners=partners)
        if form.is_valid():
            partner = form.chosen_partner()
            assert partner is not None  # the field's choices are the partners
            try:
                referral, created = services.referral_in_create(
                    circle=circle, partner=partner, actor=signed_in_actor(request), person=form.person(),
                    consent=form.cleaned_data["consent"], idempotency_key=form.cleaned_data["idempotency_key"],
                )
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(request, _(
                    "Thank you. %(name)s is referred to %(circle)s: a coordinator will get in touch with them."
                ) % {"name": referral.person_name, "circle": circle.name} if created
                    else _("This referral was already sent."))
                return redirect(_referral_url(referral.pk))
    else:
        form = ReferInForm(partners=partners, initial={"idempotency_key": new_key()})
    title = _("Refer someone to %(circle)s") % {"circle": circle.name}
    return _private(render(request, "circles/referrals/refer_in.html", {
        "page_title": page_title(title, form), "heading": title, "form": form, "circle": circle,
        "partners": partners,
        "back_href": reverse("circles:coordinate_referrals", kwargs={"slug": circle.slug}) if is_coordinator
        else reverse("circles:referrals_partner"),
    }))


@coordinator_page
def coordinator_list(request: HttpRequest, circle: Circle) -> HttpResponse:
    lists = selectors.referrals_for_coordinator(circle=circle)
    return render(request, "circles/referrals/coordinator_list.html", {
        "page_title": _("Referrals"), "circle": circle, "lists": lists, "directions": ReferralDirection,
        "statuses": ReferralStatus,
    })


@coordinator_page
@require_http_methods(["GET", "POST"])
def refer_out(request: HttpRequest, circle: Circle, member_id: int) -> HttpResponse:
    member = membership_selectors.member_in_circle(circle=circle, member_id=member_id)
    partners = selectors.referral_partners_of(circle=circle)
    member_url = reverse("circles:coordinate_member", kwargs={"slug": circle.slug, "member_id": member.pk})
    if request.method == "POST":
        form = ReferOutForm(request.POST, partners=partners)
        if form.is_valid():
            data = form.cleaned_data
            partner = form.chosen_partner()
            assert partner is not None
            try:
                referral, created = services.referral_out_create(
                    member=member, partner=partner, actor=signed_in_actor(request), reason=data["reason"],
                    needs=data.get("needs") or "", phone=data.get("person_phone") or "",
                    email=data.get("person_email") or "", postcode=data.get("person_postcode") or "",
                    consent=data["consent"], idempotency_key=data["idempotency_key"],
                )
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(request, _("%(name)s is referred to %(partner)s. Their staff have been told.")
                                 % {"name": member.display_name, "partner": partner.name} if created
                                 else _("This referral was already sent."))
                return redirect(_referral_url(referral.pk))
    else:
        form = ReferOutForm(partners=partners,
                            initial={"idempotency_key": new_key(), **ReferOutForm.initial_from(member)})
    title = _("Refer %(name)s to a partner") % {"name": member.display_name}
    return render(request, "circles/referrals/refer_out.html", {
        "page_title": page_title(title, form), "heading": title, "form": form, "circle": circle, "member": member,
        "partners": partners, "back_href": member_url,
    })


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    page = selectors.referral_get_for_user(user=signed_in_actor(request), referral_id=pk)
    referral = page.referral
    form = None
    if page.statuses:
        if request.method == "POST":
            form = ReferralUpdateForm(request.POST, statuses=page.statuses)
            if form.is_valid():
                try:
                    services.referral_update(referral=referral, actor=signed_in_actor(request),
                                             status=form.cleaned_data["status"], outcome=form.cleaned_data["outcome"])
                except ValidationError as error:
                    form_errors_apply(form, error)
                else:
                    messages.success(request, _("The referral is updated."))
                    return redirect(_referral_url(referral.pk))
        else:
            form = ReferralUpdateForm(statuses=page.statuses)
    elif request.method == "POST":
        messages.error(request, _("This referral has ended, so it cannot be changed."))
        return redirect(_referral_url(referral.pk))
    title = _("Referral of %(name)s") % {"name": referral.person_name}
    back_href = (reverse("circles:coordinate_referrals", kwargs={"slug": referral.circle.slug}) if page.is_coordinator
                 else reverse("circles:referrals_partner"))
    return _private(render(request, "circles/referrals/detail.html", {
        "page_title": page_title(title, form), "heading": title, "page": page, "referral": referral, "form": form,
        "circle": referral.circle, "back_href": back_href,
    }))


@login_required
@require_POST
def referral_link(request: HttpRequest, pk: int) -> HttpResponse:
    """The person referred in is already a member: link the referral to them (coordinators)."""
    page = selectors.referral_get_for_user(user=signed_in_actor(request), referral_id=pk)
    referral = page.referral
    member = next((m for m in page.possible_members if str(m.pk) == request.POST.get("member")), None)
    if member is None:
        messages.error(request, _("Choose one of the members listed."))
        return redirect(_referral_url(referral.pk))
    try:
        services.referral_link_member(referral=referral, member=member, actor=signed_in_actor(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The referral is linked to %(name)s, who is already a member.")
                         % {"name": member.display_name})
    return redirect(_referral_url(referral.pk))


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def referral_join(request: HttpRequest, pk: int) -> HttpResponse:
    """Join up the person referred in, with the assisted-join form filled in from the referral."""
    page = selectors.referral_get_for_user(user=signed_in_actor(request), referral_id=pk)
    referral = page.referral
    circle = referral.circle
    if not page.is_coordinator:
        raise PermissionDenied(_("Only the circle's coordinators can do this."))
    if not page.can_join:
        messages.error(request, _("This referral has ended, so it cannot be changed."))
        return redirect(_referral_url(referral.pk))
    if request.method == "POST":
        form = AssistedJoinForm(request.POST, circle=circle)
        if form.is_valid():
            try:
                member = services.referral_join(
                    referral=referral, actor=signed_in_actor(request), details=form.details(),
                    email=form.cleaned_data["email"],
                    eligibility_confirmed=bool(form.cleaned_data.get("eligibility_confirmed")) or not circle.minimum_age,
                    consent=form.cleaned_data["consent"],
                )
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(request, _("%(name)s is now a member.") % {"name": member.display_name})
                return redirect("circles:coordinate_member", slug=circle.slug, member_id=member.pk)
    else:
        form = AssistedJoinForm(circle=circle, initial={
            "display_name": referral.person_name, "phone": referral.person_phone, "email": referral.person_email,
            "postcode": referral.person_postcode, "accessibility_needs": referral.needs,
            "contact_preference": "phone" if referral.person_phone else "email",
        })
    title = _("Join up %(name)s") % {"name": referral.person_name}
    return _private(render(request, "circles/referrals/join.html", {
        "page_title": page_title(title, form), "heading": title, "form": form, "circle": circle,
        "referral": referral, "back_href": _referral_url(referral.pk),
    }))


@login_required
@never_cache
def partner_list(request: HttpRequest) -> HttpResponse:
    """Referrals for the organisations the user works for, in every circle."""
    lists = selectors.referrals_for_partner_staff(user=signed_in_actor(request))
    return _private(render(request, "circles/referrals/partner_list.html", {
        "page_title": _("Referrals for your organisation"), "lists": lists, "directions": ReferralDirection,
    }))


S = SLUG_URL
urlpatterns: list[URLPattern] = [
    path("referrals/", partner_list, name="referrals_partner"),
    path("referrals/<int:pk>/", referral_detail, name="referral"),
    path("referrals/<int:pk>/join/", referral_join, name="referral_join"),
    path("referrals/<int:pk>/link/", referral_link, name="referral_link"),
    re_path(rf"^{S}/refer/$", refer_in, name="refer_in"),
    re_path(rf"^{S}/coordinate/referrals/$", coordinator_list, name="coordinate_referrals"),
    re_path(rf"^{S}/coordinate/members/(?P<member_id>[0-9]+)/refer/$", refer_out, name="coordinate_refer_out"),
]
