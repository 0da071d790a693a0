from django.apps import AppConfig


class StoriesConfig(AppConfig):
    name = "localsocial.stories"
    label = "stories"

    def ready(self) -> None:
        from localsocial.stories import rules  # noqa: F401  (registers the permissions)
