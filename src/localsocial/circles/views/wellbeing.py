"""Wellbeing check-ins: a member's own page (say yes or no, answer the three questions, see
their history), the coordinators' page for asking a member on the phone, the circle's trend
(chart, table, CSV) and the list of members to phone.

A member only ever sees their own answers (their membership is looked up from the signed-in
user, never from the address).  Coordinators' pages authorise with ``coordinator_page``: a
coordinator of another circle gets 403, a member of another circle 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, re_path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from localsocial.accounts.actors import signed_in_actor
from localsocial.circles.forms.wellbeing import CheckInForm, OptForm
from localsocial.circles.models import Circle, Member, MemberStatus
from localsocial.circles.models.reports import LONELY_FROM
from localsocial.circles.selectors import wellbeing as selectors
from localsocial.circles.selectors.membership import circle_get, member_get_own, member_in_circle
from localsocial.circles.services.circles import SLUG_URL
from localsocial.circles.services.wellbeing import (
    interval_days,
    wellbeing_checkin_record,
    wellbeing_checkins_due,
    wellbeing_opt_set,
)
from localsocial.circles.views.coordinate import coordinator_page
from localsocial.core.forms import form_errors_apply, page_title


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    return response


def _recorded_message(outcome: str, *, for_name: str | None = None) -> str:
    if outcome == "same":
        return _("These answers were already saved today.")
    if outcome == "changed":
        return _("Today's answers are changed.") if for_name is None else _(
            "%(name)s's answers for today are changed.") % {"name": for_name}
    return _("Thank you. Your answers are saved.") if for_name is None else _(
        "%(name)s's answers are saved.") % {"name": for_name}


def _page_context(member: Member, *, form: CheckInForm | None, opt_form: OptForm | None,
                  **extra: Any) -> dict[str, Any]:
    history = selectors.wellbeing_history(member=member)
    taken_today = next((c for c in history if c.taken_on == timezone.localdate()), None)
    return {
        "circle": member.circle, "member": member, "history": history,
        "chart_src": selectors.wellbeing_history_chart(history), "lonely_from": LONELY_FROM,
        "form": form or CheckInForm(assisted="acting_for" in extra, initial={
            name: getattr(taken_today, name) for name in ("lack_companionship", "left_out", "isolated")
        } if taken_today else None),
        "opt_form": opt_form or OptForm(assisted="acting_for" in extra,
                                         # The current "yes" is shown; otherwise nothing is ticked (GOV.UK:
                                         # never pre-select), so a member who has not chosen must choose.
                                         initial={"opt_in": "yes"} if member.wellbeing_opt_in else {}),
        "can_answer": member.wellbeing_opt_in and member.status == MemberStatus.ACTIVE,
        "taken_today": taken_today, "interval_days": interval_days(), **extra,
    }


# --- A member's own page -----------------------------------------------------------------------

def _own(request: HttpRequest, slug: str) -> tuple[Circle, Member | None]:
    circle = circle_get(slug=slug)
    return circle, member_get_own(circle=circle, user=request.user)


def _not_member(request: HttpRequest, circle: Circle) -> HttpResponse:
    return render(request, "circles/not_member.html", {
        "page_title": _("You are not a member of %(circle)s") % {"circle": circle.name}, "circle": circle,
    }, status=404)


def _mine(request: HttpRequest, member: Member, *, form: CheckInForm | None = None,
          opt_form: OptForm | None = None, status: int = 200) -> HttpResponse:
    title = page_title(_("How are you feeling?"), form, opt_form)
    return _private(render(request, "circles/wellbeing/mine.html", {
        "page_title": title, **_page_context(member, form=form, opt_form=opt_form),
        "back_href": reverse("circles:membership", kwargs={"slug": member.circle.slug}),
    }, status=status))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def mine(request: HttpRequest, slug: str) -> HttpResponse:
    circle, member = _own(request, slug)
    if member is None:
        return _not_member(request, circle)
    if request.method != "POST":
        return _mine(request, member)
    form = CheckInForm(request.POST)
    if form.is_valid():
        try:
            recorded = wellbeing_checkin_record(member=member, actor=signed_in_actor(request), answers=form.answers())
        except ValidationError as error:
            form_errors_apply(form, error)
        else:
            messages.success(request, _recorded_message(recorded.outcome))
            return redirect("circles:wellbeing", slug=slug)
    return _mine(request, member, form=form, status=400)


@login_required
@require_POST
def mine_opt(request: HttpRequest, slug: str) -> HttpResponse:
    circle, member = _own(request, slug)
    if member is None:
        return _not_member(request, circle)
    form = OptForm(request.POST)
    if not form.is_valid():
        return _mine(request, member, opt_form=form, status=400)
    opt_in = form.cleaned_data["opt_in"]
    wellbeing_opt_set(member=member, actor=signed_in_actor(request), opt_in=opt_in)
    messages.success(request, _("Thank you. You can answer the questions below.") if opt_in
                     else _("You will not be asked these questions. You can change your mind at any time."))
    return redirect("circles:wellbeing", slug=slug)


# --- Coordinators: one member --------------------------------------------------------------------

def _for_member(request: HttpRequest, circle: Circle, member: Member, *, form: CheckInForm | None = None,
                opt_form: OptForm | None = None, status: int = 200) -> HttpResponse:
    title = page_title(_("Wellbeing check-ins of %(name)s") % {"name": member.display_name}, form, opt_form)
    return render(request, "circles/wellbeing/member.html", {
        "page_title": title, **_page_context(member, form=form, opt_form=opt_form, acting_for=member),
        "back_href": reverse("circles:coordinate_member", kwargs={"slug": circle.slug, "member_id": member.pk}),
    }, status=status)


@coordinator_page
@require_http_methods(["GET", "POST"])
def member_checkins(request: HttpRequest, circle: Circle, member_id: int) -> HttpResponse:
    member = member_in_circle(circle=circle, member_id=member_id)
    if request.method != "POST":
        return _for_member(request, circle, member)
    form = CheckInForm(request.POST, assisted=True)
    if form.is_valid():
        try:
            recorded = wellbeing_checkin_record(member=member, actor=signed_in_actor(request), answers=form.answers(),
                                                taken_on=form.cleaned_data.get("taken_on"))
        except ValidationError as error:
            form_errors_apply(form, error)
        else:
            messages.success(request, _recorded_message(recorded.outcome, for_name=member.display_name))
            return redirect("circles:wellbeing_member", slug=circle.slug, member_id=member.pk)
    return _for_member(request, circle, member, form=form, status=400)


@coordinator_page
@require_POST
def member_opt(request: HttpRequest, circle: Circle, member_id: int) -> HttpResponse:
    member = member_in_circle(circle=circle, member_id=member_id)
    form = OptForm(request.POST, assisted=True)
    if form.is_valid():
        opt_in = form.cleaned_data["opt_in"]
        try:
            wellbeing_opt_set(member=member, actor=signed_in_actor(request), opt_in=opt_in,
                              consent=bool(form.cleaned_data.get("consent")))
        except ValidationError as error:
            form_errors_apply(form, error)
        else:
            messages.success(request, _("%(name)s will be asked these questions now and then.") % {
                "name": member.display_name} if opt_in else _("%(name)s will not be asked these questions.") % {
                "name": member.display_name})
            return redirect("circles:wellbeing_member", slug=circle.slug, member_id=member.pk)
    return _for_member(request, circle, member, opt_form=form, status=400)


# --- Coordinators: the circle ---------------------------------------------------------------------

@coordinator_page
@require_GET
def report(request: HttpRequest, circle: Circle) -> HttpResponse:
    trend = selectors.wellbeing_trend(circle=circle)
    return render(request, "circles/wellbeing/report.html", {
        "page_title": _("Wellbeing check-ins in %(circle)s") % {"circle": circle.name}, "circle": circle,
        "trend": trend, "chart_src": selectors.wellbeing_trend_chart(trend),
        "back_href": reverse("circles:coordinate_members", kwargs={"slug": circle.slug}),
    })


@coordinator_page
@require_GET
def report_csv(request: HttpRequest, circle: Circle) -> HttpResponse:
    trend = selectors.wellbeing_trend(circle=circle)
    response = HttpResponse("\ufeff" + selectors.wellbeing_csv(trend), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="wellbeing-{circle.slug}-{timezone.localdate()}.csv"'
    return response


@coordinator_page
@require_GET
def to_ask(request: HttpRequest, circle: Circle) -> HttpResponse:
    return render(request, "circles/wellbeing/to_ask.html", {
        "page_title": _("Members to ask about their wellbeing"), "circle": circle,
        "rows": wellbeing_checkins_due(circle=circle), "interval_days": interval_days(),
        "back_href": reverse("circles:wellbeing_report", kwargs={"slug": circle.slug}),
    })


S = SLUG_URL
M = r"members/(?P<member_id>[0-9]+)"
urlpatterns: list[URLPattern] = [
    re_path(rf"^{S}/wellbeing/$", mine, name="wellbeing"),
    re_path(rf"^{S}/wellbeing/choice/$", mine_opt, name="wellbeing_opt"),
    re_path(rf"^{S}/coordinate/{M}/wellbeing/$", member_checkins, name="wellbeing_member"),
    re_path(rf"^{S}/coordinate/{M}/wellbeing/choice/$", member_opt, name="wellbeing_member_opt"),
    re_path(rf"^{S}/coordinate/wellbeing/$", report, name="wellbeing_report"),
    re_path(rf"^{S}/coordinate/wellbeing\.csv$", report_csv, name="wellbeing_report_csv"),
    re_path(rf"^{S}/coordinate/wellbeing/to-ask/$", to_ask, name="wellbeing_to_ask"),
]
