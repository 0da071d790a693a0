"""``localsocial ledger verify`` finds each kind of broken ledger, and passes a sound one.

Broken ledgers are made the way a bug or a hand-edit would make them: writes that skip the
service, with the database's own guard switched off inside the test's transaction where it
would otherwise refuse them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from localsocial.circles.ledger_sql import ledger_triggers_ensure
from localsocial.circles.models import Entry, Transfer, TransferKind
from localsocial.circles.services.ledger import ledger_reverse, tokens_grant, tokens_pay_for_help
from tests.circles.test_ledger_helpers import (
    World,
    commit_time_checks,
    failed_checks,
    ledger_world,
    rolled_back,
)

pytestmark = pytest.mark.django_db


def _verify() -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("ledger", "verify", stdout=out, no_color=True)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


def _raw(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


@contextmanager
def _without_trigger(name: str, table: str) -> Iterator[None]:
    _raw(f"DROP TRIGGER {name} ON {table}" if connection.vendor == "postgresql" else f"DROP TRIGGER {name}")
    try:
        yield
    finally:
        ledger_triggers_ensure(connection)


@pytest.fixture
def world() -> World:
    world = ledger_world()
    tokens_grant(circle=world.circle, member=world.members[0], quarters=8, idempotency_key="g")
    tokens_pay_for_help(circle=world.circle, payer=world.accounts[0], payee=world.help, quarters=3, idempotency_key="v")
    return world


def test_a_sound_ledger_passes_every_check(world):
    tokens_grant(circle=world.circle, member=world.members[1], quarters=4, idempotency_key="g2")
    ledger_reverse(transfer=Transfer.objects.get(idempotency_key="g2"), idempotency_key="undo")
    code, output = _verify()
    assert code == 0
    assert "FAIL" not in output
    assert output.count("OK") == 8
    assert "OK    every transfer has two entries or more and sums to zero (4 checked)" in output
    assert "The ledger is sound" in output


def test_an_unbalanced_transfer_fails_verify_with_exit_code_1(world):
    with rolled_back():
        transfer = Transfer.objects.create(circle=world.circle, kind=TransferKind.GRANT, idempotency_key="raw")
        Entry.objects.create(transfer=transfer, account=world.accounts[1], quarters=4)
        code, output = _verify()
        assert code == 1
        assert "FAIL  every transfer has two entries or more and sums to zero: 1 violation" in output
        assert f"transfer {transfer.pk}: 1 entries summing to 4" in output
        assert set(failed_checks()) == {"transfers_balanced", "entries_sum_to_zero", "circles_sum_to_zero"}


def test_a_cached_balance_that_differs_from_the_entries_fails_verify(world):
    with rolled_back():
        _raw("UPDATE circles_account SET balance_quarters = balance_quarters + 4 WHERE id = %s", [world.accounts[0].pk])
        code, output = _verify()
        assert code == 1
        assert f"account {world.accounts[0].pk}: balance 9, entries sum to 5" in output
        assert set(failed_checks()) == {"balances_match_entries", "circles_sum_to_zero"}


def test_a_balance_below_its_limit_fails_verify(world):
    with rolled_back():
        # The CHECK constraint refuses this; switch it off inside the test's transaction.
        if connection.vendor == "postgresql":
            commit_time_checks()  # PostgreSQL alters no table with checks still to run
            _raw("ALTER TABLE circles_account DROP CONSTRAINT circles_account_within_limit")
        else:
            _raw("PRAGMA ignore_check_constraints = 1")
        try:
            _raw("UPDATE circles_account SET minimum_quarters = 6 WHERE id = %s", [world.accounts[0].pk])
        finally:
            if connection.vendor == "sqlite":
                _raw("PRAGMA ignore_check_constraints = 0")
        code, output = _verify()
        assert code == 1
        assert f"account {world.accounts[0].pk}: balance 5, lowest allowed 6" in output
        assert set(failed_checks()) == {"balances_within_limits"}


def test_an_entry_in_another_circles_account_fails_verify(world):
    with rolled_back():
        other = ledger_world()
        with _without_trigger("circles_entry_same_circle", "circles_entry"):
            transfer = Transfer.objects.create(circle=world.circle, kind=TransferKind.GRANT, idempotency_key="raw")
            Entry.objects.create(transfer=transfer, account=world.issuance, quarters=-4)
            Entry.objects.create(transfer=transfer, account=other.accounts[0], quarters=4)
        code, output = _verify()
        assert code == 1
        assert f"of transfer {transfer.pk}: account in circle {other.circle.pk}, transfer in circle {world.circle.pk}" in output
        assert set(failed_checks()) == {"entries_in_transfer_circle", "circles_sum_to_zero"}


def test_a_correction_of_a_correction_fails_verify(world):
    with rolled_back():
        tokens_grant(circle=world.circle, member=world.members[1], quarters=4, idempotency_key="g2")
        correction = ledger_reverse(transfer=Transfer.objects.get(idempotency_key="g2"), idempotency_key="undo")
        with _without_trigger("circles_transfer_reverses_valid", "circles_transfer"):
            again = Transfer.objects.create(circle=world.circle, kind=TransferKind.REVERSAL, reverses=correction,
                                            idempotency_key="undo-undo")
            Entry.objects.create(transfer=again, account=world.issuance, quarters=-4)
            Entry.objects.create(transfer=again, account=world.accounts[1], quarters=4)
        code, output = _verify()
        assert code == 1
        assert f"correction {again.pk} points at transfer {correction.pk} (reversal)" in output
        assert set(failed_checks()) == {"reversals_point_back"}


def test_a_correction_that_does_not_negate_fails_verify(world):
    with rolled_back():
        grant = Transfer.objects.get(idempotency_key="g")
        correction = Transfer.objects.create(circle=world.circle, kind=TransferKind.REVERSAL, reverses=grant,
                                             idempotency_key="bad-undo")
        Entry.objects.create(transfer=correction, account=world.issuance, quarters=4)
        Entry.objects.create(transfer=correction, account=world.accounts[0], quarters=-4)
        code, output = _verify()
        assert code == 1
        assert f"correction {correction.pk}, account {world.issuance.pk}: 2 entries with the corrected transfer, summing to -4" in output
        assert set(failed_checks()) == {"reversals_negate"}


def test_verify_lists_the_first_twenty_violations_and_counts_the_rest(world):
    with rolled_back():
        for number in range(25):
            transfer = Transfer.objects.create(circle=world.circle, kind=TransferKind.GRANT, idempotency_key=f"raw-{number}")
            Entry.objects.create(transfer=transfer, account=world.accounts[1], quarters=1)
        code, output = _verify()
        assert code == 1
        assert "25 violations" in output
        assert output.count("entries summing to 1") == 20
        assert "… and 5 more" in output
