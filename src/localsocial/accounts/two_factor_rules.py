"""The registry of roles that need two-step verification.

The platform knows its own roles (site roles, superusers, organisation staff: see
``accounts.selectors.user_requires_two_factor``); a module that brings roles of its own
registers, in its ``AppConfig.ready()``, a rule saying who holds one:

    two_factor_rule_register("circles", coordinates_a_circle)

where ``coordinates_a_circle(user) -> bool`` is True when that person holds such a role.  A rule
is asked only about a signed-in person the platform's own roles did not already settle, and
should cost at most one query.  Registering the same name twice replaces the earlier rule, so
reloading a module is safe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from localsocial.accounts.models import User

TwoFactorRule = Callable[["User"], bool]

_rules: dict[str, TwoFactorRule] = {}


def two_factor_rule_register(name: str, fn: TwoFactorRule) -> None:
    """Add (or replace) the rule ``name``: ``fn(user)`` is True for a person who must use
    two-step verification because of a role the module gives them."""
    _rules[name] = fn


def two_factor_rules() -> dict[str, TwoFactorRule]:
    """The registered rules, in the order they were first registered."""
    return dict(_rules)
