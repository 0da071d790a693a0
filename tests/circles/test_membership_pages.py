"""The pages people use to join, see their membership, pay by card and give tokens."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from localsocial.circles.models import Account, Member, Payment, PaymentStatus, Transfer
from localsocial.circles.services.membership import member_gift_code
from localsocial.core.models import AuditEvent
from tests.circles.factories import CircleFactory, MemberFactory, TokenBundleFactory
from tests.factories import UserFactory
from tests.helpers import CommittingClient

pytestmark = pytest.mark.django_db

JOIN = {
    "display_name": "Ada Lovelace", "phone": "020 7946 0000", "postal_address": "1 High Street", "postcode": "SE1 7EH",
    "contact_preference": "phone", "accessibility_needs": "", "emergency_contact_name": "", "emergency_contact_phone": "",
    "eligibility_confirmed": "on", "terms_agreed": "on",
}


@pytest.fixture
def circle():
    circle = CircleFactory(name="Southwark Circle", slug="southwark", minimum_age=50, welcome_quarters=4,
                           annual_fee_pence=2000)
    TokenBundleFactory(circle=circle, name="3 tokens", quarters=12, price_pence=3000)
    return circle


def signed_in(user=None):
    client = CommittingClient()
    client.force_login(user or UserFactory())
    return client


def balance(member):
    return Account.objects.get(member=member).balance_quarters


def test_someone_not_signed_in_is_asked_to_sign_in_or_create_an_account_first(client, circle):
    response = client.get("/circles/southwark/join/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Sign in to join Southwark Circle" in page
    assert "/accounts/sign-up/?next=%2Fcircles%2Fsouthwark%2Fjoin%2F" in page


def test_joining_online_makes_a_member_and_shows_their_membership(circle):
    client = signed_in()

    response = client.post("/circles/southwark/join/", JOIN, follow=True)

    page = response.content.decode()
    assert "Welcome to Southwark Circle" in page
    assert "Your membership" in page
    assert "Fee not paid yet" in page
    member = Member.objects.get()
    assert balance(member) == 4
    assert member_gift_code(member=member) in page
    assert f"/circles/southwark/gift/?code={member_gift_code(member=member)}" in page


def test_a_shared_gift_link_fills_in_the_code(client, circle):
    page = client.get("/circles/southwark/gift/?code=12-ABCDEFGH").content.decode()

    assert 'value="12-ABCDEFGH"' in page


def test_the_join_form_says_the_age_and_refuses_without_it(circle):
    client = signed_in()
    assert "I am 50 or over" in client.get("/circles/southwark/join/").content.decode()

    response = client.post("/circles/southwark/join/", {**JOIN, "eligibility_confirmed": ""})

    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "Only people aged 50 or over can join Southwark Circle" in page
    assert "Error: Join Southwark Circle" in page
    assert 'value="Ada Lovelace"' in page  # what was typed is kept
    assert not Member.objects.exists()


def test_bad_details_get_clear_messages_and_keep_what_was_typed(circle):
    response = signed_in().post("/circles/southwark/join/", {**JOIN, "display_name": "", "postcode": "XYZ"})

    page = response.content.decode()
    assert "Enter your full name" in page
    assert "Enter a full UK postcode" in page
    assert "1 High Street" in page


def test_joining_twice_says_so_with_a_link_to_the_membership(circle):
    member = MemberFactory(circle=circle)

    response = signed_in(member.user).get("/circles/southwark/join/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "You are already a member" in page
    assert "/circles/southwark/membership/" in page


def test_a_closed_circle_says_it_takes_no_new_members(circle):
    circle.is_active = False
    circle.save()

    response = signed_in().post("/circles/southwark/join/", JOIN)

    assert "is not taking new members" in response.content.decode()
    assert not Member.objects.exists()


def test_someone_who_is_not_a_member_is_told_so(circle):
    response = signed_in().get("/circles/southwark/membership/")

    assert response.status_code == 404
    assert "You are not a member of Southwark Circle" in response.content.decode()


def _pay(client, purpose, **extra):
    page = client.get("/circles/southwark/membership/").content.decode()
    keys = re.findall(r'name="idempotency_key" value="([0-9a-f]+)"', page)
    key = keys[0] if purpose == "fee" else keys[1]
    return client.post("/circles/southwark/membership/pay/", {"purpose": purpose, "idempotency_key": key, **extra})


def test_paying_the_fee_by_card_goes_through_the_test_provider_and_marks_the_year_paid(circle):
    member = MemberFactory(circle=circle)
    from localsocial.circles.services.payments import fee_year_for

    fee_year_for(member=member, create=True)
    client = signed_in(member.user)

    start = _pay(client, "fee")
    assert start.status_code == 302
    assert "/circles/southwark/pay/test_" in start["Location"]
    provider_page = client.get(start["Location"]).content.decode()
    assert "This is the test payment page" in provider_page
    assert "£20" in provider_page
    done = client.post(start["Location"], {"result": "pay"}, follow=True)

    assert "Payment received" in done.content.decode()
    assert member.years.get().payment is not None
    assert "Fee paid" in client.get("/circles/southwark/membership/").content.decode()


def test_a_double_submitted_bundle_form_records_one_payment_and_one_transfer(circle):
    member = MemberFactory(circle=circle)
    client = signed_in(member.user)
    bundle = circle.bundles.get()
    page = client.get("/circles/southwark/membership/").content.decode()
    key = re.findall(r'name="idempotency_key" value="([0-9a-f]+)"', page)[1]
    form = {"purpose": "tokens", "idempotency_key": key, "bundle": str(bundle.pk)}

    first = client.post("/circles/southwark/membership/pay/", form)
    second = client.post("/circles/southwark/membership/pay/", form)
    assert first["Location"] == second["Location"]
    client.post(first["Location"], {"result": "pay"})
    client.post(first["Location"], {"result": "pay"})

    assert Payment.objects.count() == 1
    assert Transfer.objects.filter(payment__isnull=False).count() == 1
    assert balance(member) == 12


def test_buying_without_choosing_a_bundle_says_so(circle):
    member = MemberFactory(circle=circle)

    response = _pay(signed_in(member.user), "tokens")

    assert response.status_code == 400
    assert "Choose a bundle of tokens" in response.content.decode()
    assert not Payment.objects.exists()


def test_a_declined_card_takes_nothing_and_says_so(circle):
    member = MemberFactory(circle=circle)
    client = signed_in(member.user)
    start = _pay(client, "tokens", bundle=str(circle.bundles.get().pk))

    done = client.post(start["Location"], {"result": "decline"}, follow=True)

    assert "no money was taken" in done.content.decode()
    assert Payment.objects.get().status == PaymentStatus.FAILED
    assert not Transfer.objects.filter(payment__isnull=False).exists()


def test_a_member_changes_their_details(circle):
    member = MemberFactory(circle=circle)
    client = signed_in(member.user)

    response = client.post("/circles/southwark/membership/details/", {**JOIN, "contact_preference": "email"},
                           follow=True)

    assert "Your details are saved" in response.content.decode()
    member.refresh_from_db()
    assert member.contact_preference == "email"
    assert member.display_name == "Ada Lovelace"


def test_a_member_of_another_circle_has_no_membership_page_here(circle):
    elsewhere = MemberFactory()

    assert signed_in(elsewhere.user).get("/circles/southwark/membership/details/").status_code == 404


def _gift_form(client, code, bundle, **extra):
    page = client.get("/circles/southwark/gift/").content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)
    return {"gift_code": code, "bundle": str(bundle.pk), "payer_name": "Sarah Clarke",
            "payer_email": "sarah@example.org", "idempotency_key": key, **extra}


def test_anyone_can_give_tokens_with_a_members_gift_code_and_the_member_is_told(circle):
    member = MemberFactory(circle=circle)
    client = CommittingClient()
    form = _gift_form(client, member_gift_code(member=member), circle.bundles.get())

    start = client.post("/circles/southwark/gift/", form)
    done = client.post(start["Location"], {"result": "pay"}, follow=True)

    assert "Payment received" in done.content.decode()
    assert balance(member) == 12
    assert {m.to[0] for m in mail.outbox} == {member.user.email, "sarah@example.org"}
    to_member = next(m for m in mail.outbox if m.to == [member.user.email])
    assert "Sarah Clarke has given you 3 time tokens (3 tokens) for Southwark Circle" in to_member.body
    assert AuditEvent.objects.filter(action="circles.payment_card_paid").exists()


def test_a_wrong_gift_code_is_refused_without_saying_who_is_a_member(circle):
    member = MemberFactory(circle=circle)
    client = CommittingClient()

    response = client.post("/circles/southwark/gift/",
                           _gift_form(client, f"{member.pk}-WRONGCOD", circle.bundles.get()))

    page = response.content.decode()
    assert "Check the gift code" in page
    assert member.display_name not in page
    assert not Payment.objects.exists()


def test_a_gift_code_of_another_circles_member_does_not_work_here(circle):
    elsewhere = MemberFactory()
    client = CommittingClient()

    response = client.post("/circles/southwark/gift/",
                           _gift_form(client, member_gift_code(member=elsewhere), circle.bundles.get()))

    assert "Check the gift code" in response.content.decode()


def test_the_gift_form_is_rate_limited(circle, settings):
    settings.CIRCLES_GIFT_RATE = "2/h"
    client = CommittingClient()
    bundle = circle.bundles.get()

    statuses = [client.post("/circles/southwark/gift/", _gift_form(client, "1-AAAAAAAA", bundle)).status_code
                for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_the_membership_page_makes_a_fixed_number_of_queries(circle, django_assert_max_num_queries):
    member = MemberFactory(circle=circle)
    for number in range(8):
        TokenBundleFactory(circle=circle)
        Payment.objects.create(circle=circle, member=member, purpose="fee", method="cash", amount_pence=100,
                               idempotency_key=f"k{number}")
    client = signed_in(member.user)
    client.get("/circles/southwark/membership/")

    with django_assert_max_num_queries(11):
        page = client.get("/circles/southwark/membership/").content.decode()

    assert page.count("Membership fee") >= 8


def test_payments_are_listed_for_the_member_and_with_how_they_were_paid_for_the_coordinator(circle):
    from django.utils import timezone

    from localsocial.circles.models import Payment
    from tests.circles.factories import CoordinatorFactory
    from tests.helpers import sign_in_verified

    member = MemberFactory(circle=circle)
    Payment.objects.create(
        circle=circle, member=member, purpose="gift", method="cheque", status="succeeded", amount_pence=3000,
        bundle=circle.bundles.get(), payer_name="Sarah Lovelace", provider_reference="CHQ 000123",
        idempotency_key="gift-1", completed_at=timezone.now(),
    )

    own = signed_in(member.user).get("/circles/southwark/membership/").content.decode()
    coordinator = sign_in_verified(CommittingClient(), CoordinatorFactory(circle=circle).user)
    detail = coordinator.get(f"/circles/southwark/coordinate/members/{member.pk}/").content.decode()

    for page in (own, detail):
        assert 'id="payments"' in page
        assert "3 tokens" in page
        assert "from Sarah Lovelace" in page
        assert "£30" in page
    assert "CHQ 000123" in detail
    assert "CHQ 000123" not in own
