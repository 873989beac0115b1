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

from grassroots.core.moves import relabel_content_types

MODELS = ("emergency", "emergencyack", "emergencypolicy")


def forwards(apps, schema_editor):
    relabel_content_types(apps, MODELS, "broadcast", "alerts")


def backwards(apps, schema_editor):
    relabel_content_types(apps, MODELS, "alerts", "broadcast")


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
