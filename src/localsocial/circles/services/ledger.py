"""Moving tokens: every movement is one ``Transfer`` whose entries sum to zero.

``ledger_transfer`` is the only way entries are written.  It is idempotent: the same
``idempotency_key`` in the same circle returns the transfer already made (a retried request
never pays twice, even when the retry runs at the same moment as the first attempt), and a key
reused for a different transfer is refused.  Limits are enforced by the database in the
statement that writes each entry (see ``ledger_sql``), so there is no window between checking
a balance and spending it.  On PostgreSQL the whole transfer (key, transfer, entries, limits,
the reports' daily totals) is one call of the database function ``circles_ledger_transfer``:
one round trip when no transaction is open (decision 0023); on SQLite the same steps run here
in Python, one statement at a time, in a transaction.  A mistake is put right by ``ledger_reverse``, a transfer of the
opposite entries that points at the one it corrects.

Where tokens come from (see docs/circles-ledger.md):

* ``tokens_grant``: issuance -> member (welcome tokens, a coordinator's grant).
* ``tokens_sell``: sales -> member, for a payment received (a bundle bought by the member, or
  given by family and friends with ``gift=True``).  The sales account goes negative by the
  tokens sold, so "tokens sold" is minus its balance and "tokens granted" minus the issuance
  account's: each source of tokens can be read off its own account.
* ``tokens_pay_for_help``: member -> helper (a member who helps) or member -> the circle's
  help account (volunteers and paid helpers).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.utils import timezone
from django.utils.translation import gettext as _

from localsocial.accounts.models import User
from localsocial.circles.models import (
    CIRCLE_ACCOUNT_KINDS,
    Account,
    AccountKind,
    Circle,
    Entry,
    Helper,
    Member,
    Payment,
    PaymentStatus,
    Transfer,
    TransferKind,
)
from localsocial.circles.models.ledger_totals import LEDGER_TOTAL_SLOTS
from localsocial.circles.services.ledger_totals import day_of, ledger_totals_add

# The names the database gives the rules it enforces (ledger_sql.py and the models' Meta).
LIMIT_CONSTRAINT = "circles_account_within_limit"
# PostgreSQL's balance trigger names the account whose limit would break.
_LIMIT_ACCOUNT = re.compile(LIMIT_CONSTRAINT + r": account (\d+)")


_KINDS = frozenset(TransferKind.values)


class LedgerError(ValueError):
    """A transfer that cannot be made; the message says why in plain words."""


class NotEnoughTokensError(LedgerError):
    def __init__(self, account: Account) -> None:
        super().__init__(_("There are not enough tokens in the account to pay for this."))
        self.account = account


class KeyReusedError(LedgerError):
    def __init__(self) -> None:
        super().__init__(_("This request was already used for a different transfer."))


class AlreadyReversedError(LedgerError):
    def __init__(self) -> None:
        super().__init__(_("This transfer has already been corrected."))


@dataclass(frozen=True)
class Leg:
    """One side of a transfer: ``quarters`` added to (positive) or taken from ``account``."""

    account: Account
    quarters: int


def circle_accounts_ensure(*, circle: Circle) -> dict[str, Account]:
    """The circle's own accounts (issuance, sales, help), created when missing.  Idempotent;
    no limit on any of them (issuance and sales go negative by the tokens they put out)."""
    accounts = {str(a.kind): a for a in Account.objects.filter(circle=circle, kind__in=CIRCLE_ACCOUNT_KINDS)}
    for kind in CIRCLE_ACCOUNT_KINDS:
        if str(kind) not in accounts:
            account, _created = Account.objects.get_or_create(
                circle=circle, kind=kind, defaults={"minimum_quarters": None}
            )
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


def _validate(circle: Circle, kind: str, legs: Sequence[Leg], reverses: Transfer | None) -> None:
    if kind not in _KINDS:
        raise LedgerError(_("This is not a kind of transfer the ledger knows."))
    if (kind == TransferKind.REVERSAL) != (reverses is not None):
        raise LedgerError(_("A correction, and only a correction, names the transfer it puts right."))
    if len(legs) < 2:
        raise LedgerError(_("A transfer needs at least two accounts."))
    if any(not isinstance(leg.quarters, int) or leg.quarters == 0 for leg in legs):
        raise LedgerError(_("Every part of a transfer must move a whole number of quarter hours."))
    if sum(leg.quarters for leg in legs) != 0:
        raise LedgerError(_("A transfer must take out exactly as many tokens as it puts in."))
    if any(leg.account.pk is None for leg in legs) or len({leg.account.pk for leg in legs}) != len(legs):
        raise LedgerError(_("A transfer names the same account twice."))
    if any(leg.account.circle_id != circle.pk for leg in legs):
        raise LedgerError(_("Tokens cannot move between circles."))
    if reverses is not None:
        if reverses.circle_id != circle.pk or reverses.kind == TransferKind.REVERSAL:
            raise LedgerError(_("A correction cannot itself be reversed: make a new transfer instead."))
        reversed_legs = sorted(reverses.entries.values_list("account_id", "quarters"))
        if reversed_legs != sorted((leg.account.pk, -leg.quarters) for leg in legs):
            raise LedgerError(_("A correction must move back exactly the tokens the transfer moved."))


def _same(transfer: Transfer, kind: str, legs: Sequence[Leg], reverses: Transfer | None, payment: Payment | None) -> bool:
    made = sorted(transfer.entries.values_list("account_id", "quarters"))
    return (
        transfer.kind == kind
        and made == sorted((leg.account.pk, leg.quarters) for leg in legs)
        and transfer.reverses_id == (reverses.pk if reverses else None)
        and transfer.payment_id == (payment.pk if payment else None)
    )


def _existing(
    circle: Circle, key: str, kind: str, legs: Sequence[Leg], reverses: Transfer | None, payment: Payment | None
) -> Transfer | None:
    transfer = Transfer.objects.filter(circle=circle, idempotency_key=key).first()
    if transfer is not None and not _same(transfer, kind, legs, reverses, payment):
        raise KeyReusedError()
    return transfer


def _refresh_balances(legs: Sequence[Leg]) -> dict[int, str]:
    """Give the callers' Account objects the balances the database now holds (one query).
    Returns each account's kind as the database has it (a caller may pass an Account that
    carries only its id)."""
    rows = Account.objects.filter(pk__in=[leg.account.pk for leg in legs]).values_list("pk", "balance_quarters", "kind")
    balances = {pk: balance for pk, balance, _kind in rows}
    for leg in legs:
        leg.account.balance_quarters = balances[leg.account.pk]
    return {pk: kind for pk, _balance, kind in rows}


def _not_enough(legs: Sequence[Leg], error: IntegrityError) -> NotEnoughTokensError:
    """The refusal for a broken limit, naming the leg's account the database named."""
    named = _LIMIT_ACCOUNT.search(str(error))
    accounts = {leg.account.pk: leg.account for leg in legs}
    if named and int(named.group(1)) in accounts:
        return NotEnoughTokensError(accounts[int(named.group(1))])
    # Only a debit can break a limit; without a name, the first one in lock order.
    return NotEnoughTokensError(min((leg for leg in legs if leg.quarters < 0), key=lambda leg: leg.account.pk).account)


