"""Assertions on RFC 9457 problem answers, shared by the API tests of the platform and the modules."""

from __future__ import annotations

from typing import Any


def problem(response: Any, status: int, type_slug: str) -> dict[str, Any]:
    """The RFC 9457 problem in ``response``, after checking that it is one, of this status and
    type: ``application/problem+json`` with ``type``, ``title``, ``status`` and ``detail``."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/problem+json", response["Content-Type"]
    body = response.json()
    assert body["type"].endswith(f"/developers/problems/{type_slug}/"), body
    assert body["status"] == status
    assert body["title"]
    assert isinstance(body["title"], str)
    assert body["detail"]
    assert isinstance(body["detail"], str)
    return dict(body)


def field_errors(response: Any) -> dict[str, list[str]]:
    """An invalid-request problem's ``errors`` as ``{"location:field": [detail, ...]}``."""
    body = problem(response, 422, "invalid-request")
    found: dict[str, list[str]] = {}
    for error in body["errors"]:
        assert error["detail"], error
        assert error["code"], error
        found.setdefault(f"{error['location']}:{error['field']}", []).append(error["detail"])
    return found
