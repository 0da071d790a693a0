"""localsocial directory_import FILE [--skip-errors] [--dry-run]"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from localsocial.directory.imports import directory_import


class Command(BaseCommand):
    help = (
        "Import areas, organisations and services from a CSV file (see docs/directory.md). "
        "Every row is checked first; nothing is imported from a file with problems unless "
        "--skip-errors is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV file to import, or - for standard input.")
        parser.add_argument(
            "--skip-errors", action="store_true",
            help="Import the good rows and report the bad ones (and rows below bad ones).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and report, but write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["file"]
        if name == "-":
            import sys

            data = sys.stdin.buffer.read()
        else:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"There is no file at {path}.")
            data = path.read_bytes()
        started = time.perf_counter()
        report = directory_import(data=data, skip_errors=options["skip_errors"], dry_run=options["dry_run"])
        elapsed = time.perf_counter() - started
        for error in report.errors:
            self.stderr.write(str(error))
        if report.errors:
            self.stderr.write(
                f"{len(report.errors)} problem(s) on {report.lines_with_errors} line(s) of {report.rows} row(s)."
            )
        if not report.imported:
            raise CommandError("Nothing was imported. Fix the problems, or use --skip-errors.")
        verb = "Checked (dry run, nothing written)" if report.dry_run else "Imported"
        self.stdout.write(f"{verb} in {elapsed:.1f}s: {report.summary()}")
