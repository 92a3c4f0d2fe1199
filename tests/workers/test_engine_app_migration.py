"""The engine's tables move from the `mrblue` app to the `engine` app without losing a row:
client secrets and worker records stay, and a permission given on them stays given."""

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from mrblue.engine.models import EngineClientSecret, EngineWorker, hash_secret
from tests.support.migrations import migrate, migrate_to_latest

BEFORE = [("mrblue", "0015_engine_worker_signed_records"), ("engine", None)]


@pytest.mark.django_db(transaction=True)
def test_the_engine_tables_keep_their_rows_and_permissions_in_the_engine_app():
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

        migrate_to_latest()
        assert EngineClientSecret.live("ek_kept").session == {"model": "m"}
        assert list(EngineWorker.objects.values_list("worker_id", flat=True)) == ["w1"]
        assert ContentType.objects.get_for_model(EngineWorker).pk == old_type.pk
        assert User.objects.get(pk=watcher.pk).has_perm("engine.view_engineworker")
    finally:
        migrate_to_latest()
