"""``localsocial webhooks_retry``: send the webhook deliveries that are due.

Retries are enqueued with a delay when the task backend supports it (database, rq); with one
that does not, run this every minute from cron.  Running it alongside workers is harmless:
each delivery is claimed before it is sent, so nothing goes twice."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from localsocial.api.webhooks import webhooks_retry_due


class Command(BaseCommand):
    help = "Send the webhook deliveries whose next attempt is due."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=200, help="At most this many deliveries (default 200).")

    def handle(self, *args: Any, **options: Any) -> None:
        attempted = webhooks_retry_due(limit=options["limit"])
        self.stdout.write(f"{attempted} webhook deliveries attempted.")
