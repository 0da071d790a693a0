"""The REST API: the platform's routers (the directory, webhooks) and every router a module
registered (``api.registry``), described by OpenAPI at /api/docs.  No module is named here."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.openapi.schema import OpenAPISchema

from localsocial.api.auth import read_throttle, token_auth
from localsocial.api.errors import FieldErrors
from localsocial.api.registry import api_modules_discover, routers_registered, scopes_registered
from localsocial.api.webhook_registry import webhooks_openapi

_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
_TOO_MANY_REQUESTS = {
    "description": (
        "Too many requests from this token (or, without one, this address): wait the number "
        "of seconds in the Retry-After header."
    ),
    "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
    "content": {"application/json": {"schema": _DETAIL}},
}

_BAD_REQUEST = {
    "description": "Input the API cannot accept, such as a NUL character (0x00).",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"detail": {"type": "string"}},
                "required": ["detail"],
            }
        }
    },
}


class LocalSocialAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI description also lists the 400 that
    core.middleware.RejectNulCharactersMiddleware can give on any operation, the 429 of
    the rate limits (api.auth.ApiRateThrottle), and the registered token scopes."""

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for methods in schema.get("paths", {}).values():
            for operation in methods.values():
                operation.setdefault("responses", {}).setdefault("400", _BAD_REQUEST)
                operation["responses"].setdefault("429", _TOO_MANY_REQUESTS)
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


api = LocalSocialAPI(
    title="Local Social API",
    version="1",
    description=(
        "Open API for Local Social: the directory of organisations and services, stories and "
        "their responses, and each module as it is built. Reading needs no token; writing "
        "needs a token made at /developers/, sent as `Authorization: Bearer <token>`. Errors "
        "are JSON with a `detail` field; authentication never redirects to a sign-in page. "
        "Rate limits, pagination and webhooks: docs/api.md."
    ),
    urls_namespace="api",
    # Every operation is rate limited (API_RATE); writes set their own, API_WRITE_RATE.
    throttle=[read_throttle],
)


# Errors are JSON with a `detail` field, never an HTML page or a redirect to sign in.
@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "You do not have permission to do this."}, status=403)


@api.exception_handler(AuthenticationError)
def not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request, {"detail": "Authentication credentials were missing or wrong."}, status=401
    )
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(FieldErrors)
def field_errors(request: HttpRequest, exc: FieldErrors) -> HttpResponse:
    return api.create_response(request, {"detail": exc.items}, status=422)


# The platform's routers, then every module's.  (Schemas of the same name in two routers —
# each router's ErrorOut — are described once, as the last router added has it.)
api.add_router("/directory/", "localsocial.api.routers.directory.router", tags=["Directory"])
api.add_router("/", "localsocial.api.routers.webhooks.router", tags=["Webhooks"])
api_modules_discover()  # done in ApiConfig.ready(); again here in case this is imported first
for registered in routers_registered():
    api.add_router(registered.prefix, registered.router, tags=registered.tags)
