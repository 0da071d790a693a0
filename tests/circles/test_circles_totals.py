"""The circle reports' daily totals (decision 0013): the ledger's, kept by ``ledger_transfer``
on every database; the requests', visits' and waits', kept by triggers on PostgreSQL.  Every test
here ends by checking all totals against the rows they count, and on PostgreSQL the reports
read from the totals must say exactly what counting the rows says."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from localsocial.circles.models import (
    AccountKind,
    HelpCategory,
    HelpRequest,
    HelpRequestDayTotal,
    LedgerDayTotal,
    RequestStatus,
    TransferKind,
    Visit,
    VisitDayTotal,
    VisitWait,
)
from localsocial.circles.selectors import reports
from localsocial.circles.services import ledger
from localsocial.circles.services.help_totals import help_totals_differences
from localsocial.circles.services.ledger_totals import ledger_totals_differences
from tests.circles.factories import CircleFactory, MemberFactory
from tests.circles.test_help_support import HelpRequestFactory, arranged_visit
from tests.circles.test_reports import at, completed_visit

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="requests, visits and waits are totalled by PostgreSQL triggers"
)


@pytest.fixture(autouse=True)
def _totals_match_the_rows() -> Iterator[None]:
    """After each test, every total agrees with the rows it counts."""
    yield
    assert ledger_totals_differences() == []
    assert help_totals_differences() == []


def _both_ways(monkeypatch: pytest.MonkeyPatch, select, **kwargs):  # type: ignore[no-untyped-def]
    """A report read from the totals, and the same report counted from the rows."""
    from_totals = select(**kwargs)
    monkeypatch.setattr(reports, "help_totals_kept", lambda: False)
    from_rows = select(**kwargs)
    monkeypatch.undo()
    return from_totals, from_rows


# --- The ledger ----------------------------------------------------------------------------------

def test_a_transfer_counts_on_its_day_by_kind_of_transfer_and_of_account():
    circle = CircleFactory()
    member = MemberFactory(circle=circle)

    grant = ledger.tokens_grant(circle=circle, member=member, quarters=8, idempotency_key="g")
    ledger.tokens_grant(circle=circle, member=member, quarters=8, idempotency_key="g")  # a retry: no change
    ledger.ledger_reverse(transfer=grant, idempotency_key="oops")

    day = timezone.localdate()
    cells = {
        (row.transfer_kind, row.account_kind): (row.credit_quarters, row.debit_quarters, row.transfers)
        for row in LedgerDayTotal.objects.filter(circle=circle, day=day)
    }
    assert cells[(TransferKind.GRANT, AccountKind.MEMBER)] == (8, 0, 0)
    assert cells[(TransferKind.GRANT, AccountKind.ISSUANCE)] == (0, 8, 0)
    assert cells[(TransferKind.GRANT, "")] == (0, 0, 1)
    assert cells[(TransferKind.REVERSAL, AccountKind.ISSUANCE)] == (8, 0, 0)
    assert cells[(TransferKind.REVERSAL, "")] == (0, 0, 1)


def test_the_check_finds_a_total_out_of_step_and_the_rebuild_puts_it_right():
    circle = CircleFactory()
    ledger.tokens_grant(circle=circle, member=MemberFactory(circle=circle), quarters=8, idempotency_key="g")
    LedgerDayTotal.objects.filter(circle=circle, account_kind=AccountKind.MEMBER).update(credit_quarters=9)

    with pytest.raises(CommandError, match="do not match"):
        call_command("circles_totals", stderr=io.StringIO())

    out = io.StringIO()
    call_command("circles_totals", "--rebuild", stdout=out)
    assert "Rebuilt the totals" in out.getvalue()
    call_command("circles_totals", "--verify", stdout=out)
    assert "match" in out.getvalue()
    assert LedgerDayTotal.objects.get(circle=circle, account_kind=AccountKind.MEMBER).credit_quarters == 8


# --- Requests, visits and waits (PostgreSQL) -----------------------------------------------------

@on_postgresql
def test_a_completed_visit_counts_on_the_day_it_was_completed_even_when_moved():
    circle = CircleFactory()
    visit = completed_visit(circle, category=HelpCategory.GARDEN, minutes=90)

    Visit.objects.filter(pk=visit.pk).update(completed_at=at(2026, 3, 31, 23, 30))  # 31 March in summer time

    assert list(VisitDayTotal.objects.filter(circle=circle).exclude(visits=0).values_list("day", "category", "visits",
                                                                                          "quarters")) == [
        (dt.date(2026, 3, 31), HelpCategory.GARDEN, 1, 6),
    ]


@on_postgresql
def test_a_request_counts_where_it_is_now_on_the_day_it_was_made():
    circle = CircleFactory()
    request = HelpRequestFactory(member=MemberFactory(circle=circle), category=HelpCategory.TECH)
    HelpRequest.objects.filter(pk=request.pk).update(created_at=at(2026, 2, 10))

    HelpRequest.objects.filter(pk=request.pk).update(status=RequestStatus.CANCELLED)

    assert list(HelpRequestDayTotal.objects.filter(circle=circle).exclude(requests=0).values_list(
        "day", "category", "status", "requests")) == [(dt.date(2026, 2, 10), HelpCategory.TECH, "cancelled", 1)]


@on_postgresql
def test_changing_a_requests_kind_moves_its_completed_visit_and_deleting_rows_takes_them_off():
    circle = CircleFactory()
    visit = completed_visit(circle, category=HelpCategory.GARDEN)

    HelpRequest.objects.filter(pk=visit.request_id).update(category=HelpCategory.TECH)

    assert set(VisitDayTotal.objects.filter(circle=circle).exclude(visits=0).values_list("category", flat=True)) == {
        HelpCategory.TECH}
    with connection.cursor() as cursor:  # by hand, as a data fix would
        cursor.execute("DELETE FROM circles_visitfeedback WHERE visit_id = %s", [visit.pk])
        cursor.execute("DELETE FROM circles_visit WHERE id = %s", [visit.pk])
    assert not VisitDayTotal.objects.filter(circle=circle).exclude(visits=0).exists()
    assert not VisitWait.objects.filter(circle=circle).exists()


@on_postgresql
def test_a_wait_follows_the_request_and_the_check_in():
    circle = CircleFactory()
    visit, _coordinator = arranged_visit(circle=circle)
    assert not VisitWait.objects.filter(visit=visit).exists()  # not checked in yet

    HelpRequest.objects.filter(pk=visit.request_id).update(created_at=at(2026, 2, 1))
    Visit.objects.filter(pk=visit.pk).update(checked_in_at=at(2026, 2, 3))

    assert VisitWait.objects.get(visit=visit).wait_seconds == 2 * 24 * 3600


@on_postgresql
def test_the_reports_from_the_totals_say_what_counting_the_rows_says(monkeypatch):
    # Given visits and waits across the clock change and month ends, of several kinds and lengths
    circle = CircleFactory()
    moments = [at(2026, 3, 29, 0, 30), at(2026, 3, 31, 23, 30), at(2026, 4, 1, 0, 30), at(2025, 10, 26, 1, 30),
               at(2026, 1, 31, 23, 59), at(2026, 2, 14)]
    for n, moment in enumerate(moments):
        visit = completed_visit(circle, category=list(HelpCategory)[n % 3], minutes=15 * (n + 1), completed_at=moment)
        HelpRequest.objects.filter(pk=visit.request_id).update(created_at=moment - dt.timedelta(hours=7 * n + 0.5))
        Visit.objects.filter(pk=visit.pk).update(checked_in_at=moment - dt.timedelta(minutes=30))
    HelpRequestFactory(member=MemberFactory(circle=circle), category=HelpCategory.TECH, status=RequestStatus.OFFERED)

    # When the reports are read both ways, for periods that cut months and days
    for start, end in [(dt.date(2025, 10, 1), dt.date(2026, 4, 30)), (dt.date(2026, 3, 29), dt.date(2026, 3, 31)),
                       (dt.date(2026, 4, 1), dt.date(2026, 4, 1)), reports.default_period()]:
        for select in (reports.help_report, reports.savings_estimate, reports.wait_report):
            from_totals, from_rows = _both_ways(monkeypatch, select, circle=circle, start=start, end=end)

            # Then they agree to the last figure
            assert from_totals == from_rows, (select.__name__, start, end)


@on_postgresql
def test_the_median_and_90th_percentile_match_percentile_cont_over_many_bands():
    circle = CircleFactory()
    checked_in = at(2026, 2, 10)
    for n in range(23):
        visit, _coordinator = arranged_visit(circle=circle)
        HelpRequest.objects.filter(pk=visit.request_id).update(created_at=checked_in - dt.timedelta(minutes=1.7 ** n))
        Visit.objects.filter(pk=visit.pk).update(checked_in_at=checked_in)

    report = reports.wait_report(circle=circle, start=dt.date(2026, 2, 1), end=dt.date(2026, 2, 28))

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY w), percentile_cont(0.9) WITHIN GROUP (ORDER BY w) "
            "FROM (SELECT EXTRACT(EPOCH FROM (v.checked_in_at - r.created_at))::double precision AS w "
            "FROM circles_visit v JOIN circles_helprequest r ON r.id = v.request_id WHERE v.circle_id = %s) waits",
            [circle.pk],
        )
        median, p90 = cursor.fetchone()
    assert report.count == 23
    assert (report.median_seconds, report.p90_seconds) == (median, p90)
    assert VisitWait.objects.filter(circle=circle).values("bucket").distinct().count() > 10
