"""The referral pages: referring someone to a circle, the coordinators' lists, a referral and
what happened to it, joining someone up from it, referring a member out, and the partner
staff's page; each only for the people it is for, with a fixed number of queries."""

from __future__ import annotations

import pytest
from django.core import mail

from localsocial.circles.models import CirclePartner, Member, Referral, ReferralStatus
from localsocial.circles.services.referrals import (
    ReferredPerson,
    referral_in_create,
    referral_out_create,
)
from localsocial.directory.models import StaffRole
from tests.circles.factories import CircleFactory, MemberFactory
from tests.circles.test_help_support import coordinator_of
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.helpers import CommittingClient, sign_in_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def circle():
    return CircleFactory(name="Southwark Circle", slug="southwark")


def client_for(user):
    return sign_in_verified(CommittingClient(), user)


def partner_of(circle, **fields):
    organisation = OrganisationFactory(**fields)
    CirclePartner.objects.create(circle=circle, organisation=organisation)
    return organisation


def staff_of(organisation, role=StaffRole.MEMBER):
    return MembershipFactory(organisation=organisation, role=role).user


def refer_data(partner, **overrides):
    data = {"partner": str(partner.pk), "consent": "on", "person_name": "Ada Lovelace", "person_phone": "020 7946 0123",
            "person_email": "", "person_postcode": "SE1 7EH", "reason": "Lives alone and would like company",
            "needs": "Hard of hearing", "idempotency_key": "key-1"}
    data.update(overrides)
    return data


def make_referral_in(circle, partner, actor=None, key="k", name="Ada Lovelace"):
    referral, _ = referral_in_create(
        circle=circle, partner=partner, actor=actor or staff_of(partner),
        person=ReferredPerson(name=name, phone="020 7946 0123", reason="Lives alone"), consent=True,
        idempotency_key=key,
    )
    return referral


# --- Referring someone to the circle -----------------------------------------------------------

def test_signing_in_is_needed_to_refer(client, circle):
    response = client.get("/circles/southwark/refer/")

    assert response.status_code == 302
    assert "sign-in" in response["Location"] or "login" in response["Location"]


def test_partner_staff_refer_someone_once_even_if_they_press_twice(circle):
    coordinator = coordinator_of(circle)
    practice = partner_of(circle, name="Borough GP Practice")
    browser = client_for(staff_of(practice))

    form = browser.get("/circles/southwark/refer/").content.decode()
    response = browser.post("/circles/southwark/refer/", refer_data(practice))
    browser.post("/circles/southwark/refer/", refer_data(practice))

    assert "Refer someone to Southwark Circle" in form
    assert "You are referring for Borough GP Practice." in form
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/circles/referrals/{referral.pk}/"
    assert [m.to for m in mail.outbox] == [[coordinator.email]]
    page = browser.get(response["Location"]).content.decode()
    assert "Ada Lovelace" in page
    assert "Lives alone and would like company" in page
    assert "a coordinator will get in touch with them" in page


def test_staff_of_several_partners_choose_which_one_they_refer_for(circle):
    practice = partner_of(circle, name="Practice A")
    pharmacy = partner_of(circle, name="Pharmacy B")
    user = staff_of(practice)
    MembershipFactory(user=user, organisation=pharmacy)
    browser = client_for(user)

    form = browser.get("/circles/southwark/refer/").content.decode()
    browser.post("/circles/southwark/refer/", refer_data(pharmacy))

    assert "Which organisation are you referring for?" in form
    assert Referral.objects.get().partner == pharmacy


def test_a_mistake_is_shown_with_an_error_summary_and_nothing_typed_is_lost(circle):
    practice = partner_of(circle)

    response = client_for(staff_of(practice)).post(
        "/circles/southwark/refer/", refer_data(practice, consent="", person_phone=""))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Error: Refer someone to Southwark Circle" in page
    assert "There is a problem" in page
    assert "Confirm that the person agreed to be referred" in page
    assert "Enter a phone number or an email address" in page
    assert "Lives alone and would like company" in page
    assert "Ada Lovelace" in page
    assert not Referral.objects.exists()


