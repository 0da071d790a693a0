"""The ledger's daily totals spread over slots, and the transfer made by one database function
(decision 0023).

Forward: every existing row becomes slot 0 of its cell (the column's default), which keeps each
cell's total exactly what it was; then the ledger's SQL is made again, which on PostgreSQL
creates ``circles_ledger_transfer`` (circles/ledger_sql.py).  Backward: each cell's slots are
added up into one row first, so the old one-row-a-cell constraint holds again.
"""

from django.db import migrations, models
from django.db.models import Sum


def ledger_sql_ensure(apps, schema_editor):
    from localsocial.circles.ledger_sql import ledger_triggers_ensure

    ledger_triggers_ensure(schema_editor.connection)


def slots_fold_into_one(apps, schema_editor):
    total = apps.get_model("circles", "LedgerDayTotal")
    cells = list(
        total.objects.values("circle_id", "day", "transfer_kind", "account_kind")
        .annotate(credit=Sum("credit_quarters"), debit=Sum("debit_quarters"), n=Sum("transfers"))
        .order_by()
    )
    total.objects.all().delete()
    total.objects.bulk_create(
        [
            total(circle_id=c["circle_id"], day=c["day"], transfer_kind=c["transfer_kind"],
                  account_kind=c["account_kind"], credit_quarters=c["credit"], debit_quarters=c["debit"],
                  transfers=c["n"], slot=0)
            for c in cells
        ],
        batch_size=2000,
    )
    if schema_editor.connection.vendor == "postgresql":
        # Check the new rows' foreign keys now: PostgreSQL will not alter a table with checks pending.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):

    dependencies = [
        ('circles', '0006_event_idempotency'),
    ]

    operations = [
        migrations.AddField(
            model_name='ledgerdaytotal',
            name='slot',
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.RemoveConstraint(
            model_name='ledgerdaytotal',
            name='circles_ledgerdaytotal_cell',
        ),
        # Backward, between dropping the slots' constraint and making the old one again.
        migrations.RunPython(migrations.RunPython.noop, slots_fold_into_one),
        migrations.AddConstraint(
            model_name='ledgerdaytotal',
            constraint=models.UniqueConstraint(fields=('circle', 'day', 'transfer_kind', 'account_kind', 'slot'), name='circles_ledgerdaytotal_cell_slot'),
        ),
        migrations.RunPython(ledger_sql_ensure, migrations.RunPython.noop),
    ]
