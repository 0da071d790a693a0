"""The public circle pages and the coordinators' pages: what they show, who may see them,
their query counts, and every page in English and Welsh."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from localsocial.circles.models import (
    Account,
    CirclePartner,
    JoinRoute,
    Member,
    MembershipYear,
    Payment,
    TokenBundle,
    Transfer,
)
from localsocial.core.models import AuditEvent
from tests.circles.factories import (
    CircleFactory,
    CoordinatorFactory,
    MemberFactory,
    TokenBundleFactory,
)
from tests.factories import AreaFactory, OrganisationFactory, UserFactory
from tests.helpers import CommittingClient, sign_in_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def circle():
    circle = CircleFactory(name="Southwark Circle", slug="southwark", minimum_age=50, annual_fee_pence=2000,
                           area=AreaFactory(name="Southwark borough"), description="Help at home for people over 50.")
    TokenBundleFactory(circle=circle, name="3 tokens", quarters=12, price_pence=3000)
    return circle


@pytest.fixture
def coordinator(circle):
    return CoordinatorFactory(circle=circle).user


@pytest.fixture
def member(circle):
    member = MemberFactory(circle=circle, display_name="Doreen Clarke", postcode="SE5 8QY")
    MembershipYear.objects.create(member=member, starts_on="2026-01-01", ends_on="2027-01-01", fee_pence=2000)
    return member


def coordinator_client(user):
    return sign_in_verified(CommittingClient(), user)


def key_from(page):
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)


# --- Public pages ------------------------------------------------------------------------------

def test_the_list_shows_open_circles_with_area_fee_and_eligibility(client, circle):
    CircleFactory(name="Closed Circle", is_active=False)

    page = client.get("/circles/").content.decode()

    assert "Southwark Circle" in page
    assert "/circles/southwark/" in page
    assert "£20" in page
    assert "People aged 50 or over" in page
    assert "Southwark borough" in page
    assert "Closed Circle" not in page


def test_the_circle_page_shows_bundles_partners_and_how_to_join(client, circle):
    CirclePartner.objects.create(circle=circle, organisation=OrganisationFactory(name="Age Friendly Southwark"))

    page = client.get("/circles/southwark/").content.decode()

    assert "Help at home for people over 50." in page
    assert "3 tokens" in page
    assert "£30" in page
    assert "Age Friendly Southwark" in page
    assert "/circles/southwark/join/" in page
    assert "join by phone" in page


def test_the_circle_page_links_its_coordinators_to_their_pages(client, circle, coordinator):
    assert "/circles/southwark/coordinate/" not in client.get("/circles/southwark/").content.decode()
    sign_in_verified(client, coordinator)  # coordinators must use two-factor everywhere
    assert "/circles/southwark/coordinate/" in client.get("/circles/southwark/").content.decode()


def test_an_unknown_circle_is_not_found(client):
    assert client.get("/circles/nowhere/").status_code == 404


def test_the_list_and_circle_pages_make_a_fixed_number_of_queries(client, circle, django_assert_max_num_queries):
    for number in range(5):
        other = CircleFactory(name=f"Circle {number}")
        TokenBundleFactory(circle=other)
        TokenBundleFactory(circle=circle)
        CirclePartner.objects.create(circle=circle, organisation=OrganisationFactory())

    with django_assert_max_num_queries(2):
        client.get("/circles/")
    with django_assert_max_num_queries(4):
        client.get("/circles/southwark/")


# --- Coordinator pages -------------------------------------------------------------------------

def coordinator_urls(circle, member, bundle):
    base = f"/circles/{circle.slug}/coordinate"
    return [
        f"{base}/", f"{base}/members/new/", f"{base}/members/{member.pk}/", f"{base}/members/{member.pk}/details/",
        f"{base}/members/{member.pk}/payments/new/", f"{base}/members/{member.pk}/gifts/new/",
        f"{base}/members/{member.pk}/grant/", f"{base}/to-contact/", f"{base}/settings/", f"{base}/bundles/",
        f"{base}/bundles/{bundle.pk}/", f"{base}/partners/", f"{base}/coordinators/",
    ]


def test_a_coordinator_of_another_circle_is_refused_on_every_coordinator_page(circle, member):
    other = CoordinatorFactory().user
    client = coordinator_client(other)
    bundle = circle.bundles.get()

    for url in coordinator_urls(circle, member, bundle):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"idempotency_key": "k", "tokens": "2", "on_sale": "0"}).status_code == 403, url
    assert client.post(f"/circles/southwark/coordinate/bundles/{bundle.pk}/on-sale/", {"on_sale": "0"}).status_code == 403
    bundle.refresh_from_db()
    assert bundle.is_active
    assert not Transfer.objects.exists()
    assert not Payment.objects.exists()


def test_a_member_of_another_circle_is_not_found_in_this_one(circle, coordinator):
    elsewhere = MemberFactory()
    client = coordinator_client(coordinator)

    for suffix in ("", "details/", "payments/new/", "gifts/new/", "grant/"):
        assert client.get(f"/circles/southwark/coordinate/members/{elsewhere.pk}/{suffix}").status_code == 404


def test_a_member_or_a_stranger_cannot_see_coordinator_pages(client, circle, member):
    client.force_login(member.user)
    assert client.get("/circles/southwark/coordinate/").status_code == 403
    client.logout()
    assert client.get("/circles/southwark/coordinate/").status_code == 302  # to sign in


def test_a_coordinator_must_have_signed_in_with_two_factor(client, circle, coordinator):
    client.force_login(coordinator)

    response = client.get("/circles/southwark/coordinate/")

    assert response.status_code == 302
    assert "/accounts/two-factor/" in response["Location"]


def test_the_member_list_searches_by_name_and_postcode_and_filters_by_status(circle, coordinator, member):
    MemberFactory(circle=circle, display_name="Patrick O'Neill", postcode="IP12 1AA", status="lapsed")
    client = coordinator_client(coordinator)

    by_name = client.get("/circles/southwark/coordinate/?q=doreen").content.decode()
    by_postcode = client.get("/circles/southwark/coordinate/?q=se58qy").content.decode()
    lapsed = client.get("/circles/southwark/coordinate/?status=lapsed").content.decode()

    assert "Doreen Clarke" in by_name
    assert "Patrick" not in by_name
    assert "Doreen Clarke" in by_postcode
    assert "Patrick O&#39;Neill" in lapsed
    assert "Doreen Clarke" not in lapsed


def test_the_member_list_makes_a_fixed_number_of_queries_and_pages(circle, coordinator, django_assert_max_num_queries,
                                                                   settings):
    settings.PAGE_SIZE = 5
    for number in range(12):
        MemberFactory(circle=circle, display_name=f"Member {number:02d}")
    client = coordinator_client(coordinator)
    client.get("/circles/southwark/coordinate/")

    with django_assert_max_num_queries(7):
        page = client.get("/circles/southwark/coordinate/").content.decode()

    assert "Member 00" in page
    assert "Member 05" not in page
    next_url = re.search(r'href="(/circles/southwark/coordinate/\?cursor=[^"]+)"', page).group(1).replace("&amp;", "&")
    with django_assert_max_num_queries(7):
        second = client.get(next_url).content.decode()
    assert "Member 05" in second
    assert "Member 00" not in second


def test_a_coordinator_joins_someone_up_by_phone(circle, coordinator):
    client = coordinator_client(coordinator)
    form = {"consent": "on", "eligibility_confirmed": "on", "display_name": "Doreen Clarke", "email": "",
            "phone": "020 7946 0201", "postal_address": "", "postcode": "", "contact_preference": "phone"}

    response = client.post("/circles/southwark/coordinate/members/new/", form, follow=True)

    assert "Doreen Clarke is now a member" in response.content.decode()
    member = Member.objects.get()
    assert member.route == JoinRoute.ASSISTED
    assert member.entered_by == coordinator
    assert AuditEvent.objects.get(action="circles.member_join_assisted").on_behalf_of == member.user


def test_assisted_join_without_consent_says_what_is_missing(circle, coordinator):
    response = coordinator_client(coordinator).post("/circles/southwark/coordinate/members/new/", {
        "display_name": "Doreen Clarke", "phone": "0207", "contact_preference": "phone", "eligibility_confirmed": "on"})

    page = response.content.decode()
    assert "Confirm the person agreed to you entering their details for them" in page
    assert not Member.objects.exists()


def test_recording_a_payment_twice_from_the_same_form_records_it_once(circle, coordinator, member):
    client = coordinator_client(coordinator)
    url = f"/circles/southwark/coordinate/members/{member.pk}/payments/new/"
    key = key_from(client.get(url).content.decode())
    form = {"purpose": "tokens", "bundle": str(circle.bundles.get().pk), "method": "cheque", "amount": "",
            "reference": "Cheque 123", "idempotency_key": key}

    first = client.post(url, form, follow=True)
    second = client.post(url, form, follow=True)

    assert "The payment of £30 is recorded" in first.content.decode()
    assert "This payment was already recorded" in second.content.decode()
    assert Payment.objects.count() == 1
    assert Transfer.objects.count() == 1
    assert Account.objects.get(member=member).balance_quarters == 12
    assert AuditEvent.objects.get(action="circles.payment_record").on_behalf_of == member.user


def test_recording_a_payment_with_a_bad_amount_says_so(circle, coordinator, member):
    client = coordinator_client(coordinator)
    url = f"/circles/southwark/coordinate/members/{member.pk}/payments/new/"

    response = client.post(url, {"purpose": "fee", "method": "cash", "amount": "ten", "idempotency_key": "k"})

    assert "Enter an amount in pounds, like 10 or 12.50" in response.content.decode()
    assert not Payment.objects.exists()


def test_recording_the_fee_marks_the_year_paid(circle, coordinator, member):
    client = coordinator_client(coordinator)
    url = f"/circles/southwark/coordinate/members/{member.pk}/payments/new/"

    client.post(url, {"purpose": "fee", "method": "cash", "amount": "20", "idempotency_key": "k"})

    page = client.get(f"/circles/southwark/coordinate/members/{member.pk}/").content.decode()
    assert "Paid £20" in page


def test_a_coordinator_records_a_gift(circle, coordinator, member):
    client = coordinator_client(coordinator)
    url = f"/circles/southwark/coordinate/members/{member.pk}/gifts/new/"
    form = {"payer_name": "Sarah Clarke", "payer_email": "", "bundle": str(circle.bundles.get().pk),
            "method": "bank_transfer", "reference": "", "idempotency_key": key_from(client.get(url).content.decode())}

    response = client.post(url, form, follow=True)

    assert "The gift from Sarah Clarke is recorded" in response.content.decode()
    assert Account.objects.get(member=member).balance_quarters == 12


def test_a_coordinator_grants_tokens(circle, coordinator, member):
    client = coordinator_client(coordinator)
    url = f"/circles/southwark/coordinate/members/{member.pk}/grant/"
    key = key_from(client.get(url).content.decode())

    client.post(url, {"tokens": "1.5", "memo": "Welcome", "idempotency_key": key})
    client.post(url, {"tokens": "1.5", "memo": "Welcome", "idempotency_key": key})

    assert Account.objects.get(member=member).balance_quarters == 6


def test_tokens_must_be_in_quarter_hours(circle, coordinator, member):
    client = coordinator_client(coordinator)

    response = client.post(f"/circles/southwark/coordinate/members/{member.pk}/grant/",
                           {"tokens": "1.1", "memo": "", "idempotency_key": "k"})

    assert "Enter tokens in quarters of an hour" in response.content.decode()


def test_a_coordinator_changes_the_circles_settings(circle, coordinator):
    client = coordinator_client(coordinator)

    response = client.post("/circles/southwark/coordinate/settings/", {
        "description": "New words", "annual_fee": "25.50", "minimum_age": "", "welcome_tokens": "2",
        "credit_tokens": "1", "renewal_reminder_days": "14", "is_active": "on"}, follow=True)

    assert "The circle&#39;s settings are saved" in response.content.decode()
    circle.refresh_from_db()
    assert (circle.annual_fee_pence, circle.minimum_age, circle.welcome_quarters, circle.minimum_balance_quarters,
            circle.renewal_reminder_days) == (2550, None, 8, -4, 14)


def test_a_coordinator_adds_changes_and_withdraws_bundles(circle, coordinator):
    client = coordinator_client(coordinator)

    client.post("/circles/southwark/coordinate/bundles/", {"name": "6 tokens", "tokens": "6", "price": "55"})
    bundle = TokenBundle.objects.get(name="6 tokens")
    assert (bundle.quarters, bundle.price_pence) == (24, 5500)
    duplicate = client.post("/circles/southwark/coordinate/bundles/", {"name": "6 tokens", "tokens": "6", "price": "5"})
    assert "There is already a bundle with this name" in duplicate.content.decode()
    client.post(f"/circles/southwark/coordinate/bundles/{bundle.pk}/", {"name": "6 tokens", "tokens": "6", "price": "50"})
    withdrawn = client.post(f"/circles/southwark/coordinate/bundles/{bundle.pk}/on-sale/", {"on_sale": "0"}, follow=True)
    assert "6 tokens is no longer on sale" in withdrawn.content.decode()

    bundle.refresh_from_db()
    assert bundle.price_pence == 5000
    assert not bundle.is_active
    assert "6 tokens" not in client.get("/circles/southwark/").content.decode()


def test_a_coordinator_adds_and_removes_a_partner_from_the_directory(circle, coordinator):
    organisation = OrganisationFactory(name="Age Friendly Southwark")
    client = coordinator_client(coordinator)

    found = client.get("/circles/southwark/coordinate/partners/?q=friendly").content.decode()
    assert "Age Friendly Southwark" in found
    client.post("/circles/southwark/coordinate/partners/", {"organisation": str(organisation.pk)})
    partner = CirclePartner.objects.get(circle=circle)
    client.post("/circles/southwark/coordinate/partners/", {"remove": str(partner.pk)})

    assert not CirclePartner.objects.exists()
    assert AuditEvent.objects.filter(action__in=["circles.partner_add", "circles.partner_remove"]).count() == 2


def test_the_coordinators_page_lists_them(circle, coordinator):
    page = coordinator_client(coordinator).get("/circles/southwark/coordinate/coordinators/").content.decode()

    assert coordinator.email in page


def test_a_member_detail_page_makes_a_fixed_number_of_queries(circle, coordinator, member, django_assert_max_num_queries):
    for number in range(5):
        Payment.objects.create(circle=circle, member=member, purpose="fee", method="cash", amount_pence=100,
                               idempotency_key=f"k{number}")
    client = coordinator_client(coordinator)

    with django_assert_max_num_queries(11):
        client.get(f"/circles/southwark/coordinate/members/{member.pk}/")


# --- Every page in English and Welsh ------------------------------------------------------------

@pytest.mark.parametrize("language", ["en-gb", "cy"])
def test_every_circles_page_renders_in_english_and_welsh(circle, coordinator, member, language):
    from localsocial.circles.services.payments import payment_card_start

    payment = payment_card_start(member=member, purpose="fee", idempotency_key="k", actor=member.user)
    public = ["/circles/", "/circles/southwark/", "/circles/southwark/join/", "/circles/southwark/gift/",
              f"/circles/southwark/pay/{payment.provider_reference}/",
              f"/circles/southwark/pay/{payment.provider_reference}/done/"]
    as_member = ["/circles/southwark/join/", "/circles/southwark/membership/", "/circles/southwark/membership/details/"]
    client = CommittingClient()
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    for path in public:
        response = client.get(path)
        assert response.status_code == 200, path
        assert f'<html lang="{language}"' in response.content.decode()
    client.force_login(member.user)
    for path in as_member:
        response = client.get(path)
        assert response.status_code == 200, path
        assert f'<html lang="{language}"' in response.content.decode()
    newcomer = CommittingClient()
    newcomer.force_login(UserFactory())
    newcomer.post("/i18n/setlang/", {"language": language, "next": "/"})
    assert newcomer.get("/circles/southwark/join/").status_code == 200
    staff = coordinator_client(coordinator)
    staff.post("/i18n/setlang/", {"language": language, "next": "/"})
    for path in coordinator_urls(circle, member, circle.bundles.get()):
        response = staff.get(path)
        assert response.status_code == 200, path
        assert f'<html lang="{language}"' in response.content.decode()


def test_words_other_circles_pages_use_are_never_taken_for_a_circle():
    from django.urls import Resolver404, resolve

    for path in ("/circles/statement/", "/circles/help/", "/circles/accounts/1/statement/"):
        try:
            match = resolve(path)
        except Resolver404:
            continue
        assert not match.view_name.startswith(("circles:circle", "circles:join", "circles:coordinate")), path


def test_the_to_contact_page_lists_members_to_phone_about_their_renewal(circle, coordinator):
    member = MemberFactory(circle=circle, display_name="Patrick O'Neill", contact_preference="post",
                           postal_address="Rose Cottage", postcode="IP12 1AA")
    today = timezone.localdate()
    MembershipYear.objects.create(member=member, starts_on=today - dt.timedelta(days=355),
                                  ends_on=today + dt.timedelta(days=10), fee_pence=2000,
                                  reminder_sent_at=timezone.now())

    page = coordinator_client(coordinator).get("/circles/southwark/coordinate/to-contact/").content.decode()

    assert "Patrick O&#39;Neill" in page
    assert "Prefers post" in page
    assert "Rose Cottage" in page


def test_a_coordinator_must_set_up_two_factor_before_any_page(client, circle, coordinator):
    # A coordinator acts for members and sees their details: staff rules apply site-wide,
    # not only on the coordinator pages.
    client.force_login(coordinator)

    response = client.get("/stories/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/setup/")


def test_a_coordinator_without_two_factor_never_reaches_a_coordinator_page(client, circle, coordinator):
    client.force_login(coordinator)

    response = client.get("/circles/southwark/coordinate/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/setup/?next=/circles/southwark/coordinate/")
