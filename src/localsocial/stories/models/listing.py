"""One row per published story per list it appears in, so that every list is one index walk.

A story about a ward of a hospital in an NHS trust appears in the lists of the ward's service,
of the ward, the hospital and the trust (every organisation above the service's own), of each
of its tags, of each area those organisations serve, and in the list of all stories.  Reading
page N of any of those lists is then ``WHERE scope = … AND scope_id = … ORDER BY published_at
DESC, story_id DESC LIMIT 21`` on one index, however many stories there are: no join, no sort.

Rows are written by ``stories.services.listing.story_listing_refresh`` whenever a story's
publication, services, tags, progress or criticality changes; they carry copies of the few
fields that lists filter on.  They exist only while the story is published: restricted,
withdrawn and rejected stories have none.
"""

from __future__ import annotations

from django.db import models


class ListingScope(models.TextChoices):
    ALL = "all", "All stories"
    ORGANISATION = "org", "Organisation (with everything above the service)"
    SERVICE = "svc", "Service"
    TAG = "tag", "Tag"
    AREA = "area", "Area"


class StoryListing(models.Model):
    scope = models.CharField(max_length=4, choices=ListingScope.choices)
    scope_id = models.BigIntegerField(help_text="The organisation, service, tag or area id; 0 for all.")
    story = models.ForeignKey("stories.Story", on_delete=models.CASCADE, related_name="listings")
    published_at = models.DateTimeField()
    happened_month = models.DateField()
    progress = models.PositiveSmallIntegerField()
    criticality = models.PositiveSmallIntegerField(null=True)
    # For the dashboard, so that its figures come from this table alone.
    first_response_at = models.DateTimeField(null=True)
    change_planned_at = models.DateTimeField(null=True)
    changed_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["scope", "scope_id", "published_at", "story"], name="stories_listing_order"),
            models.Index(
                fields=["scope", "scope_id", "progress", "published_at", "story"], name="stories_listing_progress"
            ),
            models.Index(fields=["story"], name="stories_listing_story"),
            # The dashboard's figures, read from the index alone (PostgreSQL; other databases
            # skip covering indexes and use stories_listing_order).
            models.Index(
                fields=["scope", "scope_id", "published_at"], name="stories_listing_dashboard",
                include=["id", "story", "criticality", "first_response_at", "change_planned_at", "changed_at"],
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["scope", "scope_id", "story"], name="stories_listing_unique"),
            models.CheckConstraint(
                condition=models.Q(scope__in=[c.value for c in ListingScope]), name="stories_listing_scope_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.scope_id} {self.story_id}"
