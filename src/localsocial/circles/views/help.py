"""Help pages: asking for help, offers, the coordinator's matching queue and candidates, a
helper's visits (answer, check in and out, confirm), feedback and incident reports.

Every page fetches and authorises together (``selectors.help``): a record the person may not
see is a 404, also for a coordinator of another circle.  No page needs JavaScript.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from localsocial.accounts.actors import signed_in_actor
from localsocial.circles.forms.help import (
    ASK_FIELD_NAMES,
    AskForHelpForm,
    DeclineForm,
    FeedbackForm,
    HelperProfileForm,
    HelperVettingForm,
    IncidentForm,
    OfferForm,
)
from localsocial.circles.models import Helper, Member, Offer, VisitPayment
from localsocial.circles.selectors import help as selectors
from localsocial.circles.selectors.help import helper_vetting_problems
from localsocial.circles.services import help as services
from localsocial.circles.services.helpers import (
    helper_profile_set,
    helper_vetting_update,
    member_become_helper,
)
from localsocial.core.forms import form_errors_apply, page_title


def _errors_as_messages(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


# --- Members: asking for help ------------------------------------------------------------------

def _ask_page(
    request: HttpRequest, *, member: Member, offer: Offer | None = None, for_member: bool = False,
) -> HttpResponse:
    circle = member.circle
    if request.method == "POST":
        form = AskForHelpForm(request.POST, with_category=offer is None)
        if form.is_valid():
            try:
                services.help_request_create(
                    member=member, actor=signed_in_actor(request), offer=offer, **form.arguments()
                )
            except ValidationError as error:
                form_errors_apply(form, error, ASK_FIELD_NAMES)
            else:
                if for_member:
                    messages.success(request, _("The request for %(name)s has been sent to the matching queue")
                                     % {"name": member.display_name})
                    return redirect("circles:help_queue", slug=circle.slug)
                messages.success(request, _("Your request has been sent. A coordinator will find a helper for you."))
                return redirect("circles:help_mine")
    else:
        form = AskForHelpForm(with_category=offer is None, initial={"place": offer.place} if offer else None)
    if for_member:
        heading = _("Ask for help for %(name)s") % {"name": member.display_name}
    elif offer is not None:
        heading = _("Ask for help: %(title)s") % {"title": offer.title}
    else:
        heading = _("Ask for help")
    return render(request, "circles/help/ask.html", {
        "page_title": page_title(heading, form), "heading": heading, "form": form, "circle": circle,
        "offer": offer, "member": member, "for_member": for_member,
        "back_href": reverse("circles:help_queue", kwargs={"slug": circle.slug}) if for_member
        else reverse("circles:help_mine"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def help_ask(request: HttpRequest, slug: str) -> HttpResponse:
    member = selectors.member_get_for_user(user=signed_in_actor(request), slug=slug)
    return _ask_page(request, member=member)


@login_required
@require_http_methods(["GET", "POST"])
def help_ask_for_member(request: HttpRequest, slug: str, member_id: int) -> HttpResponse:
    circle = selectors.circle_get_for_coordinator(user=signed_in_actor(request), slug=slug)
    member = selectors.member_get_for_coordinator(circle=circle, member_id=member_id)
    return _ask_page(request, member=member, for_member=True)


@login_required
@require_http_methods(["GET", "POST"])
def help_ask_from_offer(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    member = selectors.member_get_for_user(user=signed_in_actor(request), slug=slug)
    offer = selectors.offer_get_listed(circle=member.circle, offer_id=pk)
    return _ask_page(request, member=member, offer=offer)


@login_required
def help_mine(request: HttpRequest) -> HttpResponse:
    """The member's requests in every circle, with their visits."""
    return render(request, "circles/help/mine.html", {
        "page_title": _("Your requests for help"),
        "help_requests": selectors.help_requests_for_user(user=signed_in_actor(request)),
        "memberships": selectors.memberships_for_user(user=signed_in_actor(request)),
    })


@login_required
@require_POST
def help_request_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    help_request = selectors.help_request_get_for_member(user=signed_in_actor(request), request_id=pk)
    try:
        services.help_request_cancel(help_request=help_request, actor=signed_in_actor(request))
    except ValidationError as error:
        _errors_as_messages(request, error)
    else:
        messages.success(request, _("Your request has been cancelled"))
    return redirect("circles:help_mine")


