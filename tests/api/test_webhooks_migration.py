"""Migration api.0005: secrets made before Standard Webhooks become ``whsec_`` secrets that
the reference library reads, with the same key bytes as before, and back again."""

from __future__ import annotations

import base64

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from standardwebhooks.webhooks import Webhook

BEFORE = [("api", "0004_idempotency_drop_story")]
AFTER = [("api", "0005_standard_webhooks")]

OLD_SECRETS = [
    "whsec_Ab-_c1d2e3f4g5h6i7j8k9l0m1n2o3p4q5r6s7t8u9v",  # token_urlsafe: not standard base64
    "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0123456",  # happens to be base64, but was used as text
    "f" * 64,  # a 64-character secret without the prefix
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_every_stored_secret_parses_with_the_reference_library_after_migrate():
    # Given webhooks saved before the change
    old_apps = _migrate(BEFORE)
    organisations = old_apps.get_model("directory", "Organisation").objects
    endpoints = old_apps.get_model("api", "WebhookEndpoint").objects
    org = organisations.create(name="Riverside Trust", slug="riverside-trust", org_type="charity")
    for number, secret in enumerate(OLD_SECRETS):
        endpoints.create(organisation=org, url=f"https://hooks.example.org/{number}", secret=secret,
                         events=["story.published"])
    try:
        # When the migration runs
        new_apps = _migrate(AFTER)
        stored = dict(new_apps.get_model("api", "WebhookEndpoint").objects.values_list("url", "secret"))
        # Then every secret is a whsec_ secret the library reads, keyed with the old text's bytes
        for number, old in enumerate(OLD_SECRETS):
            secret = stored[f"https://hooks.example.org/{number}"]
            assert secret.startswith("whsec_")
            assert base64.b64decode(secret.removeprefix("whsec_"), validate=True) == old.encode()
            webhook = Webhook(secret)
            assert webhook.sign("x", _moment(), b"{}") == Webhook(old.encode()).sign("x", _moment(), b"{}")
        # And going back restores the old text
        back_apps = _migrate(BEFORE)
        restored = set(back_apps.get_model("api", "WebhookEndpoint").objects.values_list("secret", flat=True))
        assert restored == set(OLD_SECRETS)
    finally:
        _migrate(_latest())


def _moment():
    from datetime import UTC, datetime

    return datetime(2026, 12, 1, tzinfo=UTC)


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()
