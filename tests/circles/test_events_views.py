"""The events pages as people see them: the calendar, an event and its answer form, past events,
your events, calendar downloads, and the coordinators' pages (add, change, cancel, who is
coming and its CSV, answering for a member, who came)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.core import mail

from localsocial.circles.models import ContactPreference, Event, EventRsvp, RsvpStatus
from localsocial.circles.services.events import rsvp_set
from localsocial.core.models import AuditEvent
from tests.circles.factories import CircleFactory, MemberFactory
from tests.circles.test_events_support import EventFactory, consenting_member, in_days
from tests.circles.test_help_support import coordinator_of
from tests.factories import UserFactory
from tests.helpers import CommittingClient, sign_in_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def circle():
    return CircleFactory(name="Southwark Circle", slug="southwark")


def client_for(user):  # type: ignore[no-untyped-def]
    return sign_in_verified(CommittingClient(), user)


def event_data(**overrides: str) -> dict[str, str]:
    day = (in_days(10)).date()
    data = {"title": "Quiz night", "kind": "social", "description": "Teams of four.", "date": day.isoformat(),
            "starts": "18:00", "ends": "20:00", "place_name": "The Ship", "place_address": "1 High Street",
            "postcode": "se1 7pb", "accessibility": "Step-free entrance", "places": "12", "cost": "2.50",
            "is_published": "on"}
    data.update(overrides)
    return data


# --- The calendar and an event -----------------------------------------------------------------

def test_anyone_sees_the_published_events_by_month_but_not_drafts(client, circle):
    EventFactory(circle=circle, title="Coffee morning", places=10, place_name="St Mary's Hall")
    EventFactory(circle=circle, title="Secret planning", is_published=False)
    EventFactory(circle=CircleFactory(), title="Another circle's walk")

    page = client.get("/circles/southwark/events/").content.decode()

    assert "Coffee morning" in page
    assert "St Mary&#39;s Hall" in page
    assert "10 places left" in page
    assert "Secret planning" not in page
    assert "Another circle&#39;s walk" not in page
    assert "you need to be a member" in page


def test_a_draft_event_is_not_found_by_anyone_but_a_coordinator(client, circle):
    event = EventFactory(circle=circle, is_published=False, title="Secret planning")

    assert client.get(f"/circles/southwark/events/{event.pk}/").status_code == 404
    page = client_for(coordinator_of(circle)).get(f"/circles/southwark/events/{event.pk}/").content.decode()
    assert "Draft: only coordinators can see it" in page


def test_an_event_of_another_circle_is_not_found_at_this_circles_address(client, circle):
    event = EventFactory(circle=CircleFactory())

    assert client.get(f"/circles/southwark/events/{event.pk}/").status_code == 404


def test_a_member_says_they_are_coming_and_sees_their_answer(circle):
    event = EventFactory(circle=circle, places=10)
    member = MemberFactory(circle=circle)
    browser = client_for(member.user)

    response = browser.post(f"/circles/southwark/events/{event.pk}/", {"status": "going", "places": "2", "note": ""})
    page = browser.get(response["Location"]).content.decode()

    assert response.status_code == 302
    assert "You&#39;re coming: 2 places saved for you." in page
    assert "Coming (2 places)" in page
    assert "8 places left" in page
    calendar = browser.get("/circles/southwark/events/").content.decode()
    assert "Coming (2 places)" in calendar


def test_a_full_event_puts_the_member_on_the_waiting_list_and_says_so(circle):
    event = EventFactory(circle=circle, places=1)
    rsvp_set(event=event, member=(first := MemberFactory(circle=circle)), actor=first.user, status="going")
    member = MemberFactory(circle=circle)

    response = client_for(member.user).post(f"/circles/southwark/events/{event.pk}/",
                                            {"status": "going", "places": "1"}, follow=True)

    page = response.content.decode()
    assert "The event is full, so you are on the waiting list." in page
    assert "On the waiting list" in page


def test_a_mistake_in_the_answer_is_shown_and_the_note_is_kept(circle):
    event = EventFactory(circle=circle)
    member = MemberFactory(circle=circle)

    response = client_for(member.user).post(f"/circles/southwark/events/{event.pk}/",
                                            {"status": "", "places": "1", "note": "I use a wheelchair"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "Choose whether you are coming" in page
    assert "I use a wheelchair" in page
    assert not EventRsvp.objects.exists()


def test_someone_who_is_not_a_member_cannot_answer(circle):
    event = EventFactory(circle=circle)
    outsider = MemberFactory()

    response = client_for(outsider.user).post(f"/circles/southwark/events/{event.pk}/",
                                              {"status": "going", "places": "1"}, follow=True)

    assert "Only members of Southwark Circle can answer." in response.content.decode()
    assert not EventRsvp.objects.exists()


def test_answering_needs_signing_in(client, circle):
    event = EventFactory(circle=circle)

    response = client.post(f"/circles/southwark/events/{event.pk}/", {"status": "going", "places": "1"})

    assert response.status_code == 302
    assert "sign-in" in response["Location"] or "login" in response["Location"]
    assert not EventRsvp.objects.exists()


def test_a_past_event_shows_answers_are_closed_and_is_in_past_events(client, circle):
    event = EventFactory(circle=circle, title="Summer picnic", starts_at=in_days(-5), ends_at=in_days(-5, 16))
    member = MemberFactory(circle=circle)

    page = client_for(member.user).get(f"/circles/southwark/events/{event.pk}/").content.decode()
    past = client.get("/circles/southwark/events/past/").content.decode()
    upcoming = client.get("/circles/southwark/events/").content.decode()

    assert "answers are closed" in page
    assert "Send my answer" not in page
    assert "Summer picnic" in past
    assert "Summer picnic" not in upcoming


def test_your_events_lists_what_you_are_coming_to(circle):
    event = EventFactory(circle=circle, title="Coffee morning")
    EventFactory(circle=circle, title="Quiz night")
    member = MemberFactory(circle=circle)
    rsvp_set(event=event, member=member, actor=member.user, status="going")

    page = client_for(member.user).get("/circles/events/").content.decode()

    assert "Coffee morning" in page
    assert "Quiz night" not in page


# --- Calendar downloads ------------------------------------------------------------------------

def test_an_event_downloads_as_icalendar_with_escaping_and_folding(client, circle):
    event = EventFactory(
        circle=circle, title="Tea, cake; and a talk", place_name="St Mary's Hall",
        starts_at=dt.datetime(2030, 6, 4, 13, 0, tzinfo=dt.UTC), ends_at=dt.datetime(2030, 6, 4, 15, 0, tzinfo=dt.UTC),
        description="Line one\nLine two " + "é" * 60,
    )

    response = client.get(f"/circles/southwark/events/{event.pk}/event.ics")

    body = response.content.decode()
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert body.endswith("END:VCALENDAR\r\n")
    assert "SUMMARY:Tea\\, cake\\; and a talk\r\n" in body
    assert "DTSTART:20300604T130000Z\r\n" in body
    assert "DTEND:20300604T150000Z\r\n" in body
    assert "STATUS:CONFIRMED" in body
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    unfolded = body.replace("\r\n ", "")
    assert "DESCRIPTION:Line one\\nLine two " + "é" * 60 in unfolded


def test_the_circles_feed_lists_published_events_and_marks_cancelled_ones(client, circle):
    EventFactory(circle=circle, title="Coffee morning")
    EventFactory(circle=circle, title="Quiz night", cancelled_at=in_days(-1), cancel_reason="Snow")
    EventFactory(circle=circle, title="Secret planning", is_published=False)

    body = client.get("/circles/southwark/events/calendar.ics").content.decode()

    assert body.count("BEGIN:VEVENT") == 2
    assert "SUMMARY:Coffee morning" in body
    assert "STATUS:CANCELLED" in body
    assert "Secret planning" not in body


# --- Coordinators --------------------------------------------------------------------------------

def test_a_coordinator_adds_an_event_and_it_is_on_the_calendar(circle):
    browser = client_for(coordinator_of(circle))

    response = browser.post("/circles/southwark/events/new/", event_data())

    assert response.status_code == 302
    event = Event.objects.get()
    assert (event.places, event.cost_pence, event.postcode) == (12, 250, "SE1 7PB")
    page = browser.get("/circles/southwark/events/").content.decode()
    assert "Quiz night" in page
    assert "£2.50" in page


def test_the_add_event_form_sent_twice_adds_one_event(circle):
    # Given the add-event form as a coordinator sees it, with its key
    browser = client_for(coordinator_of(circle))
    form = browser.get("/circles/southwark/events/new/").content.decode()
    key = re.search(r'name="key" value="([0-9a-f]{32})"', form).group(1)

    # When it is sent twice (a double click, or "resend" after a lost connection)
    first = browser.post("/circles/southwark/events/new/", {**event_data(), "key": key})
    second = browser.post("/circles/southwark/events/new/", {**event_data(), "key": key})

    # Then there is one event, and both answers lead to it
    event = Event.objects.get()
    assert first["Location"] == second["Location"]
    assert str(event.pk) in first["Location"]


def test_a_mistake_in_the_event_form_is_shown_and_nothing_typed_is_lost(circle):
    browser = client_for(coordinator_of(circle))

    response = browser.post("/circles/southwark/events/new/", event_data(ends="17:00"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Error: Add an event" in page
    assert "The event must end after it starts" in page
    assert "Teams of four." in page
    assert "Step-free entrance" in page
    assert not Event.objects.exists()


@pytest.mark.parametrize("page", ["new", "edit", "cancel", "people", "people.csv", "answer-for", "attendance"])
def test_a_coordinator_of_another_circle_cannot_use_the_coordinators_pages(circle, page):
    event = EventFactory(circle=circle)
    other = coordinator_of(CircleFactory())
    url = "/circles/southwark/events/new/" if page == "new" else f"/circles/southwark/events/{event.pk}/{page}"
    if not url.endswith((".csv", "/")):
        url += "/"

    assert client_for(other).get(url).status_code == 403
    assert client_for(MemberFactory(circle=circle).user).get(url).status_code == 403


def test_a_coordinator_cannot_reach_another_circles_event_through_their_own_circle(circle):
    coordinator = coordinator_of(circle)
    elsewhere = EventFactory(circle=CircleFactory())

    assert client_for(coordinator).get(f"/circles/southwark/events/{elsewhere.pk}/people/").status_code == 404


def test_a_coordinator_changes_the_places_and_the_waiting_list_moves_up(circle):
    event = EventFactory(circle=circle, places=1, title="Quiz night", starts_at=in_days(10, 18),
                         ends_at=in_days(10, 20))
    first, second = MemberFactory(circle=circle), MemberFactory(circle=circle, display_name="Bea")
    rsvp_set(event=event, member=first, actor=first.user, status="going")
    rsvp_set(event=event, member=second, actor=second.user, status="going")
    browser = client_for(coordinator_of(circle))

    form = browser.get(f"/circles/southwark/events/{event.pk}/edit/").content.decode()
    response = browser.post(f"/circles/southwark/events/{event.pk}/edit/", event_data(places="2"))

    assert 'value="Quiz night"' in form
    assert response.status_code == 302
    assert EventRsvp.objects.get(member=second).status == RsvpStatus.GOING
    assert [m.to for m in mail.outbox] == [[second.user.email]]


def test_a_coordinator_cancels_an_event_and_sees_who_to_phone(circle):
    event = EventFactory(circle=circle, title="Quiz night")
    emailed = MemberFactory(circle=circle, display_name="Asha", contact_preference=ContactPreference.EMAIL)
    phoned = MemberFactory(circle=circle, display_name="Bea", phone="020 7946 0123",
                           user=UserFactory(email="bea@phone-only.invalid"))
    for member in (emailed, phoned):
        rsvp_set(event=event, member=member, actor=member.user, status="going")
    browser = client_for(coordinator_of(circle))

    response = browser.post(f"/circles/southwark/events/{event.pk}/cancel/", {"reason": "The hall is flooded"},
                            follow=True)

    page = response.content.decode()
    assert "The event is cancelled. 1 member was emailed." in page
    assert "Tell by phone" in page
    assert "Bea: 020 7946 0123" in page
    assert [m.to for m in mail.outbox] == [[emailed.user.email]]
    public = browser.get(f"/circles/southwark/events/{event.pk}/").content.decode()
    assert "This event is cancelled: The hall is flooded" in public


def test_cancelling_without_a_reason_shows_an_error(circle):
    event = EventFactory(circle=circle)

    response = client_for(coordinator_of(circle)).post(f"/circles/southwark/events/{event.pk}/cancel/", {"reason": ""})

    assert "Say why the event is cancelled" in response.content.decode()
    assert Event.objects.get(pk=event.pk).cancelled_at is None


def test_the_people_page_shows_who_is_coming_waiting_with_phone_and_access_needs(circle):
    event = EventFactory(circle=circle, places=1)
    asha = MemberFactory(circle=circle, display_name="Asha", accessibility_needs="Uses a wheelchair",
                         phone="020 7946 0001")
    bea = MemberFactory(circle=circle, display_name="Bea")
    rsvp_set(event=event, member=asha, actor=asha.user, status="going", note="Bringing my carer")
    rsvp_set(event=event, member=bea, actor=bea.user, status="going")

    page = client_for(coordinator_of(circle)).get(f"/circles/southwark/events/{event.pk}/people/").content.decode()

    going_part, waiting_part = page.split('id="going"')[1].split('id="waiting"')
    assert "Asha" in going_part
    assert "Uses a wheelchair" in going_part
    assert "020 7946 0001" in going_part
    assert "Bringing my carer" in going_part
    assert "Bea" in waiting_part


def test_the_people_csv_is_safe_to_open_in_a_spreadsheet(circle):
    event = EventFactory(circle=circle)
    member = MemberFactory(circle=circle, display_name="=HYPERLINK(\"http://evil\")", phone="+44 20 7946 0000")
    rsvp_set(event=event, member=member, actor=member.user, status="going", places=2, note="@SUM(1)")

    response = client_for(coordinator_of(circle)).get(f"/circles/southwark/events/{event.pk}/people.csv")

    rows = list(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff"))))
    assert rows[0][:3] == ["answer", "name", "places"]
    assert rows[1][0] == "going"
    assert rows[1][1] == "'=HYPERLINK(\"http://evil\")"
    assert rows[1][2] == "2"
    assert rows[1][3] == "'+44 20 7946 0000"
    assert rows[1][6] == "'@SUM(1)"


def test_a_coordinator_finds_a_member_and_answers_for_them_on_the_phone(circle):
    event = EventFactory(circle=circle)
    coordinator = coordinator_of(circle)
    member = consenting_member(circle=circle, display_name="Mrs Okafor")
    MemberFactory(circle=circle, display_name="Mr Smith")
    browser = client_for(coordinator)

    found = browser.get(f"/circles/southwark/events/{event.pk}/answer-for/", {"q": "okafor"}).content.decode()
    response = browser.post(f"/circles/southwark/events/{event.pk}/answer-for/{member.pk}/",
                            {"status": "going", "places": "2", "note": "Needs a lift"}, follow=True)

    assert "Mrs Okafor" in found
    assert "Mr Smith" not in found
    page = response.content.decode()
    assert "Mrs Okafor is coming: 2 places saved." in page
    assert "Answered by phone, entered by" in page
    rsvp = EventRsvp.objects.get()
    assert rsvp.entered_by == coordinator
    assert AuditEvent.objects.get(action="circles.rsvp_set").on_behalf_of == member.user


def test_a_coordinator_cannot_answer_for_a_member_of_another_circle(circle):
    event = EventFactory(circle=circle)
    outsider = consenting_member()

    response = client_for(coordinator_of(circle)).post(
        f"/circles/southwark/events/{event.pk}/answer-for/{outsider.pk}/", {"status": "going", "places": "1"})

    assert response.status_code == 404
    assert not EventRsvp.objects.exists()


def test_a_coordinator_records_who_came(circle):
    event = EventFactory(circle=circle)
    asha, bea = MemberFactory(circle=circle, display_name="Asha"), MemberFactory(circle=circle, display_name="Bea")
    a = rsvp_set(event=event, member=asha, actor=asha.user, status="going")
    b = rsvp_set(event=event, member=bea, actor=bea.user, status="going")
    Event.objects.filter(pk=event.pk).update(starts_at=in_days(-1, 10), ends_at=in_days(-1, 12))
    browser = client_for(coordinator_of(circle))

    form = browser.get(f"/circles/southwark/events/{event.pk}/attendance/").content.decode()
    response = browser.post(f"/circles/southwark/events/{event.pk}/attendance/",
                            {f"attended-{a.pk}": "yes", f"attended-{b.pk}": "no"}, follow=True)

    assert "Asha" in form
    assert "Came" in form
    assert "Attendance is saved" in response.content.decode()
    assert dict(EventRsvp.objects.values_list("member__display_name", "attended")) == {"Asha": True, "Bea": False}


# --- Fixed number of queries ---------------------------------------------------------------------

@pytest.mark.parametrize("page", ["calendar", "event", "people", "mine", "past", "feed", "csv"])
def test_the_pages_take_the_same_queries_for_few_or_many(circle, page, django_assert_max_num_queries):
    coordinator = coordinator_of(circle)
    member = MemberFactory(circle=circle)
    target = EventFactory(circle=circle, places=None)

    def make(count: int) -> None:
        for _i in range(count):
            event = EventFactory(circle=circle, starts_at=in_days(3 + _i * 11), ends_at=in_days(3 + _i * 11, 16))
            rsvp_set(event=event, member=member, actor=member.user, status="going")
            other = MemberFactory(circle=circle)
            rsvp_set(event=target, member=other, actor=other.user, status="going")
            EventFactory(circle=circle, starts_at=in_days(-3 - _i), ends_at=in_days(-3 - _i, 16))

    user = member.user if page in ("calendar", "event", "mine", "past") else coordinator
    url = {
        "calendar": "/circles/southwark/events/", "event": f"/circles/southwark/events/{target.pk}/",
        "people": f"/circles/southwark/events/{target.pk}/people/", "mine": "/circles/events/",
        "past": "/circles/southwark/events/past/", "feed": "/circles/southwark/events/calendar.ics",
        "csv": f"/circles/southwark/events/{target.pk}/people.csv",
    }[page]
    browser = client_for(user)
    make(2)
    with django_assert_max_num_queries(30) as few:
        assert browser.get(url).status_code == 200
    make(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert browser.get(url).status_code == 200
