"""Background work for moderation: the clock that publishes held stories and stories whose
provider notice has run out.  The task takes no arguments and is idempotent: each story is
locked and checked again before it is published, so it is safe to run as often as you like."""

from __future__ import annotations

from django_tasks import task

from localsocial.stories.services.moderation import stories_release_due


@task()
def stories_release_due_task() -> dict[str, int]:
    """Publish every held story whose time has come and every story whose providers have all
    said go ahead or let their deadline pass.  Returns ``{"held": n, "notice": m}``."""
    return stories_release_due()
