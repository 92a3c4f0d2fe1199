"""The engine's tables leave this app's state for the `engine` app's (`engine` 0001): the
tables and their rows stay as they are."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("mrblue", "0015_engine_worker_signed_records"),
        ("engine", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="EngineClientSecret"),
                migrations.DeleteModel(name="EngineWorker"),
            ],
            database_operations=[],
        ),
    ]
