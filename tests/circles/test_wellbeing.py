"""Wellbeing check-ins: saying yes or no, answers once a day, reminders once per interval,
and the personal-data export and erasure."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from freezegun import freeze_time

from localsocial.circles.models import Member, MemberStatus, WellbeingCheckIn
from localsocial.circles.personal_data import circles_erase, circles_export
from localsocial.circles.services.wellbeing import (
    Answers,
    wellbeing_checkin_record,
    wellbeing_checkins_due,
    wellbeing_opt_set,
    wellbeing_reminders_send,
)
from localsocial.core.logging import client_ip_var
from localsocial.core.models import AuditEvent
from tests.circles.factories import CircleFactory, CoordinatorFactory, MemberFactory
from tests.factories import UserFactory

TODAY = dt.date(2026, 6, 15)
# Every test starts on TODAY, its members included, and moves the clock from there.
pytestmark = [pytest.mark.django_db, pytest.mark.clock(TODAY)]


@pytest.fixture(autouse=True)
def _urls_loaded():
    # Load the addresses before any frozen clock: the API's schemas cannot be built under one.
    reverse("circles:index")


@pytest.fixture
def circle():
    return CircleFactory(name="Southwark Circle", slug="southwark")


def opted_in(circle, **fields):
    return MemberFactory(circle=circle, wellbeing_opt_in=True, **fields)


def coordinator_of(circle):
    return CoordinatorFactory(circle=circle).user


def answer(member, actor=None, *, answers=(1, 2, 3), taken_on=None):
    return wellbeing_checkin_record(member=member, actor=actor or member.user, answers=Answers(*answers),
                                    taken_on=taken_on)


# --- Saying yes or no ------------------------------------------------------------------------------

def test_a_member_says_yes_and_it_is_logged_as_their_own_choice(circle):
    member = MemberFactory(circle=circle)

    wellbeing_opt_set(member=member, actor=member.user, opt_in=True)

    member.refresh_from_db()
    assert member.wellbeing_opt_in is True
    event = AuditEvent.objects.get(action="circles.wellbeing_opt_in")
    assert event.actor == member.user
    assert event.on_behalf_of is None


def test_the_audit_log_takes_the_address_of_the_request_in_progress(circle):
    member = MemberFactory(circle=circle)

    token = client_ip_var.set("198.51.100.7")
    try:
        wellbeing_opt_set(member=member, actor=member.user, opt_in=True)
    finally:
        client_ip_var.reset(token)
    wellbeing_opt_set(member=member, actor=member.user, opt_in=False)  # outside a request: no address

    by_action = {e.action: e.ip_address for e in AuditEvent.objects.filter(action__startswith="circles.wellbeing_opt")}
    assert by_action == {"circles.wellbeing_opt_in": "198.51.100.7", "circles.wellbeing_opt_out": None}


def test_a_coordinator_saying_yes_for_a_member_needs_their_agreement(circle):
    member = MemberFactory(circle=circle)
    coordinator = coordinator_of(circle)

    with pytest.raises(ValidationError) as error:
        wellbeing_opt_set(member=member, actor=coordinator, opt_in=True, consent=False)

    assert "consent" in error.value.message_dict
    member.refresh_from_db()
    assert member.wellbeing_opt_in is False


def test_a_coordinator_saying_yes_with_agreement_is_logged_as_done_for_the_member(circle):
    member = MemberFactory(circle=circle)
    coordinator = coordinator_of(circle)

    wellbeing_opt_set(member=member, actor=coordinator, opt_in=True, consent=True)

    member.refresh_from_db()
    assert member.wellbeing_opt_in is True
    event = AuditEvent.objects.get(action="circles.wellbeing_opt_in")
    assert event.actor == coordinator
    assert event.on_behalf_of == member.user
    assert event.after["consent"] is True


def test_saying_the_same_twice_logs_once(circle):
    member = MemberFactory(circle=circle)

    wellbeing_opt_set(member=member, actor=member.user, opt_in=True)
    wellbeing_opt_set(member=member, actor=member.user, opt_in=True)

    assert AuditEvent.objects.filter(action="circles.wellbeing_opt_in").count() == 1


def test_a_coordinator_of_another_circle_cannot_say_yes_for_a_member(circle):
    member = MemberFactory(circle=circle)
    stranger = coordinator_of(CircleFactory())

    with pytest.raises(PermissionDenied):
        wellbeing_opt_set(member=member, actor=stranger, opt_in=True, consent=True)


def test_another_member_cannot_change_someones_choice(circle):
    member = opted_in(circle)
    other = MemberFactory(circle=circle)

    with pytest.raises(PermissionDenied):
        wellbeing_opt_set(member=member, actor=other.user, opt_in=False)


# --- Answers -----------------------------------------------------------------------------------

def test_answers_are_kept_with_their_score(circle):
    member = opted_in(circle)

    recorded = answer(member, answers=(3, 2, 3))

    checkin = WellbeingCheckIn.objects.get()
    assert recorded.outcome == "created"
    assert (checkin.lack_companionship, checkin.left_out, checkin.isolated, checkin.score) == (3, 2, 3, 8)
    assert checkin.circle == circle
    assert checkin.entered_by is None


def test_a_member_who_has_not_said_yes_cannot_answer(circle):
    member = MemberFactory(circle=circle)

    with pytest.raises(ValidationError):
        answer(member)

    assert not WellbeingCheckIn.objects.exists()


def test_a_lapsed_member_cannot_answer(circle):
    member = opted_in(circle, status=MemberStatus.LAPSED)

    with pytest.raises(ValidationError):
        answer(member)

    assert not WellbeingCheckIn.objects.exists()


@pytest.mark.parametrize("answers", [(0, 2, 2), (1, 4, 1), (1, 2, True)])
def test_answers_out_of_range_are_refused(circle, answers):
    member = opted_in(circle)

    with pytest.raises(ValidationError):
        answer(member, answers=answers)

    assert not WellbeingCheckIn.objects.exists()


def test_a_day_in_the_future_is_refused(circle):
    member = opted_in(circle)

    with freeze_time(TODAY), pytest.raises(ValidationError):
        answer(member, taken_on=TODAY + dt.timedelta(days=1))


def test_the_same_answers_sent_again_the_same_day_keep_one_row(circle):
    member = opted_in(circle)

    first = answer(member, answers=(2, 2, 2))
    again = answer(member, answers=(2, 2, 2))

    assert again.outcome == "same"
    assert again.checkin.pk == first.checkin.pk
    assert WellbeingCheckIn.objects.count() == 1
    assert AuditEvent.objects.filter(action="circles.wellbeing_checkin").count() == 1


def test_different_answers_the_same_day_replace_that_days_answers(circle):
    member = opted_in(circle)

    answer(member, answers=(3, 3, 3))
    changed = answer(member, answers=(1, 1, 2))

    checkin = WellbeingCheckIn.objects.get()
    assert changed.outcome == "changed"
    assert checkin.score == 4
    event = AuditEvent.objects.filter(action="circles.wellbeing_checkin").first()
    assert event is not None
    assert event.before["score"] == 9
    assert event.after["score"] == 4


def test_answers_on_different_days_are_kept_apart(circle):
    member = opted_in(circle)

    with freeze_time(TODAY):
        answer(member, taken_on=TODAY - dt.timedelta(days=100))
        answer(member)

    assert WellbeingCheckIn.objects.count() == 2


def test_the_database_refuses_a_score_that_is_not_the_sum(circle):
    member = opted_in(circle)

    with pytest.raises(IntegrityError), transaction.atomic():
        WellbeingCheckIn.objects.create(circle=circle, member=member, taken_on=TODAY, lack_companionship=1,
                                        left_out=1, isolated=1, score=9)


def test_a_coordinator_records_answers_for_a_member_on_the_phone(circle):
    member = opted_in(circle)
    coordinator = coordinator_of(circle)

    answer(member, coordinator, answers=(2, 1, 1))

    checkin = WellbeingCheckIn.objects.get()
    assert checkin.entered_by == coordinator
    event = AuditEvent.objects.get(action="circles.wellbeing_checkin")
    assert event.on_behalf_of == member.user
    assert event.after["assisted"] is True
    # The log holds the score, never the answers themselves.
    assert "left_out" not in event.after


def test_a_coordinator_of_another_circle_cannot_record_answers(circle):
    member = opted_in(circle)
    stranger = coordinator_of(CircleFactory())

    with pytest.raises(PermissionDenied):
        answer(member, stranger)

    assert not WellbeingCheckIn.objects.exists()


def test_another_member_cannot_record_answers_for_someone(circle):
    member = opted_in(circle)
    other = opted_in(circle)

    with pytest.raises(PermissionDenied):
        answer(member, other.user)


# --- Reminders ---------------------------------------------------------------------------------

def run_reminders(day, django_capture_on_commit_callbacks):
    with freeze_time(day), django_capture_on_commit_callbacks(execute=True):
        return wellbeing_reminders_send()


def test_a_member_last_asked_over_the_interval_ago_is_emailed_once(circle, django_capture_on_commit_callbacks):
    member = opted_in(circle, contact_preference="email", user=UserFactory(email="ada@example.org"))
    with freeze_time(TODAY - dt.timedelta(days=100)):
        answer(member)

    first = run_reminders(TODAY, django_capture_on_commit_callbacks)
    second = run_reminders(TODAY + dt.timedelta(days=1), django_capture_on_commit_callbacks)

    assert (first.emailed, second.emailed) == (1, 0)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ada@example.org"]
    assert "Three short questions from Southwark Circle" in mail.outbox[0].subject
    assert "/circles/southwark/wellbeing/" in mail.outbox[0].body


def test_an_unanswered_invitation_is_sent_again_after_another_interval(circle, django_capture_on_commit_callbacks):
    member = opted_in(circle, contact_preference="email")
    with freeze_time(TODAY - dt.timedelta(days=100)):
        answer(member)

    run_reminders(TODAY, django_capture_on_commit_callbacks)
    later = run_reminders(TODAY + dt.timedelta(days=92), django_capture_on_commit_callbacks)

    assert later.emailed == 1
    assert len(mail.outbox) == 2


def test_a_member_who_answered_lately_is_not_asked(circle, django_capture_on_commit_callbacks):
    member = opted_in(circle, contact_preference="email")
    with freeze_time(TODAY - dt.timedelta(days=30)):
        answer(member)

    result = run_reminders(TODAY, django_capture_on_commit_callbacks)

    assert result.emailed == 0
    assert mail.outbox == []


def test_members_who_said_no_or_have_left_are_not_asked(circle, django_capture_on_commit_callbacks):
    MemberFactory(circle=circle, contact_preference="email")
    opted_in(circle, contact_preference="email", status=MemberStatus.LEFT)

    result = run_reminders(TODAY, django_capture_on_commit_callbacks)

    assert (result.emailed, result.to_phone) == (0, 0)


def test_a_member_who_said_yes_lately_is_not_asked_yet(circle, django_capture_on_commit_callbacks):
    member = MemberFactory(circle=circle, contact_preference="email")
    with freeze_time(TODAY - dt.timedelta(days=10)):
        wellbeing_opt_set(member=member, actor=member.user, opt_in=True)

    assert run_reminders(TODAY, django_capture_on_commit_callbacks).emailed == 0
    assert run_reminders(TODAY + dt.timedelta(days=90), django_capture_on_commit_callbacks).emailed == 1


def test_members_who_prefer_the_phone_are_listed_for_coordinators_and_not_emailed(
        circle, django_capture_on_commit_callbacks):
    by_phone = opted_in(circle, contact_preference="phone", display_name="Bea")
    no_email = opted_in(circle, contact_preference="email", display_name="Cyd",
                        user=UserFactory(email="member-1@phone.invalid"))

    result = run_reminders(TODAY, django_capture_on_commit_callbacks)
    with freeze_time(TODAY):
        due = wellbeing_checkins_due(circle=circle)

    assert (result.emailed, result.to_phone) == (0, 2)
    assert mail.outbox == []
    assert [(d.member, d.by_email) for d in due] == [(by_phone, False), (no_email, False)]


def test_the_daily_clock_sends_the_invitations(circle, django_capture_on_commit_callbacks):
    opted_in(circle, contact_preference="email")
    out = StringIO()

    with freeze_time(TODAY), django_capture_on_commit_callbacks(execute=True):
        call_command("circles_tick", stdout=out)

    assert "invited by email: 1" in out.getvalue()
    assert len(mail.outbox) == 1


# --- Personal data -----------------------------------------------------------------------------

def test_check_ins_are_in_the_members_data_download(circle):
    member = opted_in(circle)
    answer(member, answers=(1, 2, 3))

    export = circles_export(member.user)

    [membership] = export["memberships"]
    assert membership["wellbeing_opt_in"] is True
    assert [(c["lack_companionship"], c["left_out"], c["isolated"], c["score"])
            for c in membership["wellbeing_checkins"]] == [(1, 2, 3, 6)]


def test_erasing_an_account_deletes_its_check_ins_and_no_one_elses(circle):
    member = opted_in(circle)
    other = opted_in(circle)
    answer(member)
    answer(other)

    circles_erase(member.user)

    assert list(WellbeingCheckIn.objects.values_list("member", flat=True)) == [other.pk]
    assert Member.objects.get(pk=member.pk).wellbeing_opt_in is False
