"""Live delivery moves from `alerts` to its own app `live`: forget `LiveSession` here, state only.

The table stays; `live` 0001 took the model over on the same table and `live` 0002 renames
it. Nothing touches the database here.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0007_live_sources'),
        ('live', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name='LiveSession'),
            ],
        ),
    ]
