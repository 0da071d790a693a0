from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "localsocial.api"
    label = "api"

    def ready(self) -> None:
        from localsocial.api import auth  # noqa: F401  (registers the platform's scope)
        from localsocial.api.registry import api_modules_discover

        # Every module's api module registers its scopes and routers (api.registry).
        api_modules_discover()
