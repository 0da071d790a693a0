"""Whole public pages for anonymous readers, kept in the cache until what they show changes.

Most of a public site's traffic is people who are not signed in reading the same pages.  A view
marked ``@public_page(groups=…)`` is rendered once for them and then served from the cache
(Redis in production, the database cache on one machine, with a small per-process copy in
front), keyed on the path, the query, the language, whether the cookie banner shows, the code's
release, and the current *generation* of every group of data the page shows.  (Decision 0020.)

Invalidation is exact: a service that changes what pages show calls ``pages_changed("stories",
f"story:{id}")``; each group gets a new generation at once and again when the transaction
commits, so every key built on an older one is never asked for again (the old entries expire
on their own), and a page rendered from the data as it was before the commit cannot be served
after it.

What is never shared:

* Each response gets its own CSP nonce and CSRF token: they are cut out of the stored page and
  fresh ones put in when it is served.
* Only visitors are served from or stored into the cache: a request carrying any cookie but the
  CSRF, language and cookie-banner ones (a session, messages, the stories "person" cookie …) is
  passed straight to the view, and so is any response that sets a cookie or is not a plain 200.

HTTP caching: every page served this way has a weak ``ETag`` and ``Last-Modified`` and answers
``If-None-Match``/``If-Modified-Since`` with 304.  A page with a nonce or a CSRF token gets
``Cache-Control: private, no-cache`` (the reader's own browser keeps it and revalidates; a shared
cache would hand one visitor's nonce and token to the next); one without (feeds) gets ``public,
no-cache`` (a proxy or CDN may keep it and revalidates each time, so a story taken down is gone
from it at once).  ``Vary: Cookie, Accept-Language``.  Streamed open data is too large to keep:
``conditional_on(groups)`` gives it the same validators and 304s without storing it.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.csrf import get_token
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date, parse_etags, parse_http_date_safe
from django.utils.translation import get_language

NONCE_MARK = b"ls-page-cache-nonce-9c2e"
TOKEN_MARK = b"ls-page-cache-csrf-9c2e"
_TOKEN = re.compile(rb'(name="csrfmiddlewaretoken" value=")([A-Za-z0-9]{32,64})(")')
_LOCAL_ENTRIES = 256  # pages each process keeps in front of the shared cache
_MAX_BYTES = 512 * 1024  # larger pages are not stored
HIT_HEADER = "X-Page-Cache"

Groups = Iterable[str] | Callable[..., Iterable[str]]


@dataclass(frozen=True)
class CachedPage:
    body: bytes  # with NONCE_MARK and TOKEN_MARK where the nonce and CSRF tokens were
    headers: tuple[tuple[str, str], ...]
    modified: float  # when what it shows last changed: its groups' newest generation, or the release


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def page_cache_enabled() -> bool:
    return bool(_setting("PAGE_CACHE_ENABLED", True))


# --- The release: pages rendered by other code are never served -------------------------------

def _release_compute() -> tuple[str, float]:
    """A digest of the code and templates this process runs (names, sizes, modification
    times), so a deploy starts with an empty page cache without anyone clearing it, and the
    newest modification time (no page is older than the code that made it)."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    newest = 0.0
    for path in sorted(root.rglob("*")):
        if path.suffix in {".py", ".html", ".mo", ".txt", ".json"} and "__pycache__" not in path.parts:
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
            newest = max(newest, stat.st_mtime)
    return digest.hexdigest()[:16], newest


_release: tuple[str, float] | None = None


def release() -> tuple[str, float]:
    """``(name, time)`` of the code this process runs."""
    global _release
    if _release is None:
        name, newest = _release_compute()
        _release = (str(_setting("PAGE_CACHE_RELEASE", "")) or name, newest)
    return _release


# --- Generations -------------------------------------------------------------------------------

def _cache() -> Any:
    return caches[_setting("PAGE_CACHE_ALIAS", "default")]


def _generation_key(group: str) -> str:
    return f"pagegen:{group}"


def generations(groups: Iterable[str]) -> dict[str, str]:
    """The current generation of each group: one round trip to the cache (two the first time
    a group is seen, when it gets a random generation nobody has used)."""
    names = sorted(set(groups))
    keys = {_generation_key(name): name for name in names}
    found = _cache().get_many(list(keys))
    missing = [key for key in keys if key not in found]
    for key in missing:
        # add() is atomic: two processes meeting a new group agree on one generation.  A random
        # one (not 0) means a group whose key was evicted can never meet a page stored earlier.
        _cache().add(key, _new_generation(), timeout=None)
    if missing:
        found.update(_cache().get_many(missing))
    return {keys[key]: str(found.get(key, "")) for key in keys}