def ledger_transfer(
    *,
    circle: Circle,
    kind: str,
    legs: Sequence[Leg],
    idempotency_key: str,
    memo: str = "",
    actor: User | None = None,
    on_behalf_of: User | None = None,
    payment: Payment | None = None,
    reverses: Transfer | None = None,
) -> Transfer:
    """Move tokens: one transfer with one entry per leg.  Returns the transfer, or the one
    already made with this key (then nothing moves again).  Raises ``NotEnoughTokensError``
    if an account would go below its minimum (nothing moves), ``KeyReusedError`` if the key
    was used for a different transfer, ``AlreadyReversedError`` for a second correction of
    one transfer, ``LedgerError`` for a transfer that does not balance.  On success the legs'
    Account objects hold their new balances.

    Safe inside a caller's transaction: it runs in a savepoint, so a refused transfer leaves
    the caller's transaction usable and nothing of the transfer behind.  Outside one, on
    PostgreSQL, the transfer is one statement in its own transaction (one round trip)."""
    key = idempotency_key.strip()
    if not key or len(key) > 100:
        raise LedgerError(_("A transfer needs an idempotency key of 1 to 100 characters."))
    _validate(circle, kind, legs, reverses)
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself, not the per-thread proxy, read below
    if db.vendor == "postgresql":
        request = (db, circle, kind, legs, key, memo[:300], actor, on_behalf_of, payment, reverses)
        if db.in_atomic_block:
            with transaction.atomic():  # a savepoint: a refusal leaves the caller's transaction usable
                return _transfer_in_database(*request)
        return _transfer_in_database(*request)
    return _transfer_in_python(circle, kind, legs, key, memo, actor, on_behalf_of, payment, reverses)


def _prepared_cursor(db: BaseDatabaseWrapper) -> CursorWrapper:
    """A cursor that binds parameters on the server, so psycopg prepares a statement it sends
    again and again (after a few calls the transfer is Bind and Execute only: no quoting here,
    no parsing there).  Wrapped like Django's own cursors: errors become Django's, and the call
    is logged where queries are logged (debug, tests)."""
    db.ensure_connection()
    raw = psycopg.Cursor(db.connection)
    return (CursorDebugWrapper if db.queries_logged else CursorWrapper)(raw, db)


