"""PostgreSQL: emptying the organisations or services with TRUNCATE (as Django's test flush and
some restores do) fires no row triggers, so their words stayed in ``directory_search_term`` and
a search could name rows that were gone.  A statement trigger on TRUNCATE now empties the
table's words too, and any words left behind by earlier TRUNCATEs are removed."""

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

KINDS = {"directory_organisation": 1, "directory_service": 2}


def _truncate_trigger(table, kind):
    function = f"{table}_search_term_truncate"
    return RunSQLOn(
        "postgresql",
        sql=[
            f"""CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM directory_search_term WHERE kind = {kind};
    RETURN NULL;
END
$$""",
            f"CREATE TRIGGER {table}_search_term_truncate AFTER TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            # Words of rows that are no longer there.
            f"DELETE FROM directory_search_term t WHERE t.kind = {kind} "
            f"AND NOT EXISTS (SELECT 1 FROM {table} r WHERE r.id = t.row_id)",
        ],
        reverse_sql=[
            f"DROP TRIGGER IF EXISTS {table}_search_term_truncate ON {table}",
            f"DROP FUNCTION IF EXISTS {function}()",
        ],
    )


class Migration(migrations.Migration):
    dependencies = [("directory", "0003_search")]

    operations = [_truncate_trigger(table, kind) for table, kind in KINDS.items()]
