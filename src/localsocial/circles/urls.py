from django.urls import path

from localsocial.circles import views

app_name = "circles"

urlpatterns = [
    path("", views.index, name="index"),
]
