"""Circles in the API: /api/circles/ (``routes``), with the scopes ``circles:member`` and
``circles:coordinate`` (``scopes``).  Found by the platform's ``api_modules_discover`` and
registered here; the platform never imports this module."""

from localsocial.api.registry import router_register
from localsocial.circles.api import scopes  # noqa: F401  (registers the scopes)
from localsocial.circles.api.routes import router

# The operation ids published while these routes lived in localsocial.api.routers.circles.
router_register("/circles/", router, tags=["Circles"], operation_id_prefix="localsocial_api_routers_circles")
