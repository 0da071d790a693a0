"""Property test: any sequence of grants, sales, payments for help, corrections and retried or
reused keys keeps every invariant of the ledger, and does exactly what a simple model of it
says (a retry never pays twice; a refused transfer moves nothing).

The invariants are checked with ``ledger_verify`` (the code behind ``localsocial ledger
verify``) after every step, and on PostgreSQL the commit-time checks are run after every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localsocial.circles.models import Account, Transfer, TransferKind
from localsocial.circles.services.ledger import (
    AlreadyReversedError,
    KeyReusedError,
    LedgerError,
    NotEnoughTokensError,
    helper_account_ensure,
    ledger_reverse,
    tokens_grant,
    tokens_pay_for_help,
    tokens_sell,
)
from tests.circles.factories import HelperFactory
from tests.circles.test_ledger_helpers import assert_ledger_sound, ledger_world, paid

KEYS = st.sampled_from([f"key-{n}" for n in range(6)])
QUARTERS = st.integers(min_value=1, max_value=8)
MEMBER = st.integers(min_value=0, max_value=2)
# Payers: the three members and the member helper; payees: those and the circle's help account.
PAYER = st.integers(min_value=0, max_value=3)
PAYEE = st.integers(min_value=0, max_value=4)

OPERATION = st.one_of(
    st.tuples(st.just("grant"), MEMBER, QUARTERS, KEYS),
    st.tuples(st.just("sell"), MEMBER, QUARTERS, KEYS, st.booleans()),
    st.tuples(st.just("pay"), PAYER, PAYEE, QUARTERS, KEYS),
    st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=30), KEYS),
    st.tuples(st.just("retry"), st.integers(min_value=0, max_value=30)),
)


@dataclass
class Model:
    """What the ledger should hold: balances, the transfer made with each key, and which
    transfers have been corrected."""

    balances: dict[int, int]
    minimums: dict[int, int | None]
    keys: dict[str, tuple[Any, int]] = field(default_factory=dict)
    made: list[tuple[int, str, list[tuple[int, int]]]] = field(default_factory=list)
    reversed: set[int] = field(default_factory=set)

    def expect(self, signature: Any, key: str, legs: list[tuple[int, int]], reverses: int | None) -> Any:
        """The outcome the service must give: ("replay", pk), an exception class, or "made"."""
        if len({account for account, _q in legs}) != len(legs):
            return LedgerError
        if key in self.keys:
            made_signature, pk = self.keys[key]
            return ("replay", pk) if made_signature == signature else KeyReusedError
        if reverses is not None and reverses in self.reversed:
            return AlreadyReversedError
        for account, quarters in legs:
            minimum = self.minimums[account]
            if minimum is not None and self.balances[account] + quarters < minimum:
                return NotEnoughTokensError
        return "made"

    def apply(self, transfer: Transfer, signature: Any, key: str, legs: list[tuple[int, int]], reverses: int | None) -> None:
        for account, quarters in legs:
            self.balances[account] += quarters
        self.keys[key] = (signature, transfer.pk)
        self.made.append((transfer.pk, transfer.kind, legs))
        if reverses is not None:
            self.reversed.add(reverses)


def _run(world: Any, helper_account: Account, payments: list[Any], model: Model, operation: tuple) -> None:
    members = world.accounts
    payers = [*members, helper_account]
    payees = [*payers, world.help]
    name = operation[0]
    reverses = payment = None
    if name == "grant":
        _name, index, quarters, key = operation
        kind, legs = TransferKind.GRANT, [(world.issuance.pk, -quarters), (members[index].pk, quarters)]

        def call() -> Transfer:
            return tokens_grant(circle=world.circle, member=world.members[index], quarters=quarters, idempotency_key=key)
    elif name == "sell":
        _name, index, quarters, key, gift = operation
        payment = payments[index]
        kind = TransferKind.GIFT if gift else TransferKind.PURCHASE
        legs = [(world.sales.pk, -quarters), (members[index].pk, quarters)]

        def call() -> Transfer:
            return tokens_sell(circle=world.circle, member=world.members[index], quarters=quarters,
                               payment=payments[index], idempotency_key=key, gift=gift)
    elif name == "pay":
        _name, payer, payee, quarters, key = operation
        kind, legs = TransferKind.HELP, [(payers[payer].pk, -quarters), (payees[payee].pk, quarters)]

        def call() -> Transfer:
            return tokens_pay_for_help(circle=world.circle, payer=payers[payer], payee=payees[payee],
                                       quarters=quarters, idempotency_key=key)
    else:  # reverse
        _name, target_index, key = operation
        if not model.made:
            return
        target_pk, target_kind, target_legs = model.made[target_index % len(model.made)]
        target = Transfer.objects.get(pk=target_pk)
        if target_kind == TransferKind.REVERSAL:
            with pytest.raises(LedgerError, match="cannot itself be reversed"):
                ledger_reverse(transfer=target, idempotency_key=key)
            return
        kind, reverses = TransferKind.REVERSAL, target_pk
        legs = [(account, -quarters) for account, quarters in target_legs]

        def call() -> Transfer:
            return ledger_reverse(transfer=target, idempotency_key=key)

    signature = (str(kind), sorted(legs), reverses, payment.pk if payment else None)
    expected = model.expect(signature, key, legs, reverses)
    if isinstance(expected, type):
        with pytest.raises(expected):
            call()
    else:
        transfer = call()
        if expected == "made":
            model.apply(transfer, signature, key, legs, reverses)
        else:
            assert transfer.pk == expected[1]  # a retry returns the transfer already made
    held = dict(Account.objects.filter(circle=world.circle).values_list("pk", "balance_quarters"))
    assert held == model.balances
    assert Transfer.objects.filter(circle=world.circle).count() == len(model.made)
    assert_ledger_sound()


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations=st.lists(OPERATION, min_size=1, max_size=25))
def test_any_sequence_of_transfers_keeps_every_invariant(operations):
    with transaction.atomic():
        world = ledger_world(members=3, minimum_quarters=-4)
        helper = HelperFactory(circle=world.circle, kind="member", member=world.members[0], user=world.members[0].user)
        helper_account = helper_account_ensure(helper=helper)
        payments = [paid(member, key=f"pay-{n}") for n, member in enumerate(world.members)]
        accounts = Account.objects.filter(circle=world.circle)
        model = Model(
            balances={a.pk: 0 for a in accounts}, minimums={a.pk: a.minimum_quarters for a in accounts}
        )
        done: list[tuple] = []
        for operation in operations:
            if operation[0] == "retry":
                if not done:
                    continue
                operation = done[operation[1] % len(done)]
            _run(world, helper_account, payments, model, operation)
            done.append(operation)
        transaction.set_rollback(True)
