from django.apps import AppConfig


class GreenConfig(AppConfig):
    name = "localsocial.green"
    label = "green"
