from django.apps import AppConfig


class CirclesConfig(AppConfig):
    name = "localsocial.circles"
    label = "circles"
