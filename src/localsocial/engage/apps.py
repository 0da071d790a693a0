from django.apps import AppConfig


class EngageConfig(AppConfig):
    name = "localsocial.engage"
    label = "engage"
