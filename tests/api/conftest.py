"""Fixtures for the API tests: tokens, and a real HTTP receiver for webhooks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from localsocial.api.services import api_token_create


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A web server on 127.0.0.1 that records each POST and answers with the next status in
    ``answers`` (200 once they run out), after ``delay`` seconds."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    delay: float = 0.0
    location: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            state.requests.append(Received(headers=dict(self.headers.items()), body=body))
            if state.delay:
                time.sleep(state.delay)
            status = state.answers.pop(0) if state.answers else 200
            try:
                self.send_response(status)
                if state.location:
                    self.send_header("Location", state.location)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender gave up waiting (a timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/localsocial"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def make_token():
    """make_token(user, scopes=[...], organisation=None) → (ApiToken, secret)."""

    def make(user, scopes=("stories:write",), organisation=None, **kwargs):
        return api_token_create(user=user, name=kwargs.pop("name", "Test"), scopes=list(scopes),
                                organisation=organisation, **kwargs)

    return make


def bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


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
