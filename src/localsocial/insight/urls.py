from django.urls import path

from localsocial.insight import views

app_name = "insight"

urlpatterns = [
    path("", views.index, name="index"),
]
