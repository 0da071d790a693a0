"""Events pages: a circle's calendar (anyone may read the published events; answering needs
membership), one event with the "I'll come / I can't come now" form, past events, a member's own
events, calendar downloads (iCalendar, RFC 5545) and the coordinators' pages: create, change and
cancel an event, who is coming (and a CSV of it), answer for a member on the phone, and mark
who came.

Coordinators' pages fetch the circle and authorise together (``coordinator_page``: 403 for a
coordinator of another circle); an event of another circle is a 404.  No page needs JavaScript.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, re_path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from localsocial.accounts.actors import signed_in_actor
from localsocial.circles.forms.coordinate import MemberSearchForm
from localsocial.circles.forms.events import (
    EVENT_FIELD_NAMES,
    AnswerForm,
    AttendanceForm,
    CancelForm,
    EventForm,
)
from localsocial.circles.forms.membership import money
from localsocial.circles.models import Circle, Event, EventRsvp, Member, MemberStatus, RsvpStatus
from localsocial.circles.selectors import events as selectors
from localsocial.circles.selectors.membership import (
    circle_get,
    may_coordinate,
    members_for_coordinator,
)
from localsocial.circles.services import events as services
from localsocial.circles.services.circles import SLUG_URL
from localsocial.circles.views.coordinate import coordinator_page
from localsocial.core.csv import protect_cell
from localsocial.core.forms import form_errors_apply, page_title
from localsocial.core.pagination import InvalidCursorError


def _event_url(event: Event) -> str:
    return reverse("circles:event", kwargs={"slug": event.circle.slug, "event_id": event.pk})


def _people_url(event: Event) -> str:
    return reverse("circles:event_people", kwargs={"slug": event.circle.slug, "event_id": event.pk})


def _context(circle: Circle, **extra: Any) -> dict[str, Any]:
    return {"circle": circle, "money": money, "when": services.event_when_text, "own_answer": selectors.own_answer,
            "statuses": RsvpStatus, **extra}


def _answer_saved_message(request: HttpRequest, rsvp: EventRsvp, *, for_name: str | None = None) -> None:
    if rsvp.status == RsvpStatus.GOING:
        text = (_("%(name)s is coming: %(places)s saved.") % {"name": for_name, "places": _places(rsvp.places)}
                if for_name else _("You're coming: %(places)s saved for you.") % {"places": _places(rsvp.places)})
    elif rsvp.status == RsvpStatus.WAITING:
        text = (_("The event is full, so %(name)s is on the waiting list.") % {"name": for_name} if for_name
                else _("The event is full, so you are on the waiting list. We will tell you if a place comes free."))
    else:
        text = (_("%(name)s is not coming.") % {"name": for_name} if for_name
                else _("Thank you for letting us know you can't come."))
    messages.success(request, text)


def _places(count: int) -> str:
    return ngettext("%(count)d place", "%(count)d places", count) % {"count": count}


# --- Everyone: the calendar and events ---------------------------------------------------------

@require_GET
def calendar(request: HttpRequest, slug: str) -> HttpResponse:
    circle = circle_get(slug=slug)
    member = selectors.member_active_get(circle=circle, user=request.user)
    can_coordinate = may_coordinate(request.user, circle)
    return render(request, "circles/events/calendar.html", _context(
        circle, page_title=_("Events: %(circle)s") % {"circle": circle.name}, member=member,
        can_coordinate=can_coordinate,
        months=selectors.events_calendar(circle=circle, member=member, include_unpublished=can_coordinate),
        back_href=reverse("circles:circle", kwargs={"slug": slug}),
    ))


@require_GET
def past(request: HttpRequest, slug: str) -> HttpResponse:
    circle = circle_get(slug=slug)
    can_coordinate = may_coordinate(request.user, circle)
    return render(request, "circles/events/past.html", _context(
        circle, page_title=_("Past events: %(circle)s") % {"circle": circle.name}, can_coordinate=can_coordinate,
        events=selectors.events_past(circle=circle, include_unpublished=can_coordinate),
        back_href=reverse("circles:events", kwargs={"slug": slug}),
    ))


@require_http_methods(["GET", "POST"])
def event_page(request: HttpRequest, slug: str, event_id: str) -> HttpResponse:
    """One event; members answer here (the form posts back to this page)."""
    circle = circle_get(slug=slug)
    if request.method == "POST" and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    member = selectors.member_active_get(circle=circle, user=request.user)
    can_coordinate = may_coordinate(request.user, circle)
    event = selectors.event_get(circle=circle, event_id=int(event_id), member=member,
                                include_unpublished=can_coordinate)
    answer = selectors.own_answer(event)
    form = AnswerForm(initial=AnswerForm.initial_for(answer)) if member is not None else None
    if request.method == "POST":
        if member is None:
            messages.error(request, _("Only members of %(circle)s can answer. Join the circle first.")
                           % {"circle": circle.name})
            return redirect(_event_url(event))
        form = AnswerForm(request.POST)
        if form.is_valid():
            try:
                rsvp = services.rsvp_set(event=event, member=member, actor=signed_in_actor(request),
                                         **form.arguments())
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                _answer_saved_message(request, rsvp)
                return redirect(_event_url(event))
    return render(request, "circles/events/event.html", _context(
        circle, page_title=page_title(event.title, form), event=event, member=member, answer=answer, form=form,
        can_coordinate=can_coordinate, answers_open=event.starts_at > timezone.now() and not event.is_cancelled,
        back_href=reverse("circles:events", kwargs={"slug": slug}),
    ))


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """The signed-in person's upcoming events in every circle."""
    return render(request, "circles/events/mine.html", {
        "page_title": _("Your events"), "rsvps": selectors.rsvps_for_user(user=signed_in_actor(request)),
        "when": services.event_when_text, "statuses": RsvpStatus,
    })


