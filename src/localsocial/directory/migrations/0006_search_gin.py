"""PostgreSQL: a GIN index on each table's ``search_vector`` (services: those still provided),
for searches whose words are all common: it counts their matches from the words' posting lists
and, when they are few, finds them (``directory.selectors._postgres_fts_sql``; decision 0021,
amendment).  Nothing on SQLite."""

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
    dependencies = [("directory", "0005_search_prefix")]

    operations = [
        RunSQLOn(
            "postgresql",
            sql=[
                "CREATE INDEX directory_organisation_search_gin ON directory_organisation USING gin (search_vector)",
                "CREATE INDEX directory_service_search_gin ON directory_service USING gin (search_vector) "
                "WHERE is_active",
            ],
            reverse_sql=[
                "DROP INDEX IF EXISTS directory_service_search_gin",
                "DROP INDEX IF EXISTS directory_organisation_search_gin",
            ],
        ),
    ]