def _new_generation() -> str:
    """A random token nobody has used, with the time it was made (for Last-Modified)."""
    return f"{uuid.uuid4().hex[:16]}@{time.time():.3f}"


def generation_time(value: str) -> float:
    """When a generation began (0 for one written before generations carried their time)."""
    try:
        return float(value.rpartition("@")[2])
    except ValueError:
        return 0.0


def _bump(groups: Iterable[str]) -> None:
    _cache().set_many({_generation_key(name): _new_generation() for name in set(groups)}, timeout=None)


SITE_GROUP = "site"  # every page is in it: changes no module describes (the admin site)


def all_pages_changed() -> None:
    """Every cached page is out of date (after a change made through the admin site, which
    knows nothing of the groups)."""
    pages_changed(SITE_GROUP)


def pages_changed(*groups: str) -> None:
    """Every cached page that shows one of ``groups`` is out of date.  Call from a service (in
    or out of a transaction).  The groups get new generations at once and again when the
    transaction commits: a page rendered between the two from the data as it was before the
    commit is stored under the first, which nobody asks for after the second."""
    if not groups:
        return
    _bump(groups)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _bump(groups))


# --- Which requests and responses take part ----------------------------------------------------

def _allowed_cookies() -> set[str]:
    from localsocial.core.context_processors import COOKIE_SEEN

    return {settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME, COOKIE_SEEN}


def request_is_cacheable(request: HttpRequest) -> bool:
    """A visitor's GET or HEAD: no cookie that could make the page theirs alone."""
    if request.method not in {"GET", "HEAD"} or not page_cache_enabled():
        return False
    allowed = _allowed_cookies()
    return all(name in allowed for name in request.COOKIES)


def _response_is_storable(response: HttpResponseBase) -> bool:
    return (
        type(response) is HttpResponse
        and response.status_code == 200
        and not response.cookies
        and len(response.content) <= _MAX_BYTES
        and not getattr(response, "_csp_replace", None)
        and not getattr(response, "_csp_update", None)
        and not getattr(response, "_csp_config", None)
        and "private" not in response.get("Cache-Control", "")
    )


# --- Keys and storage --------------------------------------------------------------------------

def page_key(request: HttpRequest, group_generations: dict[str, str]) -> str:
    from localsocial.core.context_processors import COOKIE_SEEN

    query = sorted(request.GET.lists())
    parts = [
        release()[0], request.path, repr(query), get_language() or "",
        "banner" if COOKIE_SEEN not in request.COOKIES else "no-banner",
        *(f"{name}={value}" for name, value in sorted(group_generations.items())),
    ]
    return "page:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


_local: OrderedDict[str, CachedPage] = OrderedDict()
_local_lock = threading.Lock()


def _local_get(key: str) -> CachedPage | None:
    with _local_lock:
        page = _local.get(key)
        if page is not None:
            _local.move_to_end(key)
        return page


def _local_put(key: str, page: CachedPage) -> None:
    with _local_lock:
        _local[key] = page
        _local.move_to_end(key)
        while len(_local) > _LOCAL_ENTRIES:
            _local.popitem(last=False)


def _get(key: str) -> CachedPage | None:
    page = _local_get(key)
    if page is None:
        page = _cache().get(key)
        if isinstance(page, CachedPage):
            _local_put(key, page)
        else:
            page = None
    return page


def _modified(group_generations: dict[str, str]) -> float:
    return max([release()[1], *(generation_time(value) for value in group_generations.values())])


def _store(key: str, request: HttpRequest, response: HttpResponse, modified: float) -> CachedPage:
    body = response.content
    nonce = getattr(request, "_csp_nonce", None)
    if isinstance(nonce, str) and nonce:
        body = body.replace(nonce.encode(), NONCE_MARK)
    body = _TOKEN.sub(lambda match: match.group(1) + TOKEN_MARK + match.group(3), body)
    headers = tuple((name, value) for name, value in response.items() if name.lower() != "vary")
    page = CachedPage(body=body, headers=headers, modified=modified)
    _cache().set(key, page, timeout=int(_setting("PAGE_CACHE_SECONDS", 600)))
    _local_put(key, page)
    return page


