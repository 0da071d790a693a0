from django.apps import AppConfig


class CommunitiesConfig(AppConfig):
    name = "localsocial.communities"
    label = "communities"
