"""Full-text search over the names of organisations and services, ranked (see
docs/decisions/0021-directory-search-ranking.md and ``directory.selectors.directory_search``).

PostgreSQL: a stored generated ``search_vector`` column on each table (the name, English
stemming) with a GIN index for rare words, and a "rank" index on (words in the name, name, id)
that carries the vector, so that the best matches of a common word are read in order from one
index without touching the table.  The services' rank index holds only services still
provided.  Adding a generated column fills it for the rows already there.

SQLite: FTS5 tables with external content, ``directory_organisation_fts(name)`` and
``directory_service_fts(name)``, kept in step by triggers and rebuilt from the rows already
there.  Each half does nothing on the other database.
"""

from django.db import migrations

# The statements are written out (not built by localsocial.core.search at run time) so that this
# migration means the same thing whatever that module becomes.

WORDS = "(length(name) - length(replace(name, ' ', '')))"


class RunSQLOn(migrations.RunSQL):
    """RunSQL for one database vendor only; nothing at all on the others."""

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


def _postgres(table, rank_where=""):
    return RunSQLOn(
        "postgresql",
        sql=[
            f"ALTER TABLE {table} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
            "(to_tsvector('english'::regconfig, coalesce(name, ''))) STORED",
            f"CREATE INDEX {table}_search_vector_gin ON {table} USING GIN (search_vector)",
            f"CREATE INDEX {table}_search_rank ON {table} ({WORDS}, name, id) INCLUDE (search_vector){rank_where}",
            f"ANALYZE {table}",
        ],
        reverse_sql=[
            f"DROP INDEX IF EXISTS {table}_search_rank",
            f"DROP INDEX IF EXISTS {table}_search_vector_gin",
            f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector",
        ],
    )


def _sqlite(table):
    fts = f"{table}_fts"
    return RunSQLOn(
        "sqlite",
        sql=[
            f"CREATE VIRTUAL TABLE {fts} USING fts5(name, content='{table}', content_rowid='id', "
            "tokenize='porter unicode61 remove_diacritics 2')",
            f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {fts}(rowid, name) VALUES (new.id, new.name); END",
            f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, name) VALUES ('delete', old.id, old.name); END",
            f"CREATE TRIGGER {fts}_au AFTER UPDATE OF name ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, name) VALUES ('delete', old.id, old.name); "
            f"INSERT INTO {fts}(rowid, name) VALUES (new.id, new.name); END",
            f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
        ],
        reverse_sql=[
            f"DROP TRIGGER IF EXISTS {fts}_ai",
            f"DROP TRIGGER IF EXISTS {fts}_ad",
            f"DROP TRIGGER IF EXISTS {fts}_au",
            f"DROP TABLE IF EXISTS {fts}",
        ],
    )


class Migration(migrations.Migration):
    dependencies = [("directory", "0002_postcodes")]

    operations = [
        _postgres("directory_organisation"),
        _postgres("directory_service", " WHERE is_active"),
        _sqlite("directory_organisation"),
        _sqlite("directory_service"),
    ]
