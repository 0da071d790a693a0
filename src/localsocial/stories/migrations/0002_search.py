"""Full-text search over stories (see localsocial.core.search and docs/decisions/0007).

PostgreSQL: a stored generated ``search_vector`` column (title weight A; what happened and how
it felt weight B, English stemming) with a GIN index.  SQLite: an FTS5 table with external
content, ``stories_story_fts(title, body, feelings)``, kept in step by triggers and rebuilt
from the rows already there.  Each half does nothing on the other database.
"""

from django.db import migrations

# The statements are written out (not built by localsocial.core.search at run time) so that this
# migration means the same thing whatever that module becomes.

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


class Migration(migrations.Migration):
    dependencies = [("stories", "0001_initial")]

    operations = [
        RunSQLOn(
            "postgresql",
            sql=[
                "ALTER TABLE stories_story ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || setweight(to_tsvector('english'::regconfig, coalesce(body, '')), 'B') || setweight(to_tsvector('english'::regconfig, coalesce(feelings, '')), 'B')) STORED",
                'CREATE INDEX stories_story_search_vector_gin ON stories_story USING GIN (search_vector)',
            ],
            reverse_sql=[
                'DROP INDEX IF EXISTS stories_story_search_vector_gin',
                'ALTER TABLE stories_story DROP COLUMN IF EXISTS search_vector',
            ],
        ),
        RunSQLOn(
            "sqlite",
            sql=[
                "CREATE VIRTUAL TABLE stories_story_fts USING fts5(title, body, feelings, content='stories_story', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
                'CREATE TRIGGER stories_story_fts_ai AFTER INSERT ON stories_story BEGIN INSERT INTO stories_story_fts(rowid, title, body, feelings) VALUES (new.id, new.title, new.body, new.feelings); END',
                "CREATE TRIGGER stories_story_fts_ad AFTER DELETE ON stories_story BEGIN INSERT INTO stories_story_fts(stories_story_fts, rowid, title, body, feelings) VALUES ('delete', old.id, old.title, old.body, old.feelings); END",
                "CREATE TRIGGER stories_story_fts_au AFTER UPDATE OF title, body, feelings ON stories_story BEGIN INSERT INTO stories_story_fts(stories_story_fts, rowid, title, body, feelings) VALUES ('delete', old.id, old.title, old.body, old.feelings); INSERT INTO stories_story_fts(rowid, title, body, feelings) VALUES (new.id, new.title, new.body, new.feelings); END",
                "INSERT INTO stories_story_fts(stories_story_fts) VALUES ('rebuild')",
            ],
            reverse_sql=[
                'DROP TRIGGER IF EXISTS stories_story_fts_ai',
                'DROP TRIGGER IF EXISTS stories_story_fts_ad',
                'DROP TRIGGER IF EXISTS stories_story_fts_au',
                'DROP TABLE IF EXISTS stories_story_fts',
            ],
        ),
    ]
