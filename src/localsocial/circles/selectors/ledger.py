"""Reading the token ledger: statements, and the checks behind ``localsocial ledger verify``.

A statement is an account's entries newest first, a page at a time (keyset pagination on the
``circles_entry_statement`` index, so page 1 and page 10,000 cost the same), with the current
balance at the top: a running balance per row would need the sum of every newer entry, which
grows with the account's history.

``ledger_verify`` checks every invariant of the ledger with one aggregate query per check, so
it reads millions of entries in seconds and never loads them into Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import rules
from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from localsocial.circles.models import Account, Entry
from localsocial.core.pagination import AFTER, KeysetPage, encode_cursor, keyset_paginate

if TYPE_CHECKING:
    from localsocial.accounts.models import User

STATEMENT_ORDERING = ("-id",)


class AccountNotFoundError(LookupError):
    """No such account, or not one this person may see (the two look the same on purpose)."""


def quarters_as_time(quarters: int) -> str:
    """A number of quarter hours in plain words: "1 hour 15 minutes", "45 minutes", "2 hours".
    The sign is dropped: the statement says in or out with the column."""
    quarters = abs(quarters)
    hours, minutes = divmod(quarters, 4)
    minutes *= 15
    parts = []
    if hours:
        parts.append(ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours})
    if minutes or not hours:
        parts.append(ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes})
    return " ".join(parts)


def balance_as_time(quarters: int) -> str:
    """A balance in plain words; a negative one says it is owed."""
    if quarters < 0:
        return _("%(time)s owed") % {"time": quarters_as_time(quarters)}
    return quarters_as_time(quarters)


def account_owner_name(account: Account) -> str:
    if account.member is not None:
        return account.member.display_name
    if account.helper is not None:
        return account.helper.display_name
    return str(account.get_kind_display())


def account_get_for_statement(*, user: User, account_id: int) -> Account:
    """The account, with its circle and owner, if ``user`` may see its statement (the owner,
    the circle's coordinators, site administrators).  Raises ``AccountNotFoundError`` both when
    there is no such account and when the user may not see it, so ids do not leak."""
    account = (
        Account.objects.select_related("circle", "member", "helper").filter(pk=account_id).first()
    )
    if account is None or not rules.has_perm("circles.view_statement", user, account):
        raise AccountNotFoundError(account_id)
    return account


def statement_accounts_for_user(*, user: User) -> list[Account]:
    """The accounts a signed-in person holds: one per circle they are a member of, and one
    per circle where they earn tokens as a helper."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        Account.objects.filter(Q(member__user=user) | Q(helper__user=user))
        .select_related("circle", "member", "helper")
        .order_by("circle__name", "id")
    )


def _statement_entries(account: Account) -> QuerySet[Entry]:
    # The entry on this account of the transfer this one corrects, and of the correction of
    # this one: the statement links to them.  A correction negates every entry of what it
    # corrects, so both are on this account too.  Subqueries, not extra queries per row.
    reversed_entry = Entry.objects.filter(transfer_id=OuterRef("transfer__reverses_id"), account_id=account.pk)
    correction_entry = Entry.objects.filter(transfer__reverses_id=OuterRef("transfer_id"), account_id=account.pk)
    return (
        Entry.objects.filter(account_id=account.pk)
        .select_related("transfer", "transfer__created_by", "transfer__on_behalf_of")
        .annotate(
            reversed_entry_id=Subquery(reversed_entry.values("id")[:1]),
            correction_entry_id=Subquery(correction_entry.values("id")[:1]),
        )
    )


def statement_page(*, account: Account, cursor: str | None, page_size: int) -> KeysetPage[Entry]:
    """One page of the account's statement, newest first: always one query.  Raises
    ``core.pagination.InvalidCursorError`` for a cursor not made for a statement."""
    return keyset_paginate(
        _statement_entries(account), ordering=STATEMENT_ORDERING, cursor=cursor, page_size=page_size
    )


def statement_cursor_at(entry_id: int) -> str:
    """A cursor for the statement page that starts with entry ``entry_id`` (to link to it)."""
    return encode_cursor(AFTER, [entry_id + 1], STATEMENT_ORDERING)


def statement_entries_all(*, account: Account) -> Iterator[Entry]:
    """Every entry of the account, newest first, streamed in chunks (for the CSV download)."""
    return _statement_entries(account).order_by("-id").iterator(chunk_size=2000)


# --- Verify -----------------------------------------------------------------------------------

MAX_EXAMPLES = 20


@dataclass
class CheckResult:
    """One invariant: what it promises, how many records were looked at, what breaks it."""

    name: str
    description: str
    checked: int
    violations: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.violations == 0


