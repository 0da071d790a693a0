"""``localsocial stories_tags_load``: add the curated tags a new site starts with.

Run once after the first ``migrate`` (``localsocial demo`` runs it too).  Tags that already
exist (by id) are left as they are, so a moderator's renaming is kept and running it again
adds nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from localsocial.stories.curated_tags import curated_tags_load


class Command(BaseCommand):
    help = "Add the curated story tags (what was good / what could be improved) that are missing."

    def handle(self, *args: Any, **options: Any) -> None:
        created = curated_tags_load()
        self.stdout.write(f"Added {created} curated tags.")
