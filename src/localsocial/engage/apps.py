from django.apps import AppConfig


class EngageConfig(AppConfig):
    name = "localsocial.engage"
    label = "engage"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from localsocial.core.navigation import navigation_register

        # Not built yet: its landing page says what is coming, so it is in the header already.
        navigation_register(
            "engage", label=_("Engage"), url_name="engage:index", order=60, built=False,
            description=_("Take part in consultations, polls and budgets, and follow each decision."),
        )
