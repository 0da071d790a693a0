from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "localsocial.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from localsocial.core import choices

        choices.install()