# --- iCalendar (RFC 5545), written by hand: a few lines, no dependency ------------------------

def _ics_escape(text: str) -> str:
    """TEXT values: backslash, semicolon and comma escaped, line breaks as ``\\n``."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


def _ics_fold(line: str) -> str:
    """Fold a content line into parts of at most 75 octets, never inside a UTF-8 character;
    each continuation starts with a space."""
    parts: list[str] = []
    current, size, limit = "", 0, 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append(current)
            current, size, limit = "", 0, 74  # the leading space takes one octet
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def _ics_time(value: Any) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _ics_event(event: Event, *, stamp: str) -> list[str]:
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0] or "localsocial"
    where = ", ".join(part for part in [event.place_name, " ".join(event.place_address.split()), event.postcode] if part)
    description = event.description
    if event.accessibility:
        description = f"{description}\n\n{_('Access')}: {event.accessibility}".strip()
    if event.is_cancelled:
        description = f"{_('Cancelled')}: {event.cancel_reason}\n\n{description}".strip()
    lines = [
        "BEGIN:VEVENT",
        f"UID:circles-event-{event.pk}@{host}",
        f"DTSTAMP:{stamp}",
        f"DTSTART:{_ics_time(event.starts_at)}",
        f"DTEND:{_ics_time(event.ends_at)}",
        f"LAST-MODIFIED:{_ics_time(event.updated_at)}",
        f"SUMMARY:{_ics_escape(event.title)}",
        f"LOCATION:{_ics_escape(where)}",
        f"URL:{settings.SITE_URL}{_event_url(event)}",
        f"STATUS:{'CANCELLED' if event.is_cancelled else 'CONFIRMED'}",
    ]
    if description:
        lines.append(f"DESCRIPTION:{_ics_escape(description)}")
    lines.append("END:VEVENT")
    return lines


def _ics_response(name: str, events: Iterable[Event], *, filename: str) -> HttpResponse:
    stamp = _ics_time(timezone.now())
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Local Social//Circles events//EN", "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH", f"X-WR-CALNAME:{_ics_escape(name)}",
    ]
    for event in events:
        lines.extend(_ics_event(event, stamp=stamp))
    lines.append("END:VCALENDAR")
    body = "".join(_ics_fold(line) + "\r\n" for line in lines)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def event_ics(request: HttpRequest, slug: str, event_id: str) -> HttpResponse:
    circle = circle_get(slug=slug)
    event = selectors.event_get(circle=circle, event_id=int(event_id),
                                include_unpublished=may_coordinate(request.user, circle))
    return _ics_response(event.title, [event], filename=f"event-{event.pk}.ics")


@require_GET
def calendar_ics(request: HttpRequest, slug: str) -> HttpResponse:
    """The circle's published events as a calendar feed to subscribe to."""
    circle = circle_get(slug=slug)
    name = _("Events: %(circle)s") % {"circle": circle.name}
    return _ics_response(name, selectors.events_for_feed(circle=circle), filename=f"{circle.slug}-events.ics")


# --- Coordinators ------------------------------------------------------------------------------

def _event_for_coordinator(circle: Circle, event_id: int) -> Event:
    return selectors.event_get(circle=circle, event_id=event_id, include_unpublished=True)


