"""Emergencies move from `broadcast` to `alerts` (issue 18): forget them here, state only.

The tables stay; `alerts` 0001 took the models over on the same tables and `alerts` 0002
renames them. Nothing touches the database here.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('broadcast', '0007_emergency_two_person'),
        ('alerts', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name='EmergencyAck'),
                migrations.DeleteModel(name='EmergencyPolicy'),
                migrations.DeleteModel(name='Emergency'),
            ],
        ),
    ]