def test_staff_of_an_organisation_that_is_not_a_partner_are_told_why_they_cannot_refer(circle):
    outsider = staff_of(OrganisationFactory(name="Housing Association"))
    practice = partner_of(circle)

    page = client_for(outsider).get("/circles/southwark/refer/")
    post = client_for(outsider).post("/circles/southwark/refer/", refer_data(practice))

    assert page.status_code == 403
    assert "You cannot refer people to Southwark Circle" in page.content.decode()
    assert "ask the circle's coordinators to add it as a partner" in page.content.decode()
    assert post.status_code == 403
    assert not Referral.objects.exists()


# --- The coordinators' pages -------------------------------------------------------------------

def test_a_coordinator_sees_the_referrals_in_and_out(circle):
    coordinator = coordinator_of(circle)
    practice = partner_of(circle, name="Borough GP Practice")
    make_referral_in(circle, practice, name="Ada Lovelace")
    referral_out_create(member=MemberFactory(circle=circle, display_name="Mr Patel"), partner=practice,
                        actor=coordinator, reason="Falls", consent=True, idempotency_key="o")

    page = client_for(coordinator).get("/circles/southwark/coordinate/referrals/").content.decode()

    assert "Referred to the circle: 1 open" in page
    assert "Referred by the circle: 1 open" in page
    assert page.index("Ada Lovelace") < page.index("Mr Patel")


def test_a_coordinator_of_another_circle_cannot_see_the_list_or_a_referral(circle):
    referral = make_referral_in(circle, partner_of(circle))
    other = coordinator_of(CircleFactory(slug="lambeth"))
    browser = client_for(other)

    assert browser.get("/circles/southwark/coordinate/referrals/").status_code == 403
    assert browser.get(f"/circles/referrals/{referral.pk}/").status_code == 404
    assert browser.post(f"/circles/referrals/{referral.pk}/", {"status": "closed", "outcome": "x"}).status_code == 404
    assert browser.get(f"/circles/referrals/{referral.pk}/join/").status_code == 404


def test_a_coordinator_records_that_they_are_in_touch(circle):
    coordinator = coordinator_of(circle)
    referral = make_referral_in(circle, partner_of(circle))
    browser = client_for(coordinator)

    response = browser.post(f"/circles/referrals/{referral.pk}/", {"status": "contacted", "outcome": "Left a message"})

    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.outcome) == (ReferralStatus.CONTACTED, "Left a message")
    assert "Left a message" in browser.get(response["Location"]).content.decode()


def test_closing_without_a_note_shows_the_error_and_keeps_the_referral_open(circle):
    coordinator = coordinator_of(circle)
    referral = make_referral_in(circle, partner_of(circle))

    response = client_for(coordinator).post(f"/circles/referrals/{referral.pk}/", {"status": "closed", "outcome": ""})

    assert response.status_code == 200
    assert "Say what happened" in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.NEW


def test_a_coordinator_joins_up_the_person_from_the_referral(circle):
    coordinator = coordinator_of(circle)
    referral = make_referral_in(circle, partner_of(circle), name="Ada Lovelace")
    browser = client_for(coordinator)

    form = browser.get(f"/circles/referrals/{referral.pk}/join/").content.decode()
    response = browser.post(f"/circles/referrals/{referral.pk}/join/", {
        "consent": "on", "eligibility_confirmed": "on", "display_name": "Ada Lovelace", "email": "",
        "phone": "020 7946 0123", "postal_address": "", "postcode": "", "contact_preference": "phone",
    })

    assert 'value="Ada Lovelace"' in form
    assert 'value="020 7946 0123"' in form
    member = Member.objects.get(circle=circle)
    assert response.status_code == 302
    assert response["Location"] == f"/circles/southwark/coordinate/members/{member.pk}/"
    referral.refresh_from_db()
    assert (referral.status, referral.member) == (ReferralStatus.ACCEPTED, member)


def test_partner_staff_cannot_open_the_join_form(circle):
    practice = partner_of(circle)
    nurse = staff_of(practice)
    referral = make_referral_in(circle, practice, actor=nurse)

    assert client_for(nurse).get(f"/circles/referrals/{referral.pk}/join/").status_code == 403


