"""The circle's reports, figure by figure, from data with known answers: members who joined,
are active and lapsed; helpers; requests and hours of help; tokens from real ledger transfers;
money received; the wait from a request to its visit; the savings estimate and its proxies."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from localsocial.circles.models import (
    HelpCategory,
    HelperKind,
    HelperTransition,
    HelpRequest,
    Member,
    MembershipYear,
    MemberStatus,
    Payment,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
    RequestStatus,
    SavingsBasis,
    SavingsProxy,
    Visit,
)
from localsocial.circles.selectors.reports import (
    default_period,
    help_report,
    helpers_report,
    members_report,
    money_report,
    savings_estimate,
    tokens_report,
    wait_report,
)
from localsocial.circles.services import ledger
from localsocial.circles.services.help import visit_check_in, visit_check_out, visit_confirm
from localsocial.circles.services.helpers import member_become_helper
from localsocial.circles.services.payments import payment_record
from localsocial.circles.services.reports import savings_proxy_remove, savings_proxy_set
from localsocial.core.models import AuditEvent
from tests.circles.factories import CircleFactory, HelperFactory, MemberFactory, TokenBundleFactory
from tests.circles.test_help_support import HelpRequestFactory, arranged_visit, coordinator_of

pytestmark = pytest.mark.django_db

MINUTE = dt.timedelta(minutes=1)
JAN, MAR = dt.date(2026, 1, 1), dt.date(2026, 3, 31)
_keys = itertools.count()


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    """A moment in the site's time zone (Europe/London)."""
    return timezone.make_aware(dt.datetime(year, month, day, hour, minute))


def joined(member: Member, when: dt.datetime) -> Member:
    Member.objects.filter(pk=member.pk).update(joined_at=when)
    return member


def completed_visit(circle, *, category=HelpCategory.GARDEN, minutes=60, completed_at=None, helper=None):  # type: ignore[no-untyped-def]
    """A visit of ``minutes`` checked in and out by the helper, confirmed by a coordinator and
    paid from the member's tokens; moved to ``completed_at`` when given."""
    visit, coordinator = arranged_visit(circle=circle, helper=helper, category=category, estimated_quarters=4)
    ledger.tokens_grant(circle=circle, member=visit.request.member, quarters=40, idempotency_key=f"t-{next(_keys)}")
    visit = visit_check_in(visit=visit, actor=visit.helper.user, now=visit.planned_start)
    visit = visit_check_out(visit=visit, actor=visit.helper.user, now=visit.planned_start + minutes * MINUTE)
    visit = visit_confirm(visit=visit, actor=coordinator, now=visit.checked_out_at)
    if completed_at is not None:
        Visit.objects.filter(pk=visit.pk).update(completed_at=completed_at)
    return visit


def recently() -> dt.datetime:
    """A moment inside the default period (the last twelve months)."""
    return timezone.now() - dt.timedelta(hours=1)


def before_the_default_period() -> dt.datetime:
    start, _end = default_period()
    return timezone.make_aware(dt.datetime.combine(start, dt.time.min)) - dt.timedelta(days=1)


# --- Periods -------------------------------------------------------------------------------------

def test_the_default_period_is_this_month_and_the_eleven_before_it_to_today():
    assert default_period(dt.date(2026, 11, 27)) == (dt.date(2025, 12, 1), dt.date(2026, 11, 27))
    assert default_period(dt.date(2026, 1, 5)) == (dt.date(2025, 2, 1), dt.date(2026, 1, 5))


# --- Members -------------------------------------------------------------------------------------

def test_members_who_joined_in_the_period_are_counted_by_month_in_local_time():
    circle = CircleFactory()
    # Given three members who joined in the period (the last late on its last day, in summer time)
    joined(MemberFactory(circle=circle), at(2026, 1, 15))
    joined(MemberFactory(circle=circle), at(2026, 2, 10))
    joined(MemberFactory(circle=circle), at(2026, 3, 31, 23, 30))
    # and one just before it, one just after it and one in another circle
    joined(MemberFactory(circle=circle), at(2025, 12, 31, 23, 59))
    joined(MemberFactory(circle=circle), at(2026, 4, 1, 0, 10))
    joined(MemberFactory(), at(2026, 2, 10))

    report = members_report(circle=circle, start=JAN, end=MAR)

    assert report.joined == 3
    assert [(m.month, m.joined) for m in report.months] == [
        (dt.date(2026, 1, 1), 1), (dt.date(2026, 2, 1), 1), (dt.date(2026, 3, 1), 1),
    ]


