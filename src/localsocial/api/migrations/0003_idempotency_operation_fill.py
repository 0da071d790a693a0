"""Idempotency keys made by ``POST /api/stories/`` before every endpoint recorded what it made
as ``operation`` and ``object_id``: give them the operation the stories endpoint records now
(``stories.story_submit``) and their story's id, so that a retry with an old key still gets
its story once the ``story`` column is gone (0004).  Reversible: going back puts the story
link again."""

from django.db import migrations
from django.db.models import F

STORY_SUBMIT_OPERATION = "stories.story_submit"  # as stories.services.api records it


def operation_fill(apps, schema_editor):
    key_model = apps.get_model("api", "ApiIdempotencyKey")
    key_model.objects.using(schema_editor.connection.alias).filter(story__isnull=False).update(
        operation=STORY_SUBMIT_OPERATION, object_id=F("story_id")
    )


def story_link_fill(apps, schema_editor):
    key_model = apps.get_model("api", "ApiIdempotencyKey")
    story_model = apps.get_model("stories", "Story")
    rows = key_model.objects.using(schema_editor.connection.alias).filter(operation=STORY_SUBMIT_OPERATION)
    # A key whose story is gone cannot be kept with the foreign key: drop it, as deleting the
    # story would have.
    rows.exclude(object_id__in=story_model.objects.using(schema_editor.connection.alias).values("pk")).delete()
    rows.update(story_id=F("object_id"), operation="", object_id=None)


class Migration(migrations.Migration):

    dependencies = [
        ("api", "0002_circles"),
        ("stories", "0004_dashboard_totals"),  # the Story model the reverse checks against
    ]

    operations = [
        migrations.RunPython(operation_fill, story_link_fill, elidable=False),
    ]
