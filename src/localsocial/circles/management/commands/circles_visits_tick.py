"""``localsocial circles_visits_tick``: alert coordinators about visits with a missed check-out.

Run it every few minutes from cron or the task scheduler.  Each visit is alerted once however
often it runs (``visits_alert_missed_checkouts`` claims a visit before emailing).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from localsocial.circles.services.help import visits_alert_missed_checkouts


class Command(BaseCommand):
    help = "Email coordinators once about each visit whose helper has not checked out in time."

    def handle(self, *args: Any, **options: Any) -> None:
        alerted = visits_alert_missed_checkouts()
        self.stdout.write(f"Missed check-outs alerted: {alerted}")