def _scalar(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return int(row[0] or 0) if row else 0


def _violations(result: CheckResult, sql: str, describe: Any) -> CheckResult:
    """Run ``sql`` (one row per violation), count every row, keep the first few described."""
    with connection.cursor() as cursor:
        cursor.execute(sql)
        while True:
            rows = cursor.fetchmany(1000)
            if not rows:
                break
            for row in rows:
                result.violations += 1
                if len(result.examples) < MAX_EXAMPLES:
                    result.examples.append(describe(*row))
    return result


def ledger_verify() -> list[CheckResult]:
    """Check every invariant of the ledger, in SQL; returns one result per check (all ``ok``
    when the ledger is sound).  The same function backs ``localsocial ledger verify`` and
    the property tests."""
    transfers = _scalar("SELECT COUNT(*) FROM circles_transfer")
    accounts = _scalar("SELECT COUNT(*) FROM circles_account")
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), COALESCE(SUM(quarters), 0) FROM circles_entry")
        entries, total = cursor.fetchone()
    results = []

    results.append(_violations(
        CheckResult("transfers_balanced", "every transfer has two entries or more and sums to zero", transfers),
        """
        SELECT t.id, COUNT(e.id), COALESCE(SUM(e.quarters), 0)
        FROM circles_transfer t LEFT JOIN circles_entry e ON e.transfer_id = t.id
        GROUP BY t.id HAVING COUNT(e.id) < 2 OR COALESCE(SUM(e.quarters), 0) <> 0
        ORDER BY t.id
        """,
        lambda tid, count, total_: f"transfer {tid}: {count} entries summing to {total_}",
    ))

    overall = CheckResult("entries_sum_to_zero", "all entries together sum to zero", int(entries))
    if int(total) != 0:
        overall.violations = 1
        overall.examples.append(f"all {entries} entries sum to {total}")
    results.append(overall)

    results.append(_violations(
        CheckResult("circles_sum_to_zero", "each circle's account balances sum to zero",
                    _scalar("SELECT COUNT(*) FROM circles_circle")),
        "SELECT circle_id, SUM(balance_quarters) FROM circles_account GROUP BY circle_id "
        "HAVING SUM(balance_quarters) <> 0 ORDER BY circle_id",
        lambda cid, sum_: f"circle {cid}: balances sum to {sum_}",
    ))

    results.append(_violations(
        CheckResult("balances_match_entries", "each account's balance equals the sum of its entries", accounts),
        """
        SELECT a.id, a.balance_quarters, COALESCE(s.total, 0)
        FROM circles_account a
        LEFT JOIN (SELECT account_id, SUM(quarters) AS total FROM circles_entry GROUP BY account_id) s
            ON s.account_id = a.id
        WHERE a.balance_quarters <> COALESCE(s.total, 0)
        ORDER BY a.id
        """,
        lambda aid, balance, sum_: f"account {aid}: balance {balance}, entries sum to {sum_}",
    ))

    results.append(_violations(
        CheckResult("balances_within_limits", "no account is below its lowest allowed balance", accounts),
        """
        SELECT id, balance_quarters, minimum_quarters FROM circles_account
        WHERE minimum_quarters IS NOT NULL AND balance_quarters < minimum_quarters ORDER BY id
        """,
        lambda aid, balance, minimum: f"account {aid}: balance {balance}, lowest allowed {minimum}",
    ))

    results.append(_violations(
        CheckResult("entries_in_transfer_circle", "every entry's account is in its transfer's circle", int(entries)),
        """
        SELECT e.id, e.transfer_id, a.circle_id, t.circle_id
        FROM circles_entry e
        JOIN circles_account a ON a.id = e.account_id
        JOIN circles_transfer t ON t.id = e.transfer_id
        WHERE a.circle_id <> t.circle_id ORDER BY e.id
        """,
        lambda eid, tid, account_circle, transfer_circle: (
            f"entry {eid} of transfer {tid}: account in circle {account_circle}, transfer in circle {transfer_circle}"
        ),
    ))

    reversals = _scalar("SELECT COUNT(*) FROM circles_transfer WHERE reverses_id IS NOT NULL OR kind = 'reversal'")
    results.append(_violations(
        CheckResult(
            "reversals_point_back",
            "every correction points at a transfer of its circle that is not a correction", reversals,
        ),
        """
        SELECT r.id, r.reverses_id, COALESCE(o.kind, '(missing)')
        FROM circles_transfer r LEFT JOIN circles_transfer o ON o.id = r.reverses_id
        WHERE (r.kind = 'reversal') <> (r.reverses_id IS NOT NULL)
           OR (r.reverses_id IS NOT NULL AND (o.id IS NULL OR o.circle_id <> r.circle_id OR o.kind = 'reversal'))
        ORDER BY r.id
        """,
        lambda rid, oid, kind: f"correction {rid} points at transfer {oid} ({kind})",
    ))

    results.append(_violations(
        CheckResult("reversals_negate", "every correction exactly negates the transfer it corrects", reversals),
        """
        SELECT reversal_id, account_id, COUNT(*), SUM(quarters) FROM (
            SELECT r.id AS reversal_id, e.account_id, e.quarters
            FROM circles_transfer r JOIN circles_entry e ON e.transfer_id = r.id
            WHERE r.reverses_id IS NOT NULL
            UNION ALL
            SELECT r.id AS reversal_id, e.account_id, e.quarters
            FROM circles_transfer r JOIN circles_entry e ON e.transfer_id = r.reverses_id
            WHERE r.reverses_id IS NOT NULL
        ) AS pairs
        GROUP BY reversal_id, account_id HAVING COUNT(*) <> 2 OR SUM(quarters) <> 0
        ORDER BY reversal_id, account_id
        """,
        lambda rid, aid, count, sum_: (
            f"correction {rid}, account {aid}: {count} entries with the corrected transfer, summing to {sum_}"
        ),
    ))
    return results