def test_a_coordinator_refers_a_member_out_from_their_page(circle):
    coordinator = coordinator_of(circle)
    advice = partner_of(circle, name="Citizens Advice")
    answerer = staff_of(advice, StaffRole.RESPONDER)
    member = MemberFactory(circle=circle, display_name="Mr Patel", phone="020 7946 0999")
    browser = client_for(coordinator)

    member_page = browser.get(f"/circles/southwark/coordinate/members/{member.pk}/").content.decode()
    form = browser.get(f"/circles/southwark/coordinate/members/{member.pk}/refer/").content.decode()
    response = browser.post(f"/circles/southwark/coordinate/members/{member.pk}/refer/", {
        "partner": str(advice.pk), "consent": "on", "reason": "Advice on benefits", "needs": "",
        "person_phone": "020 7946 0999", "person_email": "", "person_postcode": "", "idempotency_key": "o-1",
    })

    assert "Refer them to a partner" in member_page
    assert 'value="020 7946 0999"' in form
    referral = Referral.objects.get()
    assert response["Location"] == f"/circles/referrals/{referral.pk}/"
    assert (referral.member, referral.partner, referral.person_postcode) == (member, advice, "")
    assert [m.to for m in mail.outbox] == [[answerer.email]]


def test_a_coordinator_of_another_circle_cannot_refer_its_member(circle):
    member = MemberFactory(circle=circle)
    partner_of(circle)
    other = coordinator_of(CircleFactory(slug="lambeth"))

    assert client_for(other).get(f"/circles/southwark/coordinate/members/{member.pk}/refer/").status_code == 403
    assert client_for(other).get(f"/circles/lambeth/coordinate/members/{member.pk}/refer/").status_code == 404


# --- Partner staff's page ----------------------------------------------------------------------

def test_partner_staff_see_their_referrals_and_answer_one_out(circle):
    coordinator = coordinator_of(circle)
    advice = partner_of(circle, name="Citizens Advice")
    other = partner_of(circle, name="Other Charity")
    adviser = staff_of(advice)
    mine, _ = referral_out_create(member=MemberFactory(circle=circle, display_name="Mr Patel"), partner=advice,
                                  actor=coordinator, reason="Benefits", consent=True, idempotency_key="o-1")
    referral_out_create(member=MemberFactory(circle=circle, display_name="Mrs Jones"), partner=other,
                        actor=coordinator, reason="Benefits", consent=True, idempotency_key="o-2")
    browser = client_for(adviser)

    page = browser.get("/circles/referrals/").content.decode()
    response = browser.post(f"/circles/referrals/{mine.pk}/", {"status": "accepted", "outcome": "Claim started"})

    assert "Mr Patel" in page
    assert "Mrs Jones" not in page
    assert "Refer someone to Southwark Circle" in page
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == ReferralStatus.ACCEPTED
    coordinator_view = client_for(coordinator).get(f"/circles/referrals/{mine.pk}/").content.decode()
    assert "Claim started" in coordinator_view


def test_someone_on_no_organisations_staff_sees_no_referrals(circle):
    make_referral_in(circle, partner_of(circle))

    page = client_for(UserFactory()).get("/circles/referrals/").content.decode()

    assert "You are not on the staff of any organisation" in page
    assert "Ada Lovelace" not in page


# --- Fixed queries -----------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["coordinator", "partner"])
def test_the_lists_take_the_same_queries_for_few_or_many(circle, who, django_assert_max_num_queries):
    coordinator = coordinator_of(circle)
    practice = partner_of(circle)
    nurse = staff_of(practice)
    user, address = (coordinator, "/circles/southwark/coordinate/referrals/") if who == "coordinator" else (
        nurse, "/circles/referrals/")
    browser = client_for(user)
    make_referral_in(circle, practice, actor=nurse, key="first")
    with django_assert_max_num_queries(40) as few:
        browser.get(address)
    for n in range(6):
        make_referral_in(circle, practice, actor=nurse, key=f"more-{n}")
        referral_out_create(member=MemberFactory(circle=circle), partner=practice, actor=coordinator,
                            reason="Falls", consent=True, idempotency_key=f"out-{n}")

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = browser.get(address)

    assert response.content.decode().count("/circles/referrals/") >= 13