def test_active_paid_and_lapsed_members():
    circle = CircleFactory()
    active = joined(MemberFactory(circle=circle), at(2025, 6, 1))
    joined(MemberFactory(circle=circle), at(2026, 3, 1))  # active, no year recorded
    joined(MemberFactory(circle=circle), at(2026, 5, 1))  # joined after the period: not counted
    payment = Payment.objects.create(
        circle=circle, member=active, purpose=PaymentPurpose.FEE, method=PaymentMethod.CASH,
        status=PaymentStatus.SUCCEEDED, amount_pence=1000, idempotency_key="fee", completed_at=at(2025, 6, 1),
    )
    MembershipYear.objects.create(member=active, starts_on=dt.date(2025, 6, 1), ends_on=dt.date(2026, 6, 1),
                                  fee_pence=1000, payment=payment)
    # Given a member who lapsed in February (their last year ended then, unpaid) …
    lapsed = joined(MemberFactory(circle=circle, status=MemberStatus.LAPSED), at(2025, 2, 15))
    MembershipYear.objects.create(member=lapsed, starts_on=dt.date(2025, 2, 15), ends_on=dt.date(2026, 2, 15),
                                  fee_pence=1000)
    # … one who lapsed before the period …
    long_gone = joined(MemberFactory(circle=circle, status=MemberStatus.LAPSED), at(2024, 1, 1))
    MembershipYear.objects.create(member=long_gone, starts_on=dt.date(2024, 1, 1), ends_on=dt.date(2025, 1, 1),
                                  fee_pence=1000)
    # … and one whose year ended in the period but who has renewed (active again)
    renewed = joined(MemberFactory(circle=circle), at(2025, 1, 20))
    MembershipYear.objects.create(member=renewed, starts_on=dt.date(2025, 1, 20), ends_on=dt.date(2026, 1, 20),
                                  fee_pence=1000)
    MembershipYear.objects.create(member=renewed, starts_on=dt.date(2026, 1, 20), ends_on=dt.date(2027, 1, 20),
                                  fee_pence=1000)

    report = members_report(circle=circle, start=JAN, end=MAR)

    assert report.active_now == 3  # active, the one with no year, renewed
    assert report.paid_at_end == 1
    assert report.lapsed == 1
    assert [m.lapsed for m in report.months] == [0, 1, 0]


def test_members_who_became_helpers_in_the_period():
    circle = CircleFactory()
    coordinator = coordinator_of(circle)
    in_period = member_become_helper(member=MemberFactory(circle=circle), actor=coordinator)
    earlier = member_become_helper(member=MemberFactory(circle=circle), actor=coordinator)
    HelperTransition.objects.filter(helper=in_period).update(created_at=at(2026, 3, 3))
    HelperTransition.objects.filter(helper=earlier).update(created_at=at(2025, 11, 3))

    report = members_report(circle=circle, start=JAN, end=MAR)

    assert report.became_helpers == 1
    assert [m.became_helpers for m in report.months] == [0, 0, 1]


# --- Helpers -------------------------------------------------------------------------------------

def test_helpers_by_kind_vetted_today_and_who_helped():
    circle = CircleFactory()
    volunteer = HelperFactory(circle=circle)  # vetted
    HelperFactory(circle=circle, is_active=False)  # left: counted nowhere
    HelperFactory(circle=circle, kind=HelperKind.PAID, hourly_rate_pence=1200, dbs_status="none",
                  dbs_checked_on=None, dbs_expires_on=None)
    HelperFactory(circle=circle, dbs_expires_on=timezone.localdate())  # expires today: not cleared
    member_become_helper(member=MemberFactory(circle=circle), actor=coordinator_of(circle))
    HelperFactory()  # another circle
    completed_visit(circle, helper=volunteer, completed_at=recently())
    completed_visit(circle, helper=volunteer, completed_at=recently())  # the same helper again

    start, end = default_period()
    report = helpers_report(circle=circle, start=start, end=end)
    rows = {row.kind: row for row in report.rows}

    assert (rows["volunteer"].active, rows["volunteer"].vetted, rows["volunteer"].helped) == (2, 1, 1)
    assert (rows["paid"].active, rows["paid"].vetted, rows["paid"].helped) == (1, 0, 0)
    assert (rows["member"].active, rows["member"].vetted, rows["member"].helped) == (1, 0, 0)
    assert (report.active, report.vetted, report.helped, report.joined) == (4, 1, 1, 5)


