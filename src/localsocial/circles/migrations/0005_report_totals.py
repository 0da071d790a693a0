import django.db.models.deletion
from django.db import migrations, models


def fill_totals(apps, schema_editor):
    """Make the totals triggers (PostgreSQL) and work every total out from the rows already there
    (decision 0013)."""
    from localsocial.circles.services.help_totals import help_totals_rebuild
    from localsocial.circles.services.ledger_totals import ledger_totals_rebuild

    ledger_totals_rebuild(
        entry=apps.get_model("circles", "Entry"),
        transfer=apps.get_model("circles", "Transfer"),
        total=apps.get_model("circles", "LedgerDayTotal"),
    )
    help_totals_rebuild(
        request=apps.get_model("circles", "HelpRequest"),
        visit=apps.get_model("circles", "Visit"),
        request_total=apps.get_model("circles", "HelpRequestDayTotal"),
        visit_total=apps.get_model("circles", "VisitDayTotal"),
        schema_editor=schema_editor,
    )
    if schema_editor.connection.vendor == "postgresql":
        # The members report's "paid year on the last day": years ending after a day, read from
        # the index alone (not in the model's state: PostgreSQL only, for scale).
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS circles_year_report_paid ON circles_membershipyear (ends_on) "
            "INCLUDE (member_id, starts_on, payment_id)"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS circles_year_report_paid")
        schema_editor.execute("DROP TRIGGER IF EXISTS circles_helprequest_totals ON circles_helprequest")
        schema_editor.execute("DROP TRIGGER IF EXISTS circles_visit_totals ON circles_visit")


class Migration(migrations.Migration):

    dependencies = [
        ('circles', '0004_events_referrals_reports'),
    ]

    operations = [
        migrations.CreateModel(
            name='HelpRequestDayTotal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('category', models.CharField(choices=[('home_jobs', 'Jobs around the home'), ('garden', 'Gardening'), ('tech', 'Help with phones, computers and the internet'), ('trips', 'Trips and transport'), ('shopping', 'Shopping'), ('company', 'Company'), ('learning', 'Learning something new')], max_length=20)),
                ('status', models.CharField(choices=[('open', 'Waiting for a helper'), ('offered', 'Offered to a helper'), ('arranged', 'Helper found'), ('done', 'Done'), ('cancelled', 'Cancelled')], max_length=10)),
                ('requests', models.IntegerField(default=0)),
                ('circle', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='circles.circle')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('circle', 'day', 'category', 'status'), name='circles_requestdaytotal_cell')],
            },
        ),
        migrations.CreateModel(
            name='LedgerDayTotal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('transfer_kind', models.CharField(choices=[('purchase', 'Bought'), ('gift', 'Gift'), ('grant', 'Granted by the circle'), ('help', 'Help'), ('reversal', 'Correction')], max_length=10)),
                ('account_kind', models.CharField(blank=True, max_length=10)),
                ('credit_quarters', models.PositiveBigIntegerField(default=0)),
                ('debit_quarters', models.PositiveBigIntegerField(default=0)),
                ('transfers', models.PositiveIntegerField(default=0)),
                ('circle', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='circles.circle')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('circle', 'day', 'transfer_kind', 'account_kind'), name='circles_ledgerdaytotal_cell'), models.CheckConstraint(condition=models.Q(('account_kind', ''), ('transfers', 0), _connector='OR'), name='circles_ledgerdaytotal_transfers_row')],
            },
        ),
        migrations.CreateModel(
            name='VisitDayTotal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('category', models.CharField(choices=[('home_jobs', 'Jobs around the home'), ('garden', 'Gardening'), ('tech', 'Help with phones, computers and the internet'), ('trips', 'Trips and transport'), ('shopping', 'Shopping'), ('company', 'Company'), ('learning', 'Learning something new')], max_length=20)),
                ('visits', models.IntegerField(default=0)),
                ('quarters', models.BigIntegerField(default=0)),
                ('circle', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='circles.circle')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('circle', 'day', 'category'), name='circles_visitdaytotal_cell')],
            },
        ),
        migrations.CreateModel(
            name='VisitWait',
            fields=[
                ('visit', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='circles.visit')),
                ('checked_in_at', models.DateTimeField()),
                ('wait_seconds', models.FloatField()),
                ('bucket', models.SmallIntegerField()),
                ('circle', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='circles.circle')),
            ],
            options={
                'indexes': [models.Index(fields=['circle', 'bucket', 'checked_in_at'], name='circles_visitwait_band')],
            },
        ),
        migrations.CreateModel(
            name='WaitDayTotal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('bucket', models.SmallIntegerField()),
                ('visits', models.IntegerField(default=0)),
                ('circle', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='circles.circle')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('circle', 'day', 'bucket'), name='circles_waitdaytotal_cell')],
            },
        ),
        migrations.RunPython(fill_totals, drop_triggers),
    ]
