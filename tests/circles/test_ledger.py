"""The token ledger's services, and what the database refuses by itself (both databases)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from localsocial.circles.models import (
    Account,
    Entry,
    PaymentPurpose,
    PaymentStatus,
    Transfer,
    TransferKind,
)
from localsocial.circles.services.ledger import (
    AlreadyReversedError,
    KeyReusedError,
    LedgerError,
    Leg,
    NotEnoughTokensError,
    circle_accounts_ensure,
    helper_account_ensure,
    ledger_reverse,
    ledger_transfer,
    member_account_ensure,
    tokens_grant,
    tokens_pay_for_help,
    tokens_sell,
)
from tests.circles.factories import HelperFactory, MemberFactory
from tests.circles.test_ledger_helpers import (
    assert_ledger_sound,
    balances,
    failed_checks,
    ledger_world,
    paid,
    rolled_back,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


# --- Accounts ---------------------------------------------------------------------------------

def test_a_circles_own_accounts_are_made_once():
    world = ledger_world()
    again = circle_accounts_ensure(circle=world.circle)
    assert {k: a.pk for k, a in again.items()} == {"issuance": world.issuance.pk, "sales": world.sales.pk, "help": world.help.pk}
    assert Account.objects.filter(circle=world.circle, member=None, helper=None).count() == 3


def test_a_member_account_takes_the_circles_credit_limit():
    world = ledger_world(minimum_quarters=-8)
    assert world.accounts[0].minimum_quarters == -8
    assert member_account_ensure(member=world.members[0]).pk == world.accounts[0].pk


def test_a_helper_who_earns_cannot_go_below_zero():
    world = ledger_world()
    helper = HelperFactory(circle=world.circle, kind="member", member=world.members[1], user=world.members[1].user)
    account = helper_account_ensure(helper=helper)
    assert (account.kind, account.minimum_quarters, account.circle_id) == ("helper", 0, world.circle.pk)


# --- Grants -----------------------------------------------------------------------------------

def test_a_grant_moves_tokens_from_issuance_to_the_member():
    world = ledger_world()
    transfer = tokens_grant(circle=world.circle, member=world.members[0], quarters=8, idempotency_key="welcome:1")
    assert transfer.kind == TransferKind.GRANT
    assert balances(world.issuance, world.accounts[0]) == [-8, 8]
    assert sorted(transfer.entries.values_list("quarters", flat=True)) == [-8, 8]
    assert_ledger_sound()


def test_a_retried_grant_pays_once():
    world = ledger_world()
    first = tokens_grant(circle=world.circle, member=world.members[0], quarters=8, idempotency_key="welcome:1")
    second = tokens_grant(circle=world.circle, member=world.members[0], quarters=8, idempotency_key=" welcome:1 ")
    assert second.pk == first.pk
    assert balances(world.accounts[0]) == [8]
    assert Transfer.objects.count() == 1


def test_a_key_reused_for_a_different_transfer_is_refused_and_moves_nothing():
    world = ledger_world()
    tokens_grant(circle=world.circle, member=world.members[0], quarters=8, idempotency_key="k")
    with pytest.raises(KeyReusedError):
        tokens_grant(circle=world.circle, member=world.members[0], quarters=4, idempotency_key="k")
    with pytest.raises(KeyReusedError):
        tokens_grant(circle=world.circle, member=world.members[1], quarters=8, idempotency_key="k")
    assert balances(world.accounts[0], world.accounts[1]) == [8, 0]


def test_the_same_key_in_another_circle_is_another_transfer():
    one, two = ledger_world(), ledger_world()
    tokens_grant(circle=one.circle, member=one.members[0], quarters=4, idempotency_key="k")
    tokens_grant(circle=two.circle, member=two.members[0], quarters=4, idempotency_key="k")
    assert balances(one.accounts[0], two.accounts[0]) == [4, 4]


@pytest.mark.parametrize("quarters", [0, -4])
def test_a_grant_of_nothing_or_less_is_refused(quarters):
    world = ledger_world()
    with pytest.raises(LedgerError, match="more than nothing"):
        tokens_grant(circle=world.circle, member=world.members[0], quarters=quarters, idempotency_key="k")
    assert Transfer.objects.count() == 0


def test_a_grant_to_a_member_of_another_circle_is_refused():
    world, other = ledger_world(), ledger_world()
    with pytest.raises(LedgerError, match="different circle"):
        tokens_grant(circle=world.circle, member=other.members[0], quarters=4, idempotency_key="k")


# --- Sales and gifts --------------------------------------------------------------------------

def test_tokens_bought_come_from_the_sales_account_linked_to_the_payment():
    world = ledger_world()
    payment = paid(world.members[0], quarters=12)
    transfer = tokens_sell(circle=world.circle, member=world.members[0], quarters=12, payment=payment,
                           idempotency_key=f"payment:{payment.pk}")
    assert (transfer.kind, transfer.payment_id) == (TransferKind.PURCHASE, payment.pk)
    assert balances(world.sales, world.accounts[0], world.issuance) == [-12, 12, 0]
    again = tokens_sell(circle=world.circle, member=world.members[0], quarters=12, payment=payment,
                        idempotency_key=f"payment:{payment.pk}")
    assert again.pk == transfer.pk
    assert balances(world.accounts[0]) == [12]
    assert_ledger_sound()


def test_a_gift_is_recorded_as_a_gift():
    world = ledger_world()
    payment = paid(world.members[0], purpose=PaymentPurpose.GIFT)
    transfer = tokens_sell(circle=world.circle, member=world.members[0], quarters=12, payment=payment,
                           idempotency_key="gift", gift=True)
    assert transfer.kind == TransferKind.GIFT
    assert balances(world.accounts[0]) == [12]


def test_tokens_are_not_credited_before_the_payment_is_received():
    world = ledger_world()
    payment = paid(world.members[0], status=PaymentStatus.PENDING)
    with pytest.raises(LedgerError, match="payment has been received"):
        tokens_sell(circle=world.circle, member=world.members[0], quarters=12, payment=payment, idempotency_key="k")
    assert balances(world.accounts[0]) == [0]


def test_tokens_are_not_credited_to_someone_other_than_the_payer():
    world = ledger_world()
    payment = paid(world.members[0])
    with pytest.raises(LedgerError, match="different member"):
        tokens_sell(circle=world.circle, member=world.members[1], quarters=12, payment=payment, idempotency_key="k")


def test_one_key_with_a_different_payment_is_a_reused_key():
    world = ledger_world()
    first, second = paid(world.members[0], key="p1"), paid(world.members[0], key="p2")
    tokens_sell(circle=world.circle, member=world.members[0], quarters=12, payment=first, idempotency_key="k")
    with pytest.raises(KeyReusedError):
        tokens_sell(circle=world.circle, member=world.members[0], quarters=12, payment=second, idempotency_key="k")


# --- Paying for help --------------------------------------------------------------------------

def test_paying_for_help_moves_tokens_from_the_member_to_the_helper():
    world = ledger_world()
    helper = HelperFactory(circle=world.circle, kind="member", member=world.members[1], user=world.members[1].user)
    earner = helper_account_ensure(helper=helper)
    tokens_grant(circle=world.circle, member=world.members[0], quarters=8, idempotency_key="g")
    coordinator = UserFactory()
    transfer = tokens_pay_for_help(circle=world.circle, payer=world.accounts[0], payee=earner, quarters=5,
                                   idempotency_key="visit:1", actor=coordinator,
                                   on_behalf_of=world.members[0].user)
    assert (transfer.kind, transfer.created_by_id, transfer.on_behalf_of_id) == (
        TransferKind.HELP, coordinator.pk, world.members[0].user_id)
    assert balances(world.accounts[0], earner) == [3, 5]
    assert (world.accounts[0].balance_quarters, earner.balance_quarters) == (3, 5)  # the callers' objects too
    assert_ledger_sound()


def test_help_not_covered_by_tokens_is_refused_and_nothing_moves():
    world = ledger_world()
    tokens_grant(circle=world.circle, member=world.members[0], quarters=4, idempotency_key="g")
    with pytest.raises(NotEnoughTokensError) as refused:
        tokens_pay_for_help(circle=world.circle, payer=world.accounts[0], payee=world.help, quarters=5,
                            idempotency_key="visit:1")
    assert refused.value.account.pk == world.accounts[0].pk
    assert "not enough tokens" in str(refused.value)
    assert balances(world.accounts[0], world.help) == [4, 0]
    assert not Transfer.objects.filter(idempotency_key="visit:1").exists()
    assert_ledger_sound()


def test_a_refused_payment_leaves_the_callers_transaction_usable_and_the_key_free():
    world = ledger_world()
    with transaction.atomic():
        tokens_grant(circle=world.circle, member=world.members[0], quarters=4, idempotency_key="g")
        with pytest.raises(NotEnoughTokensError):
            tokens_pay_for_help(circle=world.circle, payer=world.accounts[0], payee=world.help, quarters=8,
                                idempotency_key="visit:1")
        # Still in the same transaction: the grant stands, and the same key works once affordable.
        tokens_grant(circle=world.circle, member=world.members[0], quarters=4, idempotency_key="g2")
        tokens_pay_for_help(circle=world.circle, payer=world.accounts[0], payee=world.help, quarters=8,
                            idempotency_key="visit:1")
    assert balances(world.accounts[0], world.help) == [0, 8]


def test_a_member_may_use_the_circles_credit_down_to_its_limit_and_no_further():
    world = ledger_world(minimum_quarters=-8)
    tokens_pay_for_help(circle=world.circle, payer=world.accounts[0], payee=world.help, quarters=8,
                        idempotency_key="v1")
    with pytest.raises(NotEnoughTokensError):
        tokens_pay_for_help(circle=world.circle, payer=world.accounts[0], payee=world.help, quarters=1,
                            idempotency_key="v2")
    assert balances(world.accounts[0]) == [-8]


def test_the_limit_holds_even_for_a_write_that_skips_the_service():
    world = ledger_world()
    with rolled_back():
        transfer = Transfer.objects.create(circle=world.circle, kind=TransferKind.HELP, idempotency_key="raw")
        with pytest.raises(IntegrityError, match="circles_account_within_limit"), transaction.atomic():
            Entry.objects.create(transfer=transfer, account=world.accounts[0], quarters=-1)


# --- Transfers that do not make sense ---------------------------------------------------------

@pytest.mark.parametrize(("legs", "message"), [
    (lambda w: [Leg(w.accounts[0], 4)], "at least two accounts"),
    (lambda w: [Leg(w.accounts[0], 0), Leg(w.accounts[1], 0)], "whole number of quarter hours"),
    (lambda w: [Leg(w.issuance, -4), Leg(w.accounts[0], 3)], "exactly as many"),
    (lambda w: [Leg(w.accounts[0], -4), Leg(w.accounts[0], 4)], "same account twice"),
])
def test_a_transfer_that_does_not_balance_is_refused(legs, message):
    world = ledger_world()
    with pytest.raises(LedgerError, match=message):
        ledger_transfer(circle=world.circle, kind=TransferKind.GRANT, legs=legs(world), idempotency_key="k")
    assert Transfer.objects.count() == 0


def test_tokens_cannot_move_between_circles():
    world, other = ledger_world(), ledger_world()
    with pytest.raises(LedgerError, match="between circles"):
        ledger_transfer(circle=world.circle, kind=TransferKind.GRANT,
                        legs=[Leg(world.issuance, -4), Leg(other.accounts[0], 4)], idempotency_key="k")


@pytest.mark.parametrize("key", ["", "   ", "x" * 101])
def test_a_transfer_needs_a_usable_key(key):
    world = ledger_world()
    with pytest.raises(LedgerError, match="idempotency key"):
        tokens_grant(circle=world.circle, member=world.members[0], quarters=4, idempotency_key=key)


def test_an_unknown_kind_or_a_correction_without_its_original_is_refused():
    world = ledger_world()
    legs = [Leg(world.issuance, -4), Leg(world.accounts[0], 4)]
    with pytest.raises(LedgerError, match="kind of transfer"):
        ledger_transfer(circle=world.circle, kind="theft", legs=legs, idempotency_key="k")
    with pytest.raises(LedgerError, match="only a correction"):
        ledger_transfer(circle=world.circle, kind=TransferKind.REVERSAL, legs=legs, idempotency_key="k")


# --- Corrections ------------------------------------------------------------------------------

def test_a_correction_moves_the_tokens_back_and_points_at_the_original():
    world = ledger_world()
    grant = tokens_grant(circle=world.circle, member=world.members[0], quarters=8, idempotency_key="g")
    correction = ledger_reverse(transfer=grant, idempotency_key="undo-g")
    assert (correction.kind, correction.reverses_id) == (TransferKind.REVERSAL, grant.pk)
    assert balances(world.issuance, world.accounts[0]) == [0, 0]
    assert ledger_reverse(transfer=grant, idempotency_key="undo-g").pk == correction.pk  # a retry
    assert Transfer.objects.count() == 2
    assert_ledger_sound()


def test_a_transfer_is_corrected_once():
    world = ledger_world()
    grant = tokens_grant(circle=world.circle, member=world.members[0], quarters=8, idempotency_key="g")
    ledger_reverse(transfer=grant, idempotency_key="undo-1")
    with pytest.raises(AlreadyReversedError):
        ledger_reverse(transfer=grant, idempotency_key="undo-2")
    assert balances(world.accounts[0]) == [0]


def test_a_correction_is_not_itself_corrected():
    world = ledger_world()
    grant = tokens_grant(circle=world.circle, member=world.members[0], quarters=8, idempotency_key="g")
    correction = ledger_reverse(transfer=grant, idempotency_key="undo")
    with pytest.raises(LedgerError, match="cannot itself be reversed"):
        ledger_reverse(transfer=correction, idempotency_key="undo-undo")


def test_a_correction_of_tokens_already_spent_is_refused():
    world = ledger_world()
    grant = tokens_grant(circle=world.circle, member=world.members[0], quarters=8, idempotency_key="g")
    tokens_pay_for_help(circle=world.circle, payer=world.accounts[0], payee=world.help, quarters=6, idempotency_key="v")
    with pytest.raises(NotEnoughTokensError):
        ledger_reverse(transfer=grant, idempotency_key="undo")
    assert balances(world.accounts[0]) == [2]


def test_a_correction_must_move_back_exactly_what_was_moved():
    world = ledger_world()
    grant = tokens_grant(circle=world.circle, member=world.members[0], quarters=8, idempotency_key="g")
    with pytest.raises(LedgerError, match="exactly the tokens"):
        ledger_transfer(circle=world.circle, kind=TransferKind.REVERSAL, reverses=grant,
                        legs=[Leg(world.issuance, 4), Leg(world.accounts[0], -4)], idempotency_key="undo")


# --- What the database refuses by itself ------------------------------------------------------

def _raw(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def test_entries_and_transfers_are_never_updated():
    world = ledger_world()
    grant = tokens_grant(circle=world.circle, member=world.members[0], quarters=8, idempotency_key="g")
    with pytest.raises(IntegrityError, match="never changed"), transaction.atomic():
        _raw("UPDATE circles_entry SET quarters = quarters * 2 WHERE transfer_id = %s", [grant.pk])
    with pytest.raises(IntegrityError, match="never changed"), transaction.atomic():
        _raw("UPDATE circles_transfer SET memo = 'changed' WHERE id = %s", [grant.pk])
    assert sorted(grant.entries.values_list("quarters", flat=True)) == [-8, 8]


@pytest.mark.ledger_written_raw
def test_a_deleted_entry_is_refused_on_postgresql_and_caught_by_verify_on_sqlite():
    world = ledger_world()
    grant = tokens_grant(circle=world.circle, member=world.members[0], quarters=8, idempotency_key="g")
    if connection.vendor == "postgresql":
        with pytest.raises(IntegrityError, match="never changed or deleted"), transaction.atomic():
            _raw("DELETE FROM circles_entry WHERE transfer_id = %s AND quarters > 0", [grant.pk])
        assert grant.entries.count() == 2
    else:
        # SQLite: the test runner empties tables with DELETE, so the database allows it.
        _raw("DELETE FROM circles_entry WHERE transfer_id = %s AND quarters > 0", [grant.pk])
        failed = failed_checks()
        assert {"transfers_balanced", "balances_match_entries", "entries_sum_to_zero"} <= set(failed)


@pytest.mark.ledger_written_raw
def test_the_database_moves_the_balance_for_each_entry():
    world = ledger_world()
    transfer = Transfer.objects.create(circle=world.circle, kind=TransferKind.GRANT, idempotency_key="raw")
    _raw("INSERT INTO circles_entry (transfer_id, account_id, quarters, created_at) VALUES (%s, %s, -6, %s), (%s, %s, 6, %s)",
         [transfer.pk, world.issuance.pk, "2026-01-01 00:00:00", transfer.pk, world.accounts[0].pk, "2026-01-01 00:00:00"])
    assert balances(world.issuance, world.accounts[0]) == [-6, 6]
    assert_ledger_sound()


def _refused_at_commit_on_postgresql(make, match: str) -> None:
    """PostgreSQL checks these at commit, and the test's transaction never commits: asking for
    the checks now (SET CONSTRAINTS ALL IMMEDIATE) runs them at once."""
    def commit() -> None:
        with transaction.atomic():
            make()
            _raw("SET CONSTRAINTS ALL IMMEDIATE")

    with pytest.raises(IntegrityError, match=match):
        commit()


@pytest.mark.ledger_written_raw
def test_an_unbalanced_transfer_is_refused_at_commit_on_postgresql_and_caught_by_verify_on_sqlite():
    world = ledger_world()

    def make() -> Transfer:
        transfer = Transfer.objects.create(circle=world.circle, kind=TransferKind.GRANT, idempotency_key="raw")
        Entry.objects.create(transfer=transfer, account=world.accounts[0], quarters=4)
        return transfer

    if connection.vendor == "postgresql":
        _refused_at_commit_on_postgresql(make, "does not sum to zero")
    else:
        transfer = make()
        assert failed_checks()["transfers_balanced"] == [f"transfer {transfer.pk}: 1 entries summing to 4"]


@pytest.mark.ledger_written_raw
def test_a_transfer_without_entries_is_refused_at_commit_on_postgresql_and_caught_by_verify_on_sqlite():
    world = ledger_world()

    def make() -> Transfer:
        return Transfer.objects.create(circle=world.circle, kind=TransferKind.GRANT, idempotency_key="raw")

    if connection.vendor == "postgresql":
        _refused_at_commit_on_postgresql(make, "has 0 entries")
    else:
        transfer = make()
        assert failed_checks()["transfers_balanced"] == [f"transfer {transfer.pk}: 0 entries summing to 0"]


@pytest.mark.ledger_written_raw
def test_a_correction_that_does_not_negate_is_refused_at_commit_on_postgresql_and_caught_by_verify_on_sqlite():
    world = ledger_world()
    grant = tokens_grant(circle=world.circle, member=world.members[0], quarters=8, idempotency_key="g")

    def make() -> None:
        correction = Transfer.objects.create(circle=world.circle, kind=TransferKind.REVERSAL, reverses=grant,
                                             idempotency_key="bad-undo")
        Entry.objects.create(transfer=correction, account=world.issuance, quarters=4)
        Entry.objects.create(transfer=correction, account=world.accounts[0], quarters=-4)

    if connection.vendor == "postgresql":
        _refused_at_commit_on_postgresql(make, "does not exactly reverse")
    else:
        make()
        assert set(failed_checks()) == {"reversals_negate"}


def test_an_entry_in_another_circles_account_is_refused():
    world, other = ledger_world(), ledger_world()
    with rolled_back():
        transfer = Transfer.objects.create(circle=world.circle, kind=TransferKind.GRANT, idempotency_key="raw")
        with pytest.raises(IntegrityError, match="between circles"), transaction.atomic():
            Entry.objects.create(transfer=transfer, account=other.issuance, quarters=-4)


def test_a_correction_pointing_at_another_circle_or_a_correction_is_refused():
    world, other = ledger_world(), ledger_world()
    grant = tokens_grant(circle=other.circle, member=other.members[0], quarters=8, idempotency_key="g")
    with pytest.raises(IntegrityError, match="must point at a transfer of its circle"), transaction.atomic():
        Transfer.objects.create(circle=world.circle, kind=TransferKind.REVERSAL, reverses=grant, idempotency_key="x")
    correction = ledger_reverse(transfer=grant, idempotency_key="undo")
    with pytest.raises(IntegrityError, match="must point at a transfer of its circle"), transaction.atomic():
        Transfer.objects.create(circle=other.circle, kind=TransferKind.REVERSAL, reverses=correction,
                                idempotency_key="y")


def test_member_accounts_are_per_member():
    world = ledger_world()
    newcomer = MemberFactory(circle=world.circle)
    assert member_account_ensure(member=newcomer).pk not in {a.pk for a in world.accounts}
