"""``localsocial demo``: run every registered demo step (the platform's directory and one person
for every role, then each module's own, from its ``demo.py``) and print the sign-ins."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from localsocial.core.demo_registry import demo_load, demo_sign_in_table, demo_summary


class Command(BaseCommand):
    help = (
        "Load a fictional demo: two councils, an NHS trust, their services and one person "
        "for every role, then each module's demo (its demo.py). Safe to run again. Refuses to "
        "run with DEBUG off unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true",
            help="Load the demo even with DEBUG off (its password is public: never on a live site).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "DEBUG is off, so this looks like a live site, and the demo accounts share a "
                "public password. Run with DEBUG=1, or add --force if you are sure."
            )
        result = demo_load()
        created = demo_summary(result)
        if any(created.values()):
            self.stdout.write("Created: " + ", ".join(f"{n} {kind}" for kind, n in created.items() if n))
        else:
            self.stdout.write("The demo was already loaded: nothing to create.")
        self.stdout.write("")
        self.stdout.write(f"Demo password for every account: {result.password}")
        self.stdout.write("Two-factor: sign in, then enter one of your backup codes (each works once;")
        self.stdout.write("run `localsocial demo` again to restore used codes).")
        self.stdout.write("")
        self.stdout.write(demo_sign_in_table(result))
