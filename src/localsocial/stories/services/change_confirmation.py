"""Asking an author whether a claimed change happened: the email the change-confirmation task
sends once a response that claims a change is published.  Kept apart from
``services.responses`` (which publishes, through ``services.events``, and so enqueues this
work) so that the task imports what it runs and nothing imports back in a circle."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from localsocial.core.email import email_send
from localsocial.stories.models import Response, ResponseStatus
from localsocial.stories.models.story import email_is_placeholder
from localsocial.stories.services.common import private_link, story_author_link_renew


@transaction.atomic
def change_confirmation_send(*, response_id: int) -> bool:
    """Ask the author, once, whether a published change claim happened: claims the response
    (``confirmation_requested_at`` from NULL to now) and emails the author.  True when this
    call sent it; running it again sends nothing."""
    claimed = (
        Response.objects.filter(
            pk=response_id, status=ResponseStatus.PUBLISHED, is_author_reply=False, confirmation_requested_at__isnull=True
        )
        .exclude(change="")
        .update(confirmation_requested_at=timezone.now())
    )
    if not claimed:
        return False
    response = Response.objects.select_related("story", "organisation").get(pk=response_id)
    story = response.story
    if email_is_placeholder(story.author_email):
        return False  # an assisted story told without email: staff pass such news on by phone
    # The author's link is the same one as in every earlier email (derived, not stored).
    secret = story_author_link_renew(story_id=story.pk)
    email_send(
        to=story.author_email,
        subject=_("Did this change happen?"),
        template="stories/email/responses_change_confirm.txt",
        context={"response": response, "story": story, "link": f"{private_link(secret=secret)}#response-{response.pk}"},
    )
    return True
