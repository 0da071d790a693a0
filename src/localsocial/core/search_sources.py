"""The registry of search sources: what the site-wide search at /search/ looks through.

A module (or the directory) registers a source in its ``AppConfig.ready()``:

    search_source_register(
        "stories", label=gettext_lazy("Stories"), fn=stories_search, order=10,
        more_url=lambda query: reverse("stories:index") + "?" + urlencode({"q": query}),
    )

* ``fn(query, limit, user) -> list[SearchHit]`` returns at most ``limit`` results the person may
  see, best first, in a fixed number of queries whatever it finds; ``query`` is what they typed
  (stripped, never empty);
* ``more_url(query)``, if given, is the address of the module's own search with every result
  and its filters;
* ``order`` places the source on the page (lowest first).

Registering the same name twice replaces the earlier source, so reloading a module is safe.
(``core.search`` is the full-text index the sources may use; this file only lists them.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from localsocial.accounts.models import User


@dataclass(frozen=True)
class SearchHit:
    title: str
    url: str
    snippet: str = ""


SearchFunction = Callable[[str, int, "User | AnonymousUser"], list[SearchHit]]


@dataclass(frozen=True)
class SearchSource:
    name: str
    label: Any  # a lazy translation
    fn: SearchFunction
    order: int = 100
    more_url: Callable[[str], str] | None = None


@dataclass(frozen=True)
class SearchSection:
    source: SearchSource
    hits: list[SearchHit]
    more_url: str = ""


_sources: dict[str, SearchSource] = {}


def search_source_register(
    name: str, *, label: Any, fn: SearchFunction, order: int = 100, more_url: Callable[[str], str] | None = None
) -> None:
    """Add (or replace) the search source ``name``."""
    _sources[name] = SearchSource(name=name, label=label, fn=fn, order=order, more_url=more_url)


def search_sources() -> list[SearchSource]:
    """Every registered source, by ``order`` then name."""
    return sorted(_sources.values(), key=lambda source: (source.order, source.name))


def search_everywhere(*, query: str, limit: int, user: User | AnonymousUser) -> list[SearchSection]:
    """Up to ``limit`` results from each source, in order (a source with none still has its
    section, so the page can say so).  Costs what the sources cost, each a fixed number of
    queries."""
    query = query.strip()
    if not query:
        return []
    return [
        SearchSection(
            source=source, hits=source.fn(query, limit, user)[:limit],
            more_url=source.more_url(query) if source.more_url else "",
        )
        for source in search_sources()
    ]
