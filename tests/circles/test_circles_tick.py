"""The daily clock: renewal reminders once, phone and post members to contact, lapsing."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from freezegun import freeze_time

from localsocial.circles.models import MembershipYear, MemberStatus
from localsocial.circles.selectors.membership import members_to_contact
from localsocial.circles.services.membership import memberships_tick
from localsocial.circles.services.payments import payment_record
from tests.circles.factories import CircleFactory, CoordinatorFactory, MemberFactory
from tests.factories import UserFactory

START = dt.date(2026, 1, 10)
END = dt.date(2027, 1, 10)
# The test's own calendar: the members join (and those who pay, pay) on the first day of their
# year, and run_on moves the clock on from there; no day here meets today's real date.
pytestmark = [pytest.mark.django_db, pytest.mark.clock(START)]


def member_with_year(circle, *, preference="email", email=None, paid=False, coordinator=None):
    user = UserFactory(email=email) if email else UserFactory()
    member = MemberFactory(circle=circle, user=user, contact_preference=preference)
    MembershipYear.objects.create(member=member, starts_on=START, ends_on=END, fee_pence=1000)
    if paid:
        payment_record(circle=circle, member=member, actor=coordinator, purpose="fee", method="cash",
                       amount_pence=1000, idempotency_key=f"fee-{member.pk}")
    return member


@pytest.fixture
def circle():
    return CircleFactory(renewal_reminder_days=30, name="Southwark Circle")


def run_on(day, django_capture_on_commit_callbacks):
    with freeze_time(day), django_capture_on_commit_callbacks(execute=True):
        return memberships_tick()


def test_no_reminder_before_the_window(circle, django_capture_on_commit_callbacks):
    member_with_year(circle)

    result = run_on("2026-12-10", django_capture_on_commit_callbacks)

    assert result.reminders_emailed == 0
    assert mail.outbox == []


def test_a_reminder_is_emailed_once_in_the_window(circle, django_capture_on_commit_callbacks):
    member = member_with_year(circle)

    first = run_on("2026-12-12", django_capture_on_commit_callbacks)
    second = run_on("2026-12-13", django_capture_on_commit_callbacks)

    assert first.reminders_emailed == 1
    assert second.reminders_emailed == 0
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [member.user.email]
    assert "Southwark Circle" in mail.outbox[0].subject
    assert "10 January 2027" in mail.outbox[0].subject
    assert MembershipYear.objects.get().reminder_sent_at is not None


def test_members_who_prefer_phone_or_post_or_have_no_email_are_listed_to_contact(circle, django_capture_on_commit_callbacks):
    phone = member_with_year(circle, preference="phone")
    post = member_with_year(circle, preference="post")
    no_email = member_with_year(circle, email="member-abc@phone.invalid")
    member_with_year(circle)  # prefers email: gets an email instead

    result = run_on("2026-12-12", django_capture_on_commit_callbacks)

    assert result.reminders_to_contact == 3
    assert result.reminders_emailed == 1
    with freeze_time("2026-12-12"):
        listed = {row.member.pk for row in members_to_contact(circle=circle)}
    assert listed == {phone.pk, post.pk, no_email.pk}


def test_a_member_who_renewed_is_not_reminded_and_leaves_the_list(circle, django_capture_on_commit_callbacks):
    coordinator = CoordinatorFactory(circle=circle).user
    member = member_with_year(circle, preference="phone", paid=True, coordinator=coordinator)
    run_on("2026-12-12", django_capture_on_commit_callbacks)
    with freeze_time("2026-12-12"):
        assert [row.member.pk for row in members_to_contact(circle=circle)] == [member.pk]

        payment_record(circle=circle, member=member, actor=coordinator, purpose="fee", method="cash",
                       amount_pence=1000, idempotency_key="renewal")

        assert members_to_contact(circle=circle) == []


def test_members_whose_year_ended_lapse_and_come_back_when_they_pay(circle, django_capture_on_commit_callbacks):
    coordinator = CoordinatorFactory(circle=circle).user
    unpaid = member_with_year(circle)
    paid_then_ended = member_with_year(circle, paid=True, coordinator=coordinator)

    before = run_on("2027-01-09", django_capture_on_commit_callbacks)
    after = run_on("2027-01-10", django_capture_on_commit_callbacks)
    again = run_on("2027-01-11", django_capture_on_commit_callbacks)

    assert before.lapsed == 0
    assert after.lapsed == 2
    assert again.lapsed == 0
    unpaid.refresh_from_db()
    paid_then_ended.refresh_from_db()
    assert unpaid.status == paid_then_ended.status == MemberStatus.LAPSED

    with freeze_time("2027-01-20"):
        payment_record(circle=circle, member=unpaid, actor=coordinator, purpose="fee", method="cash",
                       amount_pence=1000, idempotency_key="back")
    unpaid.refresh_from_db()
    assert unpaid.status == MemberStatus.ACTIVE
    assert run_on("2027-01-21", django_capture_on_commit_callbacks).lapsed == 0


def test_the_command_reports_what_it_did(circle):
    member_with_year(circle, preference="phone")

    out = StringIO()
    with freeze_time("2026-12-12"):
        call_command("circles_tick", stdout=out)

    assert "to phone or write: 1" in out.getvalue()
