"""Emergencies move from `broadcast` to `alerts` (issue 18), step 2 of 2: the data follows.

The three tables (and the area's many-to-many table) are renamed to this app's names:
`broadcast_emergency` → `alerts_emergency`, `broadcast_emergency_area` →
`alerts_emergency_area`, `broadcast_emergencyack` → `alerts_emergencyack`,
`broadcast_emergencypolicy` → `alerts_emergencypolicy`. A rename keeps every row, id and
constraint (SQLite and PostgreSQL both rename in place). The content types follow too, so the
audit trail (ObjectChange, content type on PROTECT) of every emergency stays attached to it.
Reversible.
"""

from django.db import migrations

MODELS = ("emergency", "emergencyack", "emergencypolicy")


def _relabel(apps, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    ObjectChange = apps.get_model("core", "ObjectChange")
    for model in MODELS:
        source = ContentType.objects.filter(app_label=old, model=model).first()
        if source is None:
            continue  # a database migrated in one go has no content type for it yet
        target = ContentType.objects.filter(app_label=new, model=model).first()
        if target is None:
            source.app_label = new
            source.save(update_fields=["app_label"])
        else:  # both exist (post_migrate ran in between): keep the new one, move the history
            ObjectChange.objects.filter(content_type=source).update(content_type=target)
            source.delete()


def forwards(apps, schema_editor):
    _relabel(apps, "broadcast", "alerts")


def backwards(apps, schema_editor):
    _relabel(apps, "alerts", "broadcast")


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0001_initial'),
        ('broadcast', '0008_emergencies_moved_to_alerts'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('core', '0001_initial'),
    ]

    operations = [
        migrations.AlterModelTable(name='emergency', table=None),
        migrations.AlterModelTable(name='emergencyack', table=None),
        migrations.AlterModelTable(name='emergencypolicy', table=None),
        migrations.RunPython(forwards, backwards),
    ]
