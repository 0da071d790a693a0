from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "localsocial.core"
    label = "core"
    verbose_name = "Core"