def test_a_referral_page_takes_a_fixed_number_of_queries(circle, django_assert_max_num_queries):
    coordinator = coordinator_of(circle)
    referral = make_referral_in(circle, partner_of(circle))
    browser = client_for(coordinator)

    with django_assert_max_num_queries(25):
        response = browser.get(f"/circles/referrals/{referral.pk}/")

    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]


def test_staff_of_another_partner_cannot_open_a_referral(circle):
    referral = make_referral_in(circle, partner_of(circle, name="Practice A"))
    other_staff = staff_of(partner_of(circle, name="Pharmacy B"))
    browser = client_for(other_staff)

    assert browser.get(f"/circles/referrals/{referral.pk}/").status_code == 404
    assert browser.post(f"/circles/referrals/{referral.pk}/", {"status": "contacted"}).status_code == 404


def test_an_ended_referral_shows_what_happened_and_no_form(circle):
    coordinator = coordinator_of(circle)
    referral = make_referral_in(circle, partner_of(circle))
    browser = client_for(coordinator)
    browser.post(f"/circles/referrals/{referral.pk}/", {"status": "declined", "outcome": "Not interested now"})

    page = browser.get(f"/circles/referrals/{referral.pk}/").content.decode()
    join = browser.get(f"/circles/referrals/{referral.pk}/join/")

    assert "Not interested now" in page
    assert "Say what happened" not in page
    assert "Join them up" not in page
    assert join.status_code == 302
    assert join["Location"] == f"/circles/referrals/{referral.pk}/"


# --- The person referred is already a member -----------------------------------------------------

def test_a_coordinator_links_a_referral_to_the_member_the_person_already_is(circle):
    # Given Ada, referred by her GP, who had already joined the circle by herself
    coordinator = coordinator_of(circle)
    practice = partner_of(circle, name="Borough GP Practice")
    referral = make_referral_in(circle, practice)
    ada = MemberFactory(circle=circle, display_name="Ada Lovelace")
    MemberFactory(circle=circle, display_name="Grace Hopper")
    browser = client_for(coordinator)

    # When the coordinator opens the referral, then Ada (same name) is offered, Grace is not
    page = browser.get(f"/circles/referrals/{referral.pk}/").content.decode()
    assert "Already a member?" in page
    assert f'name="member" value="{ada.pk}"' in page
    assert "Grace Hopper" not in page

    # And when they say "This is them", the referral is Ada's and accepted
    response = browser.post(f"/circles/referrals/{referral.pk}/link/", {"member": ada.pk}, follow=True)
    referral.refresh_from_db()
    assert (referral.member, referral.status) == (ada, ReferralStatus.ACCEPTED)
    assert referral.closed_at is not None
    assert "The referral is linked to Ada Lovelace, who is already a member." in response.content.decode()


def test_a_referral_cannot_be_linked_to_a_member_who_was_not_offered_or_of_another_circle(circle):
    # Given a referral and a member of another circle with the same name
    coordinator = coordinator_of(circle)
    referral = make_referral_in(circle, partner_of(circle))
    elsewhere = MemberFactory(circle=CircleFactory(), display_name="Ada Lovelace")

    # When a coordinator posts that member's number anyway
    response = client_for(coordinator).post(f"/circles/referrals/{referral.pk}/link/", {"member": elsewhere.pk},
                                             follow=True)

    # Then nothing is linked and they are told to choose one of the members listed
    referral.refresh_from_db()
    assert (referral.member, referral.status) == (None, ReferralStatus.NEW)
    assert "Choose one of the members listed." in response.content.decode()


def test_partner_staff_cannot_link_a_referral_to_a_member(circle):
    practice = partner_of(circle)
    staff = staff_of(practice)
    referral = make_referral_in(circle, practice, actor=staff)
    ada = MemberFactory(circle=circle, display_name="Ada Lovelace")

    client_for(staff).post(f"/circles/referrals/{referral.pk}/link/", {"member": ada.pk})

    referral.refresh_from_db()
    assert referral.member is None
