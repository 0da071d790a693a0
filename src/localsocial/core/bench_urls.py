"""The benchmark's baseline: the smallest Django view, served through the same middleware as
every page, so that each page's figures can be read against the framework's own cost.

Included by ``config/urls.py`` only when the environment has ``LOCALSOCIAL_BENCH=1``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path


def bare(request: HttpRequest) -> HttpResponse:
    """Returns "ok": no template, no query."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/bare", bare, name="bench_bare")]
