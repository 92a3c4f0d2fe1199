"""Settings: production checks, SQLite in WAL mode, the channel layer in use."""

import os
import uuid
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from tests.live import run_python

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args, **env):
    return run_python(["manage.py", *args], drop=("DJANGO_", "DEBUG"), **env)


def test_production_settings_pass_check_deploy_without_warnings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="x" * 20 + uuid.uuid4().hex + "-Production-Key-!",
        ALLOWED_HOSTS="mrblue.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_without_a_secret_key_refuses_to_start():
    result = _manage("check", DEBUG="0", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_database_in_use_is_the_configured_one():
    from django.db import connection

    expected = (
        "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    )
    assert connection.vendor == expected
    if expected == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"


def test_channel_layer_round_trip():
    layer = get_channel_layer()
    expected = "RedisChannelLayer" if os.environ.get("REDIS_URL") else "InMemoryChannelLayer"
    assert type(layer).__name__ == expected
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"].endswith(expected)

    async def round_trip():
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "hello", "n": 1})
        return await layer.receive(channel)

    assert async_to_sync(round_trip)() == {"type": "hello", "n": 1}
