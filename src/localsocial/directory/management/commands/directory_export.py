"""localsocial directory_export [FILE]"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from localsocial.directory.exports import directory_export_lines


class Command(BaseCommand):
    help = "Write every area, organisation and service as CSV, in the format directory_import reads."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", default="-", help="Where to write (default: standard output).")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["file"]
        if name == "-":
            # The wrapped stream itself: OutputWrapper would add a line ending of its own.
            out: Any = getattr(self.stdout, "_out", sys.stdout)
            for line in directory_export_lines():
                out.write(line)
            return
        count = 0
        with Path(name).open("w", encoding="utf-8", newline="") as handle:
            for line in directory_export_lines():
                handle.write(line)
                count += 1
        self.stderr.write(f"Wrote {count - 1} record(s) to {name}.")
