"""Keeping ``StoryListing`` (one row per published story per list) in step with the stories,
and with them the dashboard's monthly totals (``services.totals``) and the cached public pages
(``page_groups``: every change that reaches a list also changes the story's page)."""

from __future__ import annotations

from dataclasses import replace

from django.db import transaction

from localsocial.directory.models import Organisation, path_ids
from localsocial.stories.models import ListingScope, Story, StoryListing, StoryStatus
from localsocial.stories.page_groups import story_pages_changed
from localsocial.stories.services.totals import (
    LISTED_AS_COLUMNS,
    listed_as,
    story_listed_as_locked,
    story_totals_change,
)


def story_listing_scopes(*, story: Story) -> set[tuple[str, int]]:
    """Every list the story belongs in: all stories; each of its services; every organisation
    from each service's own up to the top of its tree; each tag; each area any of those
    organisations serves."""
    scopes: set[tuple[str, int]] = {(ListingScope.ALL, 0)}
    org_ids: set[int] = set()
    for link in story.story_services.select_related("service__organisation"):
        scopes.add((ListingScope.SERVICE, link.service_id))
        org = link.service.organisation
        org_ids.update(path_ids(org.path) or [org.pk])
    scopes.update((ListingScope.ORGANISATION, pk) for pk in org_ids)
    scopes.update((ListingScope.TAG, pk) for pk in story.tags.values_list("pk", flat=True))
    area_ids = Organisation.areas_served.through.objects.filter(organisation_id__in=org_ids).values_list(
        "area_id", flat=True
    )
    scopes.update((ListingScope.AREA, pk) for pk in set(area_ids))
    return scopes


@transaction.atomic
def story_listing_refresh(*, story: Story) -> int:
    """Rewrite the story's list rows from scratch: call after it is published, restricted,
    withdrawn or rejected, or when its services or tags change, and move the story's counts in
    the monthly totals to match.  Returns the number of rows.  Idempotent."""
    story_pages_changed(story_id=story.pk)
    before = story_listed_as_locked(story_id=story.pk)
    StoryListing.objects.filter(story_id=story.pk).delete()
    if story.status != StoryStatus.PUBLISHED or story.published_at is None:
        story_totals_change(before=before, after=None)
        return 0
    rows = [
        StoryListing(
            scope=scope, scope_id=scope_id, story_id=story.pk, published_at=story.published_at,
            happened_month=story.happened_month, progress=story.progress, criticality=story.criticality,
            first_response_at=story.first_response_at, change_planned_at=story.change_planned_at,
            changed_at=story.changed_at,
        )
        for scope, scope_id in sorted(story_listing_scopes(story=story))
    ]
    StoryListing.objects.bulk_create(rows)
    story_totals_change(
        before=before, after=listed_as(tuple(getattr(row, name) for name in LISTED_AS_COLUMNS) for row in rows)
    )
    return len(rows)


@transaction.atomic
def story_listing_sync(*, story: Story) -> None:
    """Copy the fields lists filter on (progress, criticality, conversation times) onto the
    story's existing rows, for changes that do not move it between lists, and move its counts
    in the monthly totals to match."""
    story_pages_changed(story_id=story.pk)
    before = story_listed_as_locked(story_id=story.pk)
    StoryListing.objects.filter(story_id=story.pk).update(
        progress=story.progress, criticality=story.criticality, first_response_at=story.first_response_at,
        change_planned_at=story.change_planned_at, changed_at=story.changed_at,
    )
    if before is not None:
        after = replace(
            before, criticality=story.criticality, answered=story.first_response_at is not None,
            change_planned=story.change_planned_at is not None, changed=story.changed_at is not None,
        )
        story_totals_change(before=before, after=after)
