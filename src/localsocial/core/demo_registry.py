"""The demo's registry and runner: ``localsocial demo`` runs every registered demo step in order.

The platform's own demo (areas, organisations, services, one person for every role, postcodes)
is registered in ``core/demo.py``; each module registers its own in its app's ``demo.py``,
imported automatically (``autodiscover_modules("demo")``, as Django finds ``admin.py``)::

    from localsocial.core.demo_registry import DemoContext, demo_step

    @demo_step("stories", order=100)
    def stories_demo(ctx: DemoContext) -> dict[str, int]:
        moderator = ctx.with_site_role(SiteRole.MODERATOR)
        ...
        return {"stories": 5, "responses": 3}   # what this run created, by kind

A step reads what the platform made from ``ctx`` (organisations by slug, the demo people by
key or by site role) and never imports another module's demo.  Steps run in ``order`` (the
platform takes 10 to 30; modules 100 and up), all in one transaction.  Each step must be
idempotent: a second ``localsocial demo`` creates nothing and reports zeros.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

if TYPE_CHECKING:  # the registry itself needs nothing from the apps above it
    from localsocial.accounts.models import User
    from localsocial.directory.models import Organisation

# One password for every demo account, printed by ``localsocial demo``.  It is public: the
# demo must never be loaded on a site that holds real people's data (the command refuses to
# run with DEBUG off unless forced).
DEMO_PASSWORD = "local-social-demo"


@dataclass
class DemoAccount:
    email: str
    role_label: str
    backup_codes: list[str]


@dataclass
class DemoContext:
    """What the demo steps so far have made, for the steps after them.

    ``organisations``: the demo organisations by slug.  ``people``: the demo people by key
    (``"public"``, ``"staff"``, ``"responder"``, ``"org-admin"``, ``"moderator"``,
    ``"coordinator"``, ``"facilitator"``, ``"admin"``); ``site_roles``: the person holding
    each site role (``SiteRole`` value).  ``accounts`` are the sign-ins the command prints.
    """

    today: dt.date
    organisations: dict[str, Organisation] = field(default_factory=dict)
    people: dict[str, User] = field(default_factory=dict)
    site_roles: dict[str, User] = field(default_factory=dict)
    accounts: list[DemoAccount] = field(default_factory=list)

    def with_site_role(self, role: str) -> User:
        """The demo person who holds the site role ``role`` (a ``SiteRole`` value)."""
        return self.site_roles[str(role)]


DemoRun = Callable[[DemoContext], Mapping[str, int]]


@dataclass(frozen=True)
class DemoStep:
    name: str
    order: int
    run: DemoRun


_STEPS: dict[str, DemoStep] = {}


def demo_step(name: str, *, order: int) -> Callable[[DemoRun], DemoRun]:
    """Register a demo step: ``run(ctx)`` creates what is missing and returns how many rows
    of each kind it created (``{"stories": 5}``; zeros, or an empty dict, when there was
    nothing to do).  Registering a name again replaces the step (so a module can be reloaded)."""

    def register(run: DemoRun) -> DemoRun:
        _STEPS[name] = DemoStep(name=name, order=order, run=run)
        return run

    return register


def demo_steps() -> list[DemoStep]:
    """Every registered step, in the order they run; each app's ``demo`` module is imported
    first so that its steps are registered."""
    autodiscover_modules("demo")
    return sorted(_STEPS.values(), key=lambda step: (step.order, step.name))


@dataclass
class DemoResult:
    """What ``demo_load`` did: how many rows of each kind it created, and the sign-ins."""

    created: dict[str, int] = field(default_factory=dict)
    accounts: list[DemoAccount] = field(default_factory=list)
    password: str = DEMO_PASSWORD

    def add(self, counts: Mapping[str, int]) -> None:
        for kind, number in counts.items():
            self.created[kind] = self.created.get(kind, 0) + int(number)


@transaction.atomic
def demo_load() -> DemoResult:
    """Run every demo step in order and return what they created and the demo sign-ins.

    Promises (the platform's steps): two councils and an NHS trust, each a three-level tree
    with correct paths; services with real LGSL ids where they apply; one verified person for
    every role, each who needs two-factor with a confirmed "backup" device holding the printed
    codes; then each module's demo.  Running it again creates nothing new (a used demo backup
    code is restored)."""
    ctx = DemoContext(today=timezone.localdate())
    result = DemoResult()
    for step in demo_steps():
        result.add(step.run(ctx))
    result.accounts = list(ctx.accounts)
    return result


def demo_sign_in_table(result: DemoResult) -> str:
    """The demo sign-ins as a plain-text table, for the terminal."""
    rows: list[tuple[str, ...]] = [("Email", "Role", "Backup codes")]
    rows += [(a.email, a.role_label, " ".join(a.backup_codes) or "(not needed)")
             for a in result.accounts]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    lines = [f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}" for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def demo_summary(result: DemoResult) -> dict[str, Any]:
    """Counts of what this run created, for the command's output."""
    return dict(sorted(result.created.items()))
