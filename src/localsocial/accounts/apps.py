from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "localsocial.accounts"
    label = "accounts"
