from django.apps import AppConfig


class InsightConfig(AppConfig):
    name = "localsocial.insight"
    label = "insight"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from localsocial.core.navigation import navigation_register

        # Not built yet: its landing page says what is coming, so it is in the header already.
        navigation_register(
            "insight", label=_("Insight"), url_name="insight:index", order=50, built=False,
            description=_("Compare areas with their nearest neighbours and use the open data."),
        )
