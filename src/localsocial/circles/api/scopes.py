"""The token scopes of the circles API (decision 0014), registered with the platform's scope
registry.  Neither is tied to an organisation: a token with them acts as its person, whose
role is checked in the circle each request names."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from localsocial.api.registry import scope_register

CIRCLES_MEMBER = scope_register(
    "circles:member", _("Use your circle memberships: see offers, ask for help, cancel, read your statement")
).name
CIRCLES_COORDINATE = scope_register(
    "circles:coordinate", _("Act as a coordinator of the circles you coordinate")
).name
