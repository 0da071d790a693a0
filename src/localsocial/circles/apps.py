from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ledger_triggers_ensure(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """SQLite drops a table's triggers when it rebuilds the table to alter it: put the
    ledger's back after every migrate (harmless elsewhere: they are created idempotently)."""
    from django.db import connections

    from localsocial.circles.ledger_sql import ledger_triggers_ensure

    connection = connections[using]
    if "circles_entry" in connection.introspection.table_names():
        ledger_triggers_ensure(connection)


class CirclesConfig(AppConfig):
    name = "localsocial.circles"
    label = "circles"

    def ready(self) -> None:
        from localsocial.circles import rules  # noqa: F401  (registers the permissions)
        from localsocial.circles.personal_data import register as personal_data_register
        from localsocial.circles.registrations import register as registries_register

        personal_data_register()
        registries_register()

        post_migrate.connect(_ledger_triggers_ensure, sender=self, dispatch_uid="circles_ledger_triggers_ensure")
