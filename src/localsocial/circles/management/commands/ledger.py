"""``localsocial ledger verify``: check every invariant of the token ledger.

Prints one line per check with what it looked at, and for a failed check its first few
violations; exits 1 when anything is wrong, so it can run from cron or CI.  Every check is
one aggregate query, so it stays fast on millions of entries.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from localsocial.circles.selectors.ledger import MAX_EXAMPLES, ledger_verify


class Command(BaseCommand):
    help = "The token ledger. `verify`: check that every transfer balances and every cached balance is right."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", title="subcommands", required=True)
        subcommands.add_parser(
            "verify",
            help="Check every invariant of the ledger; exit 1 and list the first violations if any fails.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "verify":
            self._verify()

    def _verify(self) -> None:
        started = time.monotonic()
        self.stdout.write(f"Checking the token ledger ({connection.vendor})")
        results = ledger_verify()
        failed = 0
        for result in results:
            if result.ok:
                self.stdout.write(self.style.SUCCESS("OK  ") + f"  {result.description} ({result.checked:,} checked)")
                continue
            failed += result.violations
            self.stdout.write(
                self.style.ERROR("FAIL") + f"  {result.description}: {result.violations:,} "
                f"violation{'s' if result.violations != 1 else ''} ({result.checked:,} checked) [{result.name}]"
            )
            for example in result.examples:
                self.stdout.write(f"        {example}")
            if result.violations > len(result.examples):
                self.stdout.write(f"        … and {result.violations - len(result.examples):,} more "
                                  f"(the first {MAX_EXAMPLES} are shown)")
        elapsed = time.monotonic() - started
        if failed:
            raise CommandError(f"The ledger has {failed:,} violation{'s' if failed != 1 else ''} "
                               f"({elapsed:.1f} s).", returncode=1)
        self.stdout.write(f"The ledger is sound: every check passed ({elapsed:.1f} s).")
