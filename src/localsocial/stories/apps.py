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
    sqlite_index_ensure(table="stories_story", fts_table="stories_story_fts", columns=["title", "body", "feelings"])


class StoriesConfig(AppConfig):
    name = "localsocial.stories"
    label = "stories"

    def ready(self) -> None:
        from localsocial.stories import rules  # noqa: F401  (registers the permissions)
        from localsocial.stories.personal_data_registry import register as personal_data_register
        from localsocial.stories.registrations import register as registries_register

        personal_data_register()
        registries_register()
        post_migrate.connect(_search_index_ensure, sender=self, dispatch_uid="stories_search_index_ensure")
