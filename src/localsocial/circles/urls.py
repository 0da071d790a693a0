"""The circles module's addresses: each part's views module lists its own."""

from django.urls import URLPattern

from localsocial.circles.views import help as help_views
from localsocial.circles.views import membership, statement

app_name = "circles"

urlpatterns: list[URLPattern] = [
    *membership.urlpatterns,
    *statement.urlpatterns,
    *help_views.urlpatterns,
]
