"""The conventions every API answer keeps (issue 10): RFC 9457 problems for every error, every
path with and without its trailing slash, CORS without credentials, and rate-limit headers."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from markupsafe import escape

from localsocial.api.errors import PROBLEM_TYPES
from localsocial.stories.models import Story
from tests.api.problems import field_errors, problem
from tests.api.tokens import bearer
from tests.factories import MembershipFactory, ServiceFactory, StoryFactory, UserFactory

pytestmark = pytest.mark.django_db

ALL_SCOPES = ["stories:write", "responses:write", "webhooks:manage", "circles:member", "circles:coordinate"]
SAMPLE_PARAMETERS = {"slug": "riverside", "story_id": "1", "endpoint_id": "1", "delivery_id": "1"}
WRITE_METHODS = {"post", "put", "patch", "delete"}


def _story_body(**changes):
    body = {
        "title": "Kind reception", "body": "The receptionist found me a seat.", "feelings": "Looked after.",
        "services": ["ward-7"], "tags": [], "author_role": "patient", "age_group": "65_79",
        "happened_month": "2026-01", "pseudonym": "Sam", "email": "sam@example.org",
    }
    return {**body, **changes}


def _operations(client):
    schema = client.get("/api/openapi.json").json()
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            concrete = re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PARAMETERS.get(m.group(1), "1"), path)
            yield method, path, concrete, operation


# --- Problems ----------------------------------------------------------------------------------

def test_a_body_error_names_each_field_with_its_location_pointer_and_message(client, make_token):
    # Given a writer, when a story comes with a title too long and no email
    _token, secret = make_token(UserFactory())
    body = _story_body(title="x" * 500)
    del body["email"]
    response = client.post("/api/stories/", body, content_type="application/json", **bearer(secret))
    # Then one 422 problem lists both fields, each where it is in the body and why
    errors = {error["field"]: error for error in problem(response, 422, "invalid-request")["errors"]}
    assert set(errors) == {"title", "email"}
    assert errors["title"]["location"] == "body"
    assert errors["title"]["pointer"] == "#/title"
    assert errors["title"]["code"] == "string_too_long"
    assert "150" in errors["title"]["detail"]
    assert errors["email"]["code"] == "missing"
    assert "title" in response.json()["detail"]
    assert "email" in response.json()["detail"]


def test_a_nested_field_error_has_a_dotted_field_and_a_json_pointer(client, make_token):
    _token, secret = make_token(UserFactory())
    body = _story_body(suggested_tags=[{"name": "Water", "polarity": "meh"}])
    response = client.post("/api/stories/", body, content_type="application/json", **bearer(secret))
    error = problem(response, 422, "invalid-request")["errors"][0]
    assert error["field"] == "suggested_tags.0.polarity"
    assert error["pointer"] == "#/suggested_tags/0/polarity"


def test_a_body_that_is_not_json_is_a_problem(client, make_token):
    _token, secret = make_token(UserFactory())
    response = client.post("/api/stories/", "{not json", content_type="application/json", **bearer(secret))
    assert response.status_code in (400, 422)
    problem(response, response.status_code, "invalid-request" if response.status_code == 422 else "bad-request")


def test_a_query_error_says_it_is_in_the_query(client):
    response = client.get("/api/stories/?limit=0")
    assert field_errors(response) == {"query:limit": ["Input should be greater than or equal to 1"]}
    assert "pointer" not in response.json()["errors"][0]


def test_401_is_a_problem_with_www_authenticate(client, db):
    response = client.post("/api/stories/", _story_body(), content_type="application/json")
    problem(response, 401, "not-authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_path_is_a_404_problem_not_a_page(client):
    for method in ("get", "post", "delete"):
        response = getattr(client, method)("/api/no/such/thing")
        assert "There is nothing at /api/no/such/thing" in problem(response, 404, "not-found")["detail"]


def test_a_method_the_path_does_not_take_is_a_405_problem_with_allow(client):
    response = client.delete("/api/tags/")
    assert "DELETE" in problem(response, 405, "method-not-allowed")["detail"]
    assert response["Allow"] == "GET, HEAD, OPTIONS"


def test_429_is_a_problem_with_retry_after(client, settings):
    settings.API_RATE = "1/m"
    client.get("/api/tags/")
    response = client.get("/api/tags/")
    problem(response, 429, "rate-limited")
    assert 1 <= int(response["Retry-After"]) <= 60


def test_an_unexpected_error_is_a_500_problem_without_internals(db, monkeypatch, caplog):
    # Given a selector that fails in a way nobody planned for
    def broken(**_kwargs):
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr("localsocial.stories.api.routes.tag_page_for_api", broken)
    response = Client(raise_request_exception=False).get("/api/tags/", HTTP_X_REQUEST_ID="req-12345678")
    # Then the client sees a problem with the request id and nothing of the error
    body = problem(response, 500, "server-error")
    assert body["request_id"] == "req-12345678"
    assert "hunter2" not in response.content.decode()
    assert "RuntimeError" not in response.content.decode()
    # And the operator has the traceback in the log
    assert any("hunter2" in str(record.exc_info) for record in caplog.records if record.exc_info)


def test_every_problem_type_has_a_public_page_at_its_uri(client):
    listing = client.get("/developers/problems/")
    assert listing.status_code == 200
    for slug, problem_type in PROBLEM_TYPES.items():
        assert f"/developers/problems/{slug}/" in listing.content.decode()
        page = client.get(f"/developers/problems/{slug}/")
        assert page.status_code == 200
        assert escape(problem_type.title) in page.content.decode()
    assert client.get("/developers/problems/no-such-kind/").status_code == 404


def test_the_openapi_description_declares_every_error_as_a_problem(client):
    schema = client.get("/api/openapi.json").json()
    assert set(schema["components"]["schemas"]["Problem"]["required"]) == {"type", "title", "status", "detail"}
    assert "ErrorOut" not in schema["components"]["schemas"]
    for method, path, _concrete, operation in _operations(client):
        for status, answer in operation["responses"].items():
            if int(status) >= 400:
                assert answer["content"] == {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }, (method, path, status)
            assert "RateLimit" in answer["headers"], (method, path, status)
        if "401" in operation["responses"]:
            assert "WWW-Authenticate" in operation["responses"]["401"]["headers"], (method, path)


# --- Trailing slashes ------------------------------------------------------------------------------

@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
def test_every_operation_answers_with_and_without_its_trailing_slash(client, make_token, settings, debug):
    # Given DEBUG as in development or in production (APPEND_SLASH on in both)
    settings.DEBUG = debug
    settings.API_RATE = settings.API_WRITE_RATE = "100000/h"
    assert settings.APPEND_SLASH
    membership = MembershipFactory(role="administrator")
    _token, secret = make_token(membership.user, scopes=ALL_SCOPES, organisation=membership.organisation)
    checked = 0
    for method, path, concrete, _operation in _operations(client):
        answers = {}
        for form in (concrete.rstrip("/"), concrete.rstrip("/") + "/"):
            response = getattr(client, method)(form, {} if method == "get" else "{}",
                                               content_type="application/json", **bearer(secret))
            # Then neither form is a server error or a redirect, and the operation was reached
            assert response.status_code < 500, (method, form, response.content[:300])
            assert not 300 <= response.status_code < 400, (method, form, response.get("Location"))
            if response.status_code == 404:
                assert "There is nothing at" not in response.json()["detail"], (method, form)
            assert response.status_code != 405, (method, form)
            answers[form] = response.status_code
        assert len(set(answers.values())) == 1, (method, path, answers)
        checked += 1
    assert checked >= 25  # every operation of every module


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
def test_a_story_posted_without_the_slash_is_stored_with_its_body(client, make_token, settings, debug):
    settings.DEBUG = debug
    ServiceFactory(slug="ward-7")
    _token, secret = make_token(UserFactory())
    response = client.post("/api/stories", _story_body(), content_type="application/json", **bearer(secret))
    assert response.status_code == 201, response.content
    assert Story.objects.get(pk=response.json()["id"]).title == "Kind reception"


def test_a_get_with_an_extra_slash_is_served_not_redirected(client):
    story = StoryFactory()
    response = client.get(f"/api/stories/{story.pk}/")
    assert response.status_code == 200
    assert response.json()["id"] == story.pk


def test_the_openapi_description_lists_each_path_once(client):
    paths = list(client.get("/api/openapi.json").json()["paths"])
    assert len({path.rstrip("/") for path in paths}) == len(paths)


# --- CORS ---------------------------------------------------------------------------------------

def test_public_reads_allow_any_origin_without_credentials(client):
    response = client.get("/api/tags/", HTTP_ORIGIN="https://elsewhere.example")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response
    assert "RateLimit" in response["Access-Control-Expose-Headers"]
    head = client.head("/api/tags/", HTTP_ORIGIN="https://elsewhere.example")
    assert head.status_code == 200
    assert head["Access-Control-Allow-Origin"] == "*"
    assert head.content == b""


def test_a_preflight_is_answered_with_the_methods_and_headers_allowed(client):
    response = client.options("/api/stories", HTTP_ORIGIN="https://elsewhere.example",
                              HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                              HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key")
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    methods = {method.strip() for method in response["Access-Control-Allow-Methods"].split(",")}
    assert methods == {"GET", "POST", "HEAD", "OPTIONS"}
    assert response["Allow"] == response["Access-Control-Allow-Methods"]
    allowed = response["Access-Control-Allow-Headers"].lower()
    assert all(name in allowed for name in ("authorization", "content-type", "idempotency-key"))
    assert "Access-Control-Allow-Credentials" not in response


def test_token_answers_and_errors_carry_the_same_cors_headers_never_credentials(client, make_token):
    _token, secret = make_token(UserFactory())
    for response in (
        client.post("/api/stories/", {}, content_type="application/json", **bearer(secret)),
        client.post("/api/stories/", {}, content_type="application/json"),
        client.get("/api/no-such-path"),
    ):
        assert response.status_code >= 400
        assert response["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in response


def test_pages_outside_the_api_send_no_cors_headers(client):
    assert "Access-Control-Allow-Origin" not in client.get("/api/docs")
    assert "Access-Control-Allow-Origin" not in client.get("/")


# --- Rate-limit headers ---------------------------------------------------------------------------

def _rate_limit(response):
    policy = re.fullmatch(r'"(\w+)";q=(\d+);w=(\d+)', response["RateLimit-Policy"])
    state = re.fullmatch(r'"(\w+)";r=(\d+);t=(\d+)', response["RateLimit"])
    assert policy, response.get("RateLimit-Policy")
    assert state, response.get("RateLimit")
    assert policy.group(1) == state.group(1)
    return policy.group(1), int(policy.group(2)), int(policy.group(3)), int(state.group(2)), int(state.group(3))


def test_reads_say_how_many_are_left_and_when_the_window_ends(client, settings):
    settings.API_RATE = "5/m"
    seen = [_rate_limit(client.get("/api/tags/")) for _ in range(3)]
    assert [(name, limit, window, remaining) for name, limit, window, remaining, _t in seen] == [
        ("read", 5, 60, 4), ("read", 5, 60, 3), ("read", 5, 60, 2),
    ]
    assert all(0 <= reset <= 60 for *_rest, reset in seen)


def test_writes_report_their_own_allowance(client, settings, make_token):
    settings.API_WRITE_RATE = "3/h"
    _token, secret = make_token(UserFactory())
    response = client.post("/api/stories/", {}, content_type="application/json", **bearer(secret))
    assert _rate_limit(response)[:4] == ("write", 3, 3600, 2)
    # Reads are counted apart, on the token's own allowance
    assert _rate_limit(client.get("/api/tags/", **bearer(secret)))[0] == "read"


def test_the_last_allowed_request_and_the_429_say_none_are_left(client, settings):
    settings.API_RATE = "2/m"
    client.get("/api/tags/")
    assert _rate_limit(client.get("/api/tags/"))[3] == 0
    limited = client.get("/api/tags/")
    assert limited.status_code == 429
    name, _limit, _window, remaining, reset = _rate_limit(limited)
    assert (name, remaining) == ("read", 0)
    assert abs(int(limited["Retry-After"]) - reset) <= 1


def test_answers_before_any_count_show_the_allowance_without_using_it(client, settings):
    settings.API_RATE = "5/m"
    settings.API_WRITE_RATE = "4/h"
    client.get("/api/tags/")
    # A 401, an unknown path and a preflight each show where the sender stands, and count nothing
    assert _rate_limit(client.post("/api/stories/", {}, content_type="application/json"))[:4] == ("write", 4, 3600, 4)
    assert _rate_limit(client.get("/api/nothing-here"))[3] == 4
    assert _rate_limit(client.options("/api/tags/"))[3] == 4
    assert _rate_limit(client.get("/api/tags/"))[3] == 3
