"""Background work for readers: telling a story's followers about a response."""

from __future__ import annotations

from django_tasks import task

from localsocial.stories.services.reading import followers_notify_send


@task()
def followers_notify_task(*, response_id: int) -> int:
    """Email the followers of the response's story, once (see
    ``services.reading.followers_notify_send``; running it twice sends nothing more)."""
    return followers_notify_send(response_id=response_id)
