from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _search_index_ensure(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """SQLite rebuilds a table to alter it, dropping the full-text triggers on it: put them
    back (and rebuild the index) after every migrate.  Nothing happens on PostgreSQL."""
    from django.db import connections

    from localsocial.core.search import sqlite_index_ensure

    if connections[using].vendor != "sqlite" or using != "default":
        return
    for table in ("directory_organisation", "directory_service"):
        sqlite_index_ensure(table=table, fts_table=f"{table}_fts", columns=["name"])


class DirectoryConfig(AppConfig):
    name = "localsocial.directory"
    label = "directory"

    def ready(self) -> None:
        from localsocial.directory.registrations import register

        register()
        post_migrate.connect(_search_index_ensure, sender=self, dispatch_uid="directory_search_index_ensure")
