"""Pages every deployment has: home, health, cookies, accessibility, privacy, errors."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from localsocial.core.context_processors import COOKIE_SEEN
from localsocial.core.navigation import navigation_entries
from localsocial.core.open_data import datasets
from localsocial.core.page_cache import public_page
from localsocial.core.search_forms import SiteSearchForm
from localsocial.core.search_sources import search_everywhere

logger = logging.getLogger(__name__)


def safe_next(request: HttpRequest, fallback: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _modules() -> list[dict[str, str]]:
    """The home page's cards: every registered section that has a description, in order."""
    return [
        {"name": entry.url_name, "title": str(entry.label), "text": str(entry.description)}
        for entry in navigation_entries()
        if entry.description
    ]


@public_page(())  # the sections come from the navigation registry, fixed at start-up
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {"page_title": "", "modules": _modules()})


SEARCH_RESULTS_PER_SOURCE = 5


def search(request: HttpRequest) -> HttpResponse:
    """Every registered search source (core.search_sources), a few results from each."""
    form = SiteSearchForm(request.GET if "q" in request.GET else None)
    query = ""
    sections: list[Any] = []
    if form.is_bound and form.is_valid():
        query = form.cleaned_data["q"]
        sections = search_everywhere(query=query, limit=SEARCH_RESULTS_PER_SOURCE, user=request.user)
    if form.is_bound and not form.is_valid():
        title = _("Error: Search Local Social")
    elif query:
        title = _("Search results for “%(query)s”") % {"query": query}
    else:
        title = _("Search Local Social")
    return render(
        request, "core/search.html",
        {"page_title": title, "form": form, "query": query, "sections": sections},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


def open_data(request: HttpRequest) -> HttpResponse:
    """The open datasets every module registered (core.open_data)."""
    return render(request, "core/open_data.html", {"page_title": _("Open data"), "datasets": datasets()})


def information_page(request: HttpRequest, *, template: str, title: str) -> HttpResponse:
    """A page of fixed information (accessibility, privacy, cookies, feedback)."""
    return render(request, template, {"page_title": _(title)})


@require_POST
def cookies_hide(request: HttpRequest) -> HttpResponse:
    response = redirect(safe_next(request))
    response.set_cookie(
        COOKIE_SEEN, "1", max_age=60 * 60 * 24 * 365, secure=settings.SESSION_COOKIE_SECURE,
        httponly=True, samesite="Lax",
    )
    return response


def _check(name: str, probe: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = probe()
        ok = True
    except Exception as exc:  # a health check reports every failure, whatever its kind
        logger.warning("healthz %s failed: %s", name, exc)
        detail, ok = f"{type(exc).__name__}", False
    return {"ok": ok, "ms": round((time.perf_counter() - started) * 1000, 1), "detail": detail}


def _db() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def _cache() -> str:
    key = "healthz:probe"
    cache.set(key, "1", 10)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return what was stored")
    from django.core.cache import caches

    return type(caches["default"]).__name__


def _tasks() -> str:
    from django_tasks import task_backends

    # The backend itself, not the lazy proxy in front of it, so the right probe runs.
    backend = task_backends["default"]
    name = type(backend).__name__
    if name == "DatabaseBackend":
        from django_tasks_db.models import DBTaskResult

        waiting = DBTaskResult.objects.filter(status="READY").count()
        return f"{name}: {waiting} waiting"
    if name == "RQBackend":
        import django_rq

        queue = django_rq.get_queue("default")
        queue.connection.ping()
        return f"{name}: {len(queue)} waiting"
    return name


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check("database", _db), "cache": _check("cache", _cache),
              "tasks": _check("tasks", _tasks)}
    healthy = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ok" if healthy else "fail", "checks": checks},
                        status=200 if healthy else 503)


def rate_limited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    response = render(request, "core/rate_limited.html", {"page_title": _("Too many attempts")}, status=429)
    # Sign-in limits reset after 15 minutes; clients that honour Retry-After try again then.
    response["Retry-After"] = "900"
    return response


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "core/404.html", {"page_title": _("Page not found")}, status=404)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "core/403.html", {"page_title": _("You cannot see this page")}, status=403)


def error_500(request: HttpRequest) -> HttpResponse:
    # No request, so no context processors that might fail again: a plain page.
    from django.template.loader import render_to_string

    return HttpResponse(render_to_string("core/500.html"), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "core/csrf_failure.html", {"page_title": _("The form has expired")}, status=403)
