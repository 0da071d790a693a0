"""localsocial stories_tick [--enqueue]

The moderation clock.  Run every few minutes from cron, e.g.
``*/5 * * * * localsocial stories_tick``: it publishes held stories whose time has come, and
stories waiting for private providers whose every notice was answered "go ahead" or ran out
without a request for a review."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from localsocial.stories.services.moderation import stories_release_due
from localsocial.stories.tasks.moderation import stories_release_due_task


class Command(BaseCommand):
    help = (
        "Publish held stories whose time has come and stories whose private providers have "
        "all said go ahead or let their deadline pass. Safe to run as often as you like."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--enqueue", action="store_true",
            help="Hand the work to the task workers instead of doing it here.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            stories_release_due_task.enqueue()
            self.stdout.write("Queued the moderation clock.")
            return
        counts = stories_release_due()
        self.stdout.write(
            f"Published {counts['held']} held and {counts['notice']} after provider notice."
        )
