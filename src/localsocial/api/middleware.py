"""The API's conventions that hold for every answer under /api/, whatever produced it.

* **Slashes**: every path works with and without its trailing slash.  When the path as sent
  names nothing but the other form does, the request is routed to the other form *inside*
  the process: no redirect, so a POST keeps its body (Django's APPEND_SLASH would answer a
  slashless POST with a 500 in debug and a body-dropping 301 in production).
* **HEAD** is answered as GET without the body; **OPTIONS** (a CORS preflight or not) with 204
  and the ``Allow`` methods ninja reports for the path.
* **CORS**: ``Access-Control-Allow-Origin: *`` on every answer, never with credentials: the
  API takes only bearer tokens, which a page must send on purpose, and never a cookie, so
  there is no ambient authority for another site to borrow (docs/decisions/0015).
* **Problems**: an error that never reached the API's exception handlers (an unknown path, a
  method not allowed, the NUL-character 400, Django's own 400 and 500) is turned into an RFC
  9457 problem like every other (api.errors).
* **Rate limits**: ``RateLimit-Policy`` and ``RateLimit`` (draft-ietf-httpapi-ratelimit-headers)
  on every answer: the allowance the request counted against, or would have.

The developer page at /api/docs is a page, not an API answer: it is left alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import is_valid_path

from localsocial.api.auth import rate_usage_for_request
from localsocial.api.errors import PROBLEM_CONTENT_TYPE, problem_body

PREFIX = "/api/"
DOCS_PATH = "/api/docs"
ALLOWED_REQUEST_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-ID"
EXPOSED_HEADERS = (
    "RateLimit, RateLimit-Policy, Retry-After, Idempotent-Replayed, WWW-Authenticate, X-Request-ID, Allow"
)
PREFLIGHT_MAX_AGE = "7200"  # two hours: the most Chromium keeps a preflight

_DETAILS = {
    400: "The request cannot be read.",
    404: "There is nothing at {path}: check the address against /api/openapi.json.",
    405: "{path} does not take {method}: it takes {allow}.",
    413: "The request is too large.",
    500: "Something went wrong on our side. It has been logged; quote the request id if you report it.",
}


class ApiConventionsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not (request.path_info.startswith(PREFIX) or request.path_info == PREFIX[:-1]):
            return self.get_response(request)
        _route_to_the_other_slash(request)
        if request.path_info.rstrip("/") == DOCS_PATH:
            return self.get_response(request)

        method = request.method
        if method == "HEAD":
            request.method = "GET"
        response = self.get_response(request)
        request.method = method
        if method == "OPTIONS" and response.status_code == 405:
            response = _options(response)
        if method == "HEAD" and isinstance(response, HttpResponse):
            response.content = b""
            del response["Content-Length"]

        if "Allow" in response:
            response["Allow"] = _with_head_and_options(response["Allow"])
        if response.status_code >= 400:
            _make_problem(request, response)
        _add_cors(response, preflight=method == "OPTIONS")
        _add_rate_limit(request, response)
        return response


def _route_to_the_other_slash(request: HttpRequest) -> None:
    urlconf = getattr(request, "urlconf", None)
    path = request.path_info
    if is_valid_path(path, urlconf):
        return
    other = path[:-1] if path.endswith("/") else path + "/"
    if other.startswith(PREFIX) and is_valid_path(other, urlconf):
        request.path_info = other
        request.path = request.path[: len(request.path) - len(path)] + other


def _with_head_and_options(allow: str) -> str:
    methods = [m.strip().upper() for m in allow.split(",") if m.strip()]
    if "GET" in methods and "HEAD" not in methods:
        methods.append("HEAD")
    if "OPTIONS" not in methods:
        methods.append("OPTIONS")
    return ", ".join(methods)


def _options(not_allowed: HttpResponseBase) -> HttpResponse:
    """ninja has no OPTIONS operations: its 405 for the path lists the methods it takes."""
    response = HttpResponse(status=204)
    del response["Content-Type"]
    allow = _with_head_and_options(not_allowed.get("Allow", ""))
    response["Allow"] = allow
    response["Access-Control-Allow-Methods"] = allow
    response["Access-Control-Allow-Headers"] = ALLOWED_REQUEST_HEADERS
    response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response


def _make_problem(request: HttpRequest, response: HttpResponseBase) -> None:
    if response.get("Content-Type", "").startswith(PROBLEM_CONTENT_TYPE) or not isinstance(response, HttpResponse):
        return
    status = response.status_code
    detail = None
    if response.get("Content-Type", "").startswith("application/json"):
        try:
            found = json.loads(response.content).get("detail")
        except (ValueError, AttributeError):
            found = None
        detail = found if isinstance(found, str) else None
    if detail is None:
        template = _DETAILS.get(status, "The request failed.")
        detail = template.format(path=request.path, method=request.method, allow=response.get("Allow", ""))
    extensions = {"request_id": getattr(request, "request_id", "")} if status >= 500 else {}
    body = problem_body(status, detail, **extensions)
    if request.method != "HEAD":
        response.content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        if "Content-Length" in response:  # CommonMiddleware, inside this one, measured the old body
            response["Content-Length"] = str(len(response.content))
    response["Content-Type"] = PROBLEM_CONTENT_TYPE


def _add_cors(response: HttpResponseBase, *, preflight: bool) -> None:
    response["Access-Control-Allow-Origin"] = "*"
    if not preflight:
        response["Access-Control-Expose-Headers"] = EXPOSED_HEADERS


def _add_rate_limit(request: HttpRequest, response: HttpResponseBase) -> None:
    usage = rate_usage_for_request(request)
    if usage is None:
        return
    response["RateLimit-Policy"] = f'"{usage.policy}";q={usage.limit};w={usage.window}'
    response["RateLimit"] = f'"{usage.policy}";r={usage.remaining};t={usage.reset}'
