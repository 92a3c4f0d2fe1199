"""The production kit's files, the process launcher, and the worker role's settings."""

import json
import stat

import pytest

from mrblue.project.deploy.kit import KitOptions, read_env_file, render, write_kit
from mrblue.project.launch import plan, worker_url
from tests.support.deployment import read_unit, unit_environment
from tests.support.live import ROOT, run_python


@pytest.fixture
def kit(tmp_path):
    """The kit for mrblue.example.com, written into a folder of the test's own."""
    options = KitOptions(server_name="mrblue.example.com", root=ROOT)
    write_kit(options, tmp_path)
    return tmp_path


def test_every_placeholder_is_filled_and_a_missing_value_is_an_error(kit):
    for path in kit.iterdir():
        assert "{{" not in path.read_text(), path.name
    with pytest.raises(KeyError, match="server_name"):
        render("server_name {{server_name}};", {})


def test_the_environment_file_is_private_and_keeps_its_secrets_when_written_again(kit):
    env_file = kit / "mrblue.env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    first = read_env_file(env_file)
    assert first["DEBUG"] == "0" and first["BEHIND_TLS_PROXY"] == "1"
    assert first["ALLOWED_HOSTS"] == "mrblue.example.com"
    assert first["CSRF_TRUSTED_ORIGINS"] == "https://mrblue.example.com"
    assert len(first["SECRET_KEY"]) >= 50 and first["MRBLUE_ENGINE_API_KEY"].startswith("sk-")
    write_kit(KitOptions(server_name="mrblue.example.com", root=ROOT, https_port=8443), kit)
    again = read_env_file(kit / "mrblue.env")
    assert again["SECRET_KEY"] == first["SECRET_KEY"]
    assert again["MRBLUE_ENGINE_API_KEY"] == first["MRBLUE_ENGINE_API_KEY"]
    assert again["CSRF_TRUSTED_ORIGINS"] == "https://mrblue.example.com:8443"


def test_the_units_run_the_launcher_as_their_user_with_the_environment_file(kit):
    web = read_unit(kit / "mrblue-web@.service")
    engine = read_unit(kit / "mrblue-engine@.service")
    launch = f"{ROOT}/.venv/bin/python -m mrblue.project.launch"
    assert web["ExecStart"] == [f"{launch} web --port %i"]
    assert engine["ExecStart"] == [f"{launch} worker --port %i"]
    for unit in (web, engine):
        assert unit["User"] == ["mrblue"] and unit["EnvironmentFile"] == ["/etc/mrblue/mrblue.env"]
    # A worker's stop waits for its drain (60 s by default) and a margin.
    assert int(engine["TimeoutStopSec"][0]) > 60 and engine["KillSignal"] == ["SIGTERM"]
    env = unit_environment(engine, kit / "mrblue.env")
    assert env["MRBLUE_ENGINE_WORKER_ADDRESS"] == "127.0.0.1"


def test_the_nginx_site_forwards_to_every_web_process_with_the_proxy_headers(kit):
    site = (kit / "nginx-mrblue.conf").read_text()
    assert "server 127.0.0.1:8000;" in site and "server 127.0.0.1:8010;" in site
    assert "listen 443 ssl;" in site and "return 301 https://$host$request_uri;" in site
    for header in ("X-Forwarded-Proto $scheme", "Upgrade $http_upgrade", "Host $http_host"):
        assert f"proxy_set_header {header};" in site
    assert f"alias {ROOT}/staticfiles/;" in site


def test_the_launcher_runs_daphne_in_each_role():
    command, env = plan(["web", "--port", "8000"], {})
    assert env["MRBLUE_ENGINE_ROLE"] == "gateway"
    assert command[1:7] == ["-m", "daphne", "-b", "127.0.0.1", "-p", "8000"]
    assert "--proxy-headers" in command and command[-1] == "mrblue.project.asgi:application"
    command, env = plan(["worker", "--port", "8001"], {"MRBLUE_ENGINE_WORKER_ADDRESS": "10.0.0.5"})
    assert env["MRBLUE_ENGINE_ROLE"] == "worker"
    assert env["MRBLUE_ENGINE_WORKER_URL"] == "http://10.0.0.5:8001"
    assert command[3:7] == ["-b", "10.0.0.5", "-p", "8001"] and "--proxy-headers" not in command
    assert command[-1] == "mrblue.engine.asgi:application"  # the worker's own, not the site's
    assert "--websocket-max-message-size" in command
    _, env = plan(["worker", "--port", "8001"], {"MRBLUE_ENGINE_WORKER_URL": "http://w1:8001"})
    assert env["MRBLUE_ENGINE_WORKER_URL"] == "http://w1:8001"
    assert worker_url("::1", 8001) == "http://[::1]:8001"


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-production-key-for-the-settings-test-" + "x" * 20,
    "ALLOWED_HOSTS": "mrblue.example.com",
    "BEHIND_TLS_PROXY": "1",
}
SHOW = (
    "from django.conf import settings as s; import json; print(json.dumps({"
    "'hosts': s.ALLOWED_HOSTS, 'redirect': s.SECURE_SSL_REDIRECT, 'hsts': s.SECURE_HSTS_SECONDS,"
    "'proxy': bool(s.SECURE_PROXY_SSL_HEADER)}))"
)


def _settings(**env) -> dict:
    result = run_python(
        ["-c", f"import django; django.setup(); {SHOW}"],
        drop=("DJANGO_", "DEBUG", "MRBLUE_ENGINE"),
        DJANGO_SETTINGS_MODULE="mrblue.project.settings",
        **PRODUCTION,
        **env,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_worker_answers_at_its_own_url_and_the_site_keeps_the_public_rules():
    site = _settings()
    assert site == {
        "hosts": ["mrblue.example.com"],
        "redirect": True,
        "hsts": 31536000,
        "proxy": True,
    }
    worker = _settings(MRBLUE_ENGINE_ROLE="worker", MRBLUE_ENGINE_WORKER_URL="http://10.0.0.5:8001")
    assert worker == {"hosts": ["10.0.0.5"], "redirect": False, "hsts": 0, "proxy": False}
    ipv6 = _settings(MRBLUE_ENGINE_ROLE="worker", MRBLUE_ENGINE_WORKER_URL="http://[fd00::5]:8001")
    assert ipv6["hosts"] == ["[fd00::5]"]
