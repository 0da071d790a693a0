"""Full-text search over the names of organisations and services, ranked (see
docs/decisions/0021-directory-search-ranking.md and ``directory.selectors.directory_search``).

PostgreSQL: a stored generated ``search_vector`` column on each table (the name, English
stemming; adding it fills it for the rows already there), and ``directory_search_term``, one row
per word of each name (services: only those still provided), kept by triggers and filled from
the rows already there, with an index on (word, kind, words in the name, name, id): the best
matches of a word, however common, are read in rank order from that index and no further.

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


KINDS = {"directory_organisation": 1, "directory_service": 2}


def _postgres_column(table):
    return RunSQLOn(
        "postgresql",
        sql=[
            f"ALTER TABLE {table} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
            "(to_tsvector('english'::regconfig, coalesce(name, ''))) STORED",
        ],
        reverse_sql=[f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector"],
    )


def _postgres_terms_sync(table):
    """A trigger keeping the table's rows (services: only those still provided) in
    directory_search_term, one row per word of the name."""
    kind = KINDS[table]
    function = f"{table}_search_term_sync"
    active = " AND NEW.is_active" if table == "directory_service" else ""
    columns = "name, is_active" if table == "directory_service" else "name"
    new_words = WORDS.replace("name", "NEW.name")
    row_words = WORDS.replace("name", "t.name")
    return RunSQLOn(
        "postgresql",
        sql=[
            f"""CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM directory_search_term WHERE kind = {kind} AND row_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE'{active} THEN
        INSERT INTO directory_search_term (lexeme, kind, words, name, row_id)
        SELECT lexeme, {kind}, {new_words}, NEW.name, NEW.id
        FROM unnest(tsvector_to_array(NEW.search_vector)) AS lexeme;
    END IF;
    RETURN NULL;
END
$$""",
            f"CREATE TRIGGER {table}_search_term AFTER INSERT OR DELETE OR UPDATE OF {columns} ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()",
            # The rows already there.
            f"INSERT INTO directory_search_term (lexeme, kind, words, name, row_id) "
            f"SELECT lexeme, {kind}, {row_words}, t.name, t.id "
            f"FROM {table} t, unnest(tsvector_to_array(t.search_vector)) AS lexeme"
            + (" WHERE t.is_active" if table == "directory_service" else ""),
        ],
        reverse_sql=[
            f"DROP TRIGGER IF EXISTS {table}_search_term ON {table}",
            f"DROP FUNCTION IF EXISTS {function}()",
        ],
    )


POSTGRES_TERMS = RunSQLOn(
    "postgresql",
    sql=[
        # One row per word (lexeme) of each name, so that the names with one word can be read
        # in rank order (fewest words, then name) from one index, as far as needed and no
        # further: a GIN index finds every match but cannot give them in any order.  The
        # other words, phrases and exclusions are checked on the row's own vector.
        "CREATE TABLE directory_search_term ("
        "lexeme text NOT NULL, kind smallint NOT NULL CHECK (kind IN (1, 2)), words integer NOT NULL, "
        "name varchar(200) NOT NULL, row_id bigint NOT NULL)",
    ],
    reverse_sql=["DROP TABLE IF EXISTS directory_search_term"],
)

POSTGRES_TERMS_INDEXES = RunSQLOn(
    "postgresql",
    sql=[
        "CREATE INDEX directory_search_term_rank ON directory_search_term "
        "(lexeme, kind, words, name, row_id)",
        "CREATE INDEX directory_search_term_row ON directory_search_term (kind, row_id)",
        "ANALYZE directory_search_term",
    ],
    reverse_sql=[
        "DROP INDEX IF EXISTS directory_search_term_row",
        "DROP INDEX IF EXISTS directory_search_term_rank",
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
        _postgres_column("directory_organisation"),
        _postgres_column("directory_service"),
        POSTGRES_TERMS,
        _postgres_terms_sync("directory_organisation"),
        _postgres_terms_sync("directory_service"),
        POSTGRES_TERMS_INDEXES,
        _sqlite("directory_organisation"),
        _sqlite("directory_service"),
    ]
