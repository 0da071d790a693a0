from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "localsocial.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from localsocial.accounts.services import register_personal_data

        register_personal_data()
