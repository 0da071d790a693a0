"""Placeholder views; replaced by the accounts work."""

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST


def sign_in(request: HttpRequest) -> HttpResponse:
    return render(request, "core/feedback.html", {"page_title": "Sign in"})


sign_up = profile = two_factor_setup = two_factor_verify = sign_in


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("core:home")
