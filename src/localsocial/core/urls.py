from django.urls import path
from django.utils.translation import gettext_noop

from localsocial.core import views


def _information(template: str, title: str) -> dict[str, str]:
    return {"template": f"core/{template}.html", "title": title}


app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("search/", views.search, name="search"),
    path("open-data/", views.open_data, name="open_data"),
    path("accessibility/", views.information_page,
         _information("accessibility", gettext_noop("Accessibility statement")), name="accessibility"),
    path("privacy/", views.information_page, _information("privacy", gettext_noop("Privacy")), name="privacy"),
    path("cookies/", views.information_page, _information("cookies", gettext_noop("Cookies")), name="cookies"),
    path("cookies/hide", views.cookies_hide, name="cookies_hide"),
    path("feedback/", views.information_page, _information("feedback", gettext_noop("Feedback")), name="feedback"),
]
