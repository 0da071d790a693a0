"""The circles module's addresses: each part's views module lists its own."""

from django.urls import URLPattern

from localsocial.circles.views import events as event_views
from localsocial.circles.views import help as help_views
from localsocial.circles.views import membership, referrals, statement
from localsocial.circles.views import reports as reports_views
from localsocial.circles.views import wellbeing as wellbeing_views

app_name = "circles"

urlpatterns: list[URLPattern] = [
    *membership.urlpatterns,
    *statement.urlpatterns,
    *help_views.urlpatterns,
    *event_views.urlpatterns,
    *referrals.urlpatterns,
    *wellbeing_views.urlpatterns,
    *reports_views.urlpatterns,
]
