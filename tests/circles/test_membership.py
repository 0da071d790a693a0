"""Joining a circle, online and assisted; members' details; tokens granted; gift codes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from localsocial.circles.models import (
    Account,
    JoinRoute,
    Member,
    MembershipYear,
    Transfer,
    TransferKind,
)
from localsocial.circles.services.membership import (
    MemberDetails,
    member_details_update,
    member_gift_code,
    member_id_from_gift_code,
    member_join,
    member_join_assisted,
    member_tokens_grant,
)
from localsocial.core.models import AuditEvent
from localsocial.core.periods import year_after
from tests.circles.factories import CircleFactory, CoordinatorFactory, MemberFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def details(**overrides):
    values = {"display_name": "Ada Lovelace", "phone": "020 7946 0000", "postal_address": "1 High Street",
              "postcode": "se1 7eh", "contact_preference": "phone"}
    values.update(overrides)
    return MemberDetails(**values)


def balance(member):
    return Account.objects.get(member=member).balance_quarters


def test_joining_online_makes_the_member_their_first_year_account_and_welcome_tokens():
    circle = CircleFactory(annual_fee_pence=2000, welcome_quarters=4)
    user = UserFactory()

    member, created = member_join(circle=circle, user=user, details=details(), eligibility_confirmed=True,
                                  terms_agreed=True)

    assert created
    assert member.route == JoinRoute.ONLINE
    assert member.eligibility_confirmed
    assert member.postcode == "SE1 7EH"
    year = member.years.get()
    assert year.starts_on == timezone.localdate()
    assert year.ends_on == year_after(timezone.localdate())
    assert year.fee_pence == 2000
    assert year.payment is None
    assert balance(member) == 4
    welcome = Transfer.objects.get(circle=circle, kind=TransferKind.GRANT)
    assert welcome.idempotency_key == f"welcome:{member.pk}"
    assert AuditEvent.objects.filter(action="circles.member_join", actor=user, on_behalf_of=None).count() == 1


def test_joining_twice_gives_the_same_membership_and_changes_nothing():
    circle = CircleFactory(welcome_quarters=4)
    user = UserFactory()
    first, _created = member_join(circle=circle, user=user, details=details(), eligibility_confirmed=True,
                                  terms_agreed=True)

    again, created = member_join(circle=circle, user=user, details=details(display_name="Someone else"),
                                 eligibility_confirmed=True, terms_agreed=True)

    assert not created
    assert again.pk == first.pk
    assert Member.objects.get().display_name == "Ada Lovelace"
    assert MembershipYear.objects.count() == 1
    assert balance(first) == 4


def test_a_circle_with_no_welcome_tokens_grants_none_but_opens_the_account():
    circle = CircleFactory(welcome_quarters=0)
    member, _created = member_join(circle=circle, user=UserFactory(), details=details(), eligibility_confirmed=True,
                                   terms_agreed=True)

    assert balance(member) == 0
    assert not Transfer.objects.exists()


def test_joining_without_saying_you_are_old_enough_is_refused_with_the_age():
    circle = CircleFactory(minimum_age=50)

    with pytest.raises(ValidationError) as error:
        member_join(circle=circle, user=UserFactory(), details=details(), eligibility_confirmed=False, terms_agreed=True)

    assert "50 or over" in error.value.message_dict["eligibility_confirmed"][0]
    assert not Member.objects.exists()


def test_joining_a_closed_circle_is_refused():
    circle = CircleFactory(is_active=False, name="Closed Circle")

    with pytest.raises(ValidationError) as error:
        member_join(circle=circle, user=UserFactory(), details=details(), eligibility_confirmed=True, terms_agreed=True)

    assert "Closed Circle is not taking new members" in error.value.messages[0]


def test_joining_without_agreeing_to_the_terms_is_refused():
    with pytest.raises(ValidationError) as error:
        member_join(circle=CircleFactory(), user=UserFactory(), details=details(), eligibility_confirmed=True,
                    terms_agreed=False)

    assert "terms_agreed" in error.value.message_dict


@pytest.mark.parametrize(("overrides", "field"), [
    ({"display_name": "  "}, "display_name"),
    ({"postcode": "not a postcode"}, "postcode"),
    ({"contact_preference": "phone", "phone": ""}, "phone"),
    ({"contact_preference": "post", "postal_address": ""}, "postal_address"),
    ({"emergency_contact_name": "Bob"}, "emergency_contact_phone"),
])
def test_details_that_are_not_right_are_refused_field_by_field(overrides, field):
    with pytest.raises(ValidationError) as error:
        member_join(circle=CircleFactory(), user=UserFactory(), details=details(**overrides),
                    eligibility_confirmed=True, terms_agreed=True)

    assert field in error.value.message_dict
    assert not Member.objects.exists()


def test_a_coordinator_joins_someone_without_email_who_gets_a_placeholder_account():
    coordinator = CoordinatorFactory(circle=CircleFactory(welcome_quarters=8))
    circle = coordinator.circle

    member = member_join_assisted(circle=circle, actor=coordinator.user, details=details(), email="",
                                  eligibility_confirmed=True, consent=True)

    assert member.route == JoinRoute.ASSISTED
    assert member.entered_by == coordinator.user
    assert member.consent_given_at is not None
    assert member.user.email.endswith("@phone.invalid")
    assert not member.user.has_usable_password()
    assert balance(member) == 8
    event = AuditEvent.objects.get(action="circles.member_join_assisted")
    assert event.actor == coordinator.user
    assert event.on_behalf_of == member.user
    welcome = Transfer.objects.get(kind=TransferKind.GRANT)
    assert welcome.on_behalf_of == member.user


def test_assisted_join_with_an_email_uses_their_existing_account():
    coordinator = CoordinatorFactory()
    person = UserFactory(email="nan@example.org")

    member = member_join_assisted(circle=coordinator.circle, actor=coordinator.user, details=details(),
                                  email="NAN@example.org", eligibility_confirmed=True, consent=True)

    assert member.user == person


def test_assisted_join_of_someone_already_a_member_is_refused():
    coordinator = CoordinatorFactory()
    existing = MemberFactory(circle=coordinator.circle, user=UserFactory(email="nan@example.org"))

    with pytest.raises(ValidationError) as error:
        member_join_assisted(circle=coordinator.circle, actor=coordinator.user, details=details(),
                             email=existing.user.email, eligibility_confirmed=True, consent=True)

    assert "already a member" in error.value.message_dict["email"][0]


def test_assisted_join_without_the_persons_agreement_is_refused():
    coordinator = CoordinatorFactory()

    with pytest.raises(ValidationError) as error:
        member_join_assisted(circle=coordinator.circle, actor=coordinator.user, details=details(), email="",
                             eligibility_confirmed=True, consent=False)

    assert "consent" in error.value.message_dict
    assert not Member.objects.exists()


def test_a_coordinator_of_another_circle_cannot_join_people_up_or_act_for_members():
    other = CoordinatorFactory()
    circle = CircleFactory()
    member = MemberFactory(circle=circle)

    with pytest.raises(PermissionDenied):
        member_join_assisted(circle=circle, actor=other.user, details=details(), email="", eligibility_confirmed=True,
                             consent=True)
    with pytest.raises(PermissionDenied):
        member_details_update(member=member, actor=other.user, details=details())
    with pytest.raises(PermissionDenied):
        member_tokens_grant(member=member, actor=other.user, quarters=4, memo="", idempotency_key="k")
    assert not Transfer.objects.exists()


def test_a_member_changes_their_own_details():
    member = MemberFactory()

    member_details_update(member=member, actor=member.user, details=details(contact_preference="email"))

    member.refresh_from_db()
    assert member.display_name == "Ada Lovelace"
    assert member.contact_preference == "email"
    assert AuditEvent.objects.get(action="circles.member_update").on_behalf_of is None


def test_a_coordinator_changing_details_is_recorded_as_done_for_the_member():
    coordinator = CoordinatorFactory()
    member = MemberFactory(circle=coordinator.circle)

    member_details_update(member=member, actor=coordinator.user, details=details())

    event = AuditEvent.objects.get(action="circles.member_update")
    assert event.actor == coordinator.user
    assert event.on_behalf_of == member.user
    assert "display_name" in event.after["changed"]
    assert "Ada Lovelace" not in str(event.after)


def test_granting_tokens_twice_with_the_same_key_grants_once():
    coordinator = CoordinatorFactory()
    member = MemberFactory(circle=coordinator.circle)

    first = member_tokens_grant(member=member, actor=coordinator.user, quarters=6, memo="Thank you",
                                idempotency_key="form-key")
    second = member_tokens_grant(member=member, actor=coordinator.user, quarters=6, memo="Thank you",
                                 idempotency_key="form-key")

    assert first.pk == second.pk
    assert balance(member) == 6
    assert first.on_behalf_of == member.user


def test_a_gift_code_finds_its_member_and_a_made_up_one_does_not():
    member = MemberFactory()
    code = member_gift_code(member=member)

    assert member_id_from_gift_code(code=code) == member.pk
    assert member_id_from_gift_code(code=f"  {code.lower()} ") == member.pk
    assert member_id_from_gift_code(code=f"{member.pk}-AAAAAAAA") is None
    assert member_id_from_gift_code(code=f"{member.pk + 1}-{code.split('-')[1]}") is None
    assert member_id_from_gift_code(code="nonsense") is None


def test_a_year_started_on_29_february_ends_on_28_february():
    assert year_after(dt.date(2028, 2, 29)) == dt.date(2029, 2, 28)


# --- The circle's settings, bundles, partners and coordinators -----------------------------------

def test_every_circle_service_refuses_a_coordinator_of_another_circle():
    from localsocial.circles.services import circles as services
    from tests.circles.factories import TokenBundleFactory
    from tests.factories import OrganisationFactory

    circle = CircleFactory()
    bundle = TokenBundleFactory(circle=circle)
    other = CoordinatorFactory().user
    organisation = OrganisationFactory()
    partner = services.partner_add(circle=circle, actor=CoordinatorFactory(circle=circle).user,
                                   organisation=organisation)[0]
    calls = [
        lambda: services.circle_settings_update(circle=circle, actor=other, annual_fee_pence=1),
        lambda: services.bundle_save(circle=circle, actor=other, name="x", quarters=4, price_pence=100),
        lambda: services.bundle_save(circle=circle, actor=other, bundle=bundle, name="x", quarters=4, price_pence=1),
        lambda: services.bundle_withdraw(bundle=bundle, actor=other),
        lambda: services.partner_add(circle=circle, actor=other, organisation=OrganisationFactory()),
        lambda: services.partner_remove(circle=circle, actor=other, partner_id=partner.pk),
        lambda: services.coordinator_add(circle=circle, actor=other, user=other),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    circle.refresh_from_db()
    bundle.refresh_from_db()
    assert circle.annual_fee_pence != 1
    assert bundle.is_active
    assert bundle.name != "x"
    assert circle.partners.count() == 1
    assert circle.coordinators.count() == 1


def test_a_new_lowest_balance_applies_to_members_accounts_that_allow_it():
    from localsocial.circles.services.circles import circle_settings_update

    coordinator = CoordinatorFactory(circle=CircleFactory(minimum_balance_quarters=0))
    circle = coordinator.circle
    member, _created = member_join(circle=circle, user=UserFactory(), details=details(), eligibility_confirmed=True,
                                   terms_agreed=True)

    circle_settings_update(circle=circle, actor=coordinator.user, minimum_balance_quarters=-8)

    assert Account.objects.get(member=member).minimum_quarters == -8
    with pytest.raises(ValidationError):
        circle_settings_update(circle=circle, actor=coordinator.user, minimum_balance_quarters=4)


# --- Personal data --------------------------------------------------------------------------------

def test_the_data_export_has_the_membership_and_the_gifts_given():
    from localsocial.circles.personal_data import circles_export
    from localsocial.circles.services.payments import payment_record
    from tests.circles.factories import TokenBundleFactory

    coordinator = CoordinatorFactory()
    circle = coordinator.circle
    member, _created = member_join(circle=circle, user=UserFactory(), details=details(), eligibility_confirmed=True,
                                   terms_agreed=True)
    giver = UserFactory(email="sarah@example.org")
    payment_record(circle=circle, member=member, actor=coordinator.user, purpose="gift", method="cash",
                   amount_pence=3000, bundle=TokenBundleFactory(circle=circle), payer_name="Sarah",
                   payer_email="Sarah@example.org", idempotency_key="g")

    mine = circles_export(member.user)
    theirs = circles_export(giver)

    assert mine["memberships"][0]["name"] == "Ada Lovelace"
    assert mine["memberships"][0]["postcode"] == "SE1 7EH"
    assert mine["memberships"][0]["token_balance_quarter_hours"] == 12
    assert mine["memberships"][0]["payments"][0]["from"] == "Sarah"
    assert theirs == {"memberships": [], "gifts_given": [
        {"circle": circle.name, "amount_pence": 3000, "bundle": theirs["gifts_given"][0]["bundle"],
         "status": "succeeded", "paid_at": theirs["gifts_given"][0]["paid_at"]}]}


def test_erasing_removes_the_members_details_but_keeps_years_payments_and_tokens():
    from localsocial.accounts.services import user_erase
    from localsocial.circles.personal_data import register

    register()
    member, _created = member_join(circle=CircleFactory(welcome_quarters=4), user=UserFactory(), details=details(
        accessibility_needs="Guide dog", emergency_contact_name="Bob", emergency_contact_phone="0207"),
        eligibility_confirmed=True, terms_agreed=True)

    user_erase(user=member.user)

    member.refresh_from_db()
    assert member.display_name == "Former member"
    assert member.status == "left"
    assert (member.phone, member.postal_address, member.postcode, member.accessibility_needs,
            member.emergency_contact_name, member.emergency_contact_phone) == ("", "", "", "", "", "")
    assert member.years.count() == 1
    assert balance(member) == 4

