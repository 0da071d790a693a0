"""Circles, joining, membership years, payments, tokens bought and given."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "circles/index.html", {"page_title": _("Circles")})


urlpatterns: list[URLPattern] = [
    path("", index, name="index"),
]
