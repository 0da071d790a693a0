"""``localsocial stories_totals``: check the dashboard's daily totals against the stories'
list rows, or (``--rebuild``) work them all out again.

The totals are kept in step as stories are published, answered and withdrawn, so a check
should always pass; run it from a monitoring job if you like (it exits 1 and lists the first
differences when they disagree).  Rebuild after loading stories by hand into the list table,
or after changing ``TIME_ZONE`` (a story counts on its publication date in that zone).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from localsocial.stories.models import StoryDayTagTotal, StoryDayTotal
from localsocial.stories.services.totals import story_totals_differences, story_totals_rebuild


class Command(BaseCommand):
    help = "Check the stories dashboard's daily totals against the story lists, or rebuild them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rebuild", action="store_true", help="Throw the totals away and work them out again from the lists."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["rebuild"]:
            days, tags = story_totals_rebuild()
            self.stdout.write(f"Rebuilt the totals: {days} organisation days, {tags} tag days.")
            return
        differences = story_totals_differences()
        if differences:
            for line in differences:
                self.stderr.write(line)
            raise CommandError(
                "The totals do not match the story lists (the first differences are above). "
                "Run `localsocial stories_totals --rebuild` to work them out again."
            )
        self.stdout.write(
            f"The totals match the story lists: {StoryDayTotal.objects.count()} organisation days, "
            f"{StoryDayTagTotal.objects.count()} tag days."
        )
