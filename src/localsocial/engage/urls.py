from django.urls import path

from localsocial.engage import views

app_name = "engage"

urlpatterns = [
    path("", views.index, name="index"),
]
