from django.apps import AppConfig


class CommunitiesConfig(AppConfig):
    name = "localsocial.communities"
    label = "communities"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from localsocial.core.navigation import navigation_register

        # Not built yet: its landing page says what is coming, so it is in the header already.
        navigation_register(
            "communities", label=_("Communities"), url_name="communities:index", order=40, built=False,
            description=_("Learn from people doing the same job as you in other councils and services."),
        )
