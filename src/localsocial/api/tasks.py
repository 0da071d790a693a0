"""Background work of the API: sending webhook deliveries.  Tasks take ids only."""

from __future__ import annotations

from django_tasks import task


@task()
def webhook_deliver_task(*, delivery_id: int) -> str:
    """Make one attempt at a webhook delivery (see ``api.webhooks.webhook_delivery_attempt``).
    Idempotent: a delivery already sent, given up, or being sent by another worker is left
    alone."""
    from localsocial.api.webhooks import webhook_delivery_attempt

    return webhook_delivery_attempt(delivery_id=delivery_id)
