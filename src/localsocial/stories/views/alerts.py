"""Views: alerts.  (Each views module lists its own ``urlpatterns``; stories/urls.py joins them.)"""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
