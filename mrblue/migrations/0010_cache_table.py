"""The database cache's table (the embedded default keeps rate limits there, shared by every
web process), created as `manage.py createcachetable` would, so `migrate` is the one step."""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "mrblue_cache"  # mrblue.project.cache.TABLE, copied: a migration keeps its own values


def create(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("mrblue", "0009_turn_timings")]

    operations = [migrations.RunPython(create, drop)]
