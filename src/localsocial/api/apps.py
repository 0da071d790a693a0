from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "localsocial.api"
    label = "api"
