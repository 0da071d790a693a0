"""What each module brings to the API: its routers and its token scopes.

The API's platform (this app) never imports a module.  A module that has endpoints keeps them
in its own ``api`` module (``<app>/api.py`` or an ``<app>/api/`` package), which registers them
when it is imported::

    from localsocial.api.registry import router_register, scope_register

    GARDENS_WRITE = scope_register("gardens:write", _("Book plots"), organisation_roles=())
    router_register("/gardens/", router, tags=["Gardens"])

``api_modules_discover()`` imports the ``api`` module of every installed Local Social app (as
the admin site discovers ``admin.py``): every app under ``localsocial.``, and any other app whose
AppConfig says ``localsocial_module = True`` (a module kept outside this package, such as the
test module under tests/).  Other apps are left alone: Django's own
``django.contrib.messages`` has an ``api`` module that is nothing of ours. the app config calls it in ``ready()``, so scopes are known
to the token pages and checks before any URL is resolved, and ``localsocial.api.api`` adds the
routers registered by then.  Token forms, scope checks and the OpenAPI description read the
scopes from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from django.apps import AppConfig, apps
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import module_has_submodule
from ninja import Router

PLATFORM_APP = "localsocial.api"
MODULE_PREFIX = "localsocial."


@dataclass(frozen=True)
class ApiScope:
    """A scope a token may be given.  ``organisation_roles``: the roles (``StaffRole``) its
    person must hold, at the time of each request, at the token's organisation or one above
    it; empty for a scope that acts only as the person (not tied to an organisation)."""

    name: str
    label: Any  # a str or a lazy translation
    organisation_roles: tuple[str, ...] = ()

    @property
    def needs_organisation(self) -> bool:
        return bool(self.organisation_roles)


@dataclass(frozen=True)
class ApiRouter:
    """A router to add to the API under ``prefix`` (relative to /api/)."""

    prefix: str
    router: Router
    tags: list[str] = field(default_factory=list)


_scopes: dict[str, ApiScope] = {}
_routers: list[ApiRouter] = []


def scope_register(name: str, label: Any, *, organisation_roles: tuple[str, ...] = ()) -> ApiScope:
    """Make ``name`` (``<area>:<verb>``) a scope tokens may be given, shown as ``label``.
    Registering the same scope again (a module imported twice) is harmless; registering a
    different one under a taken name is a configuration error."""
    scope = ApiScope(name=name, label=label, organisation_roles=tuple(str(role) for role in organisation_roles))
    existing = _scopes.get(name)
    if existing is not None:
        if existing.organisation_roles != scope.organisation_roles or str(existing.label) != str(scope.label):
            raise ImproperlyConfigured(f"The API scope {name!r} is registered twice, differently.")
        return existing
    _scopes[name] = scope
    return scope


def scope_get(name: str) -> ApiScope | None:
    """The registered scope called ``name``, or None."""
    return _scopes.get(name)


def scopes_registered() -> list[ApiScope]:
    """Every scope, in the order registered."""
    return list(_scopes.values())


def scope_choices() -> list[tuple[str, Any]]:
    """``(name, label)`` of every scope, for a form's choices."""
    return [(scope.name, scope.label) for scope in _scopes.values()]


def router_register(
    prefix: str, router: Router, *, tags: list[str], operation_id_prefix: str | None = None
) -> None:
    """Add ``router`` to the API under ``prefix`` (as ``NinjaAPI.add_router``), with ``tags``
    grouping its operations in the description.

    ``operation_id_prefix`` fixes the OpenAPI ``operationId`` of each of the router's
    operations (without one of its own) to ``<prefix>_<function name>``, so that ids published
    before a router moved between modules stay the same for clients generated from the
    description; without it, ids are django-ninja's (the function's module and name).
    Registering the same router again is harmless."""
    if any(entry.router is router for entry in _routers):
        return
    if operation_id_prefix:
        _operation_ids_fix(router, operation_id_prefix)
    _routers.append(ApiRouter(prefix=prefix, router=router, tags=list(tags)))


def _operation_ids_fix(router: Router, prefix: str) -> None:
    for path_view in router.path_operations.values():
        for operation in path_view.operations:
            if not operation.operation_id:
                operation.operation_id = f"{prefix}_{operation.view_func.__name__}"
    for _prefix, child, _tags in router._routers:  # a router's own sub-routers
        _operation_ids_fix(child, prefix)


def routers_registered() -> list[ApiRouter]:
    """Every router, in the order registered."""
    return list(_routers)


def is_local_social_app(config: AppConfig) -> bool:
    """Whether an installed app is ours: under ``localsocial.``, or marked as a module."""
    return config.name.startswith(MODULE_PREFIX) or getattr(config, "localsocial_module", False) is True


def api_modules_discover() -> None:
    """Import the ``api`` module of every installed Local Social app but this one, so that
    its ``scope_register`` and ``router_register`` calls run.  Idempotent."""
    for config in apps.get_app_configs():
        if config.name == PLATFORM_APP or not is_local_social_app(config):
            continue
        if module_has_submodule(config.module, "api"):
            import_module(f"{config.name}.api")
