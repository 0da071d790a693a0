from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "localsocial.api"
    label = "api"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from localsocial.api import auth  # noqa: F401  (registers the platform's scope)
        from localsocial.api.registry import api_modules_discover

        # Every module's api module registers its scopes and routers (api.registry).
        api_modules_discover()
        # Each module's webhooks.py registers its event types (api.webhook_registry): the
        # platform finds them without importing a module by name.
        autodiscover_modules("webhooks")