@coordinator_page
@require_http_methods(["GET", "POST"])
def event_new(request: HttpRequest, circle: Circle) -> HttpResponse:
    if request.method == "POST":
        form = EventForm(request.POST)
        if form.is_valid():
            try:
                event = services.event_create(circle=circle, actor=signed_in_actor(request), details=form.details(),
                                              idempotency_key=form.cleaned_data.get("key") or "")
            except ValidationError as error:
                form_errors_apply(form, error, EVENT_FIELD_NAMES)
            else:
                messages.success(request, _("The event is on the calendar"))
                return redirect(_event_url(event))
    else:
        form = EventForm(initial={"key": uuid.uuid4().hex})
    heading = _("Add an event")
    return render(request, "circles/events/form.html", _context(
        circle, page_title=page_title(heading, form), heading=heading, form=form, event=None,
        back_href=reverse("circles:events", kwargs={"slug": circle.slug}),
    ))


@coordinator_page
@require_http_methods(["GET", "POST"])
def event_edit(request: HttpRequest, circle: Circle, event_id: int) -> HttpResponse:
    event = _event_for_coordinator(circle, event_id)
    if event.is_cancelled:
        messages.error(request, _("This event is cancelled, so it cannot be changed."))
        return redirect(_event_url(event))
    if request.method == "POST":
        form = EventForm(request.POST)
        if form.is_valid():
            try:
                services.event_update(event=event, actor=signed_in_actor(request), details=form.details())
            except ValidationError as error:
                form_errors_apply(form, error, EVENT_FIELD_NAMES)
            else:
                messages.success(request, _("The event is saved"))
                return redirect(_event_url(event))
    else:
        form = EventForm(initial=EventForm.initial_for(event))
    heading = _("Change the event")
    return render(request, "circles/events/form.html", _context(
        circle, page_title=page_title(heading, form), heading=heading, form=form, event=event,
        back_href=_event_url(event),
    ))


@coordinator_page
@require_http_methods(["GET", "POST"])
def event_cancel(request: HttpRequest, circle: Circle, event_id: int) -> HttpResponse:
    event = _event_for_coordinator(circle, event_id)
    if event.is_cancelled:
        return redirect(_people_url(event))
    if request.method == "POST":
        form = CancelForm(request.POST)
        if form.is_valid():
            try:
                result = services.event_cancel(event=event, actor=signed_in_actor(request),
                                               reason=form.cleaned_data["reason"])
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                text = _("The event is cancelled.") + " " + ngettext(
                    "%(count)d member was emailed.", "%(count)d members were emailed.", len(result.emailed),
                ) % {"count": len(result.emailed)}
                if result.to_phone:
                    text += " " + _("Phone the members listed under “Tell by phone”.")
                messages.success(request, text)
                return redirect(_people_url(event))
    else:
        form = CancelForm()
    heading = _("Cancel %(title)s") % {"title": event.title}
    return render(request, "circles/events/cancel.html", _context(
        circle, page_title=page_title(heading, form), heading=heading, form=form, event=event,
        back_href=_people_url(event),
    ))


@coordinator_page
@require_GET
def event_people(request: HttpRequest, circle: Circle, event_id: int) -> HttpResponse:
    event = _event_for_coordinator(circle, event_id)
    attendees = selectors.event_attendees(event=event)
    to_phone = [r for r in [*attendees.going, *attendees.waiting] if r.to_phone] if event.is_cancelled else []  # type: ignore[attr-defined]
    return render(request, "circles/events/people.html", _context(
        circle, page_title=_("Who is coming: %(title)s") % {"title": event.title}, event=event, attendees=attendees,
        to_phone=to_phone, started=event.starts_at <= timezone.now(),
        back_href=_event_url(event),
    ))


CSV_COLUMNS = [
    "answer", "name", "places", "phone", "how_to_contact", "access_needs", "note", "answered_at", "entered_by",
    "attended",
]


@coordinator_page
@require_GET
def event_people_csv(request: HttpRequest, circle: Circle, event_id: int) -> HttpResponse:
    """Everyone who answered, coming first, then waiting, then not coming.  Every cell a
    spreadsheet could run as a formula is made safe (``protect_cell``)."""
    event = _event_for_coordinator(circle, event_id)
    attendees = selectors.event_attendees(event=event)
    out = io.StringIO()
    out.write("\ufeff")  # so that spreadsheets read the file as UTF-8
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for rsvp in [*attendees.going, *attendees.waiting, *attendees.not_going]:
        member: Member = rsvp.member
        writer.writerow([
            rsvp.status, protect_cell(member.display_name), rsvp.places, protect_cell(member.phone),
            member.contact_preference, protect_cell(" ".join(member.accessibility_needs.split())),
            protect_cell(rsvp.note), timezone.localtime(rsvp.updated_at).isoformat(timespec="seconds"),
            protect_cell(rsvp.entered_by.public_name) if rsvp.entered_by else "",
            {True: "yes", False: "no", None: ""}[rsvp.attended],
        ])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="event-{event.pk}-people.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


