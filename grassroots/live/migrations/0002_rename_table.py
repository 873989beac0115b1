"""Live delivery moves from `alerts` to its own app `live`, step 2 of 2: the data follows.

The table and the area's many-to-many table are renamed to this app's names:
`alerts_livesession` → `live_livesession`, `alerts_livesession_area` → `live_livesession_area`.
A rename keeps every row, id and constraint (SQLite and PostgreSQL both rename in place). The
content type follows too, so the audit trail (ObjectChange) of every session stays attached to
it. Reversible.
"""

from django.db import migrations

from grassroots.core.moves import relabel_content_types

MODELS = ("livesession",)


def forwards(apps, schema_editor):
    relabel_content_types(apps, MODELS, "alerts", "live")


def backwards(apps, schema_editor):
    relabel_content_types(apps, MODELS, "live", "alerts")


class Migration(migrations.Migration):

    dependencies = [
        ('live', '0001_initial'),
        ('alerts', '0008_live_sessions_moved_to_live'),
        ('admin', '0003_logentry_add_action_flag_choices'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('core', '0001_initial'),
    ]

    operations = [
        migrations.AlterModelTable(name='livesession', table=None),
        migrations.RunPython(forwards, backwards),
    ]
