"""``localsocial circles_totals``: check the circle reports' totals against the rows they count,
or (``--rebuild``) work them all out again.

The totals are kept in step as the rows are written (decision 0013): the ledger's by
``ledger_transfer``, the requests', visits' and waits' by triggers on PostgreSQL.  So a check
should always pass; run it from a monitoring job if you like (it exits 1 and lists the first
differences when they disagree).  Rebuild after loading rows by hand with the triggers off
(``session_replication_role = replica``, as the bench's generator does), or after changing
``TIME_ZONE`` (the rebuild also makes the triggers again with the new zone).  ``--fold`` adds
the ledger totals' slots of days before today into one row a cell (decision 0023; the totals
do not change), so that reports over old days read fewer rows.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from localsocial.circles.services.help_totals import (
    help_totals_differences,
    help_totals_kept,
    help_totals_rebuild,
)
from localsocial.circles.services.ledger_totals import (
    ledger_totals_differences,
    ledger_totals_fold,
    ledger_totals_rebuild,
)


class Command(BaseCommand):
    help = "Check the circle reports' daily totals against the ledger, requests and visits, or rebuild them."

    def add_arguments(self, parser: CommandParser) -> None:
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--verify", action="store_true", help="Check the totals (the default).")
        action.add_argument(
            "--rebuild", action="store_true", help="Throw the totals away and work them out again from the rows."
        )
        action.add_argument(
            "--fold", action="store_true",
            help="Fold the ledger totals' slots of days before today into one row a cell (the totals stay the same).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["fold"]:
            folded = ledger_totals_fold(before=timezone.localdate())
            self.stdout.write(f"Folded {folded} ledger total rows of past days into one row a cell.")
            return
        if options["rebuild"]:
            ledger_cells = ledger_totals_rebuild()
            request_cells, visit_cells = help_totals_rebuild()
            self.stdout.write(
                f"Rebuilt the totals: {ledger_cells} ledger cells, {request_cells} request cells, "
                f"{visit_cells} visit cells"
                + ("." if help_totals_kept() else " (requests, visits and waits are counted from the rows here).")
            )
            return
        differences = ledger_totals_differences() + help_totals_differences()
        if differences:
            for line in differences:
                self.stderr.write(line)
            raise CommandError(
                "The circle report totals do not match the rows (the first differences are above). "
                "Run `localsocial circles_totals --rebuild` to work them out again."
            )
        self.stdout.write("The circle report totals match the ledger, the requests, the visits and the waits.")
