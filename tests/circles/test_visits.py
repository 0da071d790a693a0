"""Visits: check-in and check-out, missed check-out alerts (once), confirmation by both sides
or a coordinator, paying in tokens once (or owed), feedback and incident reports."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction

from localsocial.circles.models import (
    Account,
    AccountKind,
    HelperKind,
    IncidentReport,
    RequestStatus,
    Transfer,
    Visit,
    VisitFeedback,
    VisitPayment,
)
from localsocial.circles.services.help import (
    incident_report,
    visit_check_in,
    visit_check_out,
    visit_confirm,
    visit_feedback_give,
    visit_payment_retry,
    visit_quarters_due,
    visits_alert_missed_checkouts,
)
from localsocial.circles.services.helpers import member_become_helper
from tests.circles.factories import CircleFactory, MemberFactory
from tests.circles.test_help_support import (
    arranged_visit,
    coordinator_of,
    give_tokens,
)

pytestmark = pytest.mark.django_db

MINUTE = dt.timedelta(minutes=1)


def balance(account_filter) -> int:
    return Account.objects.get(**account_filter).balance_quarters


def checked(visit, minutes):
    """Check the visit in at its start and out ``minutes`` later."""
    visit = visit_check_in(visit=visit, actor=visit.helper.user, now=visit.planned_start)
    return visit_check_out(visit=visit, actor=visit.helper.user, now=visit.planned_start + minutes * MINUTE)


@pytest.mark.parametrize(("minutes", "quarters"), [
    (0, 1), (5, 1), (7, 1), (8, 1), (22, 1), (23, 2), (60, 4), (67, 4), (68, 5), (500, 8),
])
def test_tokens_due_are_the_time_taken_to_the_nearest_quarter_at_least_one_at_most_twice_the_estimate(
    minutes, quarters
):
    visit, _coordinator = arranged_visit(estimated_quarters=4)

    assert visit_quarters_due(visit=checked(visit, minutes)) == quarters


def test_without_check_in_and_out_the_estimate_is_due():
    visit, _coordinator = arranged_visit(estimated_quarters=6)

    assert visit_quarters_due(visit=visit) == 6


def test_check_in_and_out_are_the_helpers_and_harmless_twice():
    visit, _coordinator = arranged_visit()
    stranger = MemberFactory(circle=visit.circle).user

    with pytest.raises(PermissionDenied):
        visit_check_in(visit=visit, actor=stranger, now=visit.planned_start)
    with pytest.raises(ValidationError, match="Check in before checking out"):
        visit_check_out(visit=visit, actor=visit.helper.user, now=visit.planned_start)
    with pytest.raises(ValidationError, match="too early to check in"):
        visit_check_in(visit=visit, actor=visit.helper.user, now=visit.planned_start - dt.timedelta(hours=3))
    first = visit_check_in(visit=visit, actor=visit.helper.user, now=visit.planned_start)
    again = visit_check_in(visit=visit, actor=visit.helper.user, now=visit.planned_start + 10 * MINUTE)

    assert first.checked_in_at == again.checked_in_at == visit.planned_start


def test_the_database_refuses_a_check_out_before_the_check_in():
    visit, _coordinator = arranged_visit()

    with pytest.raises(IntegrityError), transaction.atomic():
        Visit.objects.filter(pk=visit.pk).update(checked_out_at=visit.planned_start)


def test_confirmed_by_both_sides_the_visit_is_complete_and_paid_once():
    visit, _coordinator = arranged_visit(estimated_quarters=4)
    member = visit.request.member
    give_tokens(member, 20)
    visit = checked(visit, 90)

    after_member = visit_confirm(visit=visit, actor=member.user, now=visit.checked_out_at)
    assert after_member.completed_at is None
    assert after_member.payment == VisitPayment.NOT_DUE
    done = visit_confirm(visit=visit, actor=visit.helper.user, now=visit.checked_out_at)
    visit_confirm(visit=visit, actor=visit.helper.user, now=visit.checked_out_at)

    assert done.completed_at is not None
    assert done.payment == VisitPayment.PAID
    assert done.quarters == 6
    assert balance({"member": member}) == 14
    # A volunteer's hours go to the circle's help account
    assert balance({"circle": visit.circle, "kind": AccountKind.HELP}) == 6
    assert Transfer.objects.filter(idempotency_key=f"visit:{visit.pk}").count() == 1
    assert Visit.objects.get(pk=visit.pk).request.status == RequestStatus.DONE


def test_a_member_who_helps_earns_the_tokens():
    circle = CircleFactory()
    coordinator = coordinator_of(circle)
    helping_member = MemberFactory(circle=circle)
    helper = member_become_helper(member=helping_member, actor=coordinator)
    # Vetting is done before they go into homes
    for field, value in {"dbs_status": "clear", "dbs_checked_on": dt.date(2026, 1, 1),
                         "dbs_expires_on": dt.date(2099, 1, 1), "references_checked": True,
                         "training_completed_on": dt.date(2026, 1, 1)}.items():
        setattr(helper, field, value)
    helper.save()
    visit, _coordinator = arranged_visit(circle=circle, helper=helper, estimated_quarters=4)
    give_tokens(visit.request.member, 8)

    visit_confirm(visit=visit, actor=coordinator, now=visit.planned_end)

    assert helper.kind == HelperKind.MEMBER
    assert balance({"helper": helper}) == 4
    assert balance({"member": visit.request.member}) == 4


def test_a_coordinator_confirms_for_both_sides_and_without_times_the_estimate_is_paid():
    visit, coordinator = arranged_visit(estimated_quarters=6)
    give_tokens(visit.request.member, 10)

    done = visit_confirm(visit=visit, actor=coordinator, now=visit.planned_end)

    assert done.completed_at is not None
    assert done.coordinator_confirmed_by == coordinator
    assert done.quarters == 6
    assert done.payment == VisitPayment.PAID
    assert balance({"member": visit.request.member}) == 4


def test_a_visit_cannot_be_confirmed_before_it_starts():
    visit, _coordinator = arranged_visit()

    with pytest.raises(ValidationError, match="once it has started"):
        visit_confirm(visit=visit, actor=visit.request.member.user, now=visit.planned_start - MINUTE)

    visit.refresh_from_db()
    assert visit.member_confirmed_at is None


def test_a_coordinator_of_another_circle_cannot_confirm_a_visit():
    visit, _coordinator = arranged_visit()
    stranger = coordinator_of(CircleFactory())

    with pytest.raises(PermissionDenied):
        visit_confirm(visit=visit, actor=stranger, now=visit.planned_end)


def test_without_enough_tokens_the_visit_is_complete_and_the_payment_owed(django_capture_on_commit_callbacks):
    visit, coordinator = arranged_visit(estimated_quarters=8)
    member = visit.request.member
    give_tokens(member, 3)

    with django_capture_on_commit_callbacks(execute=True):
        done = visit_confirm(visit=visit, actor=coordinator, now=visit.planned_end)

    assert done.completed_at is not None
    assert done.payment == VisitPayment.OWED
    assert done.transfer is None
    assert done.quarters == 8
    assert balance({"member": member}) == 3
    assert [m.subject for m in mail.outbox] == ["Tokens owed for a visit"]
    assert "did not have enough tokens" in mail.outbox[0].body

    # When the member has more tokens, the coordinator takes the payment, once
    give_tokens(member, 10)
    paid = visit_payment_retry(visit=done, actor=coordinator)
    visit_payment_retry(visit=done, actor=coordinator)

    assert paid.payment == VisitPayment.PAID
    assert balance({"member": member}) == 5


def test_a_missed_check_out_alerts_the_coordinators_once(django_capture_on_commit_callbacks):
    visit, coordinator = arranged_visit(estimated_quarters=4)
    visit.circle.missed_checkout_minutes = 30
    visit.circle.save()
    visit_check_in(visit=visit, actor=visit.helper.user, now=visit.planned_start)

    with django_capture_on_commit_callbacks(execute=True):
        too_soon = visits_alert_missed_checkouts(now=visit.planned_end + 29 * MINUTE)
        alerted = visits_alert_missed_checkouts(now=visit.planned_end + 31 * MINUTE)
        again = visits_alert_missed_checkouts(now=visit.planned_end + 60 * MINUTE)

    assert (too_soon, alerted, again) == (0, 1, 0)
    assert [m.to for m in mail.outbox] == [[coordinator.email]]
    assert mail.outbox[0].subject == "Urgent: a helper has not checked out"


def test_a_checked_out_visit_raises_no_alert(django_capture_on_commit_callbacks):
    visit, _coordinator = arranged_visit()
    checked(visit, 60)

    with django_capture_on_commit_callbacks(execute=True):
        assert visits_alert_missed_checkouts(now=visit.planned_end + dt.timedelta(days=1)) == 0

    assert mail.outbox == []


def test_the_tick_command_sends_the_alerts(django_capture_on_commit_callbacks, capsys):
    visit, _coordinator = arranged_visit()
    visit_check_in(visit=visit, actor=visit.helper.user, now=visit.planned_start)
    Visit.objects.filter(pk=visit.pk).update(
        planned_start=visit.planned_start - dt.timedelta(days=10), planned_end=visit.planned_end - dt.timedelta(days=10),
        checked_in_at=visit.planned_start - dt.timedelta(days=10),
    )

    with django_capture_on_commit_callbacks(execute=True):
        call_command("circles_visits_tick")
        call_command("circles_visits_tick")

    assert "Missed check-outs alerted: 1" in capsys.readouterr().out
    assert len(mail.outbox) == 1


def test_feedback_is_given_once_by_each_side_after_the_visit():
    visit, _coordinator = arranged_visit()
    member_user = visit.request.member.user

    with pytest.raises(ValidationError, match="once the visit is over"):
        visit_feedback_give(visit=visit, actor=member_user, rating=5)
    visit = checked(visit, 60)
    visit_feedback_give(visit=visit, actor=member_user, rating=5, comment="Lovely")
    visit_feedback_give(visit=visit, actor=visit.helper.user, rating=4)
    with pytest.raises(ValidationError, match="already said"):
        visit_feedback_give(visit=visit, actor=member_user, rating=1)
    with pytest.raises(PermissionDenied):
        visit_feedback_give(visit=visit, actor=MemberFactory(circle=visit.circle).user, rating=1)

    assert sorted(VisitFeedback.objects.values_list("side", "rating")) == [("helper", 4), ("member", 5)]


def test_an_incident_goes_straight_to_the_coordinators_once(django_capture_on_commit_callbacks):
    visit, coordinator = arranged_visit()

    with django_capture_on_commit_callbacks(execute=True):
        incident_report(circle=visit.circle, visit=visit, actor=visit.helper.user, idempotency_key="k1",
                        description="The member fell on the stairs", anyone_hurt=True)
        incident_report(circle=visit.circle, visit=visit, actor=visit.helper.user, idempotency_key="k1",
                        description="The member fell on the stairs", anyone_hurt=True)

    assert IncidentReport.objects.count() == 1
    assert [m.to for m in mail.outbox] == [[coordinator.email]]
    assert mail.outbox[0].subject == "Urgent: incident reported, someone hurt or at risk"
    assert "The member fell on the stairs" in mail.outbox[0].body


def test_only_the_people_at_a_visit_or_its_coordinators_report_an_incident_about_it():
    visit, _coordinator = arranged_visit()

    with pytest.raises(PermissionDenied):
        incident_report(circle=visit.circle, visit=visit, actor=coordinator_of(CircleFactory()), idempotency_key="x",
                        description="Something")
    with pytest.raises(PermissionDenied):
        incident_report(circle=visit.circle, visit=visit, actor=MemberFactory(circle=visit.circle).user,
                        idempotency_key="y", description="Something")

    assert not IncidentReport.objects.exists()
