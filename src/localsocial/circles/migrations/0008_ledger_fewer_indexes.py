"""The ledger drops four indexes that were each the first column of another index (decision
0023): one index write less per row, and no query they served that the other cannot.

Only PostgreSQL's indexes are dropped (plain DROP INDEX; the foreign keys stay as they are).
SQLite keeps them: altering the field there rebuilds the table, and SQLite refuses to rebuild
``circles_transfer`` under the ledger's triggers that name it; SQLite is for development, where
one index more costs nothing worth a rebuild.
"""

import django.db.models.deletion
from django.db import migrations, models

# (index, table, column), as Django named them when it made the foreign keys.
INDEXES = [
    ("circles_entry_account_id_c161df9e", "circles_entry", "account_id"),
    ("circles_entry_transfer_id_0261058c", "circles_entry", "transfer_id"),
    ("circles_ledgerdaytotal_circle_id_7e20cf90", "circles_ledgerdaytotal", "circle_id"),
    ("circles_transfer_circle_id_e29f2db4", "circles_transfer", "circle_id"),
]


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, _table, _column in INDEXES:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def make_again(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, table, column in INDEXES:
            schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")')


class Migration(migrations.Migration):

    dependencies = [
        ('circles', '0007_ledger_total_slots'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='entry',
                    name='account',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='circles.account'),
                ),
                migrations.AlterField(
                    model_name='entry',
                    name='transfer',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='circles.transfer'),
                ),
                migrations.AlterField(
                    model_name='ledgerdaytotal',
                    name='circle',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='circles.circle'),
                ),
                migrations.AlterField(
                    model_name='transfer',
                    name='circle',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='transfers', to='circles.circle'),
                ),
            ],
            database_operations=[migrations.RunPython(drop, make_again)],
        ),
    ]
