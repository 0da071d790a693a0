from django.apps import AppConfig


class StoriesConfig(AppConfig):
    name = "localsocial.stories"
    label = "stories"
