"""Daily totals of a circle's token ledger, for the tokens section of the circle's reports.

A large circle after ten years has about a million ledger entries; counting them each time the
reports page is opened cost 0.5 to 1.5 s at 400,000 entries.  These rows hold, for each circle,
day (the date the transfer was made, in the site's time zone), kind of transfer and kind of
account, the quarter hours credited and debited by that day's transfers of that kind to
accounts of that kind.  The row with an empty ``account_kind`` counts the transfers themselves
(so the report can say how many corrections were made).  A period of whole days is then a sum
over a few rows a day, whatever the number of entries.

Each cell is kept in up to ``LEDGER_TOTAL_SLOTS`` rows (``slot``): a transfer adds itself to
the slot numbered by its id modulo the number of slots, so transfers made at the same moment
in one circle mostly write different rows instead of all queueing on one (decision 0023).
Readers add the slots up (a report sums rows anyway); ``ledger_totals_fold`` folds the slots of
past days back into slot 0, so old days keep one row a cell.

The ledger is append-only (the database refuses to change or delete a transfer or an entry), so
the totals only ever grow: the ledger's transfer function (PostgreSQL, ``ledger_sql``) or
``circles.services.ledger_totals.ledger_totals_add`` (SQLite) adds a new transfer's entries in
the same transaction as the entries are written.  ``localsocial circles_totals`` checks them
against the ledger, or rebuilds them.  See decisions 0013 and 0023.
"""

from __future__ import annotations

from django.db import models

from localsocial.circles.models.ledger import TransferKind

# How many rows a cell of a day is spread over; a transfer writes slot ``id % LEDGER_TOTAL_SLOTS``.
# Changing it needs no migration: readers sum whatever slots there are.
LEDGER_TOTAL_SLOTS = 16


class LedgerDayTotal(models.Model):
    # No index of its own: the cell's unique index starts with the circle.
    circle = models.ForeignKey("circles.Circle", on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    transfer_kind = models.CharField(max_length=10, choices=TransferKind.choices)
    # An AccountKind, or "" for the row that counts the transfers.
    account_kind = models.CharField(max_length=10, blank=True)
    credit_quarters = models.PositiveBigIntegerField(default=0)
    debit_quarters = models.PositiveBigIntegerField(default=0)
    transfers = models.PositiveIntegerField(default=0)
    # Which of the cell's rows this is (0 to LEDGER_TOTAL_SLOTS - 1); a cell's total is the sum.
    slot = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["circle", "day", "transfer_kind", "account_kind", "slot"],
                                    name="circles_ledgerdaytotal_cell_slot"),
            models.CheckConstraint(condition=models.Q(account_kind="") | models.Q(transfers=0),
                                   name="circles_ledgerdaytotal_transfers_row"),
        ]

    def __str__(self) -> str:
        return f"{self.circle_id} {self.day} {self.transfer_kind}/{self.account_kind or '-'} #{self.slot}"
