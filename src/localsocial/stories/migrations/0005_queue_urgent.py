"""The moderation queue's "read first" flag as a column the database keeps (decision 0022).

Until now the queue worked the flag out for every pending story on every request: the text
joined and cleaned twelve times over and searched for eighteen words, before it could sort.
A generated column does it once, when the text or the criticality changes, and a partial index
on the pending stories gives the queue its order directly.

The column is added by hand rather than by ``AddField``: on SQLite, Django would rebuild the
table for it, which drops the triggers that keep the stories' full-text index.  PostgreSQL
stores it; SQLite computes it when read (SQLite cannot add a stored column to a table), and
indexes it all the same.
"""

from django.db import migrations, models
from django.db.models.expressions import RawSQL

from localsocial.stories.models.story import queue_urgent_sql

# Frozen here: the words and separators as they were when this migration was written.
WORDS = (
    "abuse", "abusive", "assault", "bruise", "dehydrat", "death", "died", "dying", "malnourish",
    "neglect", "overdose", "rape", "restrain", "self-harm", "self harm", "starv", "suicid", "unsafe",
)
SEPARATORS = ("\n", "\r", "\t", "(", '"', "\u201c", "'", "\u2018", "/", "-", ",", ".")
SQL = queue_urgent_sql(WORDS, SEPARATORS, 4)


def add_column(apps, schema_editor):
    kind = "STORED" if schema_editor.connection.vendor == "postgresql" else "VIRTUAL"
    schema_editor.execute(
        f"ALTER TABLE stories_story ADD COLUMN queue_urgent boolean GENERATED ALWAYS AS ({SQL}) {kind}",
        None,  # no parameters: the "%" of each LIKE pattern is text, not a placeholder
    )


def drop_column(apps, schema_editor):
    schema_editor.execute("ALTER TABLE stories_story DROP COLUMN queue_urgent")


class Migration(migrations.Migration):

    dependencies = [
        ("stories", "0004_dashboard_totals"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(add_column, drop_column)],
            state_operations=[
                migrations.AddField(
                    model_name="story",
                    name="queue_urgent",
                    field=models.GeneratedField(
                        db_persist=True, expression=RawSQL(SQL, ()), output_field=models.BooleanField()
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="story",
            index=models.Index(
                condition=models.Q(("status", "pending")), fields=["-queue_urgent", "submitted_at", "id"],
                name="stories_story_pending_urgent",
            ),
        ),
    ]
