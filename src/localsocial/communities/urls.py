from django.urls import path

from localsocial.communities import views

app_name = "communities"

urlpatterns = [
    path("", views.index, name="index"),
]
