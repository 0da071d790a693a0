"""What follows when something becomes public.  Called explicitly by the services that publish
(no signals): the list rows are written in the same transaction; alerts, webhooks and emails
are queued as tasks once it commits, each of them idempotent."""

from __future__ import annotations

from django.db import transaction

from localsocial.stories.models import ChangeKind, Response, Story
from localsocial.stories.page_groups import story_pages_changed
from localsocial.stories.services.common import story_progress_mark
from localsocial.stories.services.listing import story_listing_refresh
from localsocial.stories.tasks.alerts import alerts_match_story_task
from localsocial.stories.tasks.reading import followers_notify_task
from localsocial.stories.tasks.responses import change_confirmation_send_task

# ``api.webhooks`` is imported inside the functions: it imports the stories models and
# selectors itself (until each module registers its own webhook payloads).


def story_published_effects(*, story: Story) -> None:
    """A story became visible: put it in its lists, alert subscribed staff, tell webhooks."""
    from localsocial.api.webhooks import webhook_event_queue

    story_listing_refresh(story=story)
    story_id = story.pk
    transaction.on_commit(lambda: alerts_queue_for_story(story_id=story_id))
    transaction.on_commit(lambda: webhook_event_queue(event="story.published", subject_id=story_id))


def story_hidden_effects(*, story: Story) -> None:
    """A story was withdrawn, restricted or unpublished: take it out of every list at once."""
    story_listing_refresh(story=story)


def response_published_effects(*, response: Response) -> None:
    """A response (or an author's reply) became visible: move the story's progress on, tell
    its followers, tell webhooks, and for a change claim, tell webhooks of the change and ask
    the author to confirm it."""
    from localsocial.api.webhooks import webhook_event_queue

    if not response.is_author_reply:
        times = {"first_response_at": response.published_at}
        if response.change == ChangeKind.PLANNED:
            times["change_planned_at"] = response.published_at
        elif response.change == ChangeKind.MADE:
            times["changed_at"] = response.published_at
        story_progress_mark(story_id=response.story_id, **times)
    Story.objects.filter(pk=response.story_id).update(
        response_count=Response.objects.filter(story_id=response.story_id, status="published").count()
    )
    story_pages_changed(story_id=response.story_id)
    response_id = response.pk
    transaction.on_commit(lambda: followers_notify(response_id=response_id))
    if not response.is_author_reply:
        transaction.on_commit(lambda: webhook_event_queue(event="response.published", subject_id=response_id))
        if response.change:
            transaction.on_commit(lambda: webhook_event_queue(event="change.marked", subject_id=response_id))
            transaction.on_commit(lambda: change_confirmation_request(response_id=response_id))


# --- Queueing the background work (each task is idempotent) -----------------------------------
# The enqueueing lives here, apart from the services the tasks run (alerts, reading,
# change_confirmation), so that each task module imports what it runs and nothing imports
# back in a circle.


def alerts_queue_for_story(*, story_id: int) -> None:
    """Enqueue the alert task for a newly published story.  Called once the publication has
    committed (``story_published_effects``)."""
    alerts_match_story_task.enqueue(story_id=story_id)


def followers_notify(*, response_id: int) -> None:
    """Queue the emails to a story's followers about a newly published response.  Called after
    commit (``response_published_effects``); the task does the work, once."""
    followers_notify_task.enqueue(response_id=response_id)


def change_confirmation_request(*, response_id: int) -> None:
    """Enqueue the email asking the author to confirm a claimed change (after commit)."""
    change_confirmation_send_task.enqueue(response_id=response_id)
