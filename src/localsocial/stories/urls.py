"""The stories module's addresses: each part's views module lists its own."""

from django.urls import URLPattern

from localsocial.stories.views import alerts, dashboard, moderation, reading, responding, submit

app_name = "stories"

urlpatterns: list[URLPattern] = [
    *reading.urlpatterns,
    *submit.urlpatterns,
    *moderation.urlpatterns,
    *responding.urlpatterns,
    *alerts.urlpatterns,
    *dashboard.urlpatterns,
]
