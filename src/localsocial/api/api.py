"""The REST API: the platform's routers (the directory, webhooks) and every router a module
registered (``api.registry``), described by OpenAPI at /api/docs.  No module is named here.

Every error is an RFC 9457 problem (``api.errors``): the exception handlers below are the one
place where exceptions become answers.  ``api.middleware`` adds what ninja cannot: the slash
routing, CORS and the rate-limit headers, and problems for answers that never reach ninja."""

import copy
import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.signals import got_request_exception
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError, ValidationErrorContext
from ninja.openapi.schema import OpenAPISchema
from pydantic import BaseModel

from localsocial.api.auth import read_throttle, token_auth
from localsocial.api.docs import ApiDocs
from localsocial.api.errors import (
    PROBLEM_CONTENT_TYPE,
    FieldErrors,
    Problem,
    invalid_request,
    problem,
)
from localsocial.api.registry import api_modules_discover, routers_registered, scopes_registered
from localsocial.api.webhook_registry import webhooks_openapi

logger = logging.getLogger("django.request")

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem: every error answer, as application/problem+json.",
    "type": "object",
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem: its page explains it."},
        "title": {"type": "string", "description": "A short summary of the kind of problem."},
        "status": {"type": "integer", "description": "The HTTP status."},
        "detail": {"type": "string", "description": "What went wrong with this request, in a sentence."},
        "errors": {
            "type": "array",
            "description": "For invalid-request: each field's problem.",
            "items": {
                "type": "object",
                "properties": {
                    "location": {"type": "string", "enum": ["body", "query", "path", "header", "cookie", "form", "file"]},
                    "field": {"type": "string", "description": "Dotted for nested fields; empty for the whole body."},
                    "pointer": {"type": "string", "description": "A JSON Pointer into the body (body errors only)."},
                    "detail": {"type": "string"},
                    "code": {"type": "string"},
                },
                "required": ["location", "field", "detail", "code"],
            },
        },
        "request_id": {"type": "string", "description": "For server-error: quote it when reporting it."},
    },
    "required": ["type", "title", "status", "detail"],
}
_RATE_LIMIT_HEADERS = {
    "RateLimit-Policy": {
        "schema": {"type": "string"},
        "description": 'The limit that applies, e.g. `"read";q=600;w=3600` (600 requests an hour).',
    },
    "RateLimit": {
        "schema": {"type": "string"},
        "description": 'What is left of it, e.g. `"read";r=597;t=1234` (597 more, window ends in 1234 s).',
    },
}


def _problem_response(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description, "content": {PROBLEM_CONTENT_TYPE: {"schema": _PROBLEM_REF}}}
    if headers:
        answer["headers"] = headers
    return answer


