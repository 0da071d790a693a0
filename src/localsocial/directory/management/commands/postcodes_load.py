"""localsocial postcodes_load FILE [--batch-size N]"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from localsocial.directory.postcodes import BATCH_SIZE, PostcodeFileError, postcodes_load_file


class Command(BaseCommand):
    help = (
        "Load postcode locations from the ONS Postcode Directory (ONSPD) CSV, or from a CSV with the "
        "columns postcode,latitude,longitude (see docs/circles-help.md). Existing postcodes are updated: "
        "running it again is safe."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV file to load.")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                            help=f"Rows written at a time (default {BATCH_SIZE}).")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"There is no file at {path}.")
        if options["batch_size"] < 1:
            raise CommandError("The batch size must be 1 or more.")
        started = time.perf_counter()
        try:
            report = postcodes_load_file(path, batch_size=options["batch_size"])
        except PostcodeFileError as error:
            raise CommandError(str(error)) from error
        except UnicodeDecodeError as error:
            raise CommandError("The file is not UTF-8 text. Save it as CSV (UTF-8) and try again.") from error
        elapsed = time.perf_counter() - started
        for problem in report.errors:
            self.stderr.write(problem)
        if report.error_count > len(report.errors):
            self.stderr.write(f"… and {report.error_count - len(report.errors)} more rejected row(s).")
        self.stdout.write(f"Loaded in {elapsed:.1f}s: {report.summary()}")
        if report.rows and not report.loaded:
            raise CommandError("No postcodes were loaded. Check the rows reported above.")