# --- Offers ------------------------------------------------------------------------------------

def _circle_for_offers(request: HttpRequest, slug: str) -> tuple[Any, Member | None, Helper | None]:
    """The circle's offers are for its members, helpers and coordinators; 404 for anyone else."""
    access = selectors.circle_get_for_offers(user=signed_in_actor(request), slug=slug)
    return access.circle, access.member, access.helper


@login_required
def offer_list(request: HttpRequest, slug: str) -> HttpResponse:
    circle, member, helper = _circle_for_offers(request, slug)
    return render(request, "circles/help/offers.html", {
        "page_title": _("Help on offer in %(circle)s") % {"circle": circle.name},
        "circle": circle, "offers": selectors.offers_for_circle(circle=circle), "member": member, "helper": helper,
    })


@login_required
@require_http_methods(["GET", "POST"])
def offer_new(request: HttpRequest, slug: str) -> HttpResponse:
    helper = selectors.helper_get_for_user(user=signed_in_actor(request), slug=slug)
    if request.method == "POST":
        form = OfferForm(request.POST)
        if form.is_valid():
            try:
                services.offer_create(helper=helper, actor=signed_in_actor(request), **form.cleaned_data)
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(request, _("Your offer is listed"))
                return redirect("circles:help_offers", slug=slug)
    else:
        form = OfferForm()
    heading = _("Offer help")
    return render(request, "circles/help/offer_new.html", {
        "page_title": page_title(heading, form), "heading": heading, "form": form, "circle": helper.circle,
        "back_href": reverse("circles:help_offers", kwargs={"slug": slug}),
    })


# --- Helpers: what they do and when they are free --------------------------------------------

