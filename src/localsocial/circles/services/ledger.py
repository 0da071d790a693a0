"""Moving tokens: every movement is one ``Transfer`` whose entries sum to zero.

``ledger_transfer`` is the only way entries are written.  It is idempotent: the same
``idempotency_key`` in the same circle returns the transfer already made (a retried request
never pays twice), and a key reused for a different transfer is refused.  Limits are enforced
by the database in the statement that writes each entry (see ``ledger_sql``), so there is no
window between checking a balance and spending it.  A mistake is put right by
``ledger_reverse``, a transfer of the opposite entries that points at the one it corrects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from localsocial.circles.models import (
    CIRCLE_ACCOUNT_KINDS,
    Account,
    AccountKind,
    Circle,
    Entry,
    Helper,
    Member,
    Payment,
    Transfer,
    TransferKind,
)


class LedgerError(ValueError):
    """A transfer that cannot be made; the message says why in plain words."""


class NotEnoughTokensError(LedgerError):
    def __init__(self, account: Account) -> None:
        super().__init__(_("There are not enough tokens in the account to pay for this."))
        self.account = account


class KeyReusedError(LedgerError):
    def __init__(self) -> None:
        super().__init__(_("This request was already used for a different transfer."))


@dataclass(frozen=True)
class Leg:
    """One side of a transfer: ``quarters`` added to (positive) or taken from ``account``."""

    account: Account
    quarters: int


def circle_accounts_ensure(*, circle: Circle) -> dict[str, Account]:
    """The circle's own accounts (issuance, sales, help), created when missing.  Idempotent."""
    accounts = {}
    for kind in CIRCLE_ACCOUNT_KINDS:
        account, _created = Account.objects.get_or_create(circle=circle, kind=kind, defaults={"minimum_quarters": None})
        accounts[str(kind)] = account
    return accounts


def member_account_ensure(*, member: Member) -> Account:
    """The member's account, created when missing, with the circle's lowest allowed balance."""
    account, _created = Account.objects.get_or_create(
        member=member,
        defaults={
            "circle_id": member.circle_id, "kind": AccountKind.MEMBER,
            "minimum_quarters": member.circle.minimum_balance_quarters,
        },
    )
    return account


def helper_account_ensure(*, helper: Helper) -> Account:
    """The account of a helper who earns tokens (a member who helps), never below zero."""
    account, _created = Account.objects.get_or_create(
        helper=helper, defaults={"circle_id": helper.circle_id, "kind": AccountKind.HELPER, "minimum_quarters": 0}
    )
    return account


def _validate(circle: Circle, legs: Sequence[Leg]) -> None:
    if len(legs) < 2:
        raise LedgerError(_("A transfer needs at least two accounts."))
    if any(leg.quarters == 0 for leg in legs):
        raise LedgerError(_("Every part of a transfer must move some tokens."))
    if sum(leg.quarters for leg in legs) != 0:
        raise LedgerError(_("A transfer must take out exactly as many tokens as it puts in."))
    if len({leg.account.pk for leg in legs}) != len(legs):
        raise LedgerError(_("A transfer names the same account twice."))
    if any(leg.account.circle_id != circle.pk for leg in legs):
        raise LedgerError(_("Tokens cannot move between circles."))


def _same(transfer: Transfer, kind: str, legs: Sequence[Leg], reverses: Transfer | None) -> bool:
    made = sorted(transfer.entries.values_list("account_id", "quarters"))
    return (
        transfer.kind == kind
        and made == sorted((leg.account.pk, leg.quarters) for leg in legs)
        and transfer.reverses_id == (reverses.pk if reverses else None)
    )


def _existing(circle: Circle, key: str, kind: str, legs: Sequence[Leg], reverses: Transfer | None) -> Transfer | None:
    transfer = Transfer.objects.filter(circle=circle, idempotency_key=key).first()
    if transfer is not None and not _same(transfer, kind, legs, reverses):
        raise KeyReusedError()
    return transfer


@transaction.atomic
def ledger_transfer(
    *,
    circle: Circle,
    kind: str,
    legs: Sequence[Leg],
    idempotency_key: str,
    memo: str = "",
    created_by: Any = None,
    on_behalf_of: Any = None,
    payment: Payment | None = None,
    reverses: Transfer | None = None,
) -> Transfer:
    """Move tokens: one transfer with one entry per leg.  Returns the transfer, or the one
    already made with this key (then nothing moves again).  Raises ``NotEnoughTokensError``
    if an account would go below its minimum (nothing moves), ``KeyReusedError`` if the key
    was used for a different transfer, ``LedgerError`` for a transfer that does not balance."""
    key = idempotency_key.strip()
    if not key:
        raise LedgerError(_("A transfer needs an idempotency key."))
    _validate(circle, legs)
    existing = _existing(circle, key, kind, legs, reverses)
    if existing is not None:
        return existing
    try:
        # Claim the key first: a concurrent retry waits here for this transaction, then finds
        # the transfer it made.
        with transaction.atomic():
            transfer = Transfer.objects.create(
                circle=circle, kind=kind, idempotency_key=key, memo=memo[:300], created_by=created_by,
                on_behalf_of=on_behalf_of, payment=payment, reverses=reverses,
            )
    except IntegrityError:
        existing = _existing(circle, key, kind, legs, reverses)
        if existing is None:
            raise
        return existing
    # In account order, so that transfers between the same accounts lock them in the same
    # order and cannot deadlock.
    ordered = sorted(legs, key=lambda leg: leg.account.pk)
    for leg in ordered:
        try:
            with transaction.atomic():
                # The database moves the balance and refuses to break the account's limit.
                Entry.objects.create(transfer=transfer, account=leg.account, quarters=leg.quarters)
        except IntegrityError as error:
            if "circles_account_within_limit" in str(error) or "CHECK constraint failed" in str(error):
                raise NotEnoughTokensError(leg.account) from error
            raise
    for leg in ordered:
        leg.account.refresh_from_db(fields=["balance_quarters"])
    return transfer


def ledger_reverse(
    *, transfer: Transfer, idempotency_key: str, memo: str = "", created_by: Any = None
) -> Transfer:
    """Put a transfer right with one that moves the same tokens back, pointing at it.  A
    transfer is reversed at most once (the database refuses a second reversal); a reversal
    that would take an account below its minimum is refused like any transfer."""
    if transfer.kind == TransferKind.REVERSAL:
        raise LedgerError(_("A correction cannot itself be reversed: make a new transfer instead."))
    legs = [Leg(account=entry.account, quarters=-entry.quarters) for entry in transfer.entries.select_related("account")]
    existing = Transfer.objects.filter(reverses=transfer).first()
    if existing is not None and existing.idempotency_key != idempotency_key.strip():
        raise LedgerError(_("This transfer has already been reversed."))
    return ledger_transfer(
        circle=transfer.circle, kind=TransferKind.REVERSAL, legs=legs, idempotency_key=idempotency_key,
        memo=memo or _("Correction of transfer %(number)s") % {"number": transfer.pk}, created_by=created_by,
        reverses=transfer,
    )
