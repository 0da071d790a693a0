"""Background work for staff alerts.  Tasks take ids only and are idempotent: the services
they call insert matches once and claim each email before sending it."""

from __future__ import annotations

from django_tasks import task

from localsocial.stories.services.alerts import alerts_match_story, alerts_send_digests


@task()
def alerts_match_story_task(*, story_id: int) -> int:
    """Match a newly published story to every alert and send the immediate ones.  Returns
    the number of emails queued by this run (0 when run again)."""
    return alerts_match_story(story_id=story_id)


@task()
def alerts_send_digests_task() -> int:
    """Send the daily digests that are due.  Returns the number sent (0 when run again)."""
    return alerts_send_digests()
