"""Events: a circle's socials, learning sessions and trips, and members' answers.  Every write
about events goes through here.

Who may do what (checked here as well as in the views):

* a circle's coordinators (and site administrators) create, change and cancel its events, mark
  who came, and answer for a member on the phone (assisted use: ``entered_by`` is set and the
  audit log records the member as ``on_behalf_of``; the member's consent must be on record);
* an active member of the circle answers for themselves: "I'll come" (with up to 4 places, for
  a carer or a friend) or "I can't come now".

Places (see docs/circles-events.md):

* taking places is one conditional UPDATE, ``places_taken + n <= places``, backed by the
  database CHECK ``circles_event_not_overbooked``, so two members answering at once for the last
  place cannot both get it; whoever does not get it goes on the waiting list;
* every write locks the event's row first, so the waiting list moves up in one order and two
  writes to the same event never deadlock;
* when places come free (someone cannot come after all, or a coordinator adds places), the
  waiting list moves up oldest first; someone whose places do not fit is skipped and keeps
  their turn; each member moved up is emailed.

The waiting list's order is ``EventRsvp.created_at``: it is set again when an answer joins the
waiting list, so it is the time the member started waiting.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from localsocial.accounts.models import User
from localsocial.circles.models import (
    Circle,
    Event,
    EventKind,
    EventRsvp,
    Member,
    MemberStatus,
    RsvpStatus,
)
from localsocial.circles.selectors.membership import (
    coordinator_emails,
    coordinator_required,
    may_coordinate,
    member_has_email,
    member_prefers_phone,
)
from localsocial.core.email import email_send, site_url
from localsocial.core.services import audit_record, model_snapshot

MAX_PLACES_PER_ANSWER = 4
NOTE_MAX = 300
TITLE_MAX = 150
EVENT_FIELDS = [
    "kind", "title", "description", "starts_at", "ends_at", "place_name", "place_address", "postcode",
    "accessibility", "places", "cost_pence", "is_published",
]


def _lock(event: Event) -> Event:
    """The event's row, locked until the transaction ends (every write takes this lock first)."""
    return Event.objects.select_for_update(of=("self",)).select_related("circle").get(pk=event.pk)


def event_when_text(event: Event) -> str:
    """"Tuesday 3 March 2027, 14:00 to 16:00" in the site's time zone."""
    return _("%(day)s, %(start)s to %(end)s") % {
        "day": formats.date_format(timezone.localtime(event.starts_at), "l j F Y"),
        "start": formats.date_format(timezone.localtime(event.starts_at), "H:i"),
        "end": formats.date_format(timezone.localtime(event.ends_at), "H:i"),
    }


def _event_link(event: Event) -> str:
    return site_url(reverse("circles:event", kwargs={"slug": event.circle.slug, "event_id": event.pk}))


def _email_member(member: Member, *, subject: Any, event: Event, template: str, context: dict[str, Any]) -> None:
    """Email a member about an event, in their language (never to a placeholder address)."""
    if not member_has_email(member):
        return
    language = member.user.preferred_language or None
    with translation.override(language or translation.get_language()):
        subject_text = str(subject) % {"title": event.title}
        when = event_when_text(event)
    email_send(
        to=member.user.email, subject=subject_text, template=template, language=language,
        context={"member_name": member.display_name, "event": event, "circle": event.circle.name, "when": when,
                 "link": _event_link(event), **context},
    )


# --- Events ------------------------------------------------------------------------------------

@dataclass
class EventDetails:
    """What a coordinator says about an event (the form's cleaned data)."""

    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    place_name: str
    kind: str = EventKind.SOCIAL
    description: str = ""
    place_address: str = ""
    postcode: str = ""
    accessibility: str = ""
    places: int | None = None
    cost_pence: int = 0
    is_published: bool = True

    def cleaned(self) -> EventDetails:
        return EventDetails(
            title=" ".join((self.title or "").split()), starts_at=self.starts_at, ends_at=self.ends_at,
            place_name=" ".join((self.place_name or "").split()), kind=self.kind,
            description=(self.description or "").strip(), place_address=(self.place_address or "").strip(),
            postcode=" ".join((self.postcode or "").upper().split()), accessibility=(self.accessibility or "").strip(),
            places=self.places, cost_pence=self.cost_pence or 0, is_published=bool(self.is_published),
        )