def _helper_profile_page(request: HttpRequest, helper: Helper, *, by_coordinator: bool) -> HttpResponse:
    slug = helper.circle.slug
    if request.method == "POST":
        form = HelperProfileForm(request.POST)
        if form.is_valid():
            try:
                helper_profile_set(helper=helper, categories=form.cleaned_data["skills"], slots=form.slots(),
                                   actor=signed_in_actor(request))
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(request, _("Saved"))
                if by_coordinator:
                    return redirect("circles:help_helper_for", slug=slug, pk=helper.pk)
                return redirect("circles:help_helper", slug=slug)
    else:
        form = HelperProfileForm(initial=HelperProfileForm.initial_for(
            [s.category for s in helper.skills.all()], [(a.weekday, a.starts, a.ends) for a in helper.availability.all()]
        ))
    heading = _("%(name)s: help and free times") % {"name": helper.display_name} if by_coordinator \
        else _("The help you give")
    return render(request, "circles/help/helper_profile.html", {
        "page_title": page_title(heading, form), "heading": heading, "form": form, "helper": helper,
        "by_coordinator": by_coordinator, "vetting_problems": helper_vetting_problems(helper, on=timezone.localdate()),
        "back_href": reverse("circles:help_queue", kwargs={"slug": slug}) if by_coordinator
        else reverse("circles:help_visits"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def helper_profile(request: HttpRequest, slug: str) -> HttpResponse:
    helper = selectors.helper_get_for_profile(user=signed_in_actor(request), slug=slug)
    return _helper_profile_page(request, helper, by_coordinator=False)


@login_required
@require_http_methods(["GET", "POST"])
def helper_profile_for(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    helper = selectors.helper_get_for_profile(user=signed_in_actor(request), slug=slug, helper_id=pk)
    return _helper_profile_page(request, helper, by_coordinator=True)


@login_required
@require_http_methods(["GET", "POST"])
def helper_vetting(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A coordinator records a helper's DBS check, references and training."""
    helper = selectors.helper_get_for_profile(user=signed_in_actor(request), slug=slug, helper_id=pk)
    if request.method == "POST":
        form = HelperVettingForm(request.POST)
        if form.is_valid():
            try:
                helper_vetting_update(helper=helper, actor=signed_in_actor(request), **form.cleaned_data)
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(request, _("Checks saved for %(name)s") % {"name": helper.display_name})
                return redirect("circles:help_helper_for", slug=slug, pk=helper.pk)
    else:
        form = HelperVettingForm(initial=HelperVettingForm.initial_for(helper))
    heading = _("%(name)s: checks for home visits") % {"name": helper.display_name}
    return render(request, "circles/help/vetting.html", {
        "page_title": page_title(heading, form), "heading": heading, "form": form, "helper": helper,
        "back_href": reverse("circles:help_helper_for", kwargs={"slug": slug, "pk": helper.pk}),
    })


@login_required
@require_http_methods(["GET", "POST"])
def member_become_helper_page(request: HttpRequest, slug: str, member_id: int) -> HttpResponse:
    circle = selectors.circle_get_for_coordinator(user=signed_in_actor(request), slug=slug)
    member = selectors.member_get_for_coordinator(circle=circle, member_id=member_id)
    if request.method == "POST":
        try:
            helper = member_become_helper(member=member, actor=signed_in_actor(request))
        except ValidationError as error:
            _errors_as_messages(request, error)
        else:
            messages.success(request, _("%(name)s is now a helper. They can help in homes once their checks are done.")
                             % {"name": member.display_name})
            return redirect("circles:help_helper_for", slug=slug, pk=helper.pk)
    heading = _("Make %(name)s a helper") % {"name": member.display_name}
    return render(request, "circles/help/become_helper.html", {
        "page_title": heading, "heading": heading, "member": member, "circle": circle,
        "back_href": reverse("circles:help_queue", kwargs={"slug": slug}),
    })


# --- Coordinators: the matching queue ------------------------------------------------------------

@login_required
def help_queue(request: HttpRequest, slug: str) -> HttpResponse:
    circle = selectors.circle_get_for_coordinator(user=signed_in_actor(request), slug=slug)
    return render(request, "circles/help/queue.html", {
        "page_title": _("Matching queue: %(circle)s") % {"circle": circle.name}, "circle": circle,
        "help_requests": selectors.help_queue_for_circle(circle=circle),
        "visits": selectors.visits_for_circle(circle=circle),
        "helpers": selectors.helpers_for_circle(circle=circle),
        "helper_counts": selectors.helpers_became_from_members(circle=circle),
    })


@login_required
@require_http_methods(["GET", "POST"])
def help_candidates(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    circle = selectors.circle_get_for_coordinator(user=signed_in_actor(request), slug=slug)
    help_request = selectors.help_request_get_for_coordinator(circle=circle, request_id=pk)
    if request.method == "POST":
        raw = request.POST.get("helper", "")
        helper = selectors.helper_get_in_circle(circle=circle, helper_id=int(raw)) if raw.isdigit() else None
        if helper is None:
            messages.error(request, _("Choose a helper from the list"))
        else:
            try:
                services.match_propose(help_request=help_request, helper=helper, actor=signed_in_actor(request))
            except ValidationError as error:
                _errors_as_messages(request, error)
            else:
                messages.success(request, _("The request has been offered to %(name)s. They have been emailed.")
                                 % {"name": helper.display_name})
                return redirect("circles:help_queue", slug=slug)
        return redirect("circles:help_candidates", slug=slug, pk=pk)
    return render(request, "circles/help/candidates.html", {
        "page_title": _("Find a helper"), "circle": circle, "help_request": help_request,
        "candidates": selectors.helpers_rank_for_request(help_request=help_request),
        "back_href": reverse("circles:help_queue", kwargs={"slug": slug}),
    })


@login_required
@require_POST
def match_withdraw(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    circle = selectors.circle_get_for_coordinator(user=signed_in_actor(request), slug=slug)
    match = selectors.match_get_for_coordinator(circle=circle, match_id=pk)
    try:
        services.match_withdraw(match=match, actor=signed_in_actor(request))
    except ValidationError as error:
        _errors_as_messages(request, error)
    else:
        messages.success(request, _("The offer has been withdrawn. The request is back in the queue."))
    return redirect("circles:help_queue", slug=slug)


# --- Helpers: answers and visits -----------------------------------------------------------------

@login_required
def help_visits(request: HttpRequest) -> HttpResponse:
    """The helper's requests to answer and their visits."""
    return render(request, "circles/help/visits.html", {
        "page_title": _("Your visits"),
        "matches": selectors.matches_waiting_for_helper(user=signed_in_actor(request)),
        "visits": selectors.visits_for_helper(user=signed_in_actor(request)),
        "helper_roles": selectors.helper_roles_for_user(user=signed_in_actor(request)),
        "decline_form": DeclineForm(),
    })


@login_required
@require_POST
def match_answer(request: HttpRequest, pk: int) -> HttpResponse:
    match = selectors.match_get_for_helper(user=signed_in_actor(request), match_id=pk)
    accept = request.POST.get("answer") == "accept"
    if not accept and request.POST.get("answer") != "decline":
        messages.error(request, _("Choose whether you can help"))
        return redirect("circles:help_visits")
    form = DeclineForm(request.POST)
    reason = form.cleaned_data.get("decline_reason", "") if form.is_valid() else ""
    try:
        visit = services.match_respond(match=match, actor=signed_in_actor(request), accept=accept, decline_reason=reason)
    except ValidationError as error:
        _errors_as_messages(request, error)
        return redirect("circles:help_visits")
    if visit is not None:
        messages.success(request, _("Thank you. The visit is arranged."))
        return redirect("circles:help_visit", pk=visit.pk)
    messages.success(request, _("Thank you for letting us know. A coordinator will find someone else."))
    return redirect("circles:help_visits")


@login_required
def help_visit(request: HttpRequest, pk: int) -> HttpResponse:
    access = selectors.visit_get_for_user(user=signed_in_actor(request), visit_id=pk)
    visit = access.visit
    given = {f.side for f in visit.feedback.all()}
    side = "member" if access.is_member else "helper" if access.is_helper else ""
    return render(request, "circles/help/visit.html", {
        "page_title": _("Visit"), "visit": visit, "access": access, "help_request": visit.request,
        "can_give_feedback": bool(side) and side not in given
        and (visit.completed_at is not None or visit.checked_out_at is not None),
        "owed": visit.payment == VisitPayment.OWED,
        "back_href": reverse("circles:help_visits") if access.is_helper
        else reverse("circles:help_mine") if access.is_member
        else reverse("circles:help_queue", kwargs={"slug": visit.circle.slug}),
    })


def _visit_action(request: HttpRequest, pk: int, action: Any, done: str) -> HttpResponse:
    access = selectors.visit_get_for_user(user=signed_in_actor(request), visit_id=pk)
    try:
        action(visit=access.visit, actor=signed_in_actor(request))
    except ValidationError as error:
        _errors_as_messages(request, error)
    else:
        messages.success(request, done)
    return redirect("circles:help_visit", pk=pk)


@login_required
@require_POST
def visit_check_in(request: HttpRequest, pk: int) -> HttpResponse:
    return _visit_action(request, pk, services.visit_check_in, _("You have checked in"))


@login_required
@require_POST
def visit_check_out(request: HttpRequest, pk: int) -> HttpResponse:
    return _visit_action(request, pk, services.visit_check_out, _("You have checked out"))


@login_required
@require_POST
def visit_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    return _visit_action(request, pk, services.visit_confirm, _("Thank you for confirming the visit"))


@login_required
@require_POST
def visit_pay(request: HttpRequest, pk: int) -> HttpResponse:
    return _visit_action(request, pk, services.visit_payment_retry, _("The payment was tried again"))


@login_required
@require_http_methods(["GET", "POST"])
def visit_feedback(request: HttpRequest, pk: int) -> HttpResponse:
    access = selectors.visit_get_for_user(user=signed_in_actor(request), visit_id=pk)
    if not (access.is_member or access.is_helper):
        raise Http404
    if request.method == "POST":
        form = FeedbackForm(request.POST)
        if form.is_valid():
            try:
                services.visit_feedback_give(visit=access.visit, actor=signed_in_actor(request), **form.cleaned_data)
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(request, _("Thank you for saying how it went"))
                return redirect("circles:help_visit", pk=pk)
    else:
        form = FeedbackForm()
    heading = _("How did the visit go?")
    return render(request, "circles/help/feedback.html", {
        "page_title": page_title(heading, form), "heading": heading, "form": form, "visit": access.visit,
        "back_href": reverse("circles:help_visit", kwargs={"pk": pk}),
    })


@login_required
@require_http_methods(["GET", "POST"])
def visit_incident(request: HttpRequest, pk: int) -> HttpResponse:
    access = selectors.visit_get_for_user(user=signed_in_actor(request), visit_id=pk)
    visit = access.visit
    if request.method == "POST":
        form = IncidentForm(request.POST)
        if form.is_valid():
            try:
                services.incident_report(
                    circle=visit.circle, visit=visit, actor=signed_in_actor(request),
                    description=form.cleaned_data["description"], anyone_hurt=form.cleaned_data["anyone_hurt"],
                    idempotency_key=form.cleaned_data.get("key") or "",
                )
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(request, _("Your report has been sent to the coordinators"))
                return redirect("circles:help_visit", pk=pk)
    else:
        form = IncidentForm()
    heading = _("Report an incident")
    return render(request, "circles/help/incident.html", {
        "page_title": page_title(heading, form), "heading": heading, "form": form, "visit": visit,
        "circle": visit.circle, "back_href": reverse("circles:help_visit", kwargs={"pk": pk}),
    })


@login_required
@require_http_methods(["GET", "POST"])
def circle_incident(request: HttpRequest, slug: str) -> HttpResponse:
    """An incident or a worry not about one visit, from a member, a helper or a coordinator."""
    circle, _member, _helper = _circle_for_offers(request, slug)
    if request.method == "POST":
        form = IncidentForm(request.POST)
        if form.is_valid():
            try:
                services.incident_report(
                    circle=circle, actor=signed_in_actor(request),
                    description=form.cleaned_data["description"], anyone_hurt=form.cleaned_data["anyone_hurt"],
                    idempotency_key=form.cleaned_data.get("key") or "",
                )
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(request, _("Your report has been sent to the coordinators"))
                return redirect("circles:help_offers", slug=slug)
    else:
        form = IncidentForm()
    heading = _("Report an incident")
    return render(request, "circles/help/incident.html", {
        "page_title": page_title(heading, form), "heading": heading, "form": form, "circle": circle,
        "back_href": reverse("circles:help_offers", kwargs={"slug": slug}),
    })


urlpatterns: list[URLPattern] = [
    path("help/", help_mine, name="help_mine"),
    path("help/requests/<int:pk>/cancel/", help_request_cancel, name="help_request_cancel"),
    path("help/visits/", help_visits, name="help_visits"),
    path("help/matches/<int:pk>/answer/", match_answer, name="help_match_answer"),
    path("help/visits/<int:pk>/", help_visit, name="help_visit"),
    path("help/visits/<int:pk>/check-in/", visit_check_in, name="help_visit_check_in"),
    path("help/visits/<int:pk>/check-out/", visit_check_out, name="help_visit_check_out"),
    path("help/visits/<int:pk>/confirm/", visit_confirm, name="help_visit_confirm"),
    path("help/visits/<int:pk>/pay/", visit_pay, name="help_visit_pay"),
    path("help/visits/<int:pk>/feedback/", visit_feedback, name="help_visit_feedback"),
    path("help/visits/<int:pk>/incident/", visit_incident, name="help_visit_incident"),
    path("<slug:slug>/help/ask/", help_ask, name="help_ask"),
    path("<slug:slug>/help/ask/for/<int:member_id>/", help_ask_for_member, name="help_ask_for_member"),
    path("<slug:slug>/help/offers/", offer_list, name="help_offers"),
    path("<slug:slug>/help/offers/new/", offer_new, name="help_offer_new"),
    path("<slug:slug>/help/offers/<int:pk>/ask/", help_ask_from_offer, name="help_ask_from_offer"),
    path("<slug:slug>/help/queue/", help_queue, name="help_queue"),
    path("<slug:slug>/help/incident/", circle_incident, name="help_incident"),
    path("<slug:slug>/help/helper/", helper_profile, name="help_helper"),
    path("<slug:slug>/help/helpers/<int:pk>/", helper_profile_for, name="help_helper_for"),
    path("<slug:slug>/help/helpers/<int:pk>/vetting/", helper_vetting, name="help_helper_vetting"),
    path("<slug:slug>/help/members/<int:member_id>/become-helper/", member_become_helper_page,
         name="help_member_become_helper"),
    path("<slug:slug>/help/requests/<int:pk>/candidates/", help_candidates, name="help_candidates"),
    path("<slug:slug>/help/matches/<int:pk>/withdraw/", match_withdraw, name="help_match_withdraw"),
]
