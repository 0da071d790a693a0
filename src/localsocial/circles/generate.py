"""The circles' generator steps (found by ``localsocial generate`` in this app's ``generate.py``):
circles with coordinators, bundles and savings values; members with a paid membership year and
welcome tokens; vetted helpers; completed visits, each with its request, accepted match and the
help transfer that paid for it (members short of tokens buy some first, a card payment and a
purchase transfer); requests still waiting; and more ledger traffic (grants and payments for
help, the way ``bench/ledger.py`` measures the ledger).

How many (each an option of ``localsocial generate``, else the scale's default):

* ``--circles N`` circles (10 a scale, at least 1);
* ``--circle-members N`` members in all, shared out between the circles (2,000 a scale);
* ``--circle-helpers N`` helpers in all (100 a scale, at least 1);
* ``--circle-visits N`` completed visits in all, over the last two years (5,000 a scale), and a
  tenth as many requests still open;
* ``--ledger-entries N`` more ledger entries (10,000 a scale), in pairs of transfers: a grant
  of 1 token to a member, then 3 quarters paid for help; the first member of each circle (the
  "busy" one) gets one pair in twenty, so one account has a long statement.

Members and helpers are this run's generated people (a person is at most once a member and
once a helper in a circle), so ``--circle-members`` and ``--circle-helpers`` per circle must not
exceed the people generated (raise ``--scale``).

What holds afterwards, as if every row had gone through the services: ``localsocial ledger
verify`` passes (every transfer has two entries summing to zero, each balance is the sum of its
entries and within its limit) and ``localsocial circles_totals`` passes (the reports' daily
totals match the rows).  On PostgreSQL the rows are copied in with the ledger's and the
totals' triggers switched off for the load (``ALTER TABLE … DISABLE TRIGGER USER``, inside the
run's transaction, so a failure leaves them on): balances are then set from the sums of the
entries and the reports' totals worked out afresh, as ``circles_totals --rebuild`` does (for
every circle: one pass over the rows).  On SQLite the
triggers stay on and keep the balances as the entries go in.

Generated circles are marked by their slug (``gen-…``); ``--reset`` deletes them and
everything in them (the ledger's rows included, with its append-only triggers off for the
deletion: generated tokens are not anyone's money).
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models
from django.db.models import QuerySet

from localsocial.accounts.models import RoleGrant, SiteRole, User
from localsocial.circles.models import (
    Account,
    AccountKind,
    Circle,
    CircleCoordinator,
    CirclePartner,
    DbsStatus,
    Entry,
    Event,
    EventRsvp,
    HelpCategory,
    Helper,
    HelperAvailability,
    HelperKind,
    HelperSkill,
    HelperTransition,
    HelpPlace,
    HelpRequest,
    HelpRequestDayTotal,
    IncidentReport,
    LedgerDayTotal,
    Match,
    Member,
    MembershipYear,
    Offer,
    Payment,
    Referral,
    SavingsProxy,
    TokenBundle,
    Transfer,
    Visit,
    VisitDayTotal,
    VisitFeedback,
    VisitWait,
    WaitDayTotal,
    WellbeingCheckIn,
)
from localsocial.core.generate import (
    GENERATED_SLUG_PREFIX,
    GenerateContext,
    bulk_insert,
    generator_option,
    generator_step,
    next_id,
    reset_sequences,
)
from localsocial.core.generate.vocabulary import place_name

generator_option("circles", per_scale=10, minimum=1, help="How many circles (default 10 times the scale, at least 1).")
generator_option("circle-members", per_scale=2_000, label="circle members",
                 help="Circle members in all, shared out between the circles (default 2,000 times the scale).")
generator_option("circle-helpers", per_scale=100, minimum=1, label="circle helpers",
                 help="Circle helpers in all (default 100 times the scale, at least 1).")
generator_option("circle-visits", per_scale=5_000, label="completed visits",
                 help="Completed visits in all, each with its request, match and help transfer, over the "
                      "last two years (default 5,000 times the scale); a tenth as many requests stay open.")
generator_option("ledger-entries", per_scale=10_000, label="more ledger entries",
                 help="More ledger entries, in grant and help pairs of transfers (4 entries a pair; default "
                      "10,000 times the scale); the first member of each circle gets one pair in twenty.")

CHUNK = 20_000
DAYS = 730
WELCOME_QUARTERS = 4
MINIMUM_BALANCE = -8  # two hours of credit
BUNDLE = ("3 tokens", 12, 3000)  # what a member short of tokens buys
FEE_PENCE = 1500
CATEGORIES = [c.value for c in HelpCategory]
PLACES = [HelpPlace.HOME.value, HelpPlace.OUT.value, HelpPlace.HOME.value, HelpPlace.REMOTE.value]
SAVINGS_PENCE = {HelpCategory.GARDEN: 2000, HelpCategory.COMPANY: 3000, HelpCategory.HOME_JOBS: 2500,
                 HelpCategory.SHOPPING: 1500, HelpCategory.TRIPS: 1800}
DESCRIPTIONS = {
    HelpCategory.HOME_JOBS: "Put up a shelf and change a light bulb on the landing.",
    HelpCategory.GARDEN: "Cut back the hedge by the front door; it is over the path.",
    HelpCategory.TECH: "Set up my new phone so I can video call my grandchildren.",
    HelpCategory.TRIPS: "A lift to the surgery and back for my appointment.",
    HelpCategory.SHOPPING: "Weekly shop at the supermarket: I will give you a list.",
    HelpCategory.COMPANY: "A cup of tea and a chat; I do not see many people these days.",
    HelpCategory.LEARNING: "Show me how to book a doctor's appointment online.",
}

ACCOUNT_COLUMNS = ["id", "circle_id", "kind", "member_id", "helper_id", "balance_quarters", "minimum_quarters",
                   "created_at"]
MEMBER_COLUMNS = ["id", "circle_id", "user_id", "display_name", "postcode", "contact_preference",
                  "eligibility_confirmed", "status", "route", "joined_at"]
PAYMENT_COLUMNS = ["id", "circle_id", "member_id", "purpose", "method", "status", "amount_pence", "bundle_id",
                   "idempotency_key", "created_at", "completed_at"]
TRANSFER_COLUMNS = ["id", "circle_id", "kind", "idempotency_key", "memo", "payment_id", "created_at"]
ENTRY_COLUMNS = ["transfer_id", "account_id", "quarters", "created_at"]
REQUEST_COLUMNS = ["id", "circle_id", "member_id", "category", "description", "starts_at", "estimated_quarters",
                   "place", "status", "idempotency_key", "created_at"]
MATCH_COLUMNS = ["id", "request_id", "helper_id", "status", "score", "proposed_by_id", "proposed_at",
                 "responded_at"]
VISIT_COLUMNS = ["id", "circle_id", "request_id", "match_id", "helper_id", "planned_start", "planned_end",
                 "checked_in_at", "checked_out_at", "member_confirmed_at", "helper_confirmed_at",
                 "coordinator_confirmed_at", "coordinator_confirmed_by_id", "completed_at", "quarters", "payment",
                 "transfer_id", "created_at"]

# The tables whose user triggers are off while the load runs on PostgreSQL (the ledger's rules
# and balances, and the reports' totals of requests and visits).
LOAD_TABLES = [Entry, Transfer, HelpRequest, Visit]


def generated_circles() -> QuerySet[Circle]:
    return Circle.objects.filter(slug__startswith=GENERATED_SLUG_PREFIX)


@contextmanager
def _triggers_off(tables: Sequence[type[models.Model]]) -> Iterator[None]:
    """PostgreSQL: ``tables`` without their own triggers within this block (foreign keys are
    still checked); elsewhere nothing changes.  Pending deferred checks run first, as
    PostgreSQL refuses to alter a table with pending trigger events."""
    if connection.vendor != "postgresql":
        yield
        return
    if not connection.in_atomic_block:
        # Only a transaction puts the triggers back for certain (its rollback does, on failure).
        raise RuntimeError("The circles' generator steps run inside the generator's transaction.")
    quote = connection.ops.quote_name
    names = [quote(str(model._meta.db_table)) for model in tables]
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for name in names:
            cursor.execute(f"ALTER TABLE {name} DISABLE TRIGGER USER")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for name in names:
            cursor.execute(f"ALTER TABLE {name} ENABLE TRIGGER USER")


def _raw_delete(queryset: QuerySet[Any]) -> int:
    # One DELETE … WHERE … IN (subquery) a table: the rows are neither loaded nor sent as lists.
    return queryset._raw_delete(queryset.db)


def circles_reset() -> int:
    """Delete the generated circles and everything in them, children before parents."""
    circles = generated_circles().values("pk")
    if not generated_circles().exists():
        return 0
    in_circles = {"circle_id__in": circles}
    deleted = 0
    with _triggers_off(LOAD_TABLES):
        for queryset in (
            VisitWait.objects.filter(**in_circles),
            VisitFeedback.objects.filter(visit__circle_id__in=circles),
            IncidentReport.objects.filter(**in_circles),
            Visit.objects.filter(**in_circles),
            Match.objects.filter(request__circle_id__in=circles),
            HelpRequest.objects.filter(**in_circles),
            Offer.objects.filter(**in_circles),
            Entry.objects.filter(transfer__circle_id__in=circles),
            Transfer.objects.filter(**in_circles),
            Account.objects.filter(**in_circles),
            HelperSkill.objects.filter(helper__circle_id__in=circles),
            HelperAvailability.objects.filter(helper__circle_id__in=circles),
            HelperTransition.objects.filter(**in_circles),
            Helper.objects.filter(**in_circles),
            MembershipYear.objects.filter(member__circle_id__in=circles),
            Payment.objects.filter(**in_circles),
            EventRsvp.objects.filter(event__circle_id__in=circles),
            Event.objects.filter(**in_circles),
            Referral.objects.filter(**in_circles),
            WellbeingCheckIn.objects.filter(**in_circles),
            Member.objects.filter(**in_circles),
            LedgerDayTotal.objects.filter(**in_circles),
            HelpRequestDayTotal.objects.filter(**in_circles),
            VisitDayTotal.objects.filter(**in_circles),
            WaitDayTotal.objects.filter(**in_circles),
            SavingsProxy.objects.filter(**in_circles),
            CircleCoordinator.objects.filter(**in_circles),
            CirclePartner.objects.filter(**in_circles),
            TokenBundle.objects.filter(**in_circles),
        ):
            deleted += _raw_delete(queryset)
        deleted += _raw_delete(generated_circles())
    return deleted


# --- The run ---------------------------------------------------------------------------------


class _Ids:
    """The next free id of each table, taken once: rows are written with their ids known."""

    def __init__(self, *model_classes: type[models.Model]) -> None:
        self._next = {model: next_id(model) for model in model_classes}

    def take(self, model: type[models.Model]) -> int:
        pk = self._next[model]
        self._next[model] = pk + 1
        return pk


@dataclass
class _Rows:
    payments: list[tuple[Any, ...]] = field(default_factory=list)
    transfers: list[tuple[Any, ...]] = field(default_factory=list)
    entries: list[tuple[Any, ...]] = field(default_factory=list)
    requests: list[tuple[Any, ...]] = field(default_factory=list)
    matches: list[tuple[Any, ...]] = field(default_factory=list)
    visits: list[tuple[Any, ...]] = field(default_factory=list)

    def write(self) -> int:
        # Parents first: SQLite's triggers read an entry's transfer as the entry goes in.
        written = bulk_insert(Payment, PAYMENT_COLUMNS, self.payments)
        written += bulk_insert(Transfer, TRANSFER_COLUMNS, self.transfers)
        written += bulk_insert(Entry, ENTRY_COLUMNS, self.entries)
        written += bulk_insert(HelpRequest, REQUEST_COLUMNS, self.requests)
        written += bulk_insert(Match, MATCH_COLUMNS, self.matches)
        written += bulk_insert(Visit, VISIT_COLUMNS, self.visits)
        for rows in (self.payments, self.transfers, self.entries, self.requests, self.matches, self.visits):
            rows.clear()
        return written

    def __len__(self) -> int:
        return len(self.entries) + len(self.requests)


@dataclass
class _Circle:
    id: int
    name: str
    area_id: int | None
    accounts: dict[str, int]  # issuance, sales, help
    coordinator_id: int | None
    bundle_id: int = 0
    members: list[int] = field(default_factory=list)  # member ids, by joining time
    member_accounts: list[int] = field(default_factory=list)
    joined: list[dt.datetime] = field(default_factory=list)
    balances: list[int] = field(default_factory=list)
    helpers: list[int] = field(default_factory=list)


def _shares(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


@generator_step("circles.circles", order=200, reset=circles_reset)
def circles_generate(ctx: GenerateContext) -> int:
    """Circles, their members, helpers, visits and ledger (see the module's docstring); returns
    the number of rows written in all the tables."""
    from localsocial.circles.services.help_totals import help_totals_rebuild
    from localsocial.circles.services.ledger_totals import ledger_totals_rebuild

    plan = ctx.plan
    number = plan.count("circles")
    users = ctx.ids.get("users") or range(0)
    if number <= 0 or not users:
        return 0
    # Members and helpers are the people after the staff and the moderators, as authors are.
    skip = min(len(users) // 2, plan.memberships + plan.role_grants)
    people = list(users[skip:])
    member_shares = _shares(plan.count("circle-members"), number)
    helper_shares = _shares(plan.count("circle-helpers"), number)
    if max(m + h for m, h in zip(member_shares, helper_shares, strict=True)) > len(people):
        raise ValueError(
            f"{max(member_shares):,} members and {max(helper_shares):,} helpers a circle need more people than "
            f"the {len(people):,} this scale generates for them: raise --scale or give more --circles."
        )
    # This run's people are one run of ids (``range``): ask for them by their bounds.
    low, high = min(users), max(users)
    names = dict(User.objects.filter(pk__gte=low, pk__lte=high).values_list("pk", "display_name"))
    coordinators = list(RoleGrant.objects.filter(
        role=SiteRole.CIRCLE_COORDINATOR, user_id__gte=low, user_id__lte=high,
    ).order_by("user_id").values_list("user_id", flat=True))
    districts = list(ctx.ids.get("districts", []))
    ids = _Ids(Circle, Account, Member, Payment, Transfer, Helper, HelpRequest, Match, Visit)
    written = 0

    with _triggers_off(LOAD_TABLES):
        circles = [_circle(ctx, ids, index, coordinators, districts) for index in range(number)]
        written += _write_circles(ctx, circles)
        start = 0
        for circle, members, helpers in zip(circles, member_shares, helper_shares, strict=True):
            # Each circle's members, then its helpers, are the next people round: within a
            # circle no one is twice a member or twice a helper.
            chosen = [people[(start + n) % len(people)] for n in range(members + helpers)]
            start += members
            written += _members(ctx, ids, circle, chosen[:members], names)
            written += _helpers(ctx, ids, circle, chosen[members:], names)
        visit_shares = _shares(plan.count("circle-visits"), number)
        pair_shares = _shares(plan.count("ledger-entries") // 4, number)
        for circle, visits, pairs in zip(circles, visit_shares, pair_shares, strict=True):
            written += _ledger_pairs(ctx, ids, circle, pairs)
            written += _visits(ctx, ids, circle, visits)
            written += _open_requests(ctx, ids, circle, visits // 10)
    reset_sequences(Circle, Account, Member, Payment, MembershipYear, Transfer, Entry, Helper, HelperSkill,
                    HelpRequest, Match, Visit, CircleCoordinator, TokenBundle, SavingsProxy)

    circle_ids = [circle.id for circle in circles]
    if connection.vendor == "postgresql":
        # The triggers that move balances were off: set each balance to the sum of its entries.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE circles_account a SET balance_quarters = s.total FROM ("
                " SELECT e.account_id, SUM(e.quarters) AS total FROM circles_entry e"
                " JOIN circles_account x ON x.id = e.account_id WHERE x.circle_id = ANY(%s)"
                " GROUP BY e.account_id) s WHERE a.id = s.account_id",
                [circle_ids],
            )
    # The reports' daily totals (decision 0013), worked out afresh from the rows, as
    # ``circles_totals --rebuild`` does: the ledger's (kept by the service, which the load did
    # not call) and on PostgreSQL the requests', visits' and waits' (kept by triggers, which
    # were off).  One pass over all the rows, whatever the number of circles.
    written += ledger_totals_rebuild()
    request_cells, visit_cells = help_totals_rebuild()
    written += request_cells + visit_cells
    ctx.ids["circles"] = circle_ids
    return written


def _circle(ctx: GenerateContext, ids: _Ids, index: int, coordinators: list[int], districts: list[int]) -> _Circle:
    pk = ids.take(Circle)
    accounts = {str(kind): ids.take(Account) for kind in (AccountKind.ISSUANCE, AccountKind.SALES, AccountKind.HELP)}
    return _Circle(
        id=pk, name=f"{place_name(ctx.rng)} Circle", area_id=districts[index % len(districts)] if districts else None,
        accounts=accounts, coordinator_id=coordinators[index % len(coordinators)] if coordinators else None,
    )


def _write_circles(ctx: GenerateContext, circles: list[_Circle]) -> int:
    now = ctx.now
    written = bulk_insert(Circle, [
        "id", "name", "slug", "description", "area_id", "annual_fee_pence", "minimum_age", "welcome_quarters",
        "minimum_balance_quarters", "missed_checkout_minutes", "renewal_reminder_days", "is_active", "created_at",
    ], [
        (c.id, c.name, f"{GENERATED_SLUG_PREFIX}circle-{c.id}",
         "A fictional circle generated for testing: neighbours helping neighbours.",
         c.area_id, FEE_PENCE, 50, WELCOME_QUARTERS, MINIMUM_BALANCE, 60, 30, True, now - dt.timedelta(days=DAYS + 30))
        for c in circles
    ])
    written += bulk_insert(Account, ACCOUNT_COLUMNS, [
        (pk, c.id, kind, None, None, 0, None, now - dt.timedelta(days=DAYS + 30))
        for c in circles for kind, pk in c.accounts.items()
    ])
    written += bulk_insert(CircleCoordinator, ["circle_id", "user_id", "added_at"], [
        (c.id, c.coordinator_id, now - dt.timedelta(days=DAYS + 30)) for c in circles if c.coordinator_id
    ])
    first_bundle = next_id(TokenBundle)
    bundles = []
    for index, c in enumerate(circles):
        c.bundle_id = first_bundle + 2 * index + 1
        bundles += [(first_bundle + 2 * index, c.id, "1 token", 4, 1000, True),
                    (c.bundle_id, c.id, BUNDLE[0], BUNDLE[1], BUNDLE[2], True)]
    written += bulk_insert(TokenBundle, ["id", "circle_id", "name", "quarters", "price_pence", "is_active"], bundles)
    written += bulk_insert(SavingsProxy, [
        "circle_id", "category", "basis", "value_pence", "attribution_percent", "source", "updated_by_id", "updated_at",
    ], [
        (c.id, category.value, "hour", value, 50, "Example value for generated data only.", c.coordinator_id, ctx.now)
        for c in circles for category, value in SAVINGS_PENCE.items()
    ])
    return written


def _members(ctx: GenerateContext, ids: _Ids, circle: _Circle, users: list[int], names: dict[int, str]) -> int:
    """Members who joined over the last two years, each with a fee paid (nine in ten) and a
    membership year, an account and welcome tokens."""
    rng, now = ctx.rng, ctx.now
    joined = sorted(now - dt.timedelta(days=30 + rng.random() * DAYS) for _ in users)
    members, payments, years, accounts = [], [], [], []
    rows = _Rows()
    for user_id, when in zip(users, joined, strict=True):
        pk = ids.take(Member)
        account = ids.take(Account)
        lapsed = rng.random() < 0.1
        members.append((pk, circle.id, user_id, names.get(user_id) or f"Member {pk}", "", "phone", True,
                        "lapsed" if lapsed else "active", "online", when))
        accounts.append((account, circle.id, AccountKind.MEMBER.value, pk, None, 0, MINIMUM_BALANCE, when))
        payment = None
        if not lapsed:
            payment = ids.take(Payment)
            payments.append((payment, circle.id, pk, "fee", rng.choice(["cash", "cheque", "card"]), "succeeded",
                             FEE_PENCE, None, f"fee-{pk}", when, when))
        years.append((pk, when.date(), when.date() + dt.timedelta(days=365), FEE_PENCE, payment))
        transfer = ids.take(Transfer)
        rows.transfers.append((transfer, circle.id, "grant", f"welcome:{pk}", "Welcome tokens", None, when))
        rows.entries += [(transfer, circle.accounts[AccountKind.ISSUANCE], -WELCOME_QUARTERS, when),
                         (transfer, account, WELCOME_QUARTERS, when)]
        circle.members.append(pk)
        circle.member_accounts.append(account)
        circle.joined.append(when)
        circle.balances.append(WELCOME_QUARTERS)
    written = bulk_insert(Member, MEMBER_COLUMNS, members)
    written += bulk_insert(Account, ACCOUNT_COLUMNS, accounts)
    written += bulk_insert(Payment, PAYMENT_COLUMNS, payments)
    written += bulk_insert(MembershipYear, ["member_id", "starts_on", "ends_on", "fee_pence", "payment_id"], years)
    return written + rows.write()


def _helpers(ctx: GenerateContext, ids: _Ids, circle: _Circle, users: list[int], names: dict[int, str]) -> int:
    """Vetted volunteers and paid helpers (one in three), each with two or three skills."""
    rng, today = ctx.rng, ctx.now.date()
    helpers, skills = [], []
    for index, user_id in enumerate(users):
        pk = ids.take(Helper)
        paid = index % 3 == 1
        helpers.append((pk, circle.id, user_id, HelperKind.PAID.value if paid else HelperKind.VOLUNTEER.value,
                        names.get(user_id) or f"Helper {pk}", 1200 if paid else None, 5, DbsStatus.CLEAR.value,
                        today - dt.timedelta(days=100), today + dt.timedelta(days=30 + index % 900), True,
                        today - dt.timedelta(days=90), True, ctx.now - dt.timedelta(days=DAYS + 10)))
        skills += [(pk, category, "") for category in rng.sample(CATEGORIES, 2 + index % 2)]
        circle.helpers.append(pk)
    written = bulk_insert(Helper, [
        "id", "circle_id", "user_id", "kind", "display_name", "hourly_rate_pence", "travel_radius_km", "dbs_status",
        "dbs_checked_on", "dbs_expires_on", "references_checked", "training_completed_on", "is_active",
        "became_helper_at",
    ], helpers)
    return written + bulk_insert(HelperSkill, ["helper_id", "category", "note"], skills)


def _moments(rng: random.Random, now: dt.datetime, count: int) -> list[dt.datetime]:
    """``count`` moments spread evenly over the last two years, oldest first, a little jitter."""
    step = DAYS * 86_400 / max(count, 1)
    return [now - dt.timedelta(seconds=(count - index) * step - rng.random() * step * 0.5) for index in range(count)]


def _ledger_pairs(ctx: GenerateContext, ids: _Ids, circle: _Circle, pairs: int) -> int:
    """``pairs`` times: a grant of 1 token to a member, then 3 quarters of it paid for help (the
    member gains a quarter each time, so no balance goes below its limit)."""
    if pairs <= 0 or not circle.members:
        return 0
    rng = ctx.rng
    issuance, help_account = circle.accounts[AccountKind.ISSUANCE], circle.accounts[AccountKind.HELP]
    rows = _Rows()
    written = 0
    for index, when in enumerate(_moments(rng, ctx.now, pairs)):
        # The busy member (the first to join) one time in twenty, else anyone who had joined.
        who = 0 if index % 20 == 0 else rng.randrange(max(1, bisect.bisect_left(circle.joined, when)))
        account = circle.member_accounts[who]
        grant, paid = ids.take(Transfer), ids.take(Transfer)
        rows.transfers += [(grant, circle.id, "grant", f"gen-grant-{grant}", "Tokens granted at the drop-in", None, when),
                           (paid, circle.id, "help", f"gen-help-{paid}", "Help at home", None, when)]
        rows.entries += [(grant, issuance, -4, when), (grant, account, 4, when),
                         (paid, account, -3, when), (paid, help_account, 3, when)]
        circle.balances[who] += 1
        if len(rows) >= CHUNK:
            written += rows.write()
    return written + rows.write()


def _visits(ctx: GenerateContext, ids: _Ids, circle: _Circle, visits: int) -> int:
    """Completed visits, oldest first, for members who had joined by then: the request made a
    few hours to ten days before, the accepted match, the visit (checked in and out, confirmed
    by a coordinator) and the help transfer that paid for it; a member without enough tokens
    buys a bundle by card first."""
    if visits <= 0 or not circle.members or not circle.helpers:
        return 0
    rng = ctx.rng
    sales, help_account = circle.accounts[AccountKind.SALES], circle.accounts[AccountKind.HELP]
    bundle_quarters, bundle_price = BUNDLE[1], BUNDLE[2]
    rows = _Rows()
    written = 0
    for done in _moments(rng, ctx.now - dt.timedelta(hours=2), visits):
        joined = max(1, bisect.bisect_left(circle.joined, done))
        who = rng.randrange(joined)
        member, account = circle.members[who], circle.member_accounts[who]
        category = CATEGORIES[rng.randrange(len(CATEGORIES))]
        quarters = 2 + rng.randrange(7)
        start = done - dt.timedelta(minutes=15 * quarters)
        asked = start - dt.timedelta(hours=2 + rng.random() * 238)
        if circle.balances[who] - quarters < MINIMUM_BALANCE:
            payment, bought = ids.take(Payment), ids.take(Transfer)
            paid_at = asked + dt.timedelta(minutes=5)
            rows.payments.append((payment, circle.id, member, "tokens", "card", "succeeded", bundle_price,
                                  circle.bundle_id, f"gen-tokens-{payment}", paid_at, paid_at))
            rows.transfers.append((bought, circle.id, "purchase", f"payment:{payment}", "Tokens bought", payment,
                                   paid_at))
            rows.entries += [(bought, sales, -bundle_quarters, paid_at), (bought, account, bundle_quarters, paid_at)]
            circle.balances[who] += bundle_quarters
        request, match, visit, transfer = ids.take(HelpRequest), ids.take(Match), ids.take(Visit), ids.take(Transfer)
        helper = circle.helpers[rng.randrange(len(circle.helpers))]
        rows.requests.append((request, circle.id, member, category, DESCRIPTIONS[HelpCategory(category)], start,
                              quarters, PLACES[request % len(PLACES)], "done", f"gen-request-{request}", asked))
        accepted = asked + (start - asked) * 0.3
        rows.matches.append((match, request, helper, "accepted", 50, circle.coordinator_id,
                             asked + (start - asked) * 0.1, accepted))
        rows.transfers.append((transfer, circle.id, "help", f"visit:{visit}", "Help", None, done))
        rows.entries += [(transfer, account, -quarters, done), (transfer, help_account, quarters, done)]
        circle.balances[who] -= quarters
        rows.visits.append((visit, circle.id, request, match, helper, start, done, start, done, None, None, done,
                            circle.coordinator_id, done, quarters, "paid", transfer, accepted))
        if len(rows) >= CHUNK:
            written += rows.write()
    return written + rows.write()


def _open_requests(ctx: GenerateContext, ids: _Ids, circle: _Circle, count: int) -> int:
    """Requests made in the last few days, waiting in the coordinators' matching queue."""
    if count <= 0 or not circle.members:
        return 0
    rng, now = ctx.rng, ctx.now
    rows = _Rows()
    for _ in range(count):
        request = ids.take(HelpRequest)
        who = rng.randrange(len(circle.members))
        category = CATEGORIES[rng.randrange(len(CATEGORIES))]
        rows.requests.append((request, circle.id, circle.members[who], category,
                              DESCRIPTIONS[HelpCategory(category)], now + dt.timedelta(days=1 + rng.randrange(14)),
                              2 + rng.randrange(7), PLACES[request % len(PLACES)], "open",
                              f"gen-request-{request}", now - dt.timedelta(hours=rng.randrange(96))))
    return rows.write()


__all__ = ["circles_generate", "circles_reset", "generated_circles"]