# --- Help ----------------------------------------------------------------------------------------

def test_requests_by_kind_and_where_they_are_now():
    circle = CircleFactory()
    member = MemberFactory(circle=circle)
    HelpRequestFactory(member=member, category=HelpCategory.GARDEN)
    HelpRequestFactory(member=member, category=HelpCategory.GARDEN, status=RequestStatus.CANCELLED)
    HelpRequestFactory(member=member, category=HelpCategory.TECH, status=RequestStatus.OFFERED)
    old = HelpRequestFactory(member=member, category=HelpCategory.TECH)
    HelpRequest.objects.filter(pk=old.pk).update(created_at=before_the_default_period())
    HelpRequestFactory(category=HelpCategory.TECH)  # another circle

    start, end = default_period()
    report = help_report(circle=circle, start=start, end=end)
    rows = {row.category: row for row in report.categories}

    assert (rows["garden"].requests, rows["garden"].open, rows["garden"].cancelled) == (2, 1, 1)
    assert (rows["tech"].requests, rows["tech"].open) == (1, 1)
    assert rows["shopping"].requests == 0
    assert report.requests == 3


def test_hours_of_help_come_from_completed_visits_by_kind():
    circle = CircleFactory()
    completed_visit(circle, category=HelpCategory.GARDEN, minutes=90, completed_at=recently())  # 6 quarters
    completed_visit(circle, category=HelpCategory.GARDEN, minutes=60, completed_at=recently())  # 4
    completed_visit(circle, category=HelpCategory.TECH, minutes=30, completed_at=recently())  # 2
    completed_visit(circle, category=HelpCategory.TECH, minutes=60, completed_at=before_the_default_period())
    arranged_visit(circle=circle, category=HelpCategory.TECH)  # not done yet
    completed_visit(CircleFactory(), category=HelpCategory.TECH, completed_at=recently())  # another circle

    start, end = default_period()
    report = help_report(circle=circle, start=start, end=end)
    rows = {row.category: row for row in report.categories}

    assert (rows["garden"].visits, rows["garden"].hours) == (2, 2.5)
    assert (rows["tech"].visits, rows["tech"].hours) == (1, 0.5)
    assert (report.visits, report.hours) == (3, 3.0)
    assert sum(month.quarters for month in report.months) == 12


# --- Waiting -------------------------------------------------------------------------------------

