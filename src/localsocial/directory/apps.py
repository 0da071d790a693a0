from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "localsocial.directory"
    label = "directory"