def _served(request: HttpRequest, page: CachedPage) -> HttpResponse:
    body = page.body
    if NONCE_MARK in body:
        body = body.replace(NONCE_MARK, str(request.csp_nonce).encode())  # type: ignore[attr-defined]
    if TOKEN_MARK in body:
        # One masked token for this response (a new mask on each response, as Django's own).
        body = body.replace(TOKEN_MARK, get_token(request).encode())
    response = HttpResponse(body)
    for name, value in page.headers:
        response[name] = value
    return response


# --- HTTP caching ------------------------------------------------------------------------------

def _etag(key: str) -> str:
    return f'W/"{key[5:29]}"'


def _not_modified(request: HttpRequest, etag: str, modified: float) -> bool:
    if_none_match = request.META.get("HTTP_IF_NONE_MATCH")
    if if_none_match:
        tags = parse_etags(if_none_match)
        return "*" in tags or etag in tags or etag.removeprefix("W/") in tags
    since = parse_http_date_safe(request.META.get("HTTP_IF_MODIFIED_SINCE") or "")
    return since is not None and since >= modified


def _http_headers(response: HttpResponseBase, etag: str, modified: float, *, shared: bool) -> None:
    """Validators, and who may keep the page: ``shared`` pages (no nonce, no CSRF token: feeds,
    open data) any cache, the others only the reader's browser; both revalidate every time, so
    a change reaches everyone at once."""
    response["ETag"] = etag
    # HTTP dates have whole seconds.  Rounded up, and only once that second is over, a date a
    # reader sends back is later than this version and earlier than any change after it, so
    # If-Modified-Since alone never gets a 304 for a page that changed within the second.
    if time.time() >= math.ceil(modified):
        response["Last-Modified"] = http_date(math.ceil(modified))
    response["Cache-Control"] = "public, no-cache" if shared else "private, no-cache"
    patch_vary_headers(response, ("Cookie", "Accept-Language"))


def _shared(page: CachedPage) -> bool:
    return NONCE_MARK not in page.body and TOKEN_MARK not in page.body


def _not_modified_response(etag: str, modified: float, *, shared: bool) -> HttpResponse:
    response = HttpResponse(status=304)
    _http_headers(response, etag, modified, shared=shared)
    del response["Content-Type"]
    # The reader keeps the page, and the policy with the nonce it was served with: a new
    # nonce here would replace the stored header and block that page's scripts.
    response._csp_exempt = True  # type: ignore[attr-defined]
    return response


# --- The decorator -----------------------------------------------------------------------------

def public_page(groups: Groups) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Serve this view's page to visitors from the cache.  ``groups``: the names of the data
    it shows (``["stories", "directory"]``), or a function of the request and the view's
    keyword arguments that returns them (``lambda request, pk: ["stories", f"story:{pk}"]``).
    Every group a page shows must be named: a change to an unnamed one would not reach it."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request_is_cacheable(request):
                return view(request, *args, **kwargs)
            names = [SITE_GROUP, *(groups(request, *args, **kwargs) if callable(groups) else groups)]
            current = generations(names)
            key = page_key(request, current)
            page = _get(key)
            if page is not None:
                etag = _etag(key)
                if _not_modified(request, etag, page.modified):
                    return _not_modified_response(etag, page.modified, shared=_shared(page))
                response: HttpResponseBase = _served(request, page)
                response[HIT_HEADER] = "hit"
            else:
                response = view(request, *args, **kwargs)
                if not _response_is_storable(response):
                    return response
                assert isinstance(response, HttpResponse)
                page = _store(key, request, response, _modified(current))
                etag = _etag(key)
                response[HIT_HEADER] = "miss"
            _http_headers(response, etag, page.modified, shared=_shared(page))
            return response

        wrapped.public_page_groups = groups  # type: ignore[attr-defined]
        return wrapped

    return decorator


def conditional_on(groups: Groups) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """For downloads too large to keep (streamed open data): no copy is stored, but the
    answer carries an ETag and Last-Modified made from the generations of ``groups``, and a
    reader whose copy is still current gets a 304 without the file being made again."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request_is_cacheable(request):
                return view(request, *args, **kwargs)
            names = [SITE_GROUP, *(groups(request, *args, **kwargs) if callable(groups) else groups)]
            current = generations(names)
            etag = _etag(page_key(request, current))
            modified = _modified(current)
            if _not_modified(request, etag, modified):
                return _not_modified_response(etag, modified, shared=True)
            response = view(request, *args, **kwargs)
            if response.status_code == 200:
                _http_headers(response, etag, modified, shared=True)
            return response

        return wrapped

    return decorator


def page_cache_clear_local() -> None:
    """Forget this process's copies (tests; the shared cache is cleared with the cache)."""
    with _local_lock:
        _local.clear()
