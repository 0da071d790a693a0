"""Daily totals of published stories per organisation, for the organisation dashboard.

A trust with tens of thousands of stories would otherwise have every one of them counted each
time its dashboard is opened.  These rows hold, for each organisation and day (the date of
publication in the site's time zone), what the dashboard shows: how many stories, how many
were answered, how many led to a change planned or made, how many at each criticality, and
how many carry each tag.  A story counts on the day it was published and in every
organisation whose ``StoryListing`` "org" list holds it, exactly as the lists count it.  Any
period of whole days (every period the dashboard offers) is then a sum over at most a few
hundred rows, whatever the number of stories.

``stories.services.totals`` keeps them in step with ``StoryListing``: whenever a story's list
rows are written or changed, the difference between what the story counted for before and what
it counts for now is added to the cells it touches, in one transaction with the list rows.
``localsocial stories_totals`` checks them against the list rows, or rebuilds them.  See
decision 0011.
"""

from __future__ import annotations

from django.db import models


class StoryDayTotal(models.Model):
    organisation = models.ForeignKey("directory.Organisation", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    stories = models.PositiveIntegerField(default=0)
    responded = models.PositiveIntegerField(default=0)
    change_planned = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    unrated = models.PositiveIntegerField(default=0)
    criticality_0 = models.PositiveIntegerField(default=0)
    criticality_1 = models.PositiveIntegerField(default=0)
    criticality_2 = models.PositiveIntegerField(default=0)
    criticality_3 = models.PositiveIntegerField(default=0)
    criticality_4 = models.PositiveIntegerField(default=0)
    criticality_5 = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "day"], name="stories_day_total_unique"),
            # Each story is counted once at one criticality (or unrated), and only stories
            # counted can have been answered or changed.
            models.CheckConstraint(
                condition=models.Q(
                    stories=models.F("unrated") + models.F("criticality_0") + models.F("criticality_1")
                    + models.F("criticality_2") + models.F("criticality_3") + models.F("criticality_4")
                    + models.F("criticality_5")
                ),
                name="stories_day_total_criticality_adds_up",
            ),
            models.CheckConstraint(
                condition=models.Q(responded__lte=models.F("stories"))
                & models.Q(change_planned__lte=models.F("stories"))
                & models.Q(changed__lte=models.F("stories")),
                name="stories_day_total_parts_within_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.day}: {self.stories}"


class StoryDayTagTotal(models.Model):
    organisation = models.ForeignKey("directory.Organisation", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    tag = models.ForeignKey("stories.Tag", on_delete=models.CASCADE, related_name="+")
    stories = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "day", "tag"], name="stories_day_tag_total_unique"),
        ]
        indexes = [
            # The dashboard's tag counts are summed from this index alone: read through the
            # unique index, a year of a big trust's rows sat on ten thousand table pages
            # (91 ms from disk at 1M stories).
            models.Index(fields=["organisation", "day", "tag", "stories"], name="stories_day_tag_total_sum"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.day} tag {self.tag_id}: {self.stories}"
