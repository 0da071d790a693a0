"""Background work for responses.  Tasks take ids only and are idempotent."""

from __future__ import annotations

from django_tasks import task


@task()
def change_confirmation_send_task(*, response_id: int) -> bool:
    """Ask the story's author whether a claimed change happened.  The service claims the
    response with a conditional UPDATE first, so running this twice sends one email."""
    from localsocial.stories.services.responses import change_confirmation_send

    return change_confirmation_send(response_id=response_id)
