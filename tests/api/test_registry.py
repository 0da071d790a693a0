"""The module contract of the API (issue 10): modules register their routers and scopes; the
platform reads the registry and names no module."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from localsocial.api import registry
from localsocial.api.services import api_token_create
from tests.factories import UserFactory

API_APP = Path(registry.__file__).parent
MODULES = ("stories", "circles", "green", "communities", "insight", "engage")
NOT_YET_MOVED: set[str] = set()


def test_every_module_scope_is_registered_with_its_label_and_organisation_roles():
    scopes = {scope.name: scope for scope in registry.scopes_registered()}
    assert {"stories:write", "responses:write", "webhooks:manage", "circles:member",
            "circles:coordinate"} <= set(scopes)
    assert scopes["responses:write"].organisation_roles == ("responder", "administrator")
    assert scopes["webhooks:manage"].organisation_roles == ("administrator",)
    assert not scopes["circles:coordinate"].needs_organisation
    assert str(scopes["stories:write"].label) == "Submit stories"


def test_a_scope_registered_twice_differently_is_a_configuration_error():
    assert registry.scope_register("stories:write", "Submit stories").name == "stories:write"  # the same: harmless
    with pytest.raises(ImproperlyConfigured):
        registry.scope_register("stories:write", "Something else")


@pytest.mark.django_db
def test_a_token_may_only_be_given_registered_scopes():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        api_token_create(user=UserFactory(), name="Odd", scopes=["gardens:dig"])
    assert "scopes" in caught.value.message_dict


def test_every_module_router_is_registered_under_its_prefix():
    prefixes = {(entry.prefix, tuple(entry.tags)) for entry in registry.routers_registered()}
    assert ("/", ("Stories",)) in prefixes
    assert ("/circles/", ("Circles",)) in prefixes


def test_the_api_platform_names_no_module():
    # Imports, and import_module() strings too: the platform reaches no module by any path.
    pattern = re.compile(r"localsocial\.(" + "|".join(MODULES) + r")\b")
    offending = {}
    for path in API_APP.rglob("*.py"):
        relative = path.relative_to(API_APP)
        if relative.parts[0] == "migrations" or str(relative) in NOT_YET_MOVED:
            continue
        named = sorted(set(pattern.findall(path.read_text())))
        if named:
            offending[str(relative)] = named
    assert offending == {}


def test_the_api_description_lists_every_registered_scope(client):
    bearer = client.get("/api/openapi.json").json()["components"]["securitySchemes"]["ApiTokenAuth"]
    for scope in registry.scopes_registered():
        assert f"`{scope.name}` ({scope.label})" in bearer["description"]
