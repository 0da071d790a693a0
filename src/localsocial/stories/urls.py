from django.urls import path

from localsocial.stories import views

app_name = "stories"

urlpatterns = [
    path("", views.index, name="index"),
]
