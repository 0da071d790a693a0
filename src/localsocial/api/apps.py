from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "localsocial.api"
    label = "api"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        # Each module's webhooks.py registers its event types (api.webhook_registry): the
        # platform finds them without importing a module by name.
        autodiscover_modules("webhooks")
