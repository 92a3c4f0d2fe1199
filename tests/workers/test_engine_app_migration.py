"""The engine's tables move from the `mrblue` app to the `engine` app without losing a row:
client secrets and worker records stay, and a permission given on them stays given."""

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from mrblue.engine.models import EngineClientSecret, EngineWorker, hash_secret

BEFORE = [("mrblue", "0015_engine_worker_signed_records"), ("engine", None)]


def migrate(targets):
    """Migrate the test database to `targets` (`(app, None)`: none of that app's); return the
    models as they are there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


@pytest.mark.django_db(transaction=True)
def test_the_engine_tables_keep_their_rows_and_permissions_in_the_engine_app():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    try:
        apps = migrate(BEFORE)
        # A database from before the engine app: no content type of it yet.
        ContentType.objects.filter(app_label="engine").delete()
        expires = timezone.now() + timezone.timedelta(minutes=5)
        apps.get_model("mrblue", "EngineClientSecret").objects.create(
            key_hash=hash_secret("ek_kept"), session={"model": "m"}, owner="7", expires_at=expires
        )
        apps.get_model("mrblue", "EngineWorker").objects.create(
            pool="default", worker_id="w1", published="{}", seen_at=timezone.now()
        )
        old_type = ContentType.objects.get_or_create(app_label="mrblue", model="engineworker")[0]
        view, _ = Permission.objects.get_or_create(
            content_type=old_type, codename="view_engineworker", defaults={"name": "Can view"}
        )
        watcher = User.objects.create_user("watcher", is_staff=True)
        watcher.user_permissions.add(view)

        migrate(latest)
        assert EngineClientSecret.live("ek_kept").session == {"model": "m"}
        assert list(EngineWorker.objects.values_list("worker_id", flat=True)) == ["w1"]
        assert ContentType.objects.get_for_model(EngineWorker).pk == old_type.pk
        assert User.objects.get(pk=watcher.pk).has_perm("engine.view_engineworker")
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
