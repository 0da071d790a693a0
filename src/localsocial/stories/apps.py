from django.apps import AppConfig


class StoriesConfig(AppConfig):
    name = "localsocial.stories"
    label = "stories"

    def ready(self) -> None:
        from localsocial.stories import rules  # noqa: F401  (registers the permissions)
        from localsocial.stories.personal_data_registry import register as personal_data_register

        personal_data_register()
