"""PostgreSQL: the words in ``directory_search_term`` compare in C collation (code point order),
whatever the database's own collation, so that every word starting with a prefix lies in one
range of its index (``lexeme >= 'riv' AND lexeme < 'riv' || chr(1114111)``): the search reads
the start of the last word typed from that range ("riv" finds "Riverside"; see
``directory.selectors.name_query`` and docs/decisions/0021-directory-search-ranking.md).
Changing the collation rewrites the table and its indexes, and with them the visibility map:
the VACUUM after it sets that again (until then every index-only scan counts as a heap read,
and the search's plans look costly enough to PostgreSQL to turn on JIT compilation, some
100-700 ms a search), so this migration is not atomic.  Nothing on SQLite (FTS5 reads ``riv*``
from its own index)."""

from django.db import migrations


class RunSQLOn(migrations.RunSQL):
    """RunSQL for one database vendor only (as in 0003, copied so each migration stands alone)."""

    def __init__(self, vendor, sql, reverse_sql):
        self.vendor = vendor
        super().__init__(sql=sql, reverse_sql=reverse_sql)

    def deconstruct(self):
        name, args, kwargs = super().deconstruct()
        kwargs["vendor"] = self.vendor
        return name, args, kwargs

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    atomic = False  # VACUUM cannot run in a transaction
    dependencies = [("directory", "0004_search_truncate")]

    operations = [
        RunSQLOn(
            "postgresql",
            sql=[
                'ALTER TABLE directory_search_term ALTER COLUMN lexeme TYPE text COLLATE "C"',
                "VACUUM ANALYZE directory_search_term",
            ],
            reverse_sql=['ALTER TABLE directory_search_term ALTER COLUMN lexeme TYPE text COLLATE "default"'],
        ),
    ]
