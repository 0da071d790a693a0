from django.apps import AppConfig


class GreenConfig(AppConfig):
    name = "localsocial.green"
    label = "green"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from localsocial.core.navigation import navigation_register

        # Not built yet: its landing page says what is coming, so it is in the header already.
        navigation_register(
            "green", label=_("Green Things"), url_name="green:index", order=30, built=False,
            description=_("Do an easy green thing and see the carbon your community has saved."),
        )
