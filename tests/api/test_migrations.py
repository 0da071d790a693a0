"""The idempotency keys' migration runs forward on a database with data: a key that
``POST /api/stories/`` made when keys pointed at their story (api.0002) still replays its
story after api.0003 and api.0004 move it to ``operation`` and ``object_id``."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from localsocial.api.idempotency import request_fingerprint
from localsocial.api.models import ApiIdempotencyKey
from localsocial.api.services import api_token_create
from localsocial.stories.api.schemas import StoryIn
from localsocial.stories.models import Story
from tests.api.tokens import bearer
from tests.factories import ServiceFactory, StoryFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

KEYS_WITH_STORY = [("api", "0002_circles")]


def _migrate(targets: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    """Migrate to ``targets``; returns the models as they were there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest_api() -> list[tuple[str, str]]:
    graph = MigrationExecutor(connection).loader.graph
    return [node for node in graph.leaf_nodes() if node[0] == "api"]


@pytest.fixture
def back_at_keys_with_story():
    """The api app as it was at 0002 (the other apps as they are now), put forward again
    afterwards whatever happens."""
    old_apps = _migrate(KEYS_WITH_STORY)
    try:
        yield old_apps
    finally:
        _migrate(_latest_api())


def test_an_old_story_key_replays_its_story_after_the_migration(back_at_keys_with_story, client):
    # Given a key made by POST /api/stories/ when keys pointed at their story, and a circles key
    ServiceFactory(slug="ward-7")
    story = StoryFactory(title="Sent before the migration")
    user = UserFactory()
    token, secret = api_token_create(user=user, name="Kiosk", scopes=["stories:write"])
    body = {
        "title": "Kind reception", "body": "The receptionist found me a seat.", "feelings": "",
        "services": ["ward-7"], "tags": [], "author_role": "patient", "age_group": "",
        "happened_month": f"{timezone.localdate():%Y-%m}", "pseudonym": "Sam", "email": "sam@example.org",
    }
    old_key_model = back_at_keys_with_story.get_model("api", "ApiIdempotencyKey")
    old_key_model.objects.create(
        token_id=token.pk, key="before", story_id=story.pk,
        request_hash=request_fingerprint(StoryIn(**body).model_dump()),
    )
    old_key_model.objects.create(
        token_id=token.pk, key="grant", request_hash="c" * 64, operation="circles.member_tokens_grant", object_id=77,
    )

    # When the migrations run forward
    _migrate(_latest_api())

    # Then the stories key says what it made, the circles key is as it was
    moved = ApiIdempotencyKey.objects.get(key="before")
    assert (moved.operation, moved.object_id) == ("stories.story_submit", story.pk)
    kept = ApiIdempotencyKey.objects.get(key="grant")
    assert (kept.operation, kept.object_id) == ("circles.member_tokens_grant", 77)
    # And retrying the old request gets its story again, and makes none
    response = client.post("/api/stories/", body, content_type="application/json",
                           HTTP_IDEMPOTENCY_KEY="before", **bearer(secret))
    assert response.status_code == 201
    assert response.json()["id"] == story.pk
    assert response["Idempotent-Replayed"] == "true"
    assert Story.objects.count() == 1
