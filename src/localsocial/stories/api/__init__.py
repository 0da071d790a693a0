"""Stories in the API: /api/stories/ and /api/tags/ (``routes``), with the scopes
``stories:write`` and ``responses:write`` (``scopes``).  Found by the platform's
``api_modules_discover`` and registered here; the platform never imports this module."""

from localsocial.api.registry import router_register
from localsocial.stories.api import scopes  # noqa: F401  (registers the scopes)
from localsocial.stories.api.routes import router

# The operation ids published while these routes lived in localsocial.api.routers.stories.
router_register("/", router, tags=["Stories"], operation_id_prefix="localsocial_api_routers_stories")