def _waited(circle, hours: float, checked_in: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    visit, _coordinator = arranged_visit(circle=circle)
    HelpRequest.objects.filter(pk=visit.request_id).update(created_at=checked_in - dt.timedelta(hours=hours))
    Visit.objects.filter(pk=visit.pk).update(checked_in_at=checked_in)


def test_the_median_and_90th_percentile_wait_from_request_to_visit():
    circle = CircleFactory()
    for hours in (10, 1, 2):
        _waited(circle, hours, at(2026, 2, 10))
    _waited(circle, 500, at(2025, 12, 1))  # checked in before the period
    arranged_visit(circle=circle)  # not checked in

    report = wait_report(circle=circle, start=JAN, end=MAR)

    assert report.count == 3
    assert report.median_seconds == pytest.approx(2 * 3600)
    # 9 in 10: between the second and third waits, 80% of the way (as percentile_cont)
    assert report.p90_seconds == pytest.approx(8.4 * 3600)


def test_an_even_number_of_waits_has_the_mean_of_the_middle_two_as_median():
    circle = CircleFactory()
    for hours in (1, 3, 5, 7):
        _waited(circle, hours, at(2026, 2, 10))

    assert wait_report(circle=circle, start=JAN, end=MAR).median_seconds == pytest.approx(4 * 3600)


def test_no_visits_means_no_wait_figures():
    report = wait_report(circle=CircleFactory(), start=JAN, end=MAR)

    assert (report.count, report.median_seconds, report.p90_seconds) == (0, None, None)


# --- Tokens and money ----------------------------------------------------------------------------

def test_tokens_bought_gifted_granted_earned_spent_and_corrected_from_the_ledger():
    circle = CircleFactory()
    coordinator = coordinator_of(circle)
    bundle = TokenBundleFactory(circle=circle, quarters=12, price_pence=3000)
    buyer = MemberFactory(circle=circle)
    payment_record(circle=circle, member=buyer, actor=coordinator, purpose=PaymentPurpose.TOKENS,
                   method=PaymentMethod.CASH, amount_pence=3000, bundle=bundle, idempotency_key="buy")
    payment_record(circle=circle, member=buyer, actor=coordinator, purpose=PaymentPurpose.GIFT,
                   method=PaymentMethod.CHEQUE, amount_pence=3000, bundle=bundle, payer_name="Aunt Jo",
                   idempotency_key="gift")
    grant = ledger.tokens_grant(circle=circle, member=buyer, quarters=8, idempotency_key="grant")
    ledger.ledger_reverse(transfer=grant, idempotency_key="oops")
    # A volunteer's visit of an hour (4 quarters, granted 40 first) and a member helper's of half an hour
    completed_visit(circle, minutes=60)
    helping = member_become_helper(member=MemberFactory(circle=circle), actor=coordinator)
    HelperFactory._meta.model.objects.filter(pk=helping.pk).update(
        dbs_status="clear", dbs_checked_on=dt.date(2026, 1, 1), dbs_expires_on=dt.date(2099, 1, 1),
        references_checked=True, training_completed_on=dt.date(2026, 1, 1),
    )
    helping.refresh_from_db()
    completed_visit(circle, minutes=30, helper=helping)
    elsewhere = CircleFactory()
    ledger.tokens_grant(circle=elsewhere, member=MemberFactory(circle=elsewhere), quarters=4, idempotency_key="other")

    start, end = default_period()
    report = tokens_report(circle=circle, start=start, end=end)

    assert report.total("bought") == 12
    assert report.total("gifted") == 12
    assert report.total("granted") == 8 + 40 + 40
    assert report.total("spent") == 4 + 2
    assert report.total("spent_with_volunteers") == 4
    assert report.total("earned") == 2
    assert report.total("reversed") == 8
    assert report.reversals == 1


def test_money_received_by_purpose_counts_only_payments_that_went_through():
    circle = CircleFactory()
    coordinator = coordinator_of(circle)
    member = MemberFactory(circle=circle)
    bundle = TokenBundleFactory(circle=circle, price_pence=3000)
    payment_record(circle=circle, member=member, actor=coordinator, purpose=PaymentPurpose.FEE,
                   method=PaymentMethod.CASH, amount_pence=1000, idempotency_key="fee")
    payment_record(circle=circle, member=member, actor=coordinator, purpose=PaymentPurpose.TOKENS,
                   method=PaymentMethod.CASH, amount_pence=3000, bundle=bundle, idempotency_key="tokens")
    payment_record(circle=circle, member=member, actor=coordinator, purpose=PaymentPurpose.GIFT,
                   method=PaymentMethod.CASH, amount_pence=2550, bundle=bundle, payer_name="Sam",
                   idempotency_key="gift")
    Payment.objects.create(circle=circle, member=member, purpose=PaymentPurpose.FEE, method=PaymentMethod.CARD,
                           status=PaymentStatus.PENDING, amount_pence=1000, idempotency_key="card")
    Payment.objects.create(circle=circle, member=member, purpose=PaymentPurpose.FEE, method=PaymentMethod.CARD,
                           status=PaymentStatus.FAILED, amount_pence=1000, idempotency_key="card-2")

    start, end = default_period()
    report = money_report(circle=circle, start=start, end=end)

    assert (report.fees, report.tokens, report.gifts, report.total) == (1000, 3000, 2550, 6550)
    assert report.payments == 3
    assert report.months[-1].total + sum(m.total for m in report.months[:-1]) == 6550


# --- Savings -------------------------------------------------------------------------------------

def _proxy(circle, category, *, basis=SavingsBasis.PER_HOUR, pence=2000, percent=100, source="Example value"):  # type: ignore[no-untyped-def]
    return savings_proxy_set(circle=circle, actor=coordinator_of(circle), category=category, basis=basis,
                             value_pence=pence, attribution_percent=percent, source=source)[0]


def test_savings_are_hours_or_visits_times_value_times_share_by_month_and_added_up():
    circle = CircleFactory()
    _proxy(circle, HelpCategory.GARDEN, pence=2000, percent=50)
    _proxy(circle, HelpCategory.TECH, basis=SavingsBasis.PER_VISIT, pence=1500, percent=100)
    completed_visit(circle, category=HelpCategory.GARDEN, minutes=90, completed_at=at(2026, 1, 20))
    completed_visit(circle, category=HelpCategory.GARDEN, minutes=60, completed_at=at(2026, 3, 5))
    completed_visit(circle, category=HelpCategory.TECH, minutes=30, completed_at=at(2026, 3, 6))
    completed_visit(circle, category=HelpCategory.SHOPPING, minutes=60, completed_at=at(2026, 3, 7))

    estimate = savings_estimate(circle=circle, start=JAN, end=MAR)
    rows = {row.category: row for row in estimate.rows}

    # Gardening: 2.5 hours x £20 x 50% = £25; tech: 1 visit x £15 = £15
    assert rows["garden"].pence == 2500
    assert rows["tech"].pence == 1500
    assert estimate.total_pence == 4000
    assert [(m.pence, m.cumulative_pence) for m in estimate.months] == [(1500, 1500), (0, 1500), (2500, 4000)]
    assert [row.category for row in estimate.not_counted] == ["shopping"]
    assert not rows["shopping"].counted


def test_no_proxies_means_no_savings_and_every_kind_given_is_not_counted():
    circle = CircleFactory()
    completed_visit(circle, category=HelpCategory.COMPANY, completed_at=at(2026, 2, 2))

    estimate = savings_estimate(circle=circle, start=JAN, end=MAR)

    assert estimate.total_pence == 0
    assert [row.category for row in estimate.not_counted] == ["company"]


def test_setting_a_proxy_is_an_audited_idempotent_upsert():
    circle = CircleFactory()
    coordinator = coordinator_of(circle)
    args = {"circle": circle, "actor": coordinator, "category": HelpCategory.COMPANY, "basis": SavingsBasis.PER_HOUR,
            "value_pence": 1800, "attribution_percent": 60, "source": "  Example value  "}

    proxy, changed = savings_proxy_set(**args)
    again, changed_again = savings_proxy_set(**args)
    updated, changed_third = savings_proxy_set(**{**args, "value_pence": 2000})

    assert (changed, changed_again, changed_third) == (True, False, True)
    assert proxy.pk == again.pk == updated.pk
    stored = SavingsProxy.objects.get()
    assert (stored.value_pence, stored.source, stored.updated_by) == (2000, "Example value", coordinator)
    events = list(AuditEvent.objects.filter(action="circles.savings_proxy_set").order_by("id"))
    assert len(events) == 2
    assert (events[1].before["value_pence"], events[1].after["value_pence"]) == (1800, 2000)


@pytest.mark.parametrize(("change", "field"), [
    ({"value_pence": 0}, "value"),
    ({"value_pence": 1_000_001}, "value"),
    ({"attribution_percent": 0}, "attribution_percent"),
    ({"attribution_percent": 101}, "attribution_percent"),
    ({"source": "   "}, "source"),
    ({"category": "flying"}, "category"),
    ({"basis": "year"}, "basis"),
])
def test_a_proxy_with_a_bad_figure_is_refused(change, field):
    circle = CircleFactory()
    args = {"circle": circle, "actor": coordinator_of(circle), "category": HelpCategory.COMPANY,
            "basis": SavingsBasis.PER_HOUR, "value_pence": 1800, "attribution_percent": 60, "source": "Example value"}

    with pytest.raises(ValidationError) as error:
        savings_proxy_set(**{**args, **change})

    assert field in error.value.message_dict
    assert not SavingsProxy.objects.exists()


def test_only_the_circles_coordinators_set_and_remove_proxies():
    circle = CircleFactory()
    _proxy(circle, HelpCategory.GARDEN)
    other = coordinator_of(CircleFactory())

    with pytest.raises(PermissionDenied):
        savings_proxy_set(circle=circle, actor=other, category=HelpCategory.TECH, basis=SavingsBasis.PER_HOUR,
                          value_pence=100, attribution_percent=100, source="x")
    with pytest.raises(PermissionDenied):
        savings_proxy_remove(circle=circle, actor=other, category=HelpCategory.GARDEN)
    assert SavingsProxy.objects.count() == 1


def test_removing_a_proxy_is_audited_and_harmless_twice():
    circle = CircleFactory()
    _proxy(circle, HelpCategory.GARDEN)
    coordinator = coordinator_of(circle)

    assert savings_proxy_remove(circle=circle, actor=coordinator, category=HelpCategory.GARDEN) is True
    assert savings_proxy_remove(circle=circle, actor=coordinator, category=HelpCategory.GARDEN) is False
    assert not SavingsProxy.objects.exists()
    assert AuditEvent.objects.filter(action="circles.savings_proxy_remove").count() == 1
