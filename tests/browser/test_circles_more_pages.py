"""The newer circles pages (events, referrals, wellbeing check-ins, reports, coordinators and a
new circle) pass axe for the people who see them, with each form also shown with its errors;
and the main journeys work with JavaScript turned off."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from localsocial.accounts.models import SiteRole
from localsocial.circles.models import (
    CircleCoordinator,
    CirclePartner,
    Event,
    EventRsvp,
    HelpCategory,
    Member,
    Referral,
    ReferralDirection,
    ReferralStatus,
    RsvpStatus,
    WellbeingCheckIn,
)
from localsocial.circles.services.events import event_cancel
from localsocial.circles.services.referrals import (
    ReferredPerson,
    referral_in_create,
    referral_out_create,
)
from localsocial.circles.services.reports import savings_proxy_set
from localsocial.directory.models import StaffRole
from tests.circles.factories import CircleFactory, CoordinatorFactory, MemberFactory
from tests.circles.test_events_support import EventFactory, in_days
from tests.factories import MembershipFactory, OrganisationFactory, RoleGrantFactory, UserFactory
from tests.helpers import sign_in_verified

pytestmark = pytest.mark.django_db(transaction=True)

SLUG = "/circles/southwark"
COORDINATE = f"{SLUG}/coordinate"
# Answers to the three questions that add up to each score (lack companionship, left out, isolated).
BY_SCORE = {4: (2, 1, 1), 6: (2, 2, 2), 7: (3, 2, 2)}


def checkin(member: Member, score: int, days_ago: int) -> WellbeingCheckIn:
    lack, left_out, isolated = BY_SCORE[score]
    return WellbeingCheckIn.objects.create(
        circle=member.circle, member=member, taken_on=timezone.localdate() - dt.timedelta(days=days_ago),
        lack_companionship=lack, left_out=left_out, isolated=isolated, score=score,
    )


@pytest.fixture
def world():
    """A circle with two coordinators, a partner GP practice and its staff, a site administrator,
    members (one who said yes to check-ins, one who has not said yet), events to come, past and
    cancelled, referrals in and out, and a value for the savings estimate."""
    circle = CircleFactory(name="Southwark Circle", slug="southwark")
    coordinator = CoordinatorFactory(circle=circle, user=UserFactory(display_name="Carol Coordinator")).user
    second = CoordinatorFactory(circle=circle, user=UserFactory(display_name="Dev Patel"))
    admin = UserFactory(display_name="Ada Admin")
    RoleGrantFactory(user=admin, role=SiteRole.SITE_ADMIN)
    practice = OrganisationFactory(name="Borough GP Practice")
    CirclePartner.objects.create(circle=circle, organisation=practice)
    staff = MembershipFactory(organisation=practice, role=StaffRole.MEMBER,
                              user=UserFactory(display_name="Sam Surgery")).user

    member = MemberFactory(circle=circle, display_name="Ada Lovelace", consent_given_at=timezone.now())
    answering = MemberFactory(circle=circle, display_name="Bea Baker", wellbeing_opt_in=True,
                              consent_given_at=timezone.now())
    checkin(answering, 7, days_ago=120)
    checkin(answering, 4, days_ago=30)

    quiz = EventFactory(circle=circle, title="Quiz night", places=12, places_taken=1, cost_pence=250,
                        accessibility="Step-free entrance and a hearing loop")
    EventRsvp.objects.create(event=quiz, member=member, status=RsvpStatus.GOING, places=1, note="I need a lift")
    garden = EventFactory(circle=circle, title="Garden party", starts_at=in_days(14), places=None)
    past = EventFactory(circle=circle, title="Summer walk", starts_at=in_days(-5), places=10, places_taken=1)
    EventRsvp.objects.create(event=past, member=answering, status=RsvpStatus.GOING, places=1)
    boat = EventFactory(circle=circle, title="Boat trip", starts_at=in_days(21), places=8, places_taken=1)
    EventRsvp.objects.create(event=boat, member=answering, status=RsvpStatus.GOING, places=1)
    event_cancel(event=boat, actor=coordinator, reason="The boat needs repairs")

    # The person referred in had already joined: the coordinator's referral page offers to link them.
    MemberFactory(circle=circle, display_name="Grace Hopper")
    referral_in, _ = referral_in_create(
        circle=circle, partner=practice, actor=staff, consent=True, idempotency_key="in-1",
        person=ReferredPerson(name="Grace Hopper", phone="020 7946 0123", reason="Lives alone and would like company"),
    )
    referral_out, _ = referral_out_create(
        member=member, partner=practice, actor=coordinator, reason="Would like a check on her medicines",
        phone="020 7946 0000", consent=True, idempotency_key="out-1",
    )
    savings_proxy_set(circle=circle, actor=coordinator, category=HelpCategory.GARDEN, basis="hour", value_pence=2000,
                      attribution_percent=50, source="An example value for these tests")
    return {
        "circle": circle, "coordinator": coordinator, "second": second, "admin": admin, "practice": practice,
        "staff": staff, "member": member, "answering": answering, "quiz": quiz, "garden": garden, "past": past,
        "boat": boat, "referral_in": referral_in, "referral_out": referral_out,
    }


@pytest.fixture
def browser_for(chromium_browser, live_server):
    """Open a browser, signed in with a test client's session or not, with JavaScript or
    without; every one is closed before the live server stops (an open page keeps a
    connection, and its thread, alive)."""
    contexts = []

    def open_context(client: Client | None, *, javascript: bool = True):
        context = chromium_browser.new_context(base_url=live_server.url, locale="en-GB",
                                               java_script_enabled=javascript)
        context.set_default_timeout(15_000)
        cookies = [{"name": "ls_cookies_seen", "value": "1", "url": live_server.url}]
        if client is not None:
            cookies.append({"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url})
        context.add_cookies(cookies)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def verified(user) -> Client:
    """Signed in with two-step verification done, as staff pages need."""
    return sign_in_verified(Client(), user)


def visit_all(page, assert_accessible, paths, status: int = 200) -> None:
    for path in paths:
        response = page.goto(path)
        assert response is not None
        assert response.status == status, path
        assert_accessible(page)


def with_errors(page, assert_accessible, path: str, button: str, error: str, *, unchoose: str = "") -> None:
    """Open ``path``, send the form under ``button`` as it is (with the radios named ``unchoose``
    unchosen: one is chosen already), and check the page with its error summary and the
    expected message."""
    page.goto(path)
    if unchoose:
        page.eval_on_selector_all(f"input[name={unchoose}]", "radios => radios.forEach(r => { r.checked = false; })")
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("There is a problem")
    expect(page.locator(".govuk-error-summary")).to_contain_text(error)
    assert page.title().startswith("Error: ")
    assert_accessible(page)


# --- axe: every page, as the person who sees it ---------------------------------------------

def test_public_event_pages_pass_axe(browser_for, assert_accessible, world):
    page = browser_for(None).new_page()
    visit_all(page, assert_accessible, [
        f"{SLUG}/events/", f"{SLUG}/events/past/", f"{SLUG}/events/{world['quiz'].pk}/",
        f"{SLUG}/events/{world['boat'].pk}/", f"{SLUG}/events/{world['past'].pk}/",
    ])
    expect(page.get_by_text("This event has started or is over, so answers are closed.")).to_be_visible()
    page.goto(f"{SLUG}/events/{world['boat'].pk}/")
    expect(page.get_by_text("This event is cancelled: The boat needs repairs")).to_be_visible()


def test_member_pages_pass_axe_with_their_forms_and_errors(browser_for, assert_accessible, world):
    page = browser_for(signed_in(world["member"].user)).new_page()
    visit_all(page, assert_accessible, [f"{SLUG}/events/", "/circles/events/", f"{SLUG}/events/{world['quiz'].pk}/"])
    # The answer form, empty, for an event the member has not answered yet
    with_errors(page, assert_accessible, f"{SLUG}/events/{world['garden'].pk}/", "Send my answer",
                "Choose whether you are coming")
    # Yes or no to check-ins, then the three questions
    with_errors(page, assert_accessible, f"{SLUG}/wellbeing/", "Save this choice", "Choose yes or no",
                unchoose="opt_in")
    page.get_by_label("Yes", exact=True).check()
    page.get_by_role("button", name="Save this choice").click()
    expect(page.get_by_text("How often do you feel left out?")).to_be_visible()
    assert_accessible(page)
    with_errors(page, assert_accessible, f"{SLUG}/wellbeing/", "Save my answers",
                "Choose how often you feel isolated from others")
    # Someone who is not a partner's staff is told why they cannot refer
    visit_all(page, assert_accessible, [f"{SLUG}/refer/"], status=403)
    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot refer people to Southwark Circle")


def test_member_who_answers_sees_their_history_and_it_passes_axe(browser_for, assert_accessible, world):
    page = browser_for(signed_in(world["answering"].user)).new_page()
    visit_all(page, assert_accessible, [f"{SLUG}/wellbeing/", "/circles/events/"])
    page.goto(f"{SLUG}/wellbeing/")
    expect(page.locator("#history tbody tr")).to_have_count(2)


def test_partner_staff_pages_pass_axe_with_their_forms_and_errors(browser_for, assert_accessible, world):
    page = browser_for(verified(world["staff"])).new_page()
    visit_all(page, assert_accessible, [
        f"{SLUG}/refer/", "/circles/referrals/", f"/circles/referrals/{world['referral_in'].pk}/",
        f"/circles/referrals/{world['referral_out'].pk}/",
    ])
    with_errors(page, assert_accessible, f"{SLUG}/refer/", "Send the referral", "Enter the person's name")
    with_errors(page, assert_accessible, f"/circles/referrals/{world['referral_out'].pk}/", "Save",
                "Choose what happened")


def test_coordinator_event_pages_pass_axe_with_their_forms_and_errors(browser_for, assert_accessible, world):
    quiz, garden, past, boat = (f"{SLUG}/events/{world[name].pk}" for name in ("quiz", "garden", "past", "boat"))
    member = world["member"]
    page = browser_for(verified(world["coordinator"])).new_page()
    visit_all(page, assert_accessible, [
        f"{SLUG}/events/", f"{quiz}/", f"{SLUG}/events/new/", f"{quiz}/edit/", f"{quiz}/people/", f"{boat}/people/",
        f"{quiz}/answer-for/?q=Ada", f"{quiz}/answer-for/{member.pk}/", f"{past}/attendance/", f"{past}/people/",
    ])
    with_errors(page, assert_accessible, f"{SLUG}/events/new/", "Save the event", "Enter the event's title")
    with_errors(page, assert_accessible, f"{quiz}/cancel/", "Cancel the event", "Say why the event is cancelled")
    with_errors(page, assert_accessible, f"{garden}/answer-for/{member.pk}/", "Save their answer",
                "Choose whether you are coming")


def test_coordinator_referral_pages_pass_axe_with_their_forms_and_errors(browser_for, assert_accessible, world):
    member, referral = world["member"], world["referral_in"]
    page = browser_for(verified(world["coordinator"])).new_page()
    visit_all(page, assert_accessible, [
        f"{COORDINATE}/referrals/", f"/circles/referrals/{referral.pk}/", f"/circles/referrals/{referral.pk}/join/",
        f"/circles/referrals/{world['referral_out'].pk}/", f"{COORDINATE}/members/{member.pk}/refer/",
    ])
    with_errors(page, assert_accessible, f"/circles/referrals/{referral.pk}/", "Save", "Choose what happened")
    with_errors(page, assert_accessible, f"/circles/referrals/{referral.pk}/join/", "Join them up",
                "Confirm the person agreed to you entering their details for them")
    with_errors(page, assert_accessible, f"{COORDINATE}/members/{member.pk}/refer/", "Send the referral",
                "Say why you are referring them")


def test_coordinator_wellbeing_and_report_pages_pass_axe_with_their_forms_and_errors(
    browser_for, assert_accessible, world,
):
    ada, bea = (f"{COORDINATE}/members/{world[name].pk}/wellbeing/" for name in ("member", "answering"))
    page = browser_for(verified(world["coordinator"])).new_page()
    visit_all(page, assert_accessible, [
        bea, f"{COORDINATE}/wellbeing/", f"{COORDINATE}/wellbeing/to-ask/", f"{COORDINATE}/reports/",
        f"{COORDINATE}/reports/savings/?category=garden",
    ])
    with_errors(page, assert_accessible, ada, "Save this choice", "Choose yes or no", unchoose="opt_in")
    # Yes for a member without saying they agreed
    page.get_by_label("Yes", exact=True).check()
    page.get_by_role("button", name="Save this choice").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Confirm the member agreed to be asked these questions")
    assert_accessible(page)
    with_errors(page, assert_accessible, bea, "Save their answers", "Choose how often you feel isolated from others")
    with_errors(page, assert_accessible, f"{COORDINATE}/reports/savings/", "Save the value",
                "Say where the figure comes from")
    # The date range with a date missing its month and year
    page.goto(f"{COORDINATE}/reports/")
    page.locator("#id_from_day").fill("31")
    page.get_by_role("button", name="Show figures").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The start date must include a month and a year")
    assert_accessible(page)


def test_coordinators_and_new_circle_pages_pass_axe_with_their_forms_and_errors(
    browser_for, assert_accessible, world,
):
    own = CircleCoordinator.objects.get(user=world["coordinator"])
    page = browser_for(verified(world["coordinator"])).new_page()
    visit_all(page, assert_accessible, [
        f"{COORDINATE}/coordinators/", f"{COORDINATE}/coordinators/{world['second'].pk}/remove/",
        f"{COORDINATE}/coordinators/{own.pk}/remove/",
    ])
    with_errors(page, assert_accessible, f"{COORDINATE}/coordinators/", "Add a coordinator",
                "Enter their email address")
    # The other coordinator removed, the last one cannot leave the circle without any
    page.goto(f"{COORDINATE}/coordinators/{world['second'].pk}/remove/")
    page.get_by_role("button", name="Yes, remove them").click()
    expect(page.get_by_text("Dev Patel is no longer a coordinator.")).to_be_visible()
    with_errors(page, assert_accessible, f"{COORDINATE}/coordinators/{own.pk}/remove/",
                "Yes, stop being a coordinator", "A circle must have at least one coordinator.")
    assert list(CircleCoordinator.objects.filter(circle=world["circle"])) == [own]

    admin_page = browser_for(verified(world["admin"])).new_page()
    visit_all(admin_page, assert_accessible, ["/circles/new/"])
    with_errors(admin_page, assert_accessible, "/circles/new/", "Start the circle", "Enter the circle's name")


# --- Without JavaScript: the journeys still work ---------------------------------------------

def test_without_javascript_a_member_says_they_are_coming_then_that_they_cannot(browser_for, world):
    garden, member = world["garden"], world["member"]
    page = browser_for(signed_in(member.user), javascript=False).new_page()

    # When they say they will come, for two places
    page.goto(f"{SLUG}/events/{garden.pk}/")
    page.get_by_label("Yes, I'll come").check()
    page.get_by_label("How many places?").select_option("2")
    page.get_by_role("button", name="Send my answer").click()

    # Then they see their answer, and two places are theirs
    expect(page.get_by_text("You're coming: 2 places saved for you.")).to_be_visible()
    expect(page.locator(".govuk-summary-list")).to_contain_text("Coming (2 places)")
    rsvp = EventRsvp.objects.get(event=garden, member=member)
    assert (rsvp.status, rsvp.places) == (RsvpStatus.GOING, 2)
    assert Event.objects.get(pk=garden.pk).places_taken == 2

    # When they change their mind
    page.get_by_label("No, I can't come now").check()
    page.get_by_role("button", name="Send my answer").click()

    # Then they are thanked, the answer says so and the places are free again
    expect(page.get_by_text("Thank you for letting us know you can't come.")).to_be_visible()
    expect(page.locator(".govuk-summary-list")).to_contain_text("Not coming")
    assert EventRsvp.objects.get(event=garden, member=member).status == RsvpStatus.NOT_GOING
    assert Event.objects.get(pk=garden.pk).places_taken == 0


def test_without_javascript_a_member_says_yes_to_check_ins_and_answers_the_questions(browser_for, world):
    member = world["member"]
    page = browser_for(signed_in(member.user), javascript=False).new_page()

    # When they say yes to being asked
    page.goto(f"{SLUG}/wellbeing/")
    expect(page.get_by_text("How often do you feel left out?")).to_have_count(0)
    page.get_by_label("Yes", exact=True).check()
    page.get_by_role("button", name="Save this choice").click()

    # Then they are shown the questions
    expect(page.get_by_text("Thank you. You can answer the questions below.")).to_be_visible()
    assert Member.objects.get(pk=member.pk).wellbeing_opt_in is True

    # When they answer the three questions
    for question, answer in [("How often do you feel that you lack companionship?", "Often"),
                             ("How often do you feel left out?", "Some of the time"),
                             ("How often do you feel isolated from others?", "Hardly ever or never")]:
        page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()
    page.get_by_role("button", name="Save my answers").click()

    # Then they are thanked and see today's score in their history
    expect(page.get_by_text("Thank you. Your answers are saved.")).to_be_visible()
    expect(page.locator("#history tbody tr")).to_have_count(1)
    expect(page.locator("#history tbody td").last).to_have_text("6")
    saved = WellbeingCheckIn.objects.get(member=member)
    assert (saved.lack_companionship, saved.left_out, saved.isolated, saved.score) == (3, 2, 1, 6)
    assert saved.taken_on == timezone.localdate()
    assert saved.entered_by_id is None


def test_without_javascript_partner_staff_refer_someone_in(browser_for, world):
    staff, practice = world["staff"], world["practice"]
    page = browser_for(verified(staff), javascript=False).new_page()

    # When they fill in the form and send it
    page.goto(f"{SLUG}/refer/")
    expect(page.get_by_text("You are referring for Borough GP Practice.")).to_be_visible()
    page.get_by_label("The person agreed to be referred and to us contacting them").check()
    page.get_by_label("Their full name").fill("Alan Turing")
    page.get_by_label("Their phone number").fill("020 7946 0999")
    page.get_by_label("Why are you referring them?").fill("Recently bereaved and would like company")
    page.get_by_role("button", name="Send the referral").click()

    # Then they see the referral with a thank-you, and it is stored for the circle's coordinators
    expect(page.get_by_text("Thank you. Alan Turing is referred to Southwark Circle")).to_be_visible()
    expect(page.locator("#referral")).to_contain_text("Recently bereaved and would like company")
    referral = Referral.objects.get(person_name="Alan Turing")
    assert page.url.endswith(f"/circles/referrals/{referral.pk}/")
    assert (referral.circle, referral.partner, referral.direction, referral.status) == (
        world["circle"], practice, ReferralDirection.IN, ReferralStatus.NEW)
    assert referral.person_phone == "020 7946 0999"
    assert referral.created_by == staff
    assert referral.consent_given_at is not None


def test_without_javascript_a_coordinator_changes_the_reports_dates(browser_for, world):
    page = browser_for(verified(world["coordinator"]), javascript=False).new_page()

    # Given the reports for the last twelve months
    page.goto(f"{COORDINATE}/reports/")
    today = timezone.localdate()
    expect(page.locator("#period")).to_contain_text(f"to {today.day} {today:%B %Y}")

    # When they choose the first quarter of 2026
    for box, value in [("from_day", "1"), ("from_month", "1"), ("from_year", "2026"),
                       ("to_day", "31"), ("to_month", "3"), ("to_year", "2026")]:
        page.locator(f"#id_{box}").fill(value)
    page.get_by_role("button", name="Show figures").click()

    # Then the figures are for those dates, and the boxes keep them
    expect(page.locator("#period")).to_have_text(
        "Figures for Southwark Circle from 1 January 2026 to 31 March 2026, both days included.")
    assert re.search(r"from_day=1&from_month=1&from_year=2026&to_day=31&to_month=3&to_year=2026", page.url)
    expect(page.locator("#id_to_day")).to_have_value("31")
    csv_link = page.get_by_role("link", name=re.compile("Download .* as a spreadsheet")).first
    assert "from_year=2026" in (csv_link.get_attribute("href") or "")
