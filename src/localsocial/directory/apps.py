from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "localsocial.directory"
    label = "directory"

    def ready(self) -> None:
        from localsocial.directory.registrations import register

        register()
