"""Rate limits: per token, or per address without one; JSON 429 with Retry-After."""

from __future__ import annotations

import pytest

from tests.api.problems import problem
from tests.api.tokens import bearer
from tests.factories import ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_reads_over_the_limit_are_a_json_429_with_retry_after(client, settings):
    settings.API_RATE = "3/m"
    for _ in range(3):
        assert client.get("/api/stories/").status_code == 200
    response = client.get("/api/directory/organisations")
    assert problem(response, 429, "rate-limited")["detail"] == "Too many requests."
    assert 1 <= int(response["Retry-After"]) <= 60


def test_each_address_has_its_own_allowance(client, settings):
    settings.API_RATE = "2/m"
    for _ in range(2):
        client.get("/api/tags/", REMOTE_ADDR="10.0.0.1")
    assert client.get("/api/tags/", REMOTE_ADDR="10.0.0.1").status_code == 429
    assert client.get("/api/tags/", REMOTE_ADDR="10.0.0.2").status_code == 200


def test_a_valid_token_reads_on_its_own_allowance_and_a_made_up_one_does_not(client, settings, make_token):
    settings.API_RATE = "2/m"
    _token, secret = make_token(UserFactory())
    for _ in range(2):
        client.get("/api/tags/")
    assert client.get("/api/tags/").status_code == 429
    assert client.get("/api/tags/", HTTP_AUTHORIZATION="Bearer ls_made-up").status_code == 429
    assert client.get("/api/tags/", **bearer(secret)).status_code == 200


def test_writes_have_their_own_lower_limit_per_token(client, settings, make_token):
    settings.API_WRITE_RATE = "2/h"
    ServiceFactory(slug="svc")
    _one, first = make_token(UserFactory())
    _two, second = make_token(UserFactory())
    for _ in range(2):
        assert client.post("/api/stories/", {}, content_type="application/json", **bearer(first)).status_code == 422
    limited = client.post("/api/stories/", {}, content_type="application/json", **bearer(first))
    assert limited.status_code == 429
    # The wait is what is left of the hour's window, which django-ratelimit staggers per key:
    # anywhere from a second to an hour (a fixed lower bound failed when the window was ending).
    assert 1 <= int(limited["Retry-After"]) <= 3600
    assert client.post("/api/stories/", {}, content_type="application/json", **bearer(second)).status_code == 422
    # Reads are counted apart.
    assert client.get("/api/stories/", **bearer(first)).status_code == 200


def test_the_429_is_in_the_openapi_description_of_every_operation(client):
    schema = client.get("/api/openapi.json").json()
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            assert "429" in operation["responses"], (method, path)
            assert "Retry-After" in operation["responses"]["429"]["headers"]
