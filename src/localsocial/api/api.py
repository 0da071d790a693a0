"""The REST API: one router per module, described by OpenAPI at /api/docs."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.openapi.schema import OpenAPISchema

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
    core.middleware.RejectNulCharactersMiddleware can give on any operation."""

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for methods in schema.get("paths", {}).values():
            for operation in methods.values():
                operation.setdefault("responses", {}).setdefault("400", _BAD_REQUEST)
        return schema


api = LocalSocialAPI(
    title="Local Social API",
    version="1",
    description=(
        "Open API for Local Social: the directory of organisations and services, and each "
        "module as it is built. Errors are JSON with a `detail` field; authentication never "
        "redirects to a sign-in page."
    ),
    urls_namespace="api",
)


# Errors are JSON with a `detail` field, never an HTML page or a redirect to sign in.
@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "You do not have permission to do this."}, status=403)


@api.exception_handler(AuthenticationError)
def not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": "Authentication credentials were missing or wrong."}, status=401)


api.add_router("/directory/", "localsocial.api.routers.directory.router", tags=["Directory"])
