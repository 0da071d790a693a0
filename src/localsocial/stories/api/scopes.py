"""The token scopes of the stories API, registered with the platform's scope registry."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from localsocial.api.registry import scope_register
from localsocial.directory.models import StaffRole

STORIES_WRITE = scope_register("stories:write", _("Submit stories")).name
# Acts for the token's organisation: its person must still be a responder or an administrator
# there (or above it) at every request.
RESPONSES_WRITE = scope_register(
    "responses:write", _("Post responses for the organisation"),
    organisation_roles=(StaffRole.RESPONDER, StaffRole.ADMINISTRATOR),
).name
