"""Many clients at once on PostgreSQL (SQLite runs one writer at a time, so there is no race to
show): random transfers between a few accounts with tight limits, every key sent twice at about
the same moment.  The total stays zero, nobody goes below their limit, no key pays twice, and
``ledger verify`` passes."""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connection

from localsocial.circles.models import Account, Entry, Transfer
from localsocial.circles.services.ledger import (
    AlreadyReversedError,
    NotEnoughTokensError,
    ledger_reverse,
    tokens_grant,
    tokens_pay_for_help,
)
from tests.circles.test_ledger_helpers import failed_checks, ledger_world

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 16
OPERATIONS_PER_CLIENT = 30


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")


def test_many_clients_making_random_transfers_never_overdraw_or_pay_twice():
    world = ledger_world(members=4, minimum_quarters=-2)
    for index, member in enumerate(world.members):
        tokens_grant(circle=world.circle, member=member, quarters=6, idempotency_key=f"start-{index}")
    accounts = [*world.accounts, world.help]
    randomness = random.Random(20261127)
    # Eight lists of operations, each run by two clients at once: every key is sent twice, by
    # two clients racing each other, while the other lists compete for the same accounts.
    plans = []
    for plan_index in range(CLIENTS // 2):
        plan = []
        for step in range(OPERATIONS_PER_CLIENT):
            payer, payee = randomness.sample(range(len(world.accounts)), 2)
            if randomness.random() < 0.2:
                payee = len(accounts) - 1  # the circle's help account
            plan.append((f"plan-{plan_index}-{step}", payer, payee, randomness.randint(1, 5)))
        plans.append(plan)
    start = threading.Barrier(CLIENTS)
    outcomes: dict[str, set[int | None]] = {}
    lock = threading.Lock()
    errors: list[BaseException] = []

    def client(plan: list[tuple[str, int, int, int]]) -> None:
        try:
            start.wait()
            for key, payer, payee, quarters in plan:
                try:
                    transfer = tokens_pay_for_help(
                        circle=world.circle, payer=Account.objects.get(pk=accounts[payer].pk),
                        payee=Account.objects.get(pk=accounts[payee].pk), quarters=quarters, idempotency_key=key,
                    )
                    result: int | None = transfer.pk
                except NotEnoughTokensError:
                    result = None
                with lock:
                    outcomes.setdefault(key, set()).add(result)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(plans[n // 2],)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    made = {t.idempotency_key: t.pk for t in Transfer.objects.filter(idempotency_key__startswith="plan-")}
    # Some refused, some made: the race was real.
    assert 0 < len(made) < CLIENTS // 2 * OPERATIONS_PER_CLIENT
    for key, results in outcomes.items():
        paid = results - {None}
        # Both clients that sent a key got the same transfer (or one was refused before the
        # other made it, when the payer had spent their tokens in between).
        assert len(paid) <= 1, key
        assert paid == ({made[key]} if key in made else set()), key
    assert all(Entry.objects.filter(transfer_id=pk).count() == 2 for pk in made.values())
    total = sum(Account.objects.filter(circle=world.circle).values_list("balance_quarters", flat=True))
    assert total == 0
    assert not Account.objects.filter(circle=world.circle, balance_quarters__lt=-2, kind="member").exists()
    assert failed_checks() == {}


def _at_once(calls: list) -> list[object]:
    start = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            start.wait()
            results[index] = calls[index]()
        except Exception as exc:  # the outcome under test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_corrections_of_one_transfer_at_once_make_one():
    world = ledger_world()
    grant = tokens_grant(circle=world.circle, member=world.members[0], quarters=8, idempotency_key="g")
    results = _at_once([
        lambda: ledger_reverse(transfer=Transfer.objects.get(pk=grant.pk), idempotency_key="undo-a"),
        lambda: ledger_reverse(transfer=Transfer.objects.get(pk=grant.pk), idempotency_key="undo-b"),
    ])
    made = [r for r in results if isinstance(r, Transfer)]
    refused = [r for r in results if isinstance(r, AlreadyReversedError)]
    assert (len(made), len(refused)) == (1, 1)
    assert Transfer.objects.filter(reverses=grant).count() == 1
    assert Account.objects.get(pk=world.accounts[0].pk).balance_quarters == 0
    assert failed_checks() == {}


def test_one_correction_sent_twice_at_once_is_made_once():
    world = ledger_world()
    grant = tokens_grant(circle=world.circle, member=world.members[0], quarters=8, idempotency_key="g")
    results = _at_once([
        lambda: ledger_reverse(transfer=Transfer.objects.get(pk=grant.pk), idempotency_key="undo"),
        lambda: ledger_reverse(transfer=Transfer.objects.get(pk=grant.pk), idempotency_key="undo"),
    ])
    assert all(isinstance(r, Transfer) for r in results), results
    assert {r.pk for r in results} == {Transfer.objects.get(reverses=grant).pk}  # type: ignore[attr-defined]
    assert Account.objects.get(pk=world.accounts[0].pk).balance_quarters == 0