def _transfer_in_database(
    db: BaseDatabaseWrapper, circle: Circle, kind: str, legs: Sequence[Leg], key: str, memo: str, actor: User | None,
    on_behalf_of: User | None, payment: Payment | None, reverses: Transfer | None,
) -> Transfer:
    """``ledger_transfer`` on PostgreSQL: one call of ``circles_ledger_transfer`` (ledger_sql)."""
    at = timezone.now()
    try:
        with _prepared_cursor(db) as cursor:
            cursor.execute(
                "SELECT * FROM circles_ledger_transfer(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    circle.pk, kind, key, memo, actor.pk if actor else None,
                    on_behalf_of.pk if on_behalf_of else None, payment.pk if payment else None,
                    reverses.pk if reverses else None, at, day_of(at),
                    [leg.account.pk for leg in legs], [leg.quarters for leg in legs], LEDGER_TOTAL_SLOTS,
                ],
            )
            row: Any = cursor.fetchone()
    except IntegrityError as error:
        if LIMIT_CONSTRAINT in str(error):
            raise _not_enough(legs, error) from error
        raise
    outcome, pk, made_memo, created_by_id, on_behalf_of_id, payment_id, reverses_id, created_at, ids, balances = row
    if outcome == "already_reversed":
        raise AlreadyReversedError()
    if outcome == "key_reused":
        raise KeyReusedError()
    by_account = dict(zip(ids, balances, strict=True))
    for leg in legs:
        leg.account.balance_quarters = by_account[leg.account.pk]
    # As if loaded from the database (values in the fields' order: Django's quick way in).
    row_values = {
        "id": pk, "circle_id": circle.pk, "kind": kind, "idempotency_key": key, "memo": made_memo,
        "reverses_id": reverses_id, "payment_id": payment_id, "created_by_id": created_by_id,
        "on_behalf_of_id": on_behalf_of_id, "created_at": created_at,
    }
    names = [f.attname for f in Transfer._meta.concrete_fields]
    transfer = Transfer.from_db(db.alias, names, [row_values[name] for name in names])
    transfer.circle = circle
    # The objects the caller passed in, attached when they are the ones on the row (no query).
    if actor is not None and actor.pk == created_by_id:
        transfer.created_by = actor
    if on_behalf_of is not None and on_behalf_of.pk == on_behalf_of_id:
        transfer.on_behalf_of = on_behalf_of
    if payment is not None:
        transfer.payment = payment  # the same request: the row's payment is this one
    if reverses is not None:
        transfer.reverses = reverses
    return transfer


@transaction.atomic
def _transfer_in_python(
    circle: Circle, kind: str, legs: Sequence[Leg], key: str, memo: str, actor: User | None,
    on_behalf_of: User | None, payment: Payment | None, reverses: Transfer | None,
) -> Transfer:
    """``ledger_transfer`` elsewhere (SQLite, one writer at a time), step by step."""
    existing = _existing(circle, key, kind, legs, reverses, payment)
    if existing is not None:
        _refresh_balances(legs)
        return existing
    if reverses is not None and Transfer.objects.filter(reverses=reverses).exists():
        raise AlreadyReversedError()
    try:
        # Claim the key first: a concurrent retry with the same key waits here on the unique
        # index until this transaction ends, then finds the transfer it made (or, if it was
        # refused, makes it itself).
        with transaction.atomic():
            transfer = Transfer.objects.create(
                circle=circle, kind=kind, idempotency_key=key, memo=memo[:300], created_by=actor,
                on_behalf_of=on_behalf_of, payment=payment, reverses=reverses,
            )
    except IntegrityError:
        existing = _existing(circle, key, kind, legs, reverses, payment)
        if existing is not None:
            _refresh_balances(legs)
            return existing
        if reverses is not None and Transfer.objects.filter(reverses=reverses).exists():
            raise AlreadyReversedError() from None
        raise
    # In account order, so that any two transfers lock the accounts they share in the same
    # order (the balance trigger's UPDATE takes the row lock) and cannot deadlock.  No
    # savepoint per entry: a refused entry aborts this whole function's savepoint anyway.
    for leg in sorted(legs, key=lambda leg: leg.account.pk):
        try:
            # The database moves the balance and refuses to break the account's limit.
            Entry.objects.create(transfer=transfer, account=leg.account, quarters=leg.quarters)
        except IntegrityError as error:
            if LIMIT_CONSTRAINT in str(error):
                raise NotEnoughTokensError(leg.account) from error
            raise
    kinds = _refresh_balances(legs)
    # The reports' daily totals, in this transaction (decisions 0013 and 0023).
    ledger_totals_add(transfer=transfer, entries=[(kinds[leg.account.pk], leg.quarters) for leg in legs])
    return transfer


