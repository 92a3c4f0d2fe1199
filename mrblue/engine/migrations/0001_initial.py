"""The engine's tables become the `engine` app's: its client secrets and worker records.

They were made by the `mrblue` app's migrations (0002, 0007, 0008, 0015) and keep their
tables and rows: this migration only tells Django's state where they live now, and moves
their content types (so permissions given on them stay given). `mrblue` 0016 drops them from
that app's state.
"""

from django.db import migrations, models

MODELS = ("engineclientsecret", "engineworker")


def move_content_types(apps, schema_editor, source="mrblue", target="engine"):
    """Relabel the models' content types, unless the target's exist already."""
    content_type = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MODELS:
        if not content_type.objects.using(db).filter(app_label=target, model=model).exists():
            content_type.objects.using(db).filter(app_label=source, model=model).update(
                app_label=target
            )


def move_content_types_back(apps, schema_editor):
    """The reverse: back to the `mrblue` app."""
    move_content_types(apps, schema_editor, source="engine", target="mrblue")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("mrblue", "0015_engine_worker_signed_records"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="EngineClientSecret",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("key_hash", models.CharField(max_length=64, unique=True)),
                        ("session", models.JSONField()),
                        ("owner", models.CharField(blank=True, default="", max_length=128)),
                        ("worker", models.CharField(blank=True, default="", max_length=64)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("expires_at", models.DateTimeField(db_index=True)),
                    ],
                    options={
                        "verbose_name": "engine client secret",
                        "db_table": "mrblue_engineclientsecret",
                        "indexes": [
                            models.Index(
                                fields=["owner", "created_at"], name="engine_secret_owner_newest"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="EngineWorker",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("pool", models.CharField(max_length=64)),
                        ("worker_id", models.CharField(max_length=64)),
                        ("published", models.TextField()),
                        ("seen_at", models.DateTimeField(db_index=True)),
                    ],
                    options={
                        "verbose_name": "engine worker",
                        "db_table": "mrblue_engineworker",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("pool", "worker_id"), name="one_record_per_worker"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
