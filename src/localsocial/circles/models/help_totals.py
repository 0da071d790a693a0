"""Daily totals of a circle's help requests and completed visits, for the reports (PostgreSQL).

Counting a large circle's requests and visits each time its reports are opened cost 0.3 to 0.9 s
at 200,000 visits.  These rows hold, for each circle, day (in the site's time zone) and kind of
help:

* ``HelpRequestDayTotal``: the requests made that day, by where each is now (its status);
* ``VisitDayTotal``: the visits completed that day and their length in quarter hours (the
  visit's ``quarters``, or its request's estimate when it has none).

On PostgreSQL, triggers on ``circles_helprequest`` and ``circles_visit`` keep them in step in the
same transaction as every write, whatever makes it (a service, the admin, a data fix, a test
moving a date): a row's old contribution is taken off and its new one added.  The reports'
selectors read them there; on SQLite (development) the tables stay empty and the selectors count
the rows themselves.  ``localsocial circles_totals`` checks them or rebuilds them.  See
decision 0013.
"""

from __future__ import annotations

from django.db import connection, models

from localsocial.circles.models.help import HelpCategory, RequestStatus


def help_totals_kept() -> bool:
    """Whether this database keeps the totals (PostgreSQL) or the reports count the rows (SQLite)."""
    return connection.vendor == "postgresql"


class HelpRequestDayTotal(models.Model):
    circle = models.ForeignKey("circles.Circle", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    category = models.CharField(max_length=20, choices=HelpCategory.choices)
    status = models.CharField(max_length=10, choices=RequestStatus.choices)
    # Not "positive": a cell is taken off before it is added to; the check command finds drift.
    requests = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["circle", "day", "category", "status"], name="circles_requestdaytotal_cell"),
        ]

    def __str__(self) -> str:
        return f"{self.circle_id} {self.day} {self.category}/{self.status}: {self.requests}"


class VisitDayTotal(models.Model):
    circle = models.ForeignKey("circles.Circle", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    category = models.CharField(max_length=20, choices=HelpCategory.choices)
    visits = models.IntegerField(default=0)
    quarters = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["circle", "day", "category"], name="circles_visitdaytotal_cell"),
        ]

    def __str__(self) -> str:
        return f"{self.circle_id} {self.day} {self.category}: {self.visits}"


class VisitWait(models.Model):
    """How long the member waited for one visit: from the request to the helper's check-in, in
    seconds, with the band (``bucket``) it falls in.  One row per checked-in visit, kept by the
    triggers, so that the median and 90th percentile read narrow rows of only the bands that
    hold them instead of joining every visit to its request."""

    visit = models.OneToOneField("circles.Visit", on_delete=models.CASCADE, primary_key=True, related_name="+")
    circle = models.ForeignKey("circles.Circle", on_delete=models.CASCADE, related_name="+")
    checked_in_at = models.DateTimeField()
    wait_seconds = models.FloatField()
    # Waits of under a minute are band 0; then each band is 10% wider than the one before.
    bucket = models.SmallIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["circle", "bucket", "checked_in_at"], name="circles_visitwait_band"),
        ]

    def __str__(self) -> str:
        return f"{self.visit_id}: {self.wait_seconds} s"


class WaitDayTotal(models.Model):
    """Visits checked in on a day (in the site's time zone), by band of waiting time."""

    circle = models.ForeignKey("circles.Circle", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    bucket = models.SmallIntegerField()
    visits = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["circle", "day", "bucket"], name="circles_waitdaytotal_cell"),
        ]

    def __str__(self) -> str:
        return f"{self.circle_id} {self.day} band {self.bucket}: {self.visits}"
