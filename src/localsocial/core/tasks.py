"""Background work shared by every module.

Tasks take simple values only (strings, numbers, lists of them), so that any backend can store
them as JSON and a worker on another machine can run them.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django_tasks import task

logger = logging.getLogger(__name__)


@task()
def send_email_task(
    *,
    to: list[str],
    subject: str,
    body: str,
    html_body: str = "",
    from_email: str = "",
    reply_to: list[str] | None = None,
) -> int:
    """Send one email that ``core.email.email_send`` has already rendered.

    Returns the number of messages sent (0 or 1).  A failure raises, so that the task backend
    records it and a worker may retry; nothing here touches the database.
    """
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        to=to,
        reply_to=reply_to or None,
    )
    if html_body:
        message.attach_alternative(html_body, "text/html")
    sent = message.send(fail_silently=False)
    logger.info("email sent: %s to %d recipient(s)", subject, len(to))
    return sent
