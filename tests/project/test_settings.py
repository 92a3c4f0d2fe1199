"""Settings: declared once (docs generated from them), production checks, SQLite in WAL mode,
the channel layer in use."""

import json
import os
import uuid
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from mrblue.app_settings import SETTINGS, app_settings
from mrblue.engine.engine_settings import engine_settings
from mrblue.project import settings_doc
from tests.support.live import run_python

ROOT = Path(__file__).resolve().parents[2]


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


def test_env_example_and_settings_page_table_are_generated_from_the_declarations():
    # Regenerate with `python -m mrblue.project.settings_doc` after changing a declaration.
    assert (ROOT / ".env.example").read_text() == settings_doc.env_example()
    page = (ROOT / "mrblue" / "docs" / "settings.md").read_text()
    assert settings_doc.page_with_table(page, settings_doc.settings_table()) == page
    for setting in SETTINGS:
        assert f"# {setting.name}=" in settings_doc.env_example()
        assert f"| `{setting.name}` |" in page


def test_every_setting_is_declared_once():
    names = [setting.name for setting in SETTINGS]
    assert len(names) == len(set(names))
    assert all(setting.doc.endswith(".") for setting in SETTINGS)


def test_override_settings_reaches_the_typed_values(settings):
    settings.MRBLUE_ENGINE_BRAIN = "openai_compatible"
    settings.MRBLUE_WEBRTC_HOSTS = " 10.0.0.1, 10.0.0.2 "  # a string is read as the env would be
    settings.MRBLUE_BRAIN_TIMEOUT = 2.5
    assert engine_settings.ENGINE_BRAIN == "openai_compatible"
    assert engine_settings.WEBRTC_HOSTS == ["10.0.0.1", "10.0.0.2"]
    assert engine_settings.BRAIN_TIMEOUT == 2.5
    # The app reads the engine's settings (its key, the default model) from the same declaration.
    assert app_settings.ENGINE_API_KEY == engine_settings.ENGINE_API_KEY
    settings.MRBLUE_DEFAULT_MODEL = None
    assert app_settings.DEFAULT_MODEL == "gpt-realtime"


def _app_setting(name, **env):
    code = (
        "import json; from mrblue.app_settings import app_settings; "
        f"print(json.dumps(app_settings.{name}))"
    )
    return _manage("shell", "-c", code, **env)


def test_prices_come_from_the_environment_as_json():
    prices = {"gpt-realtime": {"audio": [32, 0.4, 64], "text": [4, 0.4, 16]}}
    result = _app_setting("PRICES", MRBLUE_PRICES=json.dumps(prices))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == prices


@pytest.mark.parametrize(
    "name, value, reason",
    [
        ("MRBLUE_PRICES", '{"gpt-realtime": {"audio": [32, 0.4', "Expecting"),
        ("MRBLUE_PRICES", '{"gpt-realtime": {"audio": [32, 0.4, 64]}}', '"text" must be three'),
        ("MRBLUE_ENGINE_MAX_SESSIONS", "twenty", "invalid literal for int()"),
    ],
)
def test_an_invalid_value_refuses_to_start_with_a_clear_error(name, value, reason):
    result = _app_setting("PRICES", **{name: value})
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {name} is not valid" in result.stderr
    assert reason in result.stderr