_BAD_REQUEST = _problem_response("Input the API cannot accept, such as a NUL character (0x00).")
_TOO_MANY_REQUESTS = _problem_response(
    "Too many requests from this token (or, without one, this address): wait the number of seconds "
    "in the Retry-After header.",
    {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
)
_UNAUTHORIZED_HEADERS = {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Bearer`."}}


class LocalSocialAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI description says that every error is a ``Problem``
    (application/problem+json), and also lists the 400 that
    core.middleware.RejectNulCharactersMiddleware can give on any operation, the 429 of the rate
    limits (api.auth.ApiRateThrottle), the rate-limit headers of every answer, the registered
    token scopes and the registered webhook events."""

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for methods in schema.get("paths", {}).values():
            for operation in methods.values():
                # ninja keys statuses by int; the JSON document by string: one form only.
                responses = {str(status): answer for status, answer in operation.get("responses", {}).items()}
                operation["responses"] = responses
                responses.setdefault("400", copy.deepcopy(_BAD_REQUEST))
                responses.setdefault("429", copy.deepcopy(_TOO_MANY_REQUESTS))
                for status, answer in responses.items():
                    if int(status) >= 400:
                        # The routers declare their errors with their own {detail} schemas;
                        # what is sent is a Problem, from the handlers below.
                        answer["content"] = {PROBLEM_CONTENT_TYPE: {"schema": _PROBLEM_REF}}
                        if status == "401":
                            answer.setdefault("headers", {}).update(_UNAUTHORIZED_HEADERS)
                    answer.setdefault("headers", {}).update(_RATE_LIMIT_HEADERS)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = _PROBLEM_SCHEMA
        _drop_unreferenced(components, schema, names=("ErrorOut",))
        # OpenAPI 3.1's top-level `webhooks`: every event the modules registered, its payload
        # and signature headers (api.webhook_registry).
        schema["webhooks"] = webhooks_openapi()
        bearer = schema.get("components", {}).get("securitySchemes", {}).get(type(token_auth).__name__)
        if bearer is not None:
            # The scopes a token may have, as the platform and the modules registered them.
            bearer["description"] = f"{token_auth.openapi_description} Scopes: " + "; ".join(
                f"`{scope.name}` ({scope.label})" for scope in scopes_registered()
            ) + "."
        return schema

    def validation_error_from_error_contexts(self, error_contexts: list[ValidationErrorContext]) -> ValidationError:
        """ninja's errors, told which body parameters stand for the whole body (a single schema
        parameter), so that their names, which a client never sends, leave the field paths."""
        error = super().validation_error_from_error_contexts(error_contexts)
        whole_body: set[str] = set()
        for context in error_contexts:
            fields = context.model.model_fields
            if context.model.__ninja_param_source__ == "body" and len(fields) == 1:
                name, field = next(iter(fields.items()))
                if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
                    whole_body.add(name)
        error.body_params = frozenset(whole_body)  # type: ignore[attr-defined]
        return error


def _drop_unreferenced(components: dict[str, Any], schema: Any, *, names: tuple[str, ...]) -> None:
    import json

    text = json.dumps(schema)
    for name in names:
        if name in components and f'"#/components/schemas/{name}"' not in text:
            del components[name]


api = LocalSocialAPI(
    title="Local Social API",
    version="1",
    description=(
        "Open API for Local Social: the directory of organisations and services, stories and "
        "their responses, and each module as it is built. Reading needs no token; writing "
        "needs a token made at /developers/, sent as `Authorization: Bearer <token>`. Every "
        "error is an RFC 9457 problem (`application/problem+json`, with `type`, `title`, "
        "`status` and `detail`; the kinds are explained at /developers/problems/); "
        "authentication never redirects to a sign-in page. Every path works with and without "
        "its trailing slash. Rate limits (and the `RateLimit` headers), CORS, pagination and "
        "webhooks: /developers/ and docs/api.md."
    ),
    urls_namespace="api",
    docs=ApiDocs(),
    # Every operation is rate limited (API_RATE); writes set their own, API_WRITE_RATE.
    throttle=[read_throttle],
)


# --- Errors: every one a problem (api.errors) ------------------------------------------------------

@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # Throttled (429) is an HttpError too; ninja adds its Retry-After to this answer.
    if isinstance(exc, Problem):
        return problem(exc.status_code, str(exc), type_slug=exc.type_slug, headers=exc.headers, **exc.extensions)
    return problem(exc.status_code, str(exc))


@api.exception_handler(AuthenticationError)
def not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem(
        401, "Authentication credentials were missing or wrong.", type_slug="not-authenticated",
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    )


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return problem(403, str(exc) or "You do not have permission to do this.", type_slug="forbidden")


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(404, str(exc) or "There is nothing at this address.", type_slug="not-found")


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return invalid_request(exc.errors, body_params=getattr(exc, "body_params", frozenset({"payload"})))


@api.exception_handler(FieldErrors)
def field_errors(request: HttpRequest, exc: FieldErrors) -> HttpResponse:
    return invalid_request(exc.items)


@api.exception_handler(Exception)
def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Logged and signalled as Django does for an unhandled error (the log line carries the
    # request id; error trackers listen to got_request_exception); the client sees no
    # internals, only the id to quote.
    logger.error("Internal Server Error: %s", request.path, exc_info=exc, extra={"status_code": 500, "request": request})
    got_request_exception.send(sender=None, request=request)
    request_id = getattr(request, "request_id", "")
    return problem(
        500, "Something went wrong on our side. It has been logged; quote the request id if you report it.",
        type_slug="server-error", request_id=request_id,
    )




# The platform's routers, then every module's.  (Schemas of the same name in two routers —
# each router's ErrorOut — are described once, as the last router added has it.)
api.add_router("/directory/", "localsocial.api.routers.directory.router", tags=["Directory"])
api.add_router("/", "localsocial.api.routers.webhooks.router", tags=["Webhooks"])
api_modules_discover()  # done in ApiConfig.ready(); again here in case this is imported first
for registered in routers_registered():
    api.add_router(registered.prefix, registered.router, tags=registered.tags)
