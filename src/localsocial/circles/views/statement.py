"""A member's token statement (and a helper's)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
