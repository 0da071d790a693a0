"""Writing through the API: submitting a story (stories:write) with idempotency, and
responding for an organisation (responses:write)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail
from django.utils import timezone

from localsocial.api.models import ApiIdempotencyKey
from localsocial.stories.models import Response, Story
from tests.api.problems import field_errors, problem
from tests.api.tokens import bearer
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    ServiceFactory,
    StoryFactory,
    TagFactory,
    UserFactory,
)
from tests.helpers import CommittingClient

pytestmark = pytest.mark.django_db

STORIES = "/api/stories/"


@pytest.fixture
def writer(make_token):
    _token, secret = make_token(UserFactory(), scopes=["stories:write"])
    return bearer(secret)


@pytest.fixture
def service(db):
    return ServiceFactory(slug="ward-7", name="Ward 7")


def _body(**changes):
    body = {
        "title": "Kind reception",
        "body": "The receptionist found me a seat and a glass of water.",
        "feelings": "Looked after.",
        "services": ["ward-7"],
        "tags": [],
        "author_role": "patient",
        "age_group": "65_79",
        "happened_month": f"{timezone.localdate():%Y-%m}",
        "pseudonym": "Sam",
        "email": "Sam.Author@Example.org",
    }
    body.update(changes)
    return body


def _post(client, body, headers, **extra):
    return client.post(STORIES, body, content_type="application/json", **headers, **extra)


def test_a_submitted_story_is_pending_from_the_api_and_private(client, writer, service):
    TagFactory(slug="kind-staff", name="Kind staff")
    client = CommittingClient()
    response = _post(client, _body(tags=["kind-staff"], suggested_tags=[{"name": "Water", "polarity": "good"}]), writer)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body == {"id": body["id"], "status": "pending", "duplicate": False}
    story = Story.objects.get(pk=body["id"])
    assert story.route == "api"
    assert story.author_email == "sam.author@example.org"
    assert story.author is None
    assert [s.slug for s in story.services.all()] == ["ward-7"]
    assert [t.slug for t in story.tags.all()] == ["kind-staff"]
    assert story.happened_month == timezone.localdate().replace(day=1)
    assert "example.org" not in response.content.decode().lower()
    # The author gets their private link by email; the public cannot see the story yet.
    assert [m.to for m in mail.outbox] == [["sam.author@example.org"]]
    assert client.get(f"{STORIES}{story.pk}").status_code == 404


def test_a_story_from_the_api_keeps_the_senders_address(writer, service):
    client = CommittingClient(REMOTE_ADDR="198.51.100.62")

    response = _post(client, _body(), writer)

    assert response.status_code == 201, response.content
    assert Story.objects.get(pk=response.json()["id"]).submitted_ip == "198.51.100.62"


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"services": ["nowhere"]}, "services", "no service with the slug 'nowhere'"),
        ({"services": []}, "services", None),
        ({"tags": ["nope"]}, "tags", "no tag with the slug 'nope'"),
        ({"title": ""}, "title", "Enter a title"),
        ({"title": "x" * 151}, "title", None),
        ({"body": "word " * 4001}, "body", None),
        ({"body": "word " * 1001}, "body", "words or fewer"),
        ({"happened_month": "2026-13"}, "happened_month", None),
        ({"happened_month": "last May"}, "happened_month", None),
        ({"happened_month": "2999-01"}, "happened_month", "this month or in the past"),
        ({"happened_month": "1999-01"}, "happened_month", "It must have happened in"),
        ({"happened_month": "0000-01"}, "happened_month", "Enter a real month"),
        ({"author_role": "king"}, "author_role", None),
        ({"email": "not an address"}, "email", "correct format"),
        ({"pseudonym": "   "}, "pseudonym", "Enter a name"),
        ({"suggested_tags": [{"name": "x", "polarity": "meh"}]}, "suggested_tags", None),
    ],
)
def test_bad_stories_are_422_with_the_field_and_a_message(client, writer, service, changes, field, fragment):
    response = _post(client, _body(**changes), writer)
    errors = field_errors(response)
    messages = [message for key, found in errors.items()
                if key == f"body:{field}" or key.startswith(f"body:{field}.") for message in found]
    assert messages, errors
    if fragment:
        assert any(fragment in message for message in messages), errors
        assert fragment in response.json()["detail"] or len(response.json()["errors"]) > 1
    assert not Story.objects.exists()


def test_a_body_that_is_not_json_is_a_clear_error(client, writer, service):
    response = client.post(STORIES, "title=x", content_type="application/x-www-form-urlencoded", **writer)
    assert response.status_code in (400, 422)
    problem(response, response.status_code, "invalid-request" if response.status_code == 422 else "bad-request")


def test_html_and_script_are_kept_as_plain_text_never_markup(client, writer, service):
    text = '<script>alert("x")</script> <b>bold</b> & more'
    response = _post(client, _body(title="<i>Title</i>", body=text), writer)
    assert response.status_code == 201
    story = Story.objects.get(pk=response.json()["id"])
    assert story.body == text
    assert story.title == "<i>Title</i>"


def test_an_idempotency_key_makes_a_retried_post_return_the_same_story(writer, service):
    client = CommittingClient()
    first = _post(client, _body(), writer, HTTP_IDEMPOTENCY_KEY="abc-123")
    again = _post(client, _body(), writer, HTTP_IDEMPOTENCY_KEY="abc-123")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Story.objects.count() == 1
    assert len(mail.outbox) == 1  # the replay sends nothing


def test_an_idempotency_key_reused_for_another_story_is_refused(client, writer, service):
    assert _post(client, _body(), writer, HTTP_IDEMPOTENCY_KEY="k1").status_code == 201
    response = _post(client, _body(title="Another story"), writer, HTTP_IDEMPOTENCY_KEY="k1")
    body = problem(response, 422, "idempotency-key-reused")
    assert "already used with a different request" in body["detail"]
    assert Story.objects.count() == 1


def test_idempotency_keys_belong_to_one_token(client, make_token, service):
    _t1, one = make_token(UserFactory())
    _t2, two = make_token(UserFactory())
    a = _post(client, _body(), bearer(one), HTTP_IDEMPOTENCY_KEY="same")
    b = _post(client, _body(title="Different story", email="other@example.org"), bearer(two),
              HTTP_IDEMPOTENCY_KEY="same")
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]
    assert ApiIdempotencyKey.objects.count() == 2


def test_the_same_story_sent_again_without_a_key_is_not_stored_twice(client, writer, service):
    first = _post(client, _body(), writer)
    again = _post(client, _body(), writer)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == {"id": first.json()["id"], "status": "pending", "duplicate": True}
    assert Story.objects.count() == 1


# --- Responses --------------------------------------------------------------------------------

@pytest.fixture
def trust_world(db):
    trust = OrganisationFactory(name="Riverside Trust", slug="trust")
    hospital = OrganisationFactory(name="Riverside General", slug="hospital", parent=trust)
    other = OrganisationFactory(name="Elsewhere Council", slug="elsewhere")
    story = StoryFactory(services=[ServiceFactory(organisation=hospital)])
    return {"trust": trust, "hospital": hospital, "other": other, "story": story}


def _respond(client, story_id, headers, **body):
    return client.post(f"{STORIES}{story_id}/responses/", {"body": "Thank you for telling us.", **body},
                       content_type="application/json", **headers)


def test_a_responder_token_responds_for_its_organisation(trust_world, make_token, settings):
    settings.STORIES_RESPONDER_TRUSTED_AFTER = 0
    membership = MembershipFactory(organisation=trust_world["hospital"], role="responder")
    _token, secret = make_token(membership.user, scopes=["responses:write"], organisation=trust_world["hospital"])
    client = CommittingClient()
    response = _respond(client, trust_world["story"].pk, bearer(secret))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "published"
    assert body["story_id"] == trust_world["story"].pk
    saved = Response.objects.get(pk=body["id"])
    assert saved.organisation == trust_world["hospital"]
    assert saved.responder == membership.user
    detail = client.get(f"{STORIES}{trust_world['story'].pk}").json()
    assert [r["id"] for r in detail["responses"]] == [saved.pk]


def test_a_new_responders_response_waits_for_moderation(client, trust_world, make_token, settings):
    settings.STORIES_RESPONDER_TRUSTED_AFTER = 3
    membership = MembershipFactory(organisation=trust_world["trust"], role="responder")
    _token, secret = make_token(membership.user, scopes=["responses:write"], organisation=trust_world["trust"])
    response = _respond(client, trust_world["story"].pk, bearer(secret))
    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    assert response.json()["published_at"] is None
    assert client.get(f"{STORIES}{trust_world['story'].pk}").json()["responses"] == []


def test_a_token_for_organisation_a_cannot_respond_for_b(client, trust_world, make_token):
    membership = MembershipFactory(organisation=trust_world["other"], role="administrator")
    _token, secret = make_token(membership.user, scopes=["responses:write"], organisation=trust_world["other"])
    response = _respond(client, trust_world["story"].pk, bearer(secret))
    assert problem(response, 403, "forbidden")["detail"] == (
        "This story is not about Elsewhere Council, so it cannot respond to it."
    )
    assert not Response.objects.exists()


def test_responding_needs_the_scope(client, trust_world, make_token):
    membership = MembershipFactory(organisation=trust_world["hospital"], role="responder")
    _token, secret = make_token(membership.user, scopes=["stories:write"])
    response = _respond(client, trust_world["story"].pk, bearer(secret))
    assert problem(response, 403, "forbidden")["detail"] == "This token does not have the responses:write scope."


def test_responding_to_an_unpublished_or_withdrawn_story(client, trust_world, make_token):
    membership = MembershipFactory(organisation=trust_world["hospital"], role="responder")
    _token, secret = make_token(membership.user, scopes=["responses:write"], organisation=trust_world["hospital"])
    service = trust_world["story"].services.first()
    pending = StoryFactory(status="pending", services=[service])
    withdrawn = StoryFactory(status="withdrawn", services=[service])
    assert _respond(client, pending.pk, bearer(secret)).status_code == 404
    response = _respond(client, withdrawn.pk, bearer(secret))
    assert "no longer published" in problem(response, 409, "conflict")["detail"]
    assert _respond(client, 987654, bearer(secret)).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "x" * 10_001}, "body"),
        ({"change": "planned", "change_description": ""}, "change_description"),
        ({"change": "someday"}, "change"),
    ],
)
def test_bad_responses_are_422_by_field(client, trust_world, make_token, body, field):
    membership = MembershipFactory(organisation=trust_world["hospital"], role="responder")
    _token, secret = make_token(membership.user, scopes=["responses:write"], organisation=trust_world["hospital"])
    response = _respond(client, trust_world["story"].pk, bearer(secret), **body)
    assert f"body:{field}" in field_errors(response), response.json()


def test_a_change_claim_waits_for_a_moderator(client, trust_world, make_token, settings):
    settings.STORIES_RESPONDER_TRUSTED_AFTER = 0
    membership = MembershipFactory(organisation=trust_world["hospital"], role="responder")
    _token, secret = make_token(membership.user, scopes=["responses:write"], organisation=trust_world["hospital"])
    response = _respond(client, trust_world["story"].pk, bearer(secret), change="planned",
                        change_description="A water cooler in the waiting room.")
    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    saved = Response.objects.get(pk=response.json()["id"])
    assert saved.change == "planned"


def test_story_submit_month_is_the_first_of_the_month(client, writer, service):
    response = _post(client, _body(happened_month=f"{timezone.localdate():%Y-%m}"), writer)
    story = Story.objects.get(pk=response.json()["id"])
    assert story.happened_month == date(timezone.localdate().year, timezone.localdate().month, 1)
