"""A transfer made outside any transaction, as a task, a script or the bench makes it (decision
0023): on PostgreSQL one call of the ledger's database function, on SQLite the Python steps.
The same tests run on both databases and must see the same outcomes; the daily totals spread
over slots add up to exactly what the ledger says, under concurrency too (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import io
import random
import threading
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from freezegun import freeze_time

from localsocial.circles.models import (
    Account,
    Entry,
    LedgerDayTotal,
    Member,
    Transfer,
    TransferKind,
)
from localsocial.circles.selectors.reports import tokens_report
from localsocial.circles.services.ledger import (
    AlreadyReversedError,
    KeyReusedError,
    NotEnoughTokensError,
    ledger_reverse,
    tokens_grant,
    tokens_pay_for_help,
)
from localsocial.circles.services.ledger_totals import ledger_totals_differences, ledger_totals_fold
from tests.circles.test_ledger_helpers import balances, failed_checks, ledger_world
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the database function and the race are PostgreSQL's"
)


def _cells(circle_id: int) -> Counter[tuple[str, str]]:
    """How many rows each (kind of transfer, kind of account) cell of the circle has."""
    return Counter(LedgerDayTotal.objects.filter(circle_id=circle_id).values_list("transfer_kind", "account_kind"))


# --- One transfer -----------------------------------------------------------------------------

@on_postgresql
def test_a_payment_outside_a_transaction_is_one_round_trip_to_postgresql():
    world = ledger_world()
    tokens_grant(circle=world.circle, member=world.members[0], quarters=8, idempotency_key="g")

    with CaptureQueriesContext(connection) as queries:
        transfer = tokens_pay_for_help(circle=world.circle, payer=world.accounts[0], payee=world.help, quarters=3,
                                       idempotency_key="visit:1")

    assert len(queries) == 1, [q["sql"] for q in queries]
    assert balances(world.accounts[0], world.help) == [5, 3]
    assert [world.accounts[0].balance_quarters, world.help.balance_quarters] == [5, 3]
    assert sorted(Entry.objects.filter(transfer=transfer).values_list("quarters", flat=True)) == [-3, 3]
    assert failed_checks() == {}


def test_a_retry_returns_the_transfer_first_made_and_moves_nothing_again():
    world = ledger_world()
    coordinator, someone_else = UserFactory(), UserFactory()
    tokens_grant(circle=world.circle, member=world.members[0], quarters=8, idempotency_key="g")
    first = tokens_pay_for_help(circle=world.circle, payer=world.accounts[0], payee=world.accounts[1], quarters=3,
                                idempotency_key="visit:1", memo="Lift to the surgery", actor=coordinator)

    again = tokens_pay_for_help(circle=world.circle, payer=Account.objects.get(pk=world.accounts[0].pk),
                                payee=Account.objects.get(pk=world.accounts[1].pk), quarters=3,
                                idempotency_key="visit:1", memo="Sent again", actor=someone_else)

    assert again.pk == first.pk
    assert (again.memo, again.created_by_id, again.kind) == ("Lift to the surgery", coordinator.pk, TransferKind.HELP)
    assert Transfer.objects.get(pk=again.pk).created_at == again.created_at
    assert balances(world.accounts[0], world.accounts[1]) == [5, 3]
    assert Transfer.objects.filter(idempotency_key="visit:1").count() == 1
    assert Entry.objects.filter(transfer_id=first.pk).count() == 2
    assert LedgerDayTotal.objects.filter(circle=world.circle, transfer_kind=TransferKind.HELP, account_kind="") \
        .aggregate(n=Sum("transfers"))["n"] == 1


def test_a_key_reused_for_another_payment_is_refused_and_moves_nothing():
    world = ledger_world()
    tokens_grant(circle=world.circle, member=world.members[0], quarters=8, idempotency_key="g")
    tokens_pay_for_help(circle=world.circle, payer=world.accounts[0], payee=world.help, quarters=3,
                        idempotency_key="visit:1")

    with pytest.raises(KeyReusedError, match="already used for a different transfer"):
        tokens_pay_for_help(circle=world.circle, payer=world.accounts[0], payee=world.help, quarters=4,
                            idempotency_key="visit:1")

    assert balances(world.accounts[0], world.help) == [5, 3]


def test_a_payment_beyond_the_limit_is_refused_naming_the_payer_and_leaves_nothing():
    world = ledger_world(minimum_quarters=-2)
    tokens_grant(circle=world.circle, member=world.members[1], quarters=4, idempotency_key="g")

    with pytest.raises(NotEnoughTokensError, match="not enough tokens in the account") as refused:
        tokens_pay_for_help(circle=world.circle, payer=world.accounts[0], payee=world.accounts[1], quarters=3,
                            idempotency_key="visit:1")

    assert refused.value.account is world.accounts[0]
    assert balances(world.accounts[0], world.accounts[1]) == [0, 4]
    assert not Transfer.objects.filter(idempotency_key="visit:1").exists()
    assert _cells(world.circle.pk)[(TransferKind.HELP, "")] == 0
    # The key is still free: once the member can afford it, the same request goes through.
    tokens_grant(circle=world.circle, member=world.members[0], quarters=1, idempotency_key="g2")
    tokens_pay_for_help(circle=world.circle, payer=world.accounts[0], payee=world.accounts[1], quarters=3,
                        idempotency_key="visit:1")
    assert balances(world.accounts[0], world.accounts[1]) == [-2, 7]


def test_a_transfer_is_corrected_once_outside_a_transaction_too():
    world = ledger_world()
    grant = tokens_grant(circle=world.circle, member=world.members[0], quarters=8, idempotency_key="g")
    correction = ledger_reverse(transfer=grant, idempotency_key="undo")

    with pytest.raises(AlreadyReversedError):
        ledger_reverse(transfer=grant, idempotency_key="undo-again")

    assert ledger_reverse(transfer=grant, idempotency_key="undo").pk == correction.pk
    assert balances(world.accounts[0]) == [0]


# --- Totals in slots --------------------------------------------------------------------------

def test_the_days_totals_spread_over_slots_add_up_and_fold_back_into_one_row():
    world = ledger_world()
    for n in range(20):
        tokens_grant(circle=world.circle, member=world.members[n % 2], quarters=n + 1, idempotency_key=f"g{n}")
    today = timezone.localdate()

    report = tokens_report(circle=world.circle, start=today, end=today)

    assert _cells(world.circle.pk)[(TransferKind.GRANT, "member")] > 1  # the transfers used several rows
    assert report.total("granted") == sum(range(1, 21)) == sum(balances(*world.accounts))
    assert ledger_totals_differences() == []

    folded = ledger_totals_fold(before=today + dt.timedelta(days=1))

    assert folded > 0
    assert set(_cells(world.circle.pk).values()) == {1}
    assert tokens_report(circle=world.circle, start=today, end=today).total("granted") == 210
    assert ledger_totals_differences() == []


def test_folding_leaves_today_spread():
    world = ledger_world()
    for n in range(4):
        tokens_grant(circle=world.circle, member=world.members[0], quarters=1, idempotency_key=f"g{n}")
    rows = LedgerDayTotal.objects.count()

    assert ledger_totals_fold(before=timezone.localdate()) == 0
    assert LedgerDayTotal.objects.count() == rows


# --- Many clients at once (PostgreSQL) --------------------------------------------------------

@on_postgresql
def test_many_clients_at_once_neither_lose_nor_double_a_transfer_and_the_totals_stay_exact():
    # Given members with tokens, and eight clients in pairs: both clients of a pair send the same
    # requests (same keys) at about the same moment, and all compete for the same accounts,
    # the circle's help account and issuance among them.
    world = ledger_world(members=6, minimum_quarters=-4)
    for index, member in enumerate(world.members):
        tokens_grant(circle=world.circle, member=member, quarters=20, idempotency_key=f"start-{index}")
    randomness = random.Random(20261205)
    plans = []
    for pair in range(4):
        plan = []
        for step in range(40):
            payer, payee = randomness.sample(range(len(world.accounts)), 2)
            roll = randomness.random()
            kind = "grant" if roll < 0.15 else ("help" if roll < 0.35 else "member")
            plan.append((f"p{pair}-{step}", kind, payer, payee, randomness.randint(1, 5)))
        plans.append(plan)
    outcomes: dict[str, set[int | None]] = {}
    lock = threading.Lock()
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def client(plan: list[tuple[str, str, int, int, int]]) -> None:
        try:
            start.wait()
            for key, kind, payer, payee, quarters in plan:
                try:
                    if kind == "grant":
                        made = tokens_grant(circle=world.circle, member=Member.objects.get(pk=world.members[payer].pk),
                                            quarters=quarters, idempotency_key=key)
                    else:
                        target = world.help if kind == "help" else world.accounts[payee]
                        made = tokens_pay_for_help(
                            circle=world.circle, payer=Account(pk=world.accounts[payer].pk, circle_id=world.circle.pk),
                            payee=Account(pk=target.pk, circle_id=world.circle.pk), quarters=quarters,
                            idempotency_key=key,
                        )
                    result: int | None = made.pk
                except NotEnoughTokensError:
                    result = None
                with lock:
                    outcomes.setdefault(key, set()).add(result)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(plans[n // 2],)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then every key paid at most once, both clients of a key got the same transfer...
    assert errors == []
    made = dict(Transfer.objects.filter(circle=world.circle, idempotency_key__startswith="p")
                .values_list("idempotency_key", "pk"))
    assert len(made) > 100
    for key, results in outcomes.items():
        assert results - {None} == ({made[key]} if key in made else set()), key
    # ...nobody went below the limit, the balances are the sums of the entries...
    assert sum(Account.objects.filter(circle=world.circle).values_list("balance_quarters", flat=True)) == 0
    assert not Account.objects.filter(circle=world.circle, kind="member", balance_quarters__lt=-4).exists()
    assert failed_checks() == {}
    # ...and the day's totals, written into many slots by clients at once, are exact.
    assert ledger_totals_differences() == []
    today = timezone.localdate()
    report = tokens_report(circle=world.circle, start=today, end=today)
    granted = Entry.objects.filter(transfer__circle=world.circle, transfer__kind=TransferKind.GRANT,
                                   account__kind="member").aggregate(q=Sum("quarters"))["q"]
    spent = -Entry.objects.filter(transfer__circle=world.circle, transfer__kind=TransferKind.HELP,
                                  account__kind="member", quarters__lt=0).aggregate(q=Sum("quarters"))["q"]
    assert (report.total("granted"), report.total("spent")) == (granted, spent)
    assert LedgerDayTotal.objects.filter(circle=world.circle, account_kind="").aggregate(n=Sum("transfers"))["n"] \
        == Transfer.objects.filter(circle=world.circle).count()


# --- The migration ----------------------------------------------------------------------------

def test_the_totals_migration_keeps_every_total_both_ways():
    # Given a day's totals spread over slots
    world = ledger_world()
    for n in range(10):
        tokens_grant(circle=world.circle, member=world.members[0], quarters=n + 1, idempotency_key=f"g{n}")
    tokens_pay_for_help(circle=world.circle, payer=world.accounts[0], payee=world.help, quarters=5,
                        idempotency_key="visit:1")
    executor = MigrationExecutor(connection)
    latest = [node for node in executor.loader.graph.leaf_nodes() if node[0] == "circles"]
    try:
        # When the circles app goes back before the slots: one row a cell, the same totals
        executor.migrate([("circles", "0006_event_idempotency")])
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT transfer_kind, account_kind, COUNT(*), SUM(credit_quarters), SUM(debit_quarters), "
                "SUM(transfers) FROM circles_ledgerdaytotal WHERE circle_id = %s "
                "GROUP BY transfer_kind, account_kind ORDER BY transfer_kind, account_kind",
                [world.circle.pk],
            )
            old = [tuple(v if isinstance(v, str) else int(v) for v in row) for row in cursor.fetchall()]
        assert old == [
            ("grant", "", 1, 0, 0, 10), ("grant", "issuance", 1, 0, 55, 0), ("grant", "member", 1, 55, 0, 0),
            ("help", "", 1, 0, 0, 1), ("help", "help", 1, 5, 0, 0), ("help", "member", 1, 0, 5, 0),
        ]
    finally:
        # And forward again: every row is slot 0 and the totals still match the ledger
        MigrationExecutor(connection).migrate(latest)
    assert set(LedgerDayTotal.objects.values_list("slot", flat=True)) == {0}
    assert ledger_totals_differences() == []
    # and transfers made after it spread over the slots again.
    tokens_grant(circle=world.circle, member=world.members[1], quarters=1, idempotency_key="after")
    tokens_grant(circle=world.circle, member=world.members[1], quarters=1, idempotency_key="after-2")
    assert LedgerDayTotal.objects.exclude(slot=0).exists()
    assert ledger_totals_differences() == []


def test_the_totals_command_folds_past_days_and_leaves_today():
    world = ledger_world()
    with freeze_time("2026-12-01 10:00:00") as clock:
        for n in range(6):
            tokens_grant(circle=world.circle, member=world.members[0], quarters=1, idempotency_key=f"old-{n}")
        clock.move_to("2026-12-02 10:00:00")
        for n in range(6):
            tokens_grant(circle=world.circle, member=world.members[0], quarters=1, idempotency_key=f"new-{n}")
        out = io.StringIO()

        call_command("circles_totals", "--fold", stdout=out)

    assert "Folded" in out.getvalue()
    rows = Counter(LedgerDayTotal.objects.filter(account_kind="member").values_list("day", flat=True))
    assert rows[dt.date(2026, 12, 1)] == 1
    assert rows[dt.date(2026, 12, 2)] > 1
    assert ledger_totals_differences() == []
    call_command("circles_totals", stdout=out)
    assert "match" in out.getvalue()
