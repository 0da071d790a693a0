"""Run in a fresh process with ``DJANGO_SETTINGS_MODULE=tests.noticeboard.settings`` on an
empty database: migrate, load the demo, generate, call the API, queue the webhook event, and
print what each registry did with the noticeboard as JSON (read by
tests/core/test_module_plugs_in.py)."""

from __future__ import annotations

import json
import sys
from io import StringIO


def main() -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from localsocial.api.models import WebhookDelivery, WebhookEndpoint
    from localsocial.api.registry import scope_get
    from localsocial.api.webhooks import webhook_event_queue
    from localsocial.directory.models import Organisation

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    demo, generated = StringIO(), StringIO()
    call_command("demo", stdout=demo)
    call_command("generate", scale=0.001, notices=7, stdout=generated)

    client = Client(HTTP_HOST="localhost")
    listed = client.get("/api/noticeboard/")
    document = client.get("/api/openapi.json").json()
    operation = document["paths"].get("/api/noticeboard/", {}).get("get", {})

    organisation = Organisation.objects.order_by("pk").first()
    assert organisation is not None
    WebhookEndpoint.objects.create(organisation=organisation, url="https://hooks.example.org/in",
                                   events=["notice.pinned"], secret="whsec_c2VjcmV0c2VjcmV0c2VjcmV0")
    webhook_event_queue(event="notice.pinned", subject_id=organisation.pk)
    delivery = WebhookDelivery.objects.filter(event="notice.pinned").first()

    scope = scope_get("notices:write")
    json.dump({
        "demo_output": demo.getvalue(),
        "generate_output": generated.getvalue(),
        "api_status": listed.status_code,
        "api_body": listed.json(),
        "operation_id": operation.get("operationId"),
        "operation_tags": operation.get("tags"),
        "scope_label": scope.label if scope else None,
        "openapi_webhook": "notice.pinned" in document.get("webhooks", {}),
        "delivery_payload": delivery.payload if delivery else None,
        "delivery_organisation": organisation.pk,
    }, sys.stdout)


if __name__ == "__main__":
    main()
