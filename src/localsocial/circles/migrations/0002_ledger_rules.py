"""The ledger rules the database enforces itself (circles/ledger_sql.py)."""

from django.db import migrations


def create(apps, schema_editor):
    from localsocial.circles.ledger_sql import ledger_triggers_ensure

    ledger_triggers_ensure(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("circles", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
