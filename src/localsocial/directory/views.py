"""Placeholder views; replaced by the directory work."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def index(request: HttpRequest, slug: str = "") -> HttpResponse:
    return render(request, "core/feedback.html", {"page_title": "Directory"})
