"""A circle's reports: members, helpers, help given, tokens, money, waiting times and the
estimated savings to public services, over a period of days (both ends included).

Every function takes ``(*, circle, start, end)`` and returns a plain dataclass.  The database
does the counting (GROUP BY, ``TruncMonth`` in the site's time zone, on SQLite and PostgreSQL
alike), so each costs a fixed number of queries whatever the circle's size; Python only fills
in the months with nothing and does the arithmetic.  The exact definition of each figure is in
docs/circles-reports.md and, in plain words, on the page.

For a large circle the tokens, help, savings and waits are read from daily totals kept beside
the rows (``LedgerDayTotal`` on every database; ``HelpRequestDayTotal``, ``VisitDayTotal``,
``WaitDayTotal`` and ``VisitWait`` kept by triggers on PostgreSQL), so their cost does not grow
with the number of entries and visits; on SQLite they count the rows.  The figures are the same
either way (decision 0013).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber, TruncMonth
from django.utils import timezone

from localsocial.circles.models import (
    AccountKind,
    Circle,
    DbsStatus,
    HelpCategory,
    Helper,
    HelperKind,
    HelperTransition,
    HelpRequest,
    HelpRequestDayTotal,
    LedgerDayTotal,
    Member,
    MembershipYear,
    MemberStatus,
    Payment,
    PaymentPurpose,
    PaymentStatus,
    RequestStatus,
    SavingsBasis,
    SavingsProxy,
    TransferKind,
    Visit,
    VisitDayTotal,
    VisitWait,
    WaitDayTotal,
)
from localsocial.circles.models.help_totals import help_totals_kept
from localsocial.core.periods import months_between, period_bounds

PERCENTILES = (0.5, 0.9)
QUARTERS_PER_HOUR = 4


def default_period(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The last twelve months: from the first day of the month eleven months ago to today."""
    end = today or timezone.localdate()
    index = end.year * 12 + end.month - 1 - 11
    return dt.date(index // 12, index % 12 + 1, 1), end


def _rows(values: Any) -> list[dict[str, Any]]:
    """A ``values()`` query's rows as plain dictionaries (one query)."""
    return [dict(row) for row in values]


def _month_key(value: Any) -> dt.date:
    """``TruncMonth`` gives a date for a date column and an aware datetime for a datetime one."""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def _by_month(rows: list[dict[str, Any]], start: dt.date, end: dt.date, *names: str) -> dict[dt.date, dict[str, int]]:
    """Every month of the period, each with the named sums (0 for a month with nothing)."""
    months: dict[dt.date, dict[str, int]] = {month: dict.fromkeys(names, 0) for month in months_between(start, end)}
    for row in rows:
        cell = months.get(_month_key(row["month"]))
        if cell is not None:
            for name in names:
                cell[name] += row.get(name) or 0
    return months


# --- Members ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MemberMonth:
    month: dt.date
    joined: int = 0
    lapsed: int = 0
    became_helpers: int = 0


@dataclass
class MembersReport:
    start: dt.date
    end: dt.date
    joined: int = 0  # joined in the period
    active_now: int = 0  # status active today, joined by the end of the period
    paid_at_end: int = 0  # a paid membership year covering the period's last day
    lapsed: int = 0  # still lapsed, whose last year ended in the period
    became_helpers: int = 0  # members who became helpers in the period
    months: list[MemberMonth] = field(default_factory=list)


def members_report(*, circle: Circle, start: dt.date, end: dt.date) -> MembersReport:
    """Members who joined, are active, lapsed and became helpers.  Four queries.

    * joined: ``joined_at`` in the period;
    * active now: status active today and joined by the end of the period (the status is
      today's; the history of statuses is not kept);
    * paid at the end: a paid membership year that covers the period's last day;
    * lapsed: members lapsed today whose last membership year ended in the period (the day
      it ended is the day they lapsed; one who renewed since is active again, not counted);
    * became helpers: ``HelperTransition`` recorded in the period."""
    first, after = period_bounds(start, end)
    report = MembersReport(start=start, end=end)
    joined = _rows(
        Member.objects.filter(circle=circle, joined_at__gte=first, joined_at__lt=after)
        .annotate(month=TruncMonth("joined_at")).values("month").annotate(joined=Count("id")).order_by("month")
    )
    counts = Member.objects.filter(circle=circle, joined_at__lt=after).aggregate(
        active_now=Count("id", filter=Q(status=MemberStatus.ACTIVE)),
        # IN, not EXISTS: the database reads the covering years once (an index on ends_on)
        # instead of looking up each member's years.
        paid_at_end=Count("id", filter=Q(pk__in=MembershipYear.objects.filter(
            starts_on__lte=end, ends_on__gt=end, payment__isnull=False,
        ).values("member_id"))),
    )
    later_year = MembershipYear.objects.filter(member=OuterRef("member"), ends_on__gt=OuterRef("ends_on"))
    lapsed = _rows(
        MembershipYear.objects.filter(
            member__circle=circle, member__status=MemberStatus.LAPSED, ends_on__gte=start, ends_on__lte=end,
        ).exclude(Exists(later_year))
        .annotate(month=TruncMonth("ends_on")).values("month").annotate(lapsed=Count("member", distinct=True))
        .order_by("month")
    )
    became = _rows(
        HelperTransition.objects.filter(circle=circle, created_at__gte=first, created_at__lt=after)
        .annotate(month=TruncMonth("created_at")).values("month").annotate(became_helpers=Count("id"))
        .order_by("month")
    )
    months = _by_month(joined + lapsed + became, start, end, "joined", "lapsed", "became_helpers")
    report.months = [MemberMonth(month=month, **cell) for month, cell in months.items()]
    report.joined = sum(m.joined for m in report.months)
    report.lapsed = sum(m.lapsed for m in report.months)
    report.became_helpers = sum(m.became_helpers for m in report.months)
    report.active_now, report.paid_at_end = counts["active_now"], counts["paid_at_end"]
    return report


# --- Helpers ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HelperKindRow:
    kind: str
    label: str
    active: int
    vetted: int
    helped: int
    joined: int


@dataclass
class HelpersReport:
    start: dt.date
    end: dt.date
    rows: list[HelperKindRow] = field(default_factory=list)

    @property
    def active(self) -> int:
        return sum(row.active for row in self.rows)

    @property
    def vetted(self) -> int:
        return sum(row.vetted for row in self.rows)

    @property
    def helped(self) -> int:
        return sum(row.helped for row in self.rows)

    @property
    def joined(self) -> int:
        return sum(row.joined for row in self.rows)


def vetted_for_home_visits_q(today: dt.date) -> Q:
    """``services.helpers.helper_is_vetted_for_home_visits`` as a filter (keep the two alike)."""
    return (
        Q(is_active=True, dbs_status=DbsStatus.CLEAR, dbs_expires_on__gt=today, references_checked=True,
          training_completed_on__lte=today)
        & (Q(dbs_checked_on__isnull=True) | Q(dbs_checked_on__lte=today))
    )


def helpers_report(*, circle: Circle, start: dt.date, end: dt.date) -> HelpersReport:
    """Helpers of each kind (volunteer, paid, member who helps): active today, vetted for home
    visits today, who helped in the period (a visit completed in it) and who became helpers in
    it.  One query."""
    first, after = period_bounds(start, end)
    today = timezone.localdate()
    helped = Visit.objects.filter(helper=OuterRef("pk"), completed_at__gte=first, completed_at__lt=after)
    rows: dict[str, dict[str, Any]] = {
        row["kind"]: dict(row)
        for row in Helper.objects.filter(circle=circle).values("kind").annotate(
            active=Count("id", filter=Q(is_active=True)),
            vetted=Count("id", filter=vetted_for_home_visits_q(today)),
            helped=Count("id", filter=Q(Exists(helped))),
            joined=Count("id", filter=Q(became_helper_at__gte=first, became_helper_at__lt=after)),
        ).order_by("kind")
    }
    report = HelpersReport(start=start, end=end)
    for kind in HelperKind:
        row: dict[str, Any] = rows.get(kind.value, {})
        report.rows.append(HelperKindRow(
            kind=kind.value, label=str(kind.label), active=row.get("active", 0), vetted=row.get("vetted", 0),
            helped=row.get("helped", 0), joined=row.get("joined", 0),
        ))
    return report


# --- Help: requests, hours, waiting times ---------------------------------------------------------

@dataclass(frozen=True)
class CategoryRow:
    category: str
    label: str
    requests: int = 0
    open: int = 0
    arranged: int = 0
    done: int = 0
    cancelled: int = 0
    visits: int = 0
    quarters: int = 0

    @property
    def hours(self) -> float:
        return self.quarters / QUARTERS_PER_HOUR


@dataclass(frozen=True)
class HelpMonth:
    month: dt.date
    requests: int = 0
    visits: int = 0
    quarters: int = 0

    @property
    def hours(self) -> float:
        return self.quarters / QUARTERS_PER_HOUR


@dataclass
class HelpReport:
    start: dt.date
    end: dt.date
    categories: list[CategoryRow] = field(default_factory=list)
    months: list[HelpMonth] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(row.requests for row in self.categories)

    @property
    def visits(self) -> int:
        return sum(row.visits for row in self.categories)

    @property
    def quarters(self) -> int:
        return sum(row.quarters for row in self.categories)

    @property
    def hours(self) -> float:
        return self.quarters / QUARTERS_PER_HOUR


def _completed_visits(circle: Circle, start: dt.date, end: dt.date) -> QuerySet[Visit]:
    first, after = period_bounds(start, end)
    return Visit.objects.filter(circle=circle, completed_at__gte=first, completed_at__lt=after)


def _visit_quarters() -> Coalesce:
    # A completed visit records the quarters it was paid for; an older one falls back on the estimate.
    return Coalesce("quarters", "request__estimated_quarters")


def _visits_by_month_and_category(circle: Circle, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Visits completed in the period and their quarter hours (``n``, ``q``) by month and kind of
    help.  From the daily totals where the database keeps them (PostgreSQL), else from the
    visits.  One query."""
    if help_totals_kept():
        return _rows(
            VisitDayTotal.objects.filter(circle=circle, day__gte=start, day__lte=end)
            .annotate(month=TruncMonth("day")).values("month", "category")
            .annotate(n=Sum("visits"), q=Sum("quarters")).order_by()
        )
    return _rows(
        _completed_visits(circle, start, end)
        .annotate(month=TruncMonth("completed_at"), category=F("request__category"))
        .values("month", "category").annotate(n=Count("id"), q=Sum(_visit_quarters())).order_by()
    )


def help_report(*, circle: Circle, start: dt.date, end: dt.date) -> HelpReport:
    """Requests made in the period by kind of help and where they are now (open counts
    "waiting" and "offered"), and the help given: visits completed in the period and their
    length in quarter hours (what the member paid in tokens), by kind and by month.  Two queries,
    on the daily totals where the database keeps them."""
    visits = _visits_by_month_and_category(circle, start, end)
    if help_totals_kept():
        requests = _rows(
            HelpRequestDayTotal.objects.filter(circle=circle, day__gte=start, day__lte=end)
            .annotate(month=TruncMonth("day")).values("month", "category", "status")
            .annotate(n=Sum("requests")).order_by()
        )
    else:
        first, after = period_bounds(start, end)
        requests = _rows(
            HelpRequest.objects.filter(circle=circle, created_at__gte=first, created_at__lt=after)
            .annotate(month=TruncMonth("created_at")).values("month", "category", "status")
            .annotate(n=Count("id")).order_by()
        )
    columns = ("requests", "open", "arranged", "done", "cancelled", "visits", "quarters")
    by_category: dict[str, dict[str, int]] = {c.value: dict.fromkeys(columns, 0) for c in HelpCategory}
    status_column: dict[str, str] = {
        RequestStatus.OPEN: "open", RequestStatus.OFFERED: "open", RequestStatus.ARRANGED: "arranged",
        RequestStatus.DONE: "done", RequestStatus.CANCELLED: "cancelled",
    }
    month_rows: list[dict[str, Any]] = []
    for row in requests:
        cell = by_category.setdefault(row["category"], dict.fromkeys(columns, 0))
        cell["requests"] += row["n"]
        cell[status_column.get(row["status"], "open")] += row["n"]
        month_rows.append({"month": row["month"], "requests": row["n"], "visits": 0, "quarters": 0})
    for row in visits:
        cell = by_category.setdefault(row["category"], dict.fromkeys(columns, 0))
        cell["visits"] += row["n"]
        cell["quarters"] += row["q"] or 0
        month_rows.append({"month": row["month"], "requests": 0, "visits": row["n"], "quarters": row["q"] or 0})
    labels = dict(HelpCategory.choices)
    report = HelpReport(start=start, end=end)
    report.categories = [
        CategoryRow(category=key, label=str(labels.get(key, key)), **cell) for key, cell in by_category.items()
    ]
    months = _by_month(month_rows, start, end, "requests", "visits", "quarters")
    report.months = [HelpMonth(month=month, **cell) for month, cell in months.items()]
    return report


@dataclass
class WaitReport:
    start: dt.date
    end: dt.date
    count: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None


def _wait() -> ExpressionWrapper:
    return ExpressionWrapper(F("checked_in_at") - F("request__created_at"), output_field=DurationField())


def _percentile_positions(count: int) -> dict[float, tuple[int, int]]:
    """For each percentile, the two positions (from 0, in order) that ``percentile_cont``
    interpolates between."""
    positions = {}
    for fraction in PERCENTILES:
        low = math.floor(fraction * (count - 1))
        positions[fraction] = (low, min(low + 1, count - 1))
    return positions


def _interpolate(fraction: float, count: int, low_value: float, high_value: float) -> float:
    position = fraction * (count - 1)
    return low_value + (position - math.floor(position)) * (high_value - low_value)


def _wait_report_from_bands(*, circle: Circle, start: dt.date, end: dt.date) -> WaitReport:
    """``wait_report`` from the waits the database keeps (PostgreSQL, decision 0013): the visits
    of each band of waiting time in the period, from the daily totals (query 1), tell which
    bands hold the waits the percentiles need and at which place; only those bands' waits are
    read and put in order (query 2).  The same figures as ``percentile_cont`` over every visit."""
    report = WaitReport(start=start, end=end)
    bands = list(
        WaitDayTotal.objects.filter(circle=circle, day__gte=start, day__lte=end)
        .values("bucket").annotate(n=Sum("visits")).order_by("bucket").values_list("bucket", "n")
    )
    report.count = sum(n for _band, n in bands)
    if not report.count:
        return report
    positions = _percentile_positions(report.count)
    wanted = {pos for pair in positions.values() for pos in pair}
    # Where each wanted position falls: its band and its place within the band.
    place: dict[int, tuple[int, int]] = {}
    before = 0
    for band, n in bands:
        for pos in wanted:
            if before <= pos < before + n:
                place[pos] = (band, pos - before)
        before += n
    first, after = period_bounds(start, end)
    waits: dict[int, list[float]] = {band: [] for band, _place in place.values()}
    for band, seconds in VisitWait.objects.filter(
        circle=circle, bucket__in=list(waits), checked_in_at__gte=first, checked_in_at__lt=after,
    ).values_list("bucket", "wait_seconds"):
        waits[band].append(seconds)
    for band_waits in waits.values():
        band_waits.sort()
    value = {pos: waits[band][index] for pos, (band, index) in place.items()}
    report.median_seconds, report.p90_seconds = (
        _interpolate(fraction, report.count, value[positions[fraction][0]], value[positions[fraction][1]])
        for fraction in PERCENTILES
    )
    return report


def wait_report(*, circle: Circle, start: dt.date, end: dt.date) -> WaitReport:
    """How long members waited for help: from the moment a request was made to the helper's
    check-in at its visit, for visits checked in during the period.  The median (half waited
    less) and the 90th percentile (9 in 10 waited less), interpolated as PostgreSQL's
    ``percentile_cont`` does.  Two queries (one when nobody was visited)."""
    if help_totals_kept():
        return _wait_report_from_bands(circle=circle, start=start, end=end)
    first, after = period_bounds(start, end)
    visits = Visit.objects.filter(circle=circle, checked_in_at__gte=first, checked_in_at__lt=after)
    report = WaitReport(start=start, end=end, count=visits.count())
    if not report.count:
        return report
    # Without the kept waits (SQLite), the database numbers the waits in order and returns only
    # the rows needed.
    positions = _percentile_positions(report.count)
    wanted = sorted({pos + 1 for pair in positions.values() for pos in pair})
    ranked = visits.annotate(
        wait=_wait(), position=Window(RowNumber(), order_by=[F("wait").asc(), F("id").asc()])
    ).filter(position__in=wanted)
    values = {row["position"] - 1: row["wait"].total_seconds() for row in ranked.values("position", "wait")}
    report.median_seconds, report.p90_seconds = (
        _interpolate(fraction, report.count, values[positions[fraction][0]], values[positions[fraction][1]])
        for fraction in PERCENTILES
    )
    return report


# --- Tokens and money ------------------------------------------------------------------------------

TOKEN_MEASURES = ("bought", "gifted", "granted", "earned", "spent", "spent_with_volunteers", "reversed")


@dataclass(frozen=True)
class TokenMonth:
    month: dt.date
    bought: int = 0
    gifted: int = 0
    granted: int = 0
    earned: int = 0
    spent: int = 0
    spent_with_volunteers: int = 0
    reversed: int = 0


@dataclass
class TokensReport:
    """Amounts in quarter hours (4 to a token)."""

    start: dt.date
    end: dt.date
    months: list[TokenMonth] = field(default_factory=list)
    reversals: int = 0  # number of corrections

    def total(self, measure: str) -> int:
        return sum(getattr(month, measure) for month in self.months)


def tokens_report(*, circle: Circle, start: dt.date, end: dt.date) -> TokensReport:
    """Tokens moved by transfers made in the period, by month, from the ledger's entries:

    * bought, gifted, granted: credited to members' accounts by purchase, gift and grant
      transfers (welcome tokens are grants);
    * spent: debited from members' accounts by help transfers (paying for visits);
    * earned: credited to the accounts of members who help, by help transfers;
    * spent with volunteers: the part of "spent" that went to the circle's help account
      (help from volunteers and paid helpers, who earn no tokens);
    * reversed: the tokens moved back by corrections, shown apart and not taken off the
      other figures (the table shows both), with the number of corrections.

    Read from the ledger's daily totals (``LedgerDayTotal``, kept by ``ledger_transfer`` in the
    same transaction as the entries; decision 0013), so it costs the same at a million entries
    as at ten.  One query."""
    rows = _rows(
        LedgerDayTotal.objects.filter(circle=circle, day__gte=start, day__lte=end)
        .annotate(month=TruncMonth("day"), kind=F("transfer_kind"))
        .values("month", "kind", "account_kind")
        .annotate(credit=Sum("credit_quarters"), debit=Sum("debit_quarters"), transfers=Sum("transfers"))
        .order_by()
    )
    reversals = sum(row["transfers"] or 0 for row in rows if row["kind"] == TransferKind.REVERSAL)
    month_rows: list[dict[str, Any]] = []
    for row in rows:
        kind, account_kind = row["kind"], row["account_kind"]
        cell = dict.fromkeys(TOKEN_MEASURES, 0)
        if account_kind == AccountKind.MEMBER and kind == TransferKind.PURCHASE:
            cell["bought"] = row["credit"]
        elif account_kind == AccountKind.MEMBER and kind == TransferKind.GIFT:
            cell["gifted"] = row["credit"]
        elif account_kind == AccountKind.MEMBER and kind == TransferKind.GRANT:
            cell["granted"] = row["credit"]
        elif account_kind == AccountKind.MEMBER and kind == TransferKind.HELP:
            cell["spent"] = row["debit"]
        elif account_kind == AccountKind.HELPER and kind == TransferKind.HELP:
            cell["earned"] = row["credit"]
        elif account_kind == AccountKind.HELP and kind == TransferKind.HELP:
            cell["spent_with_volunteers"] = row["credit"]
        elif kind == TransferKind.REVERSAL and account_kind:
            # Each correction moves its tokens once: count the credited side only.
            cell["reversed"] = row["credit"]
        month_rows.append({"month": row["month"], **cell})
    months = _by_month(month_rows, start, end, *TOKEN_MEASURES)
    return TokensReport(
        start=start, end=end, months=[TokenMonth(month=month, **cell) for month, cell in months.items()],
        reversals=reversals,
    )


@dataclass(frozen=True)
class MoneyMonth:
    month: dt.date
    fees: int = 0  # pence
    tokens: int = 0
    gifts: int = 0

    @property
    def total(self) -> int:
        return self.fees + self.tokens + self.gifts


@dataclass
class MoneyReport:
    start: dt.date
    end: dt.date
    months: list[MoneyMonth] = field(default_factory=list)
    payments: int = 0

    @property
    def fees(self) -> int:
        return sum(m.fees for m in self.months)

    @property
    def tokens(self) -> int:
        return sum(m.tokens for m in self.months)

    @property
    def gifts(self) -> int:
        return sum(m.gifts for m in self.months)

    @property
    def total(self) -> int:
        return self.fees + self.tokens + self.gifts


def money_report(*, circle: Circle, start: dt.date, end: dt.date) -> MoneyReport:
    """Money received in the period, in pence: membership fees, tokens bought by members and
    tokens bought as gifts, counting payments that succeeded, by the month they were
    completed.  Pending and failed card payments are not counted.  One query."""
    first, after = period_bounds(start, end)
    rows = _rows(
        Payment.objects.filter(
            circle=circle, status=PaymentStatus.SUCCEEDED, completed_at__gte=first, completed_at__lt=after,
        ).annotate(month=TruncMonth("completed_at")).values("month", "purpose")
        .annotate(pence=Sum("amount_pence"), n=Count("id")).order_by()
    )
    column: dict[str, str] = {PaymentPurpose.FEE: "fees", PaymentPurpose.TOKENS: "tokens", PaymentPurpose.GIFT: "gifts"}
    month_rows = [
        {"month": row["month"], "fees": 0, "tokens": 0, "gifts": 0, column[row["purpose"]]: row["pence"]}
        for row in rows if row["purpose"] in column
    ]
    months = _by_month(month_rows, start, end, "fees", "tokens", "gifts")
    return MoneyReport(
        start=start, end=end, months=[MoneyMonth(month=month, **cell) for month, cell in months.items()],
        payments=sum(row["n"] for row in rows),
    )


# --- Savings to public services -------------------------------------------------------------------

@dataclass(frozen=True)
class SavingsRow:
    category: str
    label: str
    visits: int
    quarters: int
    proxy: SavingsProxy | None
    pence: int  # the estimate for this kind of help; 0 when not counted

    @property
    def hours(self) -> float:
        return self.quarters / QUARTERS_PER_HOUR

    @property
    def counted(self) -> bool:
        return self.proxy is not None


@dataclass(frozen=True)
class SavingsMonth:
    month: dt.date
    pence: int
    cumulative_pence: int


@dataclass
class SavingsEstimate:
    start: dt.date
    end: dt.date
    rows: list[SavingsRow] = field(default_factory=list)
    months: list[SavingsMonth] = field(default_factory=list)

    @property
    def total_pence(self) -> int:
        return sum(row.pence for row in self.rows)

    @property
    def proxies(self) -> list[SavingsProxy]:
        return [row.proxy for row in self.rows if row.proxy is not None]

    @property
    def not_counted(self) -> list[SavingsRow]:
        """Kinds of help given in the period that have no value set: not in the estimate."""
        return [row for row in self.rows if row.proxy is None and row.visits]


def savings_value_pence(*, proxy: SavingsProxy, visits: int, quarters: int) -> int:
    """One kind of help's estimate: hours (or visits) times the value times the share claimed, to the
    nearest penny (worked in whole numbers, so no rounding error adds up)."""
    amount = quarters if proxy.basis == SavingsBasis.PER_HOUR else visits * QUARTERS_PER_HOUR
    # amount is in quarter hours (or visits times 4): divide by 4 and by 100 per cent at the end.
    numerator = amount * proxy.value_pence * proxy.attribution_percent
    return (numerator + 200) // 400


def savings_proxies(*, circle: Circle) -> list[SavingsProxy]:
    """The circle's proxy values, by kind of help, with who set each.  One query."""
    return list(SavingsProxy.objects.filter(circle=circle).select_related("updated_by").order_by("category"))


def savings_estimate(*, circle: Circle, start: dt.date, end: dt.date) -> SavingsEstimate:
    """The estimated savings to public services from the help completed in the period: for
    each kind of help with a proxy value, its hours (or visits) times the value times the share the
    circle claims; month by month and added up.  Kinds without a value are listed as not
    counted.  Two queries."""
    proxies = {proxy.category: proxy for proxy in savings_proxies(circle=circle)}
    rows = _visits_by_month_and_category(circle, start, end)
    # [visits, quarters, pence] per kind; each month's figure is rounded to the penny and the
    # totals add those up, so the months, the kinds and the total always agree.
    per_category: dict[str, list[int]] = {c.value: [0, 0, 0] for c in HelpCategory}
    month_rows: list[dict[str, Any]] = []
    for row in rows:
        visits, quarters = row["n"], row["q"] or 0
        proxy = proxies.get(row["category"])
        pence = savings_value_pence(proxy=proxy, visits=visits, quarters=quarters) if proxy else 0
        totals = per_category.setdefault(row["category"], [0, 0, 0])
        totals[0] += visits
        totals[1] += quarters
        totals[2] += pence
        month_rows.append({"month": row["month"], "pence": pence})
    labels = dict(HelpCategory.choices)
    estimate = SavingsEstimate(start=start, end=end)
    for category, (visits, quarters, pence) in per_category.items():
        estimate.rows.append(SavingsRow(
            category=category, label=str(labels.get(category, category)), visits=visits, quarters=quarters,
            proxy=proxies.get(category), pence=pence,
        ))
    running = 0
    for month, cell in _by_month(month_rows, start, end, "pence").items():
        running += cell["pence"]
        estimate.months.append(SavingsMonth(month=month, pence=cell["pence"], cumulative_pence=running))
    return estimate
