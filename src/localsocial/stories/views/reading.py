"""Views: reading.  (Each views module lists its own ``urlpatterns``; stories/urls.py joins them.)"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "stories/index.html", {"page_title": _("Stories")})


urlpatterns: list[URLPattern] = [
    path("", index, name="index"),
]
