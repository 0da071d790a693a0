"""Events services: creating and changing events, answers and places, the waiting list,
cancelling, attendance, who may do what, and erasing a person's answers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from localsocial.circles.models import ContactPreference, Event, EventRsvp, MemberStatus, RsvpStatus
from localsocial.circles.personal_data import circles_erase, circles_export
from localsocial.circles.services.events import (
    EventDetails,
    attendance_mark,
    event_cancel,
    event_create,
    event_update,
    rsvp_set,
)
from localsocial.core.models import AuditEvent
from tests.circles.factories import CircleFactory, MemberFactory
from tests.circles.test_events_support import EventFactory, consenting_member, in_days
from tests.circles.test_help_support import coordinator_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def details(**overrides: object) -> EventDetails:
    fields: dict[str, object] = {
        "title": "Coffee morning", "starts_at": in_days(7, 10), "ends_at": in_days(7, 12),
        "place_name": "St Mary's Church Hall", "places": 20,
    }
    fields.update(overrides)
    return EventDetails(**fields)  # type: ignore[arg-type]


def going(event: Event, member, places: int = 1) -> EventRsvp:  # type: ignore[no-untyped-def]
    return rsvp_set(event=event, member=member, actor=member.user, status=RsvpStatus.GOING, places=places)


def not_going(event: Event, member) -> EventRsvp:  # type: ignore[no-untyped-def]
    return rsvp_set(event=event, member=member, actor=member.user, status=RsvpStatus.NOT_GOING)


def taken(event: Event) -> int:
    return Event.objects.values_list("places_taken", flat=True).get(pk=event.pk)


# --- Creating and changing events ------------------------------------------------------------

def test_a_coordinator_adds_an_event_and_it_is_audited():
    circle = CircleFactory()
    coordinator = coordinator_of(circle)

    event = event_create(circle=circle, actor=coordinator, details=details(title="  Coffee   morning "))

    assert event.title == "Coffee morning"
    assert event.places == 20
    assert event.places_taken == 0
    assert AuditEvent.objects.get(action="circles.event_create").actor == coordinator


def test_a_coordinator_of_another_circle_cannot_add_an_event():
    circle = CircleFactory()
    other = coordinator_of(CircleFactory())

    with pytest.raises(PermissionDenied):
        event_create(circle=circle, actor=other, details=details())

    assert not Event.objects.exists()


def test_a_member_cannot_add_an_event():
    member = MemberFactory()

    with pytest.raises(PermissionDenied):
        event_create(circle=member.circle, actor=member.user, details=details())


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"title": " "}, "title", "Enter the event's title"),
    ({"place_name": ""}, "place_name", "Enter where the event is"),
    ({"ends_at": in_days(7, 9)}, "ends_at", "The event must end after it starts"),
    ({"starts_at": in_days(-1, 10), "ends_at": in_days(-1, 12)}, "starts_at", "The event must start in the future"),
    ({"places": 0}, "places", "Enter at least 1 place, or leave it empty if anyone can come"),
])
def test_an_event_with_bad_details_is_refused_with_the_reason(overrides, field, message):
    circle = CircleFactory()

    with pytest.raises(ValidationError) as error:
        event_create(circle=circle, actor=coordinator_of(circle), details=details(**overrides))

    assert error.value.message_dict[field] == [message]
    assert not Event.objects.exists()


def test_places_cannot_go_below_the_places_already_taken():
    event = EventFactory(places=5)
    going(event, MemberFactory(circle=event.circle), places=3)

    with pytest.raises(ValidationError) as error:
        event_update(event=event, actor=coordinator_of(event.circle), details=details(places=2))

    assert error.value.message_dict["places"] == ["3 places are already taken: enter 3 or more"]
    assert Event.objects.get(pk=event.pk).places == 5


@pytest.mark.parametrize("today", [
    # In summer the form's London times and the database's UTC ones read differently
    pytest.param("winter", marks=pytest.mark.clock("2026-01-15 09:00:00")),
    pytest.param("summer", marks=pytest.mark.clock("2026-07-15 09:00:00")),
])
def test_saving_the_same_details_again_changes_nothing(today):
    circle = CircleFactory()
    coordinator = coordinator_of(circle)
    event = event_create(circle=circle, actor=coordinator, details=details())

    event_update(event=event, actor=coordinator, details=details())

    assert not AuditEvent.objects.filter(action="circles.event_update").exists()


def test_a_past_event_can_still_be_corrected_without_moving_it():
    event = EventFactory(starts_at=in_days(-2, 10), ends_at=in_days(-2, 12))
    coordinator = coordinator_of(event.circle)

    event_update(event=event, actor=coordinator, details=details(
        title="Coffee morning (corrected)", starts_at=event.starts_at, ends_at=event.ends_at))

    assert Event.objects.get(pk=event.pk).title == "Coffee morning (corrected)"


# --- Answers and places ----------------------------------------------------------------------

def test_a_member_says_they_are_coming_and_takes_their_places():
    event = EventFactory(places=10)
    member = MemberFactory(circle=event.circle)

    rsvp = going(event, member, places=2)

    assert rsvp.status == RsvpStatus.GOING
    assert taken(event) == 2
    record = AuditEvent.objects.get(action="circles.rsvp_set")
    assert record.actor == member.user
    assert record.on_behalf_of is None


def test_answering_coming_twice_changes_nothing():
    event = EventFactory(places=10)
    member = MemberFactory(circle=event.circle)

    going(event, member, places=2)
    going(event, member, places=2)

    assert taken(event) == 2
    assert EventRsvp.objects.count() == 1
    assert AuditEvent.objects.filter(action="circles.rsvp_set").count() == 1


def test_when_the_event_is_full_the_answer_goes_on_the_waiting_list():
    event = EventFactory(places=2)
    first, second = MemberFactory(circle=event.circle), MemberFactory(circle=event.circle)

    going(event, first, places=2)
    rsvp = going(event, second)

    assert rsvp.status == RsvpStatus.WAITING
    assert taken(event) == 2


def test_an_event_with_no_limit_never_fills():
    event = EventFactory(places=None)

    answers = [going(event, MemberFactory(circle=event.circle), places=4) for _i in range(5)]

    assert {a.status for a in answers} == {RsvpStatus.GOING}
    assert taken(event) == 20


def test_someone_who_cannot_come_after_all_gives_their_place_to_the_first_waiting(django_capture_on_commit_callbacks):
    event = EventFactory(places=1)
    asha, bea, cy = (MemberFactory(circle=event.circle, display_name=n) for n in ("Asha", "Bea", "Cy"))
    going(event, asha)
    going(event, bea)
    going(event, cy)

    with django_capture_on_commit_callbacks(execute=True):
        not_going(event, asha)

    statuses = dict(EventRsvp.objects.values_list("member__display_name", "status"))
    assert statuses == {"Asha": RsvpStatus.NOT_GOING, "Bea": RsvpStatus.GOING, "Cy": RsvpStatus.WAITING}
    assert taken(event) == 1
    assert [m.to for m in mail.outbox] == [[bea.user.email]]
    assert "a place has come free" in mail.outbox[0].body.lower()


def test_coordinators_are_asked_to_phone_a_member_without_email_who_moved_up(django_capture_on_commit_callbacks):
    # Given a full event and, first on the waiting list, a member who joined by phone (no email)
    event = EventFactory(places=1, title="Tea dance")
    coordinator = coordinator_of(event.circle)
    asha = MemberFactory(circle=event.circle, display_name="Asha")
    doreen = MemberFactory(circle=event.circle, display_name="Doreen",
                           user=UserFactory(email="member-9@phone.invalid"))
    going(event, asha)
    going(event, doreen)

    # When Asha cannot come after all
    with django_capture_on_commit_callbacks(execute=True):
        not_going(event, asha)

    # Then Doreen has the place, and the coordinators (not her placeholder address) are asked to
    # phone her, with a link to the list and no name in the email
    assert EventRsvp.objects.get(member=doreen).status == RsvpStatus.GOING
    (message,) = mail.outbox
    assert message.to == [coordinator.email]
    assert "Tea dance" in message.subject
    assert "please phone them" in message.body
    assert f"/events/{event.pk}/people/" in message.body
    assert "Doreen" not in message.body


def test_the_waiting_list_skips_someone_whose_places_do_not_fit_and_keeps_their_turn():
    event = EventFactory(places=2)
    asha, bea, cy = (MemberFactory(circle=event.circle, display_name=n) for n in ("Asha", "Bea", "Cy"))
    going(event, asha, places=2)
    going(event, bea, places=3)  # waiting first, but needs three places
    going(event, cy, places=1)

    not_going(event, asha)

    statuses = dict(EventRsvp.objects.values_list("member__display_name", "status"))
    assert statuses["Bea"] == RsvpStatus.WAITING
    assert statuses["Cy"] == RsvpStatus.GOING
    assert taken(event) == 1


def test_adding_places_moves_the_waiting_list_up_oldest_first():
    event = EventFactory(places=1)
    coordinator = coordinator_of(event.circle)
    asha, bea, cy = (MemberFactory(circle=event.circle, display_name=n) for n in ("Asha", "Bea", "Cy"))
    for member in (asha, bea, cy):
        going(event, member)

    event_update(event=event, actor=coordinator, details=details(
        starts_at=event.starts_at, ends_at=event.ends_at, places=2))

    statuses = dict(EventRsvp.objects.values_list("member__display_name", "status"))
    assert statuses == {"Asha": RsvpStatus.GOING, "Bea": RsvpStatus.GOING, "Cy": RsvpStatus.WAITING}
    assert taken(event) == 2


def test_rejoining_the_waiting_list_goes_to_the_back():
    event = EventFactory(places=1)
    asha, bea, cy = (MemberFactory(circle=event.circle, display_name=n) for n in ("Asha", "Bea", "Cy"))
    going(event, asha)
    going(event, bea)
    going(event, cy)
    not_going(event, bea)
    going(event, bea)  # waiting again, now after Cy

    not_going(event, asha)

    statuses = dict(EventRsvp.objects.values_list("member__display_name", "status"))
    assert statuses["Cy"] == RsvpStatus.GOING
    assert statuses["Bea"] == RsvpStatus.WAITING


def test_asking_for_more_places_than_are_free_is_refused_and_keeps_the_places_held():
    event = EventFactory(places=3)
    asha, bea = MemberFactory(circle=event.circle), MemberFactory(circle=event.circle)
    going(event, asha, places=2)
    going(event, bea)

    with pytest.raises(ValidationError) as error:
        going(event, asha, places=4)

    assert error.value.message_dict["places"] == ["Only 0 more places are free. Choose fewer places."]
    assert EventRsvp.objects.get(member=asha).places == 2
    assert taken(event) == 3


def test_asking_for_fewer_places_gives_the_rest_back():
    event = EventFactory(places=3)
    asha, bea = MemberFactory(circle=event.circle), MemberFactory(circle=event.circle)
    going(event, asha, places=3)
    going(event, bea)

    going(event, asha, places=2)

    assert EventRsvp.objects.get(member=bea).status == RsvpStatus.GOING
    assert taken(event) == 3


@pytest.mark.parametrize("places", [0, 5])
def test_places_per_answer_are_one_to_four(places):
    event = EventFactory()
    member = MemberFactory(circle=event.circle)

    with pytest.raises(ValidationError) as error:
        going(event, member, places=places)

    assert error.value.message_dict["places"] == ["Choose from 1 to 4 places"]
    assert taken(event) == 0


# --- Who may answer, and when ------------------------------------------------------------------

def test_a_member_of_another_circle_cannot_answer():
    event = EventFactory()
    outsider = MemberFactory()

    with pytest.raises(ValidationError) as error:
        going(event, outsider)

    assert f"Only members of {event.circle.name} can answer for this event." in error.value.messages
    assert not EventRsvp.objects.exists()


def test_a_member_who_has_left_cannot_answer():
    event = EventFactory()
    member = MemberFactory(circle=event.circle, status=MemberStatus.LAPSED)

    with pytest.raises(ValidationError) as error:
        going(event, member)

    assert error.value.messages == ["Only an active member can answer for an event."]


def test_someone_cannot_answer_for_another_member():
    event = EventFactory()
    member = MemberFactory(circle=event.circle)
    busybody = MemberFactory(circle=event.circle)

    with pytest.raises(PermissionDenied):
        rsvp_set(event=event, member=member, actor=busybody.user, status=RsvpStatus.GOING)


def test_a_coordinator_of_another_circle_cannot_answer_for_a_member():
    event = EventFactory()
    member = consenting_member(circle=event.circle)

    with pytest.raises(PermissionDenied):
        rsvp_set(event=event, member=member, actor=coordinator_of(CircleFactory()), status=RsvpStatus.GOING)


def test_a_coordinator_answers_for_a_member_on_the_phone_and_it_is_recorded_as_assisted():
    event = EventFactory()
    coordinator = coordinator_of(event.circle)
    member = consenting_member(circle=event.circle)

    rsvp = rsvp_set(event=event, member=member, actor=coordinator, status=RsvpStatus.GOING, places=2,
                    note="Needs a lift")

    assert rsvp.entered_by == coordinator
    assert rsvp.note == "Needs a lift"
    record = AuditEvent.objects.get(action="circles.rsvp_set")
    assert record.actor == coordinator
    assert record.on_behalf_of == member.user


def test_a_coordinator_needs_the_members_consent_to_answer_for_them():
    event = EventFactory()
    member = MemberFactory(circle=event.circle)

    with pytest.raises(ValidationError):
        rsvp_set(event=event, member=member, actor=coordinator_of(event.circle), status=RsvpStatus.GOING)

    assert not EventRsvp.objects.exists()


@pytest.mark.parametrize(("event_fields", "message"), [
    ({"starts_at": in_days(-3), "ends_at": in_days(-3) + dt.timedelta(hours=2)},
     "This event has already started, so answers are closed."),
    ({"cancelled_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "cancel_reason": "Hall flooded"},
     "This event is cancelled, so answers are closed."),
    ({"is_published": False}, "This event is not open for answers yet."),
])
def test_answers_are_refused_with_a_clear_message(event_fields, message):
    event = EventFactory(**event_fields)
    member = MemberFactory(circle=event.circle)

    with pytest.raises(ValidationError) as error:
        going(event, member)

    assert error.value.messages == [message]
    assert taken(event) == 0


# --- Cancelling ----------------------------------------------------------------------------------

def test_cancelling_emails_those_coming_or_waiting_and_lists_who_to_phone(django_capture_on_commit_callbacks):
    event = EventFactory(places=1, title="Quiz night")
    coordinator = coordinator_of(event.circle)
    emailer = MemberFactory(circle=event.circle, display_name="Asha", contact_preference=ContactPreference.EMAIL)
    by_phone = MemberFactory(circle=event.circle, display_name="Bea",
                             user=UserFactory(email="bea-123@phone-only.invalid"))
    not_coming = MemberFactory(circle=event.circle, display_name="Cy")
    going(event, emailer)
    going(event, by_phone)  # waiting
    not_going(event, not_coming)

    with django_capture_on_commit_callbacks(execute=True):
        result = event_cancel(event=event, actor=coordinator, reason="The hall is flooded")

    assert [m.to for m in mail.outbox] == [[emailer.user.email]]
    assert mail.outbox[0].subject == "Cancelled: Quiz night"
    assert "The hall is flooded" in mail.outbox[0].body
    assert [m.display_name for m in result.to_phone] == ["Bea"]
    assert Event.objects.get(pk=event.pk).cancel_reason == "The hall is flooded"


def test_cancelling_twice_is_harmless_and_emails_once(django_capture_on_commit_callbacks):
    event = EventFactory()
    coordinator = coordinator_of(event.circle)
    going(event, MemberFactory(circle=event.circle, contact_preference=ContactPreference.EMAIL))

    with django_capture_on_commit_callbacks(execute=True):
        event_cancel(event=event, actor=coordinator, reason="Snow")
        second = event_cancel(event=event, actor=coordinator, reason="Snow")

    assert second.already_cancelled
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(action="circles.event_cancel").count() == 1


def test_cancelling_needs_a_reason_and_a_coordinator_of_the_circle():
    event = EventFactory()

    with pytest.raises(ValidationError):
        event_cancel(event=event, actor=coordinator_of(event.circle), reason=" ")
    with pytest.raises(PermissionDenied):
        event_cancel(event=event, actor=coordinator_of(CircleFactory()), reason="Snow")

    assert Event.objects.get(pk=event.pk).cancelled_at is None


# --- Attendance ----------------------------------------------------------------------------------

def test_a_coordinator_marks_who_came_after_the_event():
    event = EventFactory(places=5)
    coordinator = coordinator_of(event.circle)
    came, stayed_home = MemberFactory(circle=event.circle), MemberFactory(circle=event.circle)
    a, b = going(event, came), going(event, stayed_home)
    Event.objects.filter(pk=event.pk).update(starts_at=in_days(-1, 10), ends_at=in_days(-1, 12))
    event.refresh_from_db()

    changed = attendance_mark(event=event, actor=coordinator, attended={a.pk: True, b.pk: False})
    again = attendance_mark(event=event, actor=coordinator, attended={a.pk: True, b.pk: False})

    assert (changed, again) == (2, 0)
    assert dict(EventRsvp.objects.values_list("pk", "attended")) == {a.pk: True, b.pk: False}


def test_attendance_cannot_be_marked_before_the_event_nor_by_another_circles_coordinator():
    event = EventFactory()
    rsvp = going(event, MemberFactory(circle=event.circle))

    with pytest.raises(ValidationError):
        attendance_mark(event=event, actor=coordinator_of(event.circle), attended={rsvp.pk: True})
    with pytest.raises(PermissionDenied):
        attendance_mark(event=event, actor=coordinator_of(CircleFactory()), attended={rsvp.pk: True})

    assert EventRsvp.objects.get(pk=rsvp.pk).attended is None


# --- Personal data -----------------------------------------------------------------------------

def test_a_members_answers_are_in_their_data_export():
    event = EventFactory(title="Quiz night")
    member = MemberFactory(circle=event.circle)
    rsvp_set(event=event, member=member, actor=member.user, status=RsvpStatus.GOING, places=2, note="With my son")

    export = circles_export(member.user)

    [answer] = export["memberships"][0]["event_answers"]
    assert answer["event"] == "Quiz night"
    assert (answer["answer"], answer["places"], answer["note"]) == ("going", 2, "With my son")


def test_erasing_a_person_gives_their_places_to_the_waiting_list_and_empties_their_notes():
    event = EventFactory(places=1)
    leaving = MemberFactory(circle=event.circle)
    waiting = MemberFactory(circle=event.circle)
    rsvp_set(event=event, member=leaving, actor=leaving.user, status=RsvpStatus.GOING, note="My address is …")
    going(event, waiting)

    circles_erase(leaving.user)

    assert EventRsvp.objects.get(member=leaving).status == RsvpStatus.NOT_GOING
    assert EventRsvp.objects.get(member=leaving).note == ""
    assert EventRsvp.objects.get(member=waiting).status == RsvpStatus.GOING
    assert taken(event) == 1

