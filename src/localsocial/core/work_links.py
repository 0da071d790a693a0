"""The registry of "Your work" links: where each person's roles have work waiting for them.

A module registers, in its ``AppConfig.ready()``, a function that knows the roles it gives:

    work_links_register("stories", stories_work_links, order=10)

``fn(user) -> list[WorkLink]`` returns the links that apply to that signed-in person (none for
someone without the module's roles), each to a page that exists and that they may open.  It
must cost a fixed number of queries whatever the person does (a role check and a count or two),
so that the page listing them has a fixed cost too.  The account page lists them today; the
role start pages will be built on the same registry.

Registering the same name twice replaces the earlier function, so reloading a module is safe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from localsocial.accounts.models import User


@dataclass(frozen=True)
class WorkLink:
    label: str
    url: str
    count: int | None = None  # how many things wait there (shown beside the link), if known
    hint: str = ""  # a short line under the link: which organisation or circle it is for


WorkLinksFunction = Callable[["User"], list[WorkLink]]


@dataclass(frozen=True)
class _Provider:
    name: str
    fn: WorkLinksFunction
    order: int


_providers: dict[str, _Provider] = {}


def work_links_register(name: str, fn: WorkLinksFunction, *, order: int = 100) -> None:
    """Add (or replace) the provider ``name``; lower ``order`` lists its links first."""
    _providers[name] = _Provider(name=name, fn=fn, order=order)


def work_links_providers() -> dict[str, WorkLinksFunction]:
    """The registered functions by name, in the order their links are listed."""
    ordered = sorted(_providers.values(), key=lambda provider: (provider.order, provider.name))
    return {provider.name: provider.fn for provider in ordered}


def work_links_for(*, user: User) -> list[WorkLink]:
    """Every link that applies to ``user``, module by module.  None for someone signed out."""
    if not getattr(user, "is_authenticated", False):
        return []
    links: list[WorkLink] = []
    for fn in work_links_providers().values():
        links.extend(fn(user))
    return links
