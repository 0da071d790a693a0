from django.urls import path

from localsocial.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("privacy/", views.privacy, name="privacy"),
    path("cookies/", views.cookies, name="cookies"),
    path("cookies/hide", views.cookies_hide, name="cookies_hide"),
    path("feedback/", views.feedback, name="feedback"),
]
