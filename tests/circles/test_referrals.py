"""Referrals between a circle and its partner organisations: who may refer, consent, one
referral per form, what happened, joining someone up from a referral, who sees what, the
figures, personal data and retention."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from localsocial.circles.models import (
    CirclePartner,
    Member,
    Referral,
    ReferralDirection,
    ReferralStatus,
)
from localsocial.circles.personal_data import circles_erase, circles_export
from localsocial.circles.selectors.referrals import (
    referral_counts,
    referral_get_for_user,
    referral_partners_for_referrer,
    referrals_for_coordinator,
    referrals_for_partner_staff,
)
from localsocial.circles.services.membership import MemberDetails
from localsocial.circles.services.referrals import (
    REDACTED,
    ReferredPerson,
    partner_answerers_emails,
    referral_in_create,
    referral_join,
    referral_out_create,
    referral_update,
    referrals_redact_ended,
)
from localsocial.core.models import AuditEvent
from localsocial.directory.models import StaffRole
from tests.circles.factories import CircleFactory, MemberFactory
from tests.circles.test_help_support import coordinator_of
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def circle():
    return CircleFactory(name="Southwark Circle", slug="southwark")


def partner_of(circle, **fields):
    organisation = OrganisationFactory(**fields)
    CirclePartner.objects.create(circle=circle, organisation=organisation)
    return organisation


def staff_of(organisation, role=StaffRole.MEMBER):
    return MembershipFactory(organisation=organisation, role=role).user


def person(**overrides):
    fields = {"name": "Ada Lovelace", "phone": "020 7946 0123", "email": "", "postcode": "se1 7eh",
              "reason": "Lives alone and would like company", "needs": "Hard of hearing: please call"}
    fields.update(overrides)
    return ReferredPerson(**fields)


def refer_in(circle, partner, actor, key="form-1", consent=True, **overrides):
    return referral_in_create(circle=circle, partner=partner, actor=actor, person=person(**overrides),
                              consent=consent, idempotency_key=key)


def refer_out(member, partner, actor, key="out-1", consent=True, **fields):
    arguments = {"reason": "Would like advice on benefits", "phone": member.phone}
    arguments.update(fields)
    return referral_out_create(member=member, partner=partner, actor=actor, consent=consent, idempotency_key=key,
                               **arguments)


# --- Referring in ------------------------------------------------------------------------------

def test_partner_staff_refer_someone_and_the_coordinators_get_a_link_without_the_details(
    circle, django_capture_on_commit_callbacks,
):
    coordinator = coordinator_of(circle)
    practice = partner_of(circle, name="Borough GP Practice")
    nurse = staff_of(practice)

    with django_capture_on_commit_callbacks(execute=True):
        referral, created = refer_in(circle, practice, nurse)

    assert created
    assert (referral.direction, referral.status, referral.person_postcode) == ("in", "new", "SE1 7EH")
    assert referral.consent_given_at is not None
    assert [m.to for m in mail.outbox] == [[coordinator.email]]
    body = mail.outbox[0].body
    assert "Borough GP Practice has referred someone to Southwark Circle" in body
    assert f"/circles/referrals/{referral.pk}/" in body
    for detail in ("Ada", "0123", "alone", "hearing"):
        assert detail not in body
    event = AuditEvent.objects.get(action="circles.referral_in_create")
    assert event.actor == nurse
    assert "Ada" not in str(event.after)


def test_staff_of_an_organisation_above_the_partner_may_refer_for_it(circle):
    trust = OrganisationFactory(name="Health Trust")
    practice = OrganisationFactory(name="Borough GP Practice", parent=trust)
    CirclePartner.objects.create(circle=circle, organisation=practice)
    manager = staff_of(trust, StaffRole.ADMINISTRATOR)

    referral, _created = refer_in(circle, practice, manager)

    assert referral.partner == practice


def test_staff_of_an_organisation_that_is_not_a_partner_are_refused_with_a_reason(circle):
    housing = OrganisationFactory(name="Housing Association")
    officer = staff_of(housing)

    with pytest.raises(ValidationError) as refused:
        refer_in(circle, housing, officer)

    assert "Housing Association is not a partner of Southwark Circle" in str(refused.value)
    assert not Referral.objects.exists()


def test_someone_who_works_for_neither_side_cannot_refer(circle):
    practice = partner_of(circle)
    other = staff_of(OrganisationFactory())

    with pytest.raises(PermissionDenied):
        refer_in(circle, practice, other)
    with pytest.raises(PermissionDenied):
        refer_in(circle, practice, UserFactory())


def test_a_coordinator_may_refer_for_a_partner_on_the_phone(circle):
    practice = partner_of(circle)

    referral, _created = refer_in(circle, practice, coordinator_of(circle))

    assert referral.partner == practice


def test_a_referral_needs_the_persons_agreement(circle):
    practice = partner_of(circle)

    with pytest.raises(ValidationError) as refused:
        refer_in(circle, practice, staff_of(practice), consent=False)

    assert refused.value.message_dict["consent"] == ["Confirm that the person agreed to be referred"]
    assert not Referral.objects.exists()


def test_a_referral_in_needs_a_way_to_reach_the_person(circle):
    practice = partner_of(circle)

    with pytest.raises(ValidationError) as refused:
        refer_in(circle, practice, staff_of(practice), phone="", email="")

    assert "person_phone" in refused.value.message_dict


def test_the_same_form_sent_twice_makes_one_referral_and_one_email(circle, django_capture_on_commit_callbacks):
    coordinator_of(circle)
    practice = partner_of(circle)
    nurse = staff_of(practice)

    with django_capture_on_commit_callbacks(execute=True):
        first, created_first = refer_in(circle, practice, nurse, key="same")
        second, created_second = refer_in(circle, practice, nurse, key="same")

    assert first == second
    assert (created_first, created_second) == (True, False)
    assert Referral.objects.count() == 1
    assert len(mail.outbox) == 1


# --- Referring out -----------------------------------------------------------------------------

def test_a_coordinator_refers_a_member_out_and_the_partners_answerers_get_a_link(
    circle, django_capture_on_commit_callbacks,
):
    coordinator = coordinator_of(circle)
    advice = partner_of(circle, name="Citizens Advice")
    responder = staff_of(advice, StaffRole.RESPONDER)
    admin = staff_of(advice, StaffRole.ADMINISTRATOR)
    staff_of(advice, StaffRole.MEMBER)
    member = MemberFactory(circle=circle, display_name="Mr Patel")

    with django_capture_on_commit_callbacks(execute=True):
        referral, created = refer_out(member, advice, coordinator)

    assert created
    assert (referral.direction, referral.member, referral.person_name) == ("out", member, "Mr Patel")
    assert sorted(mail.outbox[0].to) == sorted([responder.email, admin.email])
    assert "Mr Patel" not in mail.outbox[0].body
    assert "benefits" not in mail.outbox[0].body
    event = AuditEvent.objects.get(action="circles.referral_out_create")
    assert event.on_behalf_of == member.user


def test_without_answerers_of_its_own_a_partners_nearest_parent_with_some_is_emailed(circle):
    council = OrganisationFactory()
    department = OrganisationFactory(parent=council)
    team = OrganisationFactory(parent=department)
    department_admin = staff_of(department, StaffRole.ADMINISTRATOR)
    staff_of(council, StaffRole.ADMINISTRATOR)

    assert partner_answerers_emails(organisation=team) == [department_admin.email]


def test_only_coordinators_of_the_members_circle_refer_them_out(circle):
    advice = partner_of(circle)
    member = MemberFactory(circle=circle)
    other_coordinator = coordinator_of(CircleFactory())

    with pytest.raises(PermissionDenied):
        refer_out(member, advice, other_coordinator)
    with pytest.raises(PermissionDenied):
        refer_out(member, advice, staff_of(advice))


def test_referring_out_needs_the_members_agreement_and_a_partner(circle):
    coordinator = coordinator_of(circle)
    member = MemberFactory(circle=circle, display_name="Mr Patel")

    with pytest.raises(ValidationError) as no_consent:
        refer_out(member, partner_of(circle), coordinator, consent=False)
    with pytest.raises(ValidationError) as not_partner:
        refer_out(member, OrganisationFactory(name="Elsewhere"), coordinator, key="out-2")

    assert no_consent.value.message_dict["consent"] == ["Confirm that Mr Patel agreed to be referred"]
    assert "Elsewhere is not a partner" in not_partner.value.message_dict["partner"][0]


# --- What happened -----------------------------------------------------------------------------

def test_partner_staff_record_what_happened_to_a_referral_out(circle):
    advice = partner_of(circle)
    referral, _ = refer_out(MemberFactory(circle=circle), advice, coordinator_of(circle))
    adviser = staff_of(advice)

    referral_update(referral=referral, actor=adviser, status=ReferralStatus.CONTACTED)
    ended = referral_update(referral=referral, actor=adviser, status=ReferralStatus.ACCEPTED,
                            outcome="Seen on Tuesday; claim started")

    ended.refresh_from_db()
    assert ended.status == ReferralStatus.ACCEPTED
    assert ended.outcome == "Seen on Tuesday; claim started"
    assert ended.closed_at is not None
    assert AuditEvent.objects.filter(action="circles.referral_update").count() == 2


def test_an_ended_referral_cannot_be_reopened_but_saying_the_same_again_is_harmless(circle):
    advice = partner_of(circle)
    referral, _ = refer_out(MemberFactory(circle=circle), advice, coordinator_of(circle))
    adviser = staff_of(advice)
    referral_update(referral=referral, actor=adviser, status=ReferralStatus.DECLINED, outcome="Out of our area")

    again = referral_update(referral=referral, actor=adviser, status=ReferralStatus.DECLINED, outcome="Out of area")
    with pytest.raises(ValidationError):
        referral_update(referral=referral, actor=adviser, status=ReferralStatus.CONTACTED)

    assert again.outcome == "Out of our area"
    assert again.status == ReferralStatus.DECLINED


def test_declining_or_closing_needs_a_note(circle):
    practice = partner_of(circle)
    coordinator = coordinator_of(circle)
    referral, _ = refer_in(circle, practice, staff_of(practice))

    with pytest.raises(ValidationError) as refused:
        referral_update(referral=referral, actor=coordinator, status=ReferralStatus.CLOSED)

    assert refused.value.message_dict["outcome"] == ["Say what happened"]
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.NEW


def test_coordinators_answer_referrals_in_and_partner_staff_cannot(circle):
    practice = partner_of(circle)
    nurse = staff_of(practice)
    referral, _ = refer_in(circle, practice, nurse)

    with pytest.raises(PermissionDenied):
        referral_update(referral=referral, actor=nurse, status=ReferralStatus.CONTACTED)
    updated = referral_update(referral=referral, actor=coordinator_of(circle), status=ReferralStatus.CONTACTED)

    assert updated.status == ReferralStatus.CONTACTED
    assert updated.closed_at is None


def test_a_referral_in_is_accepted_only_by_joining_the_person_up(circle):
    practice = partner_of(circle)
    referral, _ = refer_in(circle, practice, staff_of(practice))

    with pytest.raises(ValidationError) as refused:
        referral_update(referral=referral, actor=coordinator_of(circle), status=ReferralStatus.ACCEPTED)

    assert refused.value.message_dict["status"] == ["To accept this referral, join the person up."]


def test_coordinators_may_close_a_referral_out_but_not_answer_for_the_partner(circle):
    coordinator = coordinator_of(circle)
    referral, _ = refer_out(MemberFactory(circle=circle), partner_of(circle), coordinator)

    with pytest.raises(ValidationError):
        referral_update(referral=referral, actor=coordinator, status=ReferralStatus.ACCEPTED)
    closed = referral_update(referral=referral, actor=coordinator, status=ReferralStatus.CLOSED,
                             outcome="Member moved away")

    assert closed.status == ReferralStatus.CLOSED


def test_a_coordinator_of_another_circle_cannot_change_a_referral(circle):
    practice = partner_of(circle)
    referral, _ = refer_in(circle, practice, staff_of(practice))

    with pytest.raises(PermissionDenied):
        referral_update(referral=referral, actor=coordinator_of(CircleFactory()), status=ReferralStatus.CONTACTED)


# --- Joining up from a referral ----------------------------------------------------------------

def test_joining_someone_up_from_a_referral_links_it_to_the_new_member_and_accepts_it(circle):
    practice = partner_of(circle)
    coordinator = coordinator_of(circle)
    referral, _ = refer_in(circle, practice, staff_of(practice))

    member = referral_join(
        referral=referral, actor=coordinator, details=MemberDetails(display_name="Ada Lovelace", phone="020 7946 0123"),
        email="", eligibility_confirmed=True, consent=True,
    )
    again = referral_join(
        referral=referral, actor=coordinator, details=MemberDetails(display_name="Ada Lovelace", phone="020 7946 0123"),
        email="", eligibility_confirmed=True, consent=True,
    )

    referral.refresh_from_db()
    assert (referral.member, referral.status) == (member, ReferralStatus.ACCEPTED)
    assert referral.closed_at is not None
    assert again == member
    assert Member.objects.filter(circle=circle).count() == 1
    assert AuditEvent.objects.get(action="circles.referral_join").on_behalf_of == member.user


def test_when_joining_fails_the_referral_stays_open(circle):
    practice = partner_of(circle)
    referral, _ = refer_in(circle, practice, staff_of(practice))

    with pytest.raises(ValidationError):
        referral_join(referral=referral, actor=coordinator_of(circle), details=MemberDetails(display_name="Ada"),
                      email="", eligibility_confirmed=True, consent=False)

    referral.refresh_from_db()
    assert referral.status == ReferralStatus.NEW
    assert referral.member is None
    assert not Member.objects.exists()


def test_partner_staff_cannot_join_people_up(circle):
    practice = partner_of(circle)
    nurse = staff_of(practice)
    referral, _ = refer_in(circle, practice, nurse)

    with pytest.raises(PermissionDenied):
        referral_join(referral=referral, actor=nurse, details=MemberDetails(display_name="Ada", phone="1"),
                      email="", eligibility_confirmed=True, consent=True)


# --- Who sees what -----------------------------------------------------------------------------

def test_partner_staff_see_their_organisations_referrals_and_not_another_partners(circle):
    practice = partner_of(circle, name="Practice A")
    pharmacy = partner_of(circle, name="Pharmacy B")
    nurse = staff_of(practice)
    pharmacist = staff_of(pharmacy)
    theirs, _ = refer_in(circle, practice, nurse, key="a")
    others, _ = refer_in(circle, pharmacy, pharmacist, key="b")

    lists = referrals_for_partner_staff(user=nurse)

    assert [r.pk for r in lists.open] == [theirs.pk]
    assert referral_get_for_user(user=nurse, referral_id=theirs.pk).referral == theirs
    with pytest.raises(Http404):
        referral_get_for_user(user=nurse, referral_id=others.pk)


def test_a_coordinator_of_another_circle_cannot_see_a_referral(circle):
    practice = partner_of(circle)
    referral, _ = refer_in(circle, practice, staff_of(practice))

    with pytest.raises(Http404):
        referral_get_for_user(user=coordinator_of(CircleFactory()), referral_id=referral.pk)
    with pytest.raises(Http404):
        referral_get_for_user(user=UserFactory(), referral_id=referral.pk)


def test_a_partners_staff_refer_only_for_their_own_partner_organisations(circle):
    practice = partner_of(circle, name="Practice A")
    partner_of(circle, name="Pharmacy B")
    nurse = staff_of(practice)

    assert referral_partners_for_referrer(user=nurse, circle=circle) == [practice]
    assert [o.name for o in referral_partners_for_referrer(user=coordinator_of(circle), circle=circle)] == [
        "Pharmacy B", "Practice A"]
    assert referral_partners_for_referrer(user=UserFactory(), circle=circle) == []


def test_the_coordinators_lists_put_open_referrals_oldest_first_and_count_them(circle):
    practice = partner_of(circle)
    nurse = staff_of(practice)
    coordinator = coordinator_of(circle)
    older, _ = refer_in(circle, practice, nurse, key="a")
    newer, _ = refer_in(circle, practice, nurse, key="b")
    ended, _ = refer_in(circle, practice, nurse, key="c")
    Referral.objects.filter(pk=older.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
    referral_update(referral=ended, actor=coordinator, status=ReferralStatus.CLOSED, outcome="No answer")
    out, _ = refer_out(MemberFactory(circle=circle), practice, coordinator)

    lists = referrals_for_coordinator(circle=circle)

    assert [r.pk for r in lists.incoming] == [older.pk, newer.pk]
    assert [r.pk for r in lists.outgoing] == [out.pk]
    assert [r.pk for r in lists.ended] == [ended.pk]
    assert lists.open_count("in") == 2
    assert lists.counts["in"]["closed"] == 1


def test_referral_counts_give_partner_direction_and_outcome_within_the_dates(circle):
    practice = partner_of(circle, name="Practice A")
    advice = partner_of(circle, name="Advice B")
    nurse = staff_of(practice)
    coordinator = coordinator_of(circle)
    refer_in(circle, practice, nurse, key="a")
    refer_in(circle, practice, nurse, key="b")
    old, _ = refer_in(circle, practice, nurse, key="c")
    Referral.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=400))
    refer_out(MemberFactory(circle=circle), advice, coordinator)
    elsewhere = CircleFactory()
    CirclePartner.objects.create(circle=elsewhere, organisation=practice)
    refer_in(elsewhere, practice, coordinator_of(elsewhere), key="x")  # another circle's: not counted
    today = timezone.localdate()

    rows = referral_counts(circle=circle, start=today - dt.timedelta(days=30), end=today)

    assert [(r.partner, r.direction, r.status, r.count) for r in rows] == [
        ("Advice B", "out", "new", 1), ("Practice A", "in", "new", 2)]


# --- Personal data and retention ---------------------------------------------------------------

def test_a_members_export_holds_the_referrals_about_them_and_erasing_removes_the_details(circle):
    coordinator = coordinator_of(circle)
    member = MemberFactory(circle=circle, display_name="Mr Patel")
    refer_out(member, partner_of(circle, name="Citizens Advice"), coordinator)

    exported = circles_export(member.user)["memberships"][0]["referrals"]
    circles_erase(member.user)

    assert exported[0]["partner"] == "Citizens Advice"
    assert exported[0]["reason"] == "Would like advice on benefits"
    referral = Referral.objects.get()
    assert (referral.person_name, referral.reason, referral.direction) == (REDACTED, REDACTED, ReferralDirection.OUT)


def test_details_leave_a_referral_a_year_after_it_ended(circle):
    practice = partner_of(circle)
    coordinator = coordinator_of(circle)
    old, _ = refer_in(circle, practice, staff_of(practice), key="a")
    recent, _ = refer_in(circle, practice, staff_of(practice), key="b")
    still_open, _ = refer_in(circle, practice, staff_of(practice), key="c")
    for referral in (old, recent):
        referral_update(referral=referral, actor=coordinator, status=ReferralStatus.CLOSED, outcome="No answer")
    Referral.objects.filter(pk=old.pk).update(closed_at=timezone.now() - dt.timedelta(days=366))

    redacted = referrals_redact_ended()
    again = referrals_redact_ended()

    assert (redacted, again) == (1, 0)
    names = dict(Referral.objects.values_list("pk", "person_name"))
    assert names == {old.pk: REDACTED, recent.pk: "Ada Lovelace", still_open.pk: "Ada Lovelace"}
    assert Referral.objects.get(pk=old.pk).status == ReferralStatus.CLOSED


def test_linking_to_an_existing_member_is_for_this_circles_coordinators_and_this_circles_members(circle):
    # Given a referral in, and members here and elsewhere
    from localsocial.circles.services.referrals import referral_link_member

    coordinator = coordinator_of(circle)
    partner = partner_of(circle)
    referral, _ = referral_in_create(
        circle=circle, partner=partner, actor=coordinator, consent=True, idempotency_key="link",
        person=ReferredPerson(name="Ada Lovelace", phone="020 7946 0123", reason="Lives alone"),
    )
    here = MemberFactory(circle=circle)
    other_circle = CircleFactory()
    elsewhere = MemberFactory(circle=other_circle)

    # Then a coordinator of another circle is refused, and so is a member of another circle
    with pytest.raises(PermissionDenied):
        referral_link_member(referral=referral, member=here, actor=coordinator_of(other_circle))
    with pytest.raises(ValidationError, match="not a member of this circle"):
        referral_link_member(referral=referral, member=elsewhere, actor=coordinator)

    # And linking this circle's member twice accepts it once, audited once
    referral_link_member(referral=referral, member=here, actor=coordinator)
    referral_link_member(referral=referral, member=here, actor=coordinator)
    referral.refresh_from_db()
    assert (referral.member, referral.status) == (here, ReferralStatus.ACCEPTED)
    assert AuditEvent.objects.filter(action="circles.referral_link_member").count() == 1


def test_the_other_side_hears_what_happened_without_the_persons_details(circle, django_capture_on_commit_callbacks):
    # Given a referral in made by a GP practice's staff member, and one out to the practice
    coordinator = coordinator_of(circle)
    practice = partner_of(circle, name="Borough GP Practice")
    referrer = staff_of(practice)
    MembershipFactory(organisation=practice, role=StaffRole.ADMINISTRATOR, user=UserFactory(email="admin@gp.example"))
    incoming, _ = referral_in_create(
        circle=circle, partner=practice, actor=referrer, consent=True, idempotency_key="news-in",
        person=ReferredPerson(name="Ada Lovelace", phone="020 7946 0123", reason="Lives alone"),
    )
    member = MemberFactory(circle=circle, display_name="Grace Hopper")
    outgoing, _ = referral_out_create(member=member, partner=practice, actor=coordinator, consent=True,
                                      reason="A check on her medicines", idempotency_key="news-out")
    mail.outbox.clear()

    # When the coordinator is in touch with Ada, and the practice takes Grace on
    with django_capture_on_commit_callbacks(execute=True):
        referral_update(referral=incoming, actor=coordinator, status=ReferralStatus.CONTACTED)
    with django_capture_on_commit_callbacks(execute=True):
        referral_update(referral=outgoing, actor=staff_of(practice, role=StaffRole.RESPONDER),
                        status=ReferralStatus.ACCEPTED)

    # Then the referrer hears about Ada's referral, the coordinators about Grace's, each with a
    # link and neither with the person's name
    to_referrer, to_coordinators = mail.outbox
    assert to_referrer.to == [referrer.email]
    assert "The referral is now: In touch." in to_referrer.body
    assert f"/circles/referrals/{incoming.pk}/" in to_referrer.body
    assert to_coordinators.to == [coordinator.email]
    assert "Borough GP Practice has said what happened" in to_coordinators.body
    assert f"/circles/referrals/{outgoing.pk}/" in to_coordinators.body
    for message in mail.outbox:
        assert "Ada" not in message.body
        assert "Grace" not in message.body
