"""Every API error is an RFC 9457 problem: ``application/problem+json`` with ``type``, ``title``,
``status`` and ``detail``, and field errors in an ``errors`` member.

This module is the one place that builds them.  ``api.api`` turns exceptions into problems
(ninja's ValidationError, HttpError, PermissionDenied, AuthenticationError, FieldErrors, Problem,
Http404 and anything unhandled); ``api.middleware`` turns the answers that never reach ninja
(an unknown /api/ path, a method not allowed, the NUL-character 400) into problems too.

``type`` is a page on this site, ``<SITE_URL>/developers/problems/<slug>/``, which explains the
problem to a person (``PROBLEM_TYPES`` below is both the list of slugs and that page's text).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from ninja.errors import HttpError

PROBLEM_CONTENT_TYPE = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str
    description: str

    @property
    def description_parts(self) -> list[tuple[bool, str]]:
        """The description as ``(is_code, text)`` pieces: `backticks` mark code."""
        return [(index % 2 == 1, text) for index, text in enumerate(self.description.split("`")) if text]


PROBLEM_TYPES: dict[str, ProblemType] = {
    problem.slug: problem
    for problem in [
        ProblemType("bad-request", 400, "The request cannot be read",
                    "The request could not be read at all: it holds a NUL character (0x00), or it is "
                    "too large. Change the request; sending it again as it is will fail again."),
        ProblemType("not-authenticated", 401, "Authentication needed",
                    "The operation needs an API token, and none was sent, or the one sent is wrong, "
                    "revoked or expired. Send `Authorization: Bearer <token>` with a live token made "
                    "at /developers/. The answer has a `WWW-Authenticate: Bearer` header."),
        ProblemType("forbidden", 403, "Not allowed",
                    "The token is valid but may not do this: it lacks the scope, or its person no "
                    "longer has the role the scope needs (the role is checked on every request), or "
                    "the record belongs to another organisation or circle. `detail` says which."),
        ProblemType("not-found", 404, "Not found",
                    "There is no such thing at this address, or not one you may see: an unknown "
                    "path, or a story, circle, webhook or other record that does not exist or is not "
                    "public. Stories not yet published are a 404, never a 403."),
        ProblemType("method-not-allowed", 405, "Method not allowed",
                    "The path exists but does not take this HTTP method. The `Allow` header lists the "
                    "methods it takes."),
        ProblemType("conflict", 409, "Conflict with the record's state",
                    "The request is well formed, but the record is not in a state that allows it: "
                    "responding to a story that is no longer published, sending again a delivery "
                    "already waiting, cancelling a request that has a helper. `detail` says why. "
                    "Sending the same request again will fail the same way until the record changes."),
        ProblemType("invalid-request", 422, "The request is not valid",
                    "A filter, a header or the body cannot be used. For a body, `errors` lists each "
                    "problem with where it is (`location`: body, query, path or header; `field`, "
                    "dotted for nested fields; `pointer`, a JSON Pointer into the body), a sentence "
                    "(`detail`) and a machine-readable `code`."),
        ProblemType("idempotency-key-reused", 422, "Idempotency-Key already used",
                    "This token already used the `Idempotency-Key` for a different request (another "
                    "body or another operation). A retry must send exactly the same request; a new "
                    "request needs a new key."),
        ProblemType("rate-limited", 429, "Too many requests",
                    "The token (or, without one, the address) used up its allowance for this window. "
                    "Wait the number of seconds in `Retry-After`; the `RateLimit` header shows what "
                    "is left at any time."),
        ProblemType("server-error", 500, "Something went wrong on our side",
                    "An error we did not expect. Nothing about it is shown; it was logged with the "
                    "request's id (the `X-Request-ID` header, also in `request_id`): quote it if you "
                    "report the problem. It is safe to retry a read; for a write, retry with the same "
                    "`Idempotency-Key`."),
    ]
}

# The type of a status that has no type of its own (such as 413 or 415).
_BY_STATUS: dict[int, str] = {}
for _problem in PROBLEM_TYPES.values():
    _BY_STATUS.setdefault(_problem.status, _problem.slug)


def problem_type_uri(slug: str) -> str:
    return f"{settings.SITE_URL}/developers/problems/{slug}/"


def problem_body(
    status: int, detail: str, *, type_slug: str | None = None, title: str | None = None, **extensions: Any
) -> dict[str, Any]:
    """The members of a problem: ``type_slug`` one of PROBLEM_TYPES (by default the type of
    ``status``); an unknown status without a type of its own is ``about:blank`` with the
    HTTP reason phrase as its title, as RFC 9457 asks."""
    from http import HTTPStatus

    slug = type_slug or _BY_STATUS.get(status)
    if slug is not None:
        known = PROBLEM_TYPES[slug]
        type_uri, default_title = problem_type_uri(slug), known.title
    else:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        type_uri, default_title = "about:blank", phrase
    return {"type": type_uri, "title": title or default_title, "status": status, "detail": detail, **extensions}


def problem(
    status: int,
    detail: str,
    *,
    type_slug: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> HttpResponse:
    """An ``application/problem+json`` answer."""
    body = problem_body(status, detail, type_slug=type_slug, title=title, **extensions)
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_CONTENT_TYPE
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


class Problem(HttpError):  # noqa: N818 -- an RFC 9457 problem, named as the RFC names it
    """Raise from an operation for a problem with a type of its own (or extensions), e.g.
    ``raise Problem(422, "…", type_slug="idempotency-key-reused")``.  A plain ``HttpError``
    gets the type of its status."""

    def __init__(
        self, status: int, detail: str, *, type_slug: str | None = None,
        headers: dict[str, str] | None = None, **extensions: Any,
    ) -> None:
        super().__init__(status, detail)
        self.type_slug = type_slug
        self.headers = headers or {}
        self.extensions = extensions


class FieldErrors(Exception):  # noqa: N818 -- an error response, named for what it carries
    """A 422 listing what is wrong with each field, built from items in ninja's own shape
    (``{"loc": [...], "msg": "...", "type": "..."}``) and answered as an ``invalid-request``
    problem whose ``errors`` are ``field_errors(items)``."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        super().__init__(items)
        self.items = items

    @classmethod
    def one(cls, field: str, message: str) -> FieldErrors:
        return cls([{"loc": ["body", "payload", field], "msg": message, "type": "invalid"}])

    @classmethod
    def from_validation_error(cls, error: ValidationError, names: dict[str, str] | None = None) -> FieldErrors:
        """A service's ValidationError; ``names`` maps its field names to the body's."""
        names = names or {}
        if hasattr(error, "error_dict"):
            return cls([
                {"loc": ["body", "payload", names.get(field, field)], "msg": message, "type": "invalid"}
                for field, messages in error.message_dict.items()
                for message in messages
            ])
        return cls([{"loc": ["body", "payload"], "msg": message, "type": "invalid"} for message in error.messages])


