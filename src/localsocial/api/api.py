"""The REST API: one router per module, described by OpenAPI at /api/docs."""

from ninja import NinjaAPI

api = NinjaAPI(
    title="Local Social API",
    version="1",
    description=(
        "Open API for Local Social: the directory of organisations and services, and each "
        "module as it is built. Errors are JSON with a `detail` field; authentication never "
        "redirects to a sign-in page."
    ),
    urls_namespace="api",
)
