from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "stories/index.html", {"page_title": _("Stories")})
