"""localsocial circles_tick

The circles' daily clock.  Run it once a day (more often does no harm) from cron, e.g.
``15 6 * * * localsocial circles_tick``: it sends renewal reminders (once per membership year,
``renewal_reminder_days`` before it ends; members who prefer phone or post appear on the
coordinators' "Renewals to contact" page instead), marks members whose membership has ended
as lapsed, and makes lapsed members with a paid year active again.  It also invites members
who said yes to wellbeing check-ins and last answered ``CIRCLES_WELLBEING_INTERVAL_DAYS`` or
more ago: by email, once per interval (members to phone are listed on the coordinators'
"Members to ask" page instead).  And it removes the personal details of referrals that
ended more than a year ago (the figures stay)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from localsocial.circles.services.membership import memberships_tick
from localsocial.circles.services.referrals import referrals_redact_ended
from localsocial.circles.services.wellbeing import wellbeing_reminders_send


class Command(BaseCommand):
    help = (
        "Send circles' renewal reminders and mark ended memberships as lapsed. "
        "Safe to run as often as you like: each reminder goes once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = memberships_tick()
        self.stdout.write(
            f"Reminders emailed: {result.reminders_emailed}; to phone or write: {result.reminders_to_contact}; "
            f"lapsed: {result.lapsed}; active again: {result.reactivated}."
        )
        wellbeing = wellbeing_reminders_send()
        self.stdout.write(
            f"Wellbeing check-ins: invited by email: {wellbeing.emailed}; to ask by phone: {wellbeing.to_phone}."
        )
        redacted = referrals_redact_ended()
        self.stdout.write(f"Referrals ended over a year ago, details removed: {redacted}.")
