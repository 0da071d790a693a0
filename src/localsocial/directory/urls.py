from django.urls import path

from localsocial.directory import views

app_name = "directory"

urlpatterns = [
    path("", views.index, name="index"),
    path("organisations/<slug:slug>/", views.index, name="organisation"),
    path("services/<slug:slug>/", views.index, name="service"),
]
