"""A race only PostgreSQL can show: two story submissions with the same Idempotency-Key at the
same moment make one story, and both answer with it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from localsocial.api.idempotency import request_fingerprint
from localsocial.api.models import ApiIdempotencyKey
from localsocial.api.services import api_token_create
from localsocial.stories.models import Story
from localsocial.stories.services.api import api_story_submit
from tests.factories import ServiceFactory, UserFactory
from tests.races import race

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")


def test_two_submissions_with_the_same_key_at_once_make_one_story():
    service = ServiceFactory()
    token, _secret = api_token_create(user=UserFactory(), name="race", scopes=["stories:write"])
    fields = {
        "title": "Same story twice", "body": "Sent twice at the same moment.", "feelings": "",
        "service_ids": [service.pk], "tag_ids": [], "suggested_tags": [], "author_role": "patient",
        "age_group": "", "happened_month": timezone.localdate().replace(day=1), "pseudonym": "Sam",
        "email": "sam@example.org",
    }

    def submit():
        return api_story_submit(token=token, idempotency_key="race-key", fingerprint=request_fingerprint(fields),
                                fields=fields)

    results = race(submit, submit)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Story.objects.count() == 1
    assert {story.pk for story, _replayed in results} == {Story.objects.get().pk}
    assert sorted(replayed for _story, replayed in results) == [False, True]
    key = ApiIdempotencyKey.objects.get()
    assert (key.operation, key.object_id) == ("stories.story_submit", Story.objects.get().pk)
