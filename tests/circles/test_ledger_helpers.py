"""Shared by the ledger tests: a small circle with accounts, and the check that the ledger is
sound (the same code as ``localsocial ledger verify``, plus PostgreSQL's commit-time checks)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from localsocial.circles.models import (
    Account,
    AccountKind,
    Circle,
    Member,
    Payment,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
)
from localsocial.circles.selectors.ledger import ledger_verify
from localsocial.circles.services.ledger import circle_accounts_ensure, member_account_ensure
from tests.circles.factories import CircleFactory, MemberFactory, TokenBundleFactory


@dataclass
class World:
    circle: Circle
    members: list[Member]
    accounts: list[Account]  # the members' accounts, in the same order
    issuance: Account
    sales: Account
    help: Account


def ledger_world(*, members: int = 2, minimum_quarters: int = 0) -> World:
    circle = CircleFactory(minimum_balance_quarters=minimum_quarters)
    people = [MemberFactory(circle=circle) for _ in range(members)]
    own = circle_accounts_ensure(circle=circle)
    return World(
        circle=circle, members=people, accounts=[member_account_ensure(member=m) for m in people],
        issuance=own[AccountKind.ISSUANCE], sales=own[AccountKind.SALES], help=own[AccountKind.HELP],
    )


def paid(member: Member, *, quarters: int = 12, purpose: str = PaymentPurpose.TOKENS, key: str = "pay-1",
         status: str = PaymentStatus.SUCCEEDED) -> Payment:
    bundle = TokenBundleFactory(circle=member.circle, quarters=quarters)
    return Payment.objects.create(
        circle=member.circle, member=member, purpose=purpose, method=PaymentMethod.CASH, status=status,
        amount_pence=3000, bundle=bundle, idempotency_key=key, payer_name="Aunt Jo" if purpose == "gift" else "",
        completed_at=timezone.now() if status == PaymentStatus.SUCCEEDED else None,
    )


def commit_time_checks() -> None:
    """Run PostgreSQL's deferred checks now (the test's transaction never commits): every
    transfer so far must pass what the database checks at commit."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def failed_checks() -> dict[str, list[str]]:
    """The checks ``localsocial ledger verify`` reports as failing, with their examples."""
    return {result.name: result.examples for result in ledger_verify() if not result.ok}


def assert_ledger_sound() -> None:
    commit_time_checks()
    assert failed_checks() == {}


def balances(*accounts: Account) -> list[int]:
    """The accounts' balances as the database holds them, in the order given."""
    held = dict(Account.objects.filter(pk__in=[a.pk for a in accounts]).values_list("pk", "balance_quarters"))
    return [held[a.pk] for a in accounts]


@contextmanager
def rolled_back() -> Iterator[None]:
    """Undo what the block wrote before the test ends.  For a test that breaks the ledger on
    purpose: on PostgreSQL, Django runs the commit-time checks at the end of every test, and
    they would (rightly) refuse what it left."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)
