from django.urls import path

from localsocial.api.api import api

urlpatterns = [path("", api.urls)]
