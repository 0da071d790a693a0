"""Input with a NUL character (which PostgreSQL cannot store) is a clear 400, never a 500."""

import pytest

pytestmark = pytest.mark.django_db


def test_api_filter_with_a_nul_character_is_refused_as_json(client):
    response = client.get("/api/directory/organisations", {"parent": "river\x00side"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 400
    assert response.json()["type"].endswith("/developers/problems/bad-request/")
    assert "NUL" in response.json()["detail"]


def test_page_search_with_a_nul_character_is_refused(client):
    response = client.get("/directory/", {"q": "bins\x00"})
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_json_body_with_an_escaped_nul_is_refused(client):
    response = client.post("/api/directory/organisations", data='{"name": "a\\u0000b"}',
                           content_type="application/json")
    assert response.status_code == 400


def test_ordinary_input_passes(client):
    assert client.get("/directory/", {"q": "bins"}).status_code == 200
