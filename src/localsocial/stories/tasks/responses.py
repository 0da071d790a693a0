"""Background work for responses.  Tasks take ids only and are idempotent."""

from __future__ import annotations

from django_tasks import task

from localsocial.stories.services.change_confirmation import change_confirmation_send


@task()
def change_confirmation_send_task(*, response_id: int) -> bool:
    """Ask the story's author whether a claimed change happened.  The service claims the
    response with a conditional UPDATE first, so running this twice sends one email."""
    return change_confirmation_send(response_id=response_id)