_LOCATIONS = {"body", "query", "path", "header", "cookie", "form", "file"}


def field_error(item: dict[str, Any], *, body_params: frozenset[str] = frozenset({"payload"})) -> dict[str, Any]:
    """One of ninja's (or pydantic's) errors as a member of a problem's ``errors``:
    ``{"location", "field", "pointer", "detail", "code"}``.

    ninja's ``loc`` is ``[location, parameter, *path]`` for a body (the parameter is the
    operation's argument name, which means nothing to a client, so it is dropped) and
    ``[location, name, *path]`` for the rest.  ``pointer`` (RFC 6901, as in RFC 9457's own
    example) points into the JSON body; it is there for body errors only."""
    loc = [part for part in item.get("loc", []) if part != "__all__"]
    location = str(loc[0]) if loc and str(loc[0]) in _LOCATIONS else "body"
    path = loc[1:] if loc and str(loc[0]) in _LOCATIONS else loc
    if location == "body" and path and str(path[0]) in body_params:
        path = path[1:]
    field = ".".join(str(part) for part in path)
    member: dict[str, Any] = {"location": location, "field": field}
    if location == "body":
        member["pointer"] = "#" + "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)
    member["detail"] = str(item.get("msg", "This is not valid."))
    member["code"] = str(item.get("type", "invalid"))
    return member


def field_errors_detail(errors: list[dict[str, Any]]) -> str:
    """A sentence for a problem's ``detail`` that names every field in ``errors``."""

    def name(error: dict[str, Any]) -> str:
        return error["field"] or ("the body" if error["location"] == "body" else error["location"])

    if len(errors) == 1:
        return f"{name(errors[0])}: {errors[0]['detail']}"
    names = list(dict.fromkeys(name(error) for error in errors))
    return f"{len(errors)} problems with the request, in: {', '.join(names)}. See errors for each."


def invalid_request(items: list[dict[str, Any]], *, body_params: frozenset[str] = frozenset({"payload"})) -> HttpResponse:
    """The 422 problem for a list of field errors in ninja's shape."""
    errors = [field_error(item, body_params=body_params) for item in items]
    return problem(422, field_errors_detail(errors), type_slug="invalid-request", errors=errors)