@transaction.atomic
def ledger_reverse(
    *, transfer: Transfer, idempotency_key: str, memo: str = "", actor: User | None = None,
    on_behalf_of: User | None = None,
) -> Transfer:
    """Put a transfer right with one that moves the same tokens back, pointing at it.  A
    transfer is corrected at most once (``AlreadyReversedError``; the database refuses a second
    correction too); a correction that would take an account below its minimum is refused like
    any transfer (``NotEnoughTokensError``).  Retrying with the same key returns the same
    correction.  The statement shows "Correction of …" from the link, so ``memo`` is optional."""
    if transfer.kind == TransferKind.REVERSAL:
        raise LedgerError(_("A correction cannot itself be reversed: make a new transfer instead."))
    legs = [Leg(account=entry.account, quarters=-entry.quarters) for entry in transfer.entries.select_related("account")]
    return ledger_transfer(
        circle=transfer.circle, kind=TransferKind.REVERSAL, legs=legs, idempotency_key=idempotency_key,
        memo=memo, actor=actor, on_behalf_of=on_behalf_of, reverses=transfer,
    )


def _positive(quarters: int) -> None:
    if not isinstance(quarters, int) or quarters <= 0:
        raise LedgerError(_("The number of tokens must be more than nothing, in whole quarter hours."))


def _member_in(circle: Circle, member: Member) -> None:
    if member.circle_id != circle.pk:
        raise LedgerError(_("This member belongs to a different circle."))


def tokens_grant(
    *, circle: Circle, member: Member, quarters: int, idempotency_key: str, actor: User | None = None,
    memo: str = "", on_behalf_of: User | None = None,
) -> Transfer:
    """Give a member tokens from the circle (issuance -> member): welcome tokens, a
    coordinator's grant.  Idempotent by key."""
    _positive(quarters)
    _member_in(circle, member)
    issuance = circle_accounts_ensure(circle=circle)[AccountKind.ISSUANCE]
    account = member_account_ensure(member=member)
    return ledger_transfer(
        circle=circle, kind=TransferKind.GRANT,
        legs=[Leg(issuance, -quarters), Leg(account, quarters)],
        idempotency_key=idempotency_key, memo=memo, actor=actor, on_behalf_of=on_behalf_of,
    )


def tokens_sell(
    *, circle: Circle, member: Member, quarters: int, payment: Payment, idempotency_key: str,
    actor: User | None = None, gift: bool = False, memo: str = "", on_behalf_of: User | None = None,
) -> Transfer:
    """Credit a member with tokens paid for (sales -> member), linked to the payment: bought
    by the member, or a gift from family and friends (``gift=True``).  The payment must be
    this member's in this circle and received (status succeeded).  Idempotent by key (use one
    derived from the payment, e.g. ``f"payment:{payment.pk}"``)."""
    _positive(quarters)
    _member_in(circle, member)
    if payment.circle_id != circle.pk or payment.member_id != member.pk:
        raise LedgerError(_("This payment is for a different member."))
    if payment.status != PaymentStatus.SUCCEEDED:
        raise LedgerError(_("Tokens are credited only once the payment has been received."))
    sales = circle_accounts_ensure(circle=circle)[AccountKind.SALES]
    account = member_account_ensure(member=member)
    return ledger_transfer(
        circle=circle, kind=TransferKind.GIFT if gift else TransferKind.PURCHASE,
        legs=[Leg(sales, -quarters), Leg(account, quarters)], idempotency_key=idempotency_key, memo=memo,
        actor=actor, on_behalf_of=on_behalf_of, payment=payment,
    )


def tokens_pay_for_help(
    *, circle: Circle, payer: Account, payee: Account, quarters: int, idempotency_key: str,
    actor: User | None = None, on_behalf_of: User | None = None, memo: str = "",
) -> Transfer:
    """Pay for help given (payer -> payee): usually a member's account to a member helper's
    account, or to the circle's help account for volunteers and paid helpers.  Refused with
    ``NotEnoughTokensError`` when the payer would go below their limit; idempotent by key
    (use one derived from the visit, e.g. ``f"visit:{visit.pk}"``)."""
    _positive(quarters)
    return ledger_transfer(
        circle=circle, kind=TransferKind.HELP, legs=[Leg(payer, -quarters), Leg(payee, quarters)],
        idempotency_key=idempotency_key, memo=memo, actor=actor, on_behalf_of=on_behalf_of,
    )
