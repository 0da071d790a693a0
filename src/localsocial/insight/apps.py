from django.apps import AppConfig


class InsightConfig(AppConfig):
    name = "localsocial.insight"
    label = "insight"