def _event_errors(details: EventDetails, *, existing: Event | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not details.title:
        errors["title"] = [_("Enter the event's title")]
    elif len(details.title) > TITLE_MAX:
        errors["title"] = [_("Enter a title of %(max)s characters or fewer") % {"max": TITLE_MAX}]
    if details.kind not in EventKind.values:
        errors["kind"] = [_("Choose the kind of event")]
    if not details.place_name:
        errors["place_name"] = [_("Enter where the event is")]
    elif len(details.place_name) > 200:
        errors["place_name"] = [_("Enter a place of 200 characters or fewer")]
    if len(details.postcode) > 10:
        errors["postcode"] = [_("Enter a real postcode, like SE1 7PB")]
    if details.ends_at <= details.starts_at:
        errors["ends_at"] = [_("The event must end after it starts")]
    moved = existing is None or existing.starts_at != details.starts_at
    if moved and details.starts_at <= timezone.now():
        errors["starts_at"] = [_("The event must start in the future")]
    if details.places is not None:
        taken = existing.places_taken if existing is not None else 0
        if details.places < 1:
            errors["places"] = [_("Enter at least 1 place, or leave it empty if anyone can come")]
        elif details.places < taken:
            errors["places"] = [
                _("%(taken)s places are already taken: enter %(taken)s or more") % {"taken": taken}
            ]
    if details.cost_pence < 0:
        errors["cost_pence"] = [_("Enter a cost that is not negative")]
    return errors


@transaction.atomic
def event_create(*, circle: Circle, actor: User, details: EventDetails,
                 idempotency_key: str = "") -> Event:
    """Add an event to ``circle``'s calendar, by one of its coordinators.  Raises
    ``PermissionDenied`` for anyone else and ``ValidationError`` (by field) for bad details:
    no title or place, ending before it starts, starting in the past, fewer than 1 place.
    With an ``idempotency_key`` (the form's), sending the same form again returns the event
    it made the first time instead of adding a second."""
    coordinator_required(actor, circle)
    key = (idempotency_key or "").strip()[:100]
    if key:
        existing = Event.objects.filter(circle=circle, idempotency_key=key).first()
        if existing is not None:
            return existing
    details = details.cleaned()
    errors = _event_errors(details, existing=None)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            event = Event.objects.create(circle=circle, created_by=actor, idempotency_key=key, **{
                name: getattr(details, name) for name in EVENT_FIELDS
            })
    except IntegrityError:
        # The same form sent twice at once: the other request made it.
        if not key:
            raise
        return Event.objects.get(circle=circle, idempotency_key=key)
    audit_record(actor=actor, action="circles.event_create", target=event,
                 after=model_snapshot(event, EVENT_FIELDS))
    return event


@transaction.atomic
def event_update(*, event: Event, actor: User, details: EventDetails) -> Event:
    """Change an event's details, by a coordinator of its circle.  Its places may not go below
    the places already taken; when places are added the waiting list moves up (and those
    members are emailed).  A cancelled event cannot be changed.  Saving the same details
    again changes nothing."""
    locked = _lock(event)
    coordinator_required(actor, locked.circle)
    if locked.is_cancelled:
        raise ValidationError(_("This event is cancelled, so it cannot be changed."))
    details = details.cleaned()
    errors = _event_errors(details, existing=locked)
    if errors:
        raise ValidationError(errors)
    before = model_snapshot(locked, EVENT_FIELDS)
    for name in EVENT_FIELDS:
        setattr(locked, name, getattr(details, name))
    after = model_snapshot(locked, EVENT_FIELDS)
    if before == after:
        return locked
    locked.save()
    audit_record(actor=actor, action="circles.event_update", target=locked, before=before, after=after)
    _waiting_list_move_up(locked)
    return locked


@dataclass
class CancelResult:
    event: Event
    emailed: list[Member] = field(default_factory=list)
    to_phone: list[Member] = field(default_factory=list)  # no email for them: the coordinators phone
    already_cancelled: bool = False


@transaction.atomic
def event_cancel(*, event: Event, actor: User, reason: str) -> CancelResult:
    """Cancel an event, by a coordinator of its circle, saying why.  Every member who was
    coming or waiting is emailed, unless they have no real email address; the result lists
    the members to phone (no email, or they prefer phone or post).  Answers are kept as they
    were, so the coordinators can see who was told.  Cancelling twice is harmless."""
    locked = _lock(event)
    coordinator_required(actor, locked.circle)
    reason = " ".join((reason or "").split())
    if locked.is_cancelled:
        return CancelResult(event=locked, already_cancelled=True)
    if not reason:
        raise ValidationError({"reason": [_("Say why the event is cancelled")]})
    if len(reason) > 300:
        raise ValidationError({"reason": [_("Say why in 300 characters or fewer")]})
    locked.cancelled_at = timezone.now()
    locked.cancel_reason = reason
    locked.save(update_fields=["cancelled_at", "cancel_reason", "updated_at"])
    audit_record(actor=actor, action="circles.event_cancel", target=locked, after={"reason": reason})
    result = CancelResult(event=locked)
    answers = (
        EventRsvp.objects.filter(event=locked, status__in=[RsvpStatus.GOING, RsvpStatus.WAITING])
        .select_related("member__user").order_by("member__display_name", "id")
    )
    for rsvp in answers:
        member = rsvp.member
        if member_has_email(member):
            _email_member(
                member, subject=gettext_lazy("Cancelled: %(title)s"), event=locked,
                template="circles/email/event_cancelled.txt", context={"reason": reason},
            )
            result.emailed.append(member)
        if member_prefers_phone(member):
            result.to_phone.append(member)
    return result


# --- Answers -----------------------------------------------------------------------------------

def _answers_closed_reason(event: Event, *, by_coordinator: bool) -> str | None:
    if event.is_cancelled:
        return _("This event is cancelled, so answers are closed.")
    if event.starts_at <= timezone.now():
        return _("This event has already started, so answers are closed.")
    if not event.is_published and not by_coordinator:
        return _("This event is not open for answers yet.")
    return None


def _take_places(event_id: int, count: int) -> bool:
    """Take ``count`` places if they are free: one conditional UPDATE, never check-then-act."""
    return bool(
        Event.objects.filter(pk=event_id)
        .filter(Q(places__isnull=True) | Q(places_taken__lte=F("places") - count))
        .update(places_taken=F("places_taken") + count)
    )


def _give_back_places(event_id: int, count: int) -> None:
    Event.objects.filter(pk=event_id).update(places_taken=F("places_taken") - count)


def _waiting_list_move_up(event: Event) -> list[EventRsvp]:
    """Move the waiting list up, oldest first, for as many as the free places fit (someone who
    needs more places than are free is skipped and keeps their turn).  Each member moved up is
    emailed.  The caller holds the event's lock."""
    if event.is_cancelled or event.starts_at <= timezone.now():
        return []
    moved: list[EventRsvp] = []
    waiting = (
        EventRsvp.objects.filter(event_id=event.pk, status=RsvpStatus.WAITING)
        .select_related("member__user").order_by("created_at", "id")
    )
    for rsvp in waiting:
        if not _take_places(event.pk, rsvp.places):
            continue
        rsvp.status = RsvpStatus.GOING
        rsvp.save(update_fields=["status", "updated_at"])
        audit_record(actor=None, action="circles.rsvp_waiting_list_moved_up", target=rsvp,
                     after={"status": RsvpStatus.GOING, "places": rsvp.places})
        moved.append(rsvp)
        member = rsvp.member
        if member_has_email(member):
            _email_member(
                member, subject=gettext_lazy("A place has come free: %(title)s"), event=event,
                template="circles/email/event_place_free.txt", context={"places": rsvp.places},
            )
    to_phone = sum(1 for rsvp in moved if not member_has_email(rsvp.member))
    if to_phone:
        _coordinators_phone_moved_up(event, to_phone)
    return moved


def _coordinators_phone_moved_up(event: Event, count: int) -> None:
    """Members moved up from the waiting list who have no email address would not know they
    have a place: the coordinators are asked to phone them (the email names no one; the page
    behind the link, signed in, does)."""
    emails = coordinator_emails(circle_id=event.circle_id)
    if not emails:
        return
    email_send(
        to=emails, subject=_("Phone members who now have a place: %(title)s") % {"title": event.title},
        template="circles/email/event_moved_up_phone.txt",
        context={"event": event, "count": count, "circle": event.circle,
                 "link": site_url(reverse("circles:event_people",
                                          kwargs={"slug": event.circle.slug, "event_id": event.pk}))},
    )


@transaction.atomic
def rsvp_set(
    *,
    event: Event,
    member: Member,
    status: str,
    actor: User,
    places: int = 1,
    note: str = "",
) -> EventRsvp:
    """Record ``member``'s answer to ``event``: ``going`` (with ``places`` from 1 to 4, for
    themselves and anyone they bring) or ``not_going``.  By the member, or by a coordinator of
    the circle for them (assisted: ``entered_by`` is the coordinator, the audit log names the
    member, and their consent must be on record).

    "Going" takes the places if they are free, otherwise puts the answer on the waiting list
    (status ``waiting``).  "Not going" gives back the places held, and the waiting list moves
    up.  Giving the same answer again changes nothing.  Refused (``ValidationError``) for a
    member who is not active or not in the event's circle, and for a past, started, cancelled
    or (for members) unpublished event; ``PermissionDenied`` for anyone else."""
    locked = _lock(event)
    circle = locked.circle
    if actor is not None and actor.pk == member.user_id:
        on_behalf_of = None
    elif may_coordinate(actor, circle):
        on_behalf_of = member.user
    else:
        raise PermissionDenied
    if member.circle_id != circle.pk:
        raise ValidationError(_("Only members of %(circle)s can answer for this event.") % {"circle": circle.name})
    if member.status != MemberStatus.ACTIVE:
        raise ValidationError(_("Only an active member can answer for an event."))
    if on_behalf_of is not None and member.consent_given_at is None:
        raise ValidationError(
            _("Record the member's consent to a coordinator acting for them before answering for them.")
        )
    closed = _answers_closed_reason(locked, by_coordinator=on_behalf_of is not None)
    if closed:
        raise ValidationError(closed)
    if status not in (RsvpStatus.GOING, RsvpStatus.NOT_GOING):
        raise ValidationError({"status": [_("Choose whether you are coming")]})
    if not 1 <= places <= MAX_PLACES_PER_ANSWER:
        raise ValidationError({"places": [_("Choose from 1 to 4 places")]})
    note = " ".join((note or "").split())
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": [_("Keep the note to %(max)s characters or fewer") % {"max": NOTE_MAX}]})

    try:
        with transaction.atomic():
            rsvp, created = EventRsvp.objects.get_or_create(
                event=locked, member=member, defaults={"status": RsvpStatus.NOT_GOING, "places": places},
            )
    except IntegrityError:  # cannot happen under the event's lock; kept for clarity
        rsvp = EventRsvp.objects.get(event=locked, member=member)
    before = {"status": "" if created else rsvp.status, "places": rsvp.places, "note": rsvp.note}
    old_status, old_places = (None if created else rsvp.status), rsvp.places
    entered_by = actor if on_behalf_of is not None else None

    if status == RsvpStatus.NOT_GOING:
        if old_status == RsvpStatus.GOING:
            _give_back_places(locked.pk, old_places)
        rsvp.status = RsvpStatus.NOT_GOING
    elif old_status == RsvpStatus.GOING:
        if places > old_places and not _take_places(locked.pk, places - old_places):
            locked.refresh_from_db(fields=["places_taken"])
            raise ValidationError({"places": [
                _("Only %(left)s more places are free. Choose fewer places.") % {"left": locked.places_left or 0}
            ]})
        if places < old_places:
            _give_back_places(locked.pk, old_places - places)
        rsvp.status = RsvpStatus.GOING
    elif old_status == RsvpStatus.WAITING and places == old_places:
        pass  # still waiting, keeping their turn
    elif _take_places(locked.pk, places):
        rsvp.status = RsvpStatus.GOING
    else:
        rsvp.status = RsvpStatus.WAITING
        if old_status != RsvpStatus.WAITING:
            rsvp.created_at = timezone.now()  # their turn on the waiting list starts now
    rsvp.places = places
    rsvp.note = note
    after = {"status": rsvp.status, "places": rsvp.places, "note": rsvp.note}
    if after == before:
        return rsvp  # the same answer again: nothing changes
    rsvp.entered_by = entered_by
    rsvp.save()
    audit_record(actor=actor, action="circles.rsvp_set", target=rsvp, before=before, after=after,
                 on_behalf_of=on_behalf_of)
    if old_status == RsvpStatus.GOING and (rsvp.status != RsvpStatus.GOING or places < old_places):
        locked.refresh_from_db(fields=["places_taken"])
        _waiting_list_move_up(locked)
    return rsvp


@transaction.atomic
def attendance_mark(
    *, event: Event, actor: User, attended: dict[int, bool | None]
) -> int:
    """Record who came (True), who did not (False) or not known (None), by a coordinator of the
    event's circle, once the event has started.  ``attended`` maps answer ids to the mark;
    answers of other events and answers that were not "coming" are ignored.  Returns how
    many marks changed; marking the same again changes nothing."""
    locked = _lock(event)
    coordinator_required(actor, locked.circle)
    if locked.is_cancelled:
        raise ValidationError(_("This event was cancelled, so there is no attendance to record."))
    if locked.starts_at > timezone.now():
        raise ValidationError(_("You can record who came once the event has started."))
    changed = 0
    rows = EventRsvp.objects.select_for_update().filter(
        event=locked, status=RsvpStatus.GOING, pk__in=list(attended)
    )
    marks: dict[str, Any] = {}
    for rsvp in rows:
        mark = attended[rsvp.pk]
        if rsvp.attended != mark:
            rsvp.attended = mark
            rsvp.save(update_fields=["attended", "updated_at"])
            marks[str(rsvp.pk)] = mark
            changed += 1
    if changed:
        audit_record(actor=actor, action="circles.event_attendance", target=locked, after={"marks": marks})
    return changed


@transaction.atomic
def rsvps_withdraw_for_person(*, user: User) -> int:
    """When someone's account is erased: their answers to events still to come are withdrawn
    (their places go to the waiting list) and every note they left is emptied.  Returns how
    many answers were withdrawn."""
    now = timezone.now()
    upcoming = list(
        EventRsvp.objects.filter(
            member__user=user, status__in=[RsvpStatus.GOING, RsvpStatus.WAITING],
            event__starts_at__gt=now, event__cancelled_at__isnull=True,
        ).values_list("event_id", flat=True).distinct()
    )
    withdrawn = 0
    for event_id in sorted(upcoming):
        locked = Event.objects.select_for_update(of=("self",)).select_related("circle").get(pk=event_id)
        for rsvp in EventRsvp.objects.select_for_update().filter(
            event=locked, member__user=user, status__in=[RsvpStatus.GOING, RsvpStatus.WAITING],
        ):
            if rsvp.status == RsvpStatus.GOING:
                _give_back_places(locked.pk, rsvp.places)
            rsvp.status = RsvpStatus.NOT_GOING
            rsvp.save(update_fields=["status", "updated_at"])
            withdrawn += 1
        locked.refresh_from_db(fields=["places_taken"])
        _waiting_list_move_up(locked)
    EventRsvp.objects.filter(member__user=user).exclude(note="").update(note="")
    return withdrawn