@coordinator_page
@require_GET
def event_answer_for_search(request: HttpRequest, circle: Circle, event_id: int) -> HttpResponse:
    """Find the member on the phone, by name or postcode."""
    event = _event_for_coordinator(circle, event_id)
    search = MemberSearchForm(request.GET or None)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    try:
        page = members_for_coordinator(
            circle=circle, query=query, status=MemberStatus.ACTIVE, cursor=request.GET.get("cursor") or None,
            page_size=settings.PAGE_SIZE,
        )
    except InvalidCursorError as error:
        raise Http404 from error
    heading = _("Answer for a member")
    return render(request, "circles/events/answer_for_search.html", _context(
        circle, page_title=heading, heading=heading, event=event, search=search, query=query, page=page,
        pagination=page.govuk_params(request, landmark_label=_("Pages of members")),
        back_href=_people_url(event),
    ))


@coordinator_page
@require_http_methods(["GET", "POST"])
def event_answer_for(request: HttpRequest, circle: Circle, event_id: int, member_id: int) -> HttpResponse:
    """A coordinator records a member's answer given by phone or in person (assisted use)."""
    event = _event_for_coordinator(circle, event_id)
    member = selectors.member_active_in_circle(circle=circle, member_id=member_id)
    answer = selectors.rsvp_of(event=event, member=member)
    if request.method == "POST":
        form = AnswerForm(request.POST)
        if form.is_valid():
            try:
                rsvp = services.rsvp_set(event=event, member=member, actor=signed_in_actor(request),
                                         **form.arguments())
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                _answer_saved_message(request, rsvp, for_name=member.display_name)
                return redirect(_people_url(event))
    else:
        form = AnswerForm(initial=AnswerForm.initial_for(answer))
    heading = _("Answer for %(name)s") % {"name": member.display_name}
    return render(request, "circles/events/answer_for.html", _context(
        circle, page_title=page_title(heading, form), heading=heading, form=form, event=event, member=member,
        answer=answer, back_href=reverse("circles:event_answer_for_search",
                                         kwargs={"slug": circle.slug, "event_id": event.pk}),
    ))


@coordinator_page
@require_http_methods(["GET", "POST"])
def event_attendance(request: HttpRequest, circle: Circle, event_id: int) -> HttpResponse:
    event = _event_for_coordinator(circle, event_id)
    going = selectors.event_attendees(event=event).going
    form = AttendanceForm(request.POST or None, rsvps=going)
    if request.method == "POST" and form.is_valid():
        try:
            services.attendance_mark(event=event, actor=signed_in_actor(request), attended=form.marks())
        except ValidationError as error:
            form_errors_apply(form, error)
        else:
            messages.success(request, _("Attendance is saved"))
            return redirect(_people_url(event))
    heading = _("Who came: %(title)s") % {"title": event.title}
    return render(request, "circles/events/attendance.html", _context(
        circle, page_title=page_title(heading, form), heading=heading, form=form, event=event, going=going,
        started=event.starts_at <= timezone.now(), back_href=_people_url(event),
    ))


S = SLUG_URL
E = r"events/(?P<event_id>[0-9]+)"
urlpatterns: list[URLPattern] = [
    re_path(r"^events/$", mine, name="events_mine"),
    re_path(rf"^{S}/events/$", calendar, name="events"),
    re_path(rf"^{S}/events/past/$", past, name="events_past"),
    re_path(rf"^{S}/events/calendar\.ics$", calendar_ics, name="events_ics"),
    re_path(rf"^{S}/events/new/$", event_new, name="event_new"),
    re_path(rf"^{S}/{E}/$", event_page, name="event"),
    re_path(rf"^{S}/{E}/event\.ics$", event_ics, name="event_ics"),
    re_path(rf"^{S}/{E}/edit/$", event_edit, name="event_edit"),
    re_path(rf"^{S}/{E}/cancel/$", event_cancel, name="event_cancel"),
    re_path(rf"^{S}/{E}/people/$", event_people, name="event_people"),
    re_path(rf"^{S}/{E}/people\.csv$", event_people_csv, name="event_people_csv"),
    re_path(rf"^{S}/{E}/answer-for/$", event_answer_for_search, name="event_answer_for_search"),
    re_path(rf"^{S}/{E}/answer-for/(?P<member_id>[0-9]+)/$", event_answer_for, name="event_answer_for"),
    re_path(rf"^{S}/{E}/attendance/$", event_attendance, name="event_attendance"),
]
