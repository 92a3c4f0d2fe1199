"""Engine workers' records are kept as they were signed (every field, `capacity_reason`
included, in the published JSON), stamped with the database's clock; an owner's newest client
secret is found by an index.

The old rows are heartbeats of running workers (written again within a beat), so they are
deleted rather than converted: their times were the workers' own clocks."""

import django.utils.timezone
from django.db import migrations, models


def forget_heartbeats(apps, schema_editor):
    apps.get_model("mrblue", "EngineWorker").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("mrblue", "0014_conversation_trial"),
    ]

    operations = [
        migrations.RunPython(forget_heartbeats, migrations.RunPython.noop),
        *(
            migrations.RemoveField(model_name="engineworker", name=name)
            for name in (
                "url",
                "load",
                "sessions",
                "capacity",
                "draining",
                "pid",
                "started_at",
                "seen_at",
                "capacity_reason",  # in the published record now, like every other field
            )
        ),
        migrations.AddField(
            model_name="engineworker",
            name="published",
            field=models.TextField(default=""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="engineworker",
            name="seen_at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AddIndex(
            model_name="engineclientsecret",
            index=models.Index(fields=["owner", "created_at"], name="engine_secret_owner_newest"),
        ),
    ]
