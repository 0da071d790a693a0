"""Keeping the ledger's daily totals (``LedgerDayTotal``) in step with the ledger.

Each new transfer's entries are added to the cells of its day (credits and debits by kind of
account) and the transfer to its day's count, in the transaction that writes it, in the
cell's slot ``transfer id % LEDGER_TOTAL_SLOTS`` (decision 0023): on PostgreSQL by the
ledger's transfer function (``ledger_sql``), elsewhere by ``ledger_totals_add``, called by
``ledger_transfer``.  Cells are upserted (``INSERT … ON CONFLICT DO UPDATE`` adding to what is
there), in a fixed order, so two transfers made at once on the same day both count and cannot
deadlock on the cells; transfers whose ids differ modulo the slots do not even meet.  The
ledger never changes or loses a row, so the totals only grow.  A cell's total is the sum of
its slots; ``ledger_totals_fold`` folds the slots of past days into slot 0.

``ledger_totals_rebuild`` works every total out afresh from the entries (after a bulk load, or
if the time zone setting changes); ``ledger_totals_differences`` compares them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, Count, F, IntegerField, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from localsocial.circles.models import Entry, LedgerDayTotal, Transfer
from localsocial.circles.models.ledger_totals import LEDGER_TOTAL_SLOTS

# (circle id, day, transfer kind, account kind) -> [credit, debit, transfers]
Cells = dict[tuple[int, dt.date, str, str], list[int]]


def day_of(moment: dt.datetime) -> dt.date:
    """``moment``'s date in the site's time zone (as ``TruncDate`` and ``TruncMonth`` give it)."""
    return timezone.localtime(moment, timezone.get_current_timezone()).date()


def _cells_write(cells: Cells, slot: int) -> None:
    table = LedgerDayTotal._meta.db_table
    rows = sorted(cells.items())
    if not rows:
        return
    placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(rows))
    params: list[Any] = []
    for (circle_id, day, transfer_kind, account_kind), (credit, debit, transfers) in rows:
        params += [circle_id, day, transfer_kind, account_kind, slot, credit, debit, transfers]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (circle_id, day, transfer_kind, account_kind, slot, credit_quarters, "  # noqa: S608 (names from the model)
            f"debit_quarters, transfers) VALUES {placeholders} "
            "ON CONFLICT (circle_id, day, transfer_kind, account_kind, slot) DO UPDATE SET "
            f"credit_quarters = {table}.credit_quarters + excluded.credit_quarters, "
            f"debit_quarters = {table}.debit_quarters + excluded.debit_quarters, "
            f"transfers = {table}.transfers + excluded.transfers",
            params,
        )


@transaction.atomic
def ledger_totals_add(*, transfer: Transfer, entries: Iterable[tuple[str, int]]) -> None:
    """Count a transfer just made, with its entries given as ``(account kind, quarters)``, in
    the totals of its day (its slot: its id modulo ``LEDGER_TOTAL_SLOTS``).  Call it once per
    transfer, in the transaction that writes it (PostgreSQL's transfer function does this
    itself)."""
    day = day_of(transfer.created_at)
    cells: Cells = defaultdict(lambda: [0, 0, 0])
    cells[(transfer.circle_id, day, transfer.kind, "")][2] += 1
    for account_kind, quarters in entries:
        cell = cells[(transfer.circle_id, day, transfer.kind, account_kind)]
        if quarters > 0:
            cell[0] += quarters
        else:
            cell[1] -= quarters
    _cells_write(dict(cells), transfer.pk % LEDGER_TOTAL_SLOTS)


def ledger_totals_counted(*, circle_id: int | None = None, entry: Any = Entry, transfer: Any = Transfer) -> Cells:
    """The totals worked out from the ledger's rows (two GROUP BY queries), for one circle or all.
    ``entry`` and ``transfer`` are the models to read (a migration passes its own)."""
    entries = entry.objects.all()
    transfers = transfer.objects.all()
    if circle_id is not None:
        entries = entries.filter(transfer__circle_id=circle_id)
        transfers = transfers.filter(circle_id=circle_id)
    cells: Cells = defaultdict(lambda: [0, 0, 0])
    for row in (
        entries.annotate(day=TruncDate("transfer__created_at"))
        .values("transfer__circle_id", "day", "transfer__kind", "account__kind")
        .annotate(
            credit=Sum(Case(When(quarters__gt=0, then="quarters"), default=Value(0), output_field=IntegerField())),
            debit=Sum(Case(When(quarters__lt=0, then=-F("quarters")), default=Value(0), output_field=IntegerField())),
        ).order_by()
    ):
        key = (row["transfer__circle_id"], row["day"], row["transfer__kind"], row["account__kind"])
        cells[key][0] += row["credit"] or 0
        cells[key][1] += row["debit"] or 0
    for row in transfers.annotate(day=TruncDate("created_at")).values("circle_id", "day", "kind").annotate(
        n=Count("id")
    ).order_by():
        cells[(row["circle_id"], row["day"], row["kind"], "")][2] += row["n"]
    return dict(cells)


def ledger_totals_stored(*, circle_id: int | None = None) -> Cells:
    """The stored totals, each cell the sum of its slots (one GROUP BY query)."""
    rows = LedgerDayTotal.objects.all()
    if circle_id is not None:
        rows = rows.filter(circle_id=circle_id)
    return {
        (row["circle_id"], row["day"], row["transfer_kind"], row["account_kind"]): [
            row["credit"], row["debit"], row["n"],
        ]
        for row in rows.values("circle_id", "day", "transfer_kind", "account_kind").annotate(
            credit=Sum("credit_quarters"), debit=Sum("debit_quarters"), n=Sum("transfers"),
        ).order_by()
        if row["credit"] or row["debit"] or row["n"]
    }


def ledger_totals_fold(*, before: dt.date) -> int:
    """Fold the slots of every day before ``before`` into slot 0, so that an old day keeps one
    row a cell (the reports read fewer rows); the totals stay exactly the same.  Returns the
    number of rows folded away.  Safe while transfers are being made: each slot row is taken
    away and added to slot 0 in one statement (PostgreSQL) or one transaction, under the rows'
    locks, so a transfer adding to a slot at that moment is either folded or adds afresh."""
    table = LedgerDayTotal._meta.db_table
    cells = "circle_id, day, transfer_kind, account_kind"
    sums = "credit_quarters, debit_quarters, transfers"
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH moved AS (DELETE FROM {table} WHERE day < %s AND slot > 0 RETURNING {cells}, {sums}), "  # noqa: S608 (names from the model)
                f"folded AS (INSERT INTO {table} ({cells}, slot, {sums}) "
                f"SELECT {cells}, 0, SUM(credit_quarters), SUM(debit_quarters), SUM(transfers) FROM moved "
                f"GROUP BY {cells} ORDER BY {cells} "
                "ON CONFLICT (circle_id, day, transfer_kind, account_kind, slot) DO UPDATE SET "
                f"credit_quarters = {table}.credit_quarters + excluded.credit_quarters, "
                f"debit_quarters = {table}.debit_quarters + excluded.debit_quarters, "
                f"transfers = {table}.transfers + excluded.transfers RETURNING 1) "
                "SELECT COUNT(*) FROM moved",
                [before],
            )
            return int(cursor.fetchone()[0])
        # SQLite: one writer at a time, so read, add and delete in one transaction.
        folded: Cells = defaultdict(lambda: [0, 0, 0])
        moved = 0
        for row in LedgerDayTotal.objects.filter(day__lt=before, slot__gt=0).values(
            "circle_id", "day", "transfer_kind", "account_kind", "credit_quarters", "debit_quarters", "transfers"
        ):
            cell = folded[(row["circle_id"], row["day"], row["transfer_kind"], row["account_kind"])]
            cell[0] += row["credit_quarters"]
            cell[1] += row["debit_quarters"]
            cell[2] += row["transfers"]
            moved += 1
        LedgerDayTotal.objects.filter(day__lt=before, slot__gt=0).delete()
        _cells_write(dict(folded), 0)
        return moved


def ledger_totals_differences(*, circle_id: int | None = None, limit: int = 20) -> list[str]:
    """The cells where the stored totals and the ledger disagree (at most ``limit``), as lines
    of text; an empty list when they agree."""
    counted, stored = ledger_totals_counted(circle_id=circle_id), ledger_totals_stored(circle_id=circle_id)
    lines = []
    for key in sorted(set(counted) | set(stored)):
        want, have = counted.get(key, [0, 0, 0]), stored.get(key, [0, 0, 0])
        if want != have:
            circle, day, kind, account_kind = key
            lines.append(
                f"circle {circle}, {day}, {kind}/{account_kind or 'transfers'}: "
                f"stored credit {have[0]}, debit {have[1]}, transfers {have[2]}; "
                f"the ledger says {want[0]}, {want[1]}, {want[2]}"
            )
            if len(lines) >= limit:
                break
    return lines


@transaction.atomic
def ledger_totals_rebuild(*, entry: Any = Entry, transfer: Any = Transfer, total: Any = LedgerDayTotal) -> int:
    """Throw the totals away and work them all out again from the ledger.  Returns the number
    of cells written.  Locks the totals table so that no transfer is counted twice or lost
    while it runs (on PostgreSQL; SQLite writes one transaction at a time anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {total._meta.db_table} IN EXCLUSIVE MODE")
    total.objects.all().delete()
    cells = ledger_totals_counted(entry=entry, transfer=transfer)
    total.objects.bulk_create(
        [
            total(circle_id=circle_id, day=day, transfer_kind=kind, account_kind=account_kind,
                           credit_quarters=credit, debit_quarters=debit, transfers=transfers)
            for (circle_id, day, kind, account_kind), (credit, debit, transfers) in sorted(cells.items())
        ],
        batch_size=2000,
    )
    return len(cells)
