"""localsocial stories_send_digests [--enqueue]

Run once a day from cron, e.g. ``15 7 * * * localsocial stories_send_digests``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from localsocial.stories.services.alerts import alerts_send_digests
from localsocial.stories.tasks.alerts import alerts_send_digests_task


class Command(BaseCommand):
    help = (
        "Send each daily story alert that has new stories one email listing them. "
        "Safe to run more than once: stories already sent are not sent again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--enqueue", action="store_true",
            help="Hand the work to the task workers instead of doing it here.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            alerts_send_digests_task.enqueue()
            self.stdout.write("Queued the daily digests.")
            return
        sent = alerts_send_digests()
        self.stdout.write(f"Sent {sent} daily digest(s).")
