"""The documented production set-up, built as an operator builds it, used as an editor uses it.

`python3 -m mrblue.bootstrap deploy` writes the kit (systemd units, the nginx site, the
environment file) and prepares a database of its own on PostgreSQL (migrations, static files,
`check --deploy`). Then, as systemd and nginx would run the kit's files: Debian's nginx
terminating TLS (a certificate made here) in front of two web processes, one engine worker on
this host and one on a second host (a network namespace with its own address, reaching
PostgreSQL and Redis over its link), `DEBUG=0`. Chromium, trusting that certificate, logs in
over https as two users, holds two voice calls at once (one on each worker, so the audio of one
crosses to the other host), and the transcript lands in the admin.

It runs where the production shape can be built: as root (network namespaces), with nginx,
PostgreSQL and Redis (the CI's second pass). The processes run as the units' `User=`
(`mrblue`), let through to the checkout's Python as `serve` lets its user through.
"""

import os
import pwd
import re
import secrets
import ssl
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from playwright.sync_api import expect

from mrblue.project.deploy.kit import read_env_file
from tests.support.audio_fixtures import utterance, write_wav
from tests.support.browser import close_settled, launch, log_in, playwright_session
from tests.support.deployment import (
    Host,
    Nginx,
    certificate,
    free_port,
    run_unit,
    system_command,
    wait_for_port,
)
from tests.support.live import ROOT

NAME = "mrblue.test"
PASSWORD = "deploy-" + secrets.token_urlsafe(8)
ARTIFACTS = ROOT / "test-artifacts"
READY_SECONDS = 180  # two workers load Whisper and piper at once on two cores

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(not system_command("nginx"), reason="Debian's nginx is not installed"),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres")
        or not os.environ.get("REDIS_URL"),
        reason="the deployed shape runs on PostgreSQL and Redis (CI's second pass)",
    ),
]


def _admin_database_url() -> str:
    return os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"


@pytest.fixture
def database():
    """A PostgreSQL database of the deployment's own, dropped afterwards."""
    import psycopg

    name = "mrblue_deploy_" + secrets.token_hex(4)
    with psycopg.connect(_admin_database_url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(_admin_database_url(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Deployment:
    """The running site: `url` (https, through nginx) and its two workers' health URLs."""

    def __init__(self, https_port, http_port, cert, workers, processes, nginx):
        self.https_port = https_port
        self.url = f"https://{NAME}:{https_port}"
        self.http_url = f"http://127.0.0.1:{http_port}"
        self.cert = cert
        self.workers = workers
        self.processes = processes
        self.nginx = nginx

    def get(self, path: str, **kwargs) -> httpx.Response:
        """GET `path` of the site through nginx over TLS, by its name (verified against the
        site's certificate; the name resolves to loopback only in Chromium)."""
        context = ssl.create_default_context(cafile=str(self.cert))
        with httpx.Client(verify=context, timeout=10) as client:
            return client.get(
                f"https://127.0.0.1:{self.https_port}{path}",
                headers={"Host": f"{NAME}:{self.https_port}"},
                extensions={"sni_hostname": NAME},
                **kwargs,
            )

    def placeable(self) -> int:
        """How many workers the site can place a session on (0 while it cannot answer)."""
        try:
            answer = self.get("/healthz")
        except httpx.HTTPError:
            return 0
        return answer.json().get("placeable", 0) if answer.status_code == 200 else 0

    def worker_sessions(self) -> list[int]:
        """Live sessions on each worker, as its own /healthz says (internal traffic)."""
        return [httpx.get(url, timeout=5).json()["sessions"] for url in self.workers]

    def diagnostics(self) -> str:
        """What every process printed last, and nginx's error log."""
        return "\n".join([p.tail() for p in self.processes] + ["--- nginx", self.nginx.log()])


def _wait(condition, timeout, describe):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(describe())


def _on_host(url: str, address: str) -> str:
    """`url` with its host replaced by `address` (its port and path kept)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    at = netloc[0] + "@" if len(netloc) == 2 else ""
    return urlunsplit(parts._replace(netloc=f"{at}{address}:{parts.port}"))


def _append(env_file: Path, lines: dict) -> Path:
    env_file.write_text(
        env_file.read_text() + "".join(f"{key}={value}\n" for key, value in lines.items())
    )
    return env_file


@pytest.fixture
def deployment(tmp_path, database):
    """Write the kit with the documented command, then run its files as systemd and nginx do."""
    cert, key, spki = certificate(tmp_path, NAME)
    https_port, http_port = free_port(), free_port()
    web_ports = [free_port(), free_port()]
    worker_port, remote_worker_port = free_port(), free_port()
    redis_url = os.environ["REDIS_URL"]
    kit = tmp_path / "kit"
    command = [
        sys.executable,
        "-m",
        "mrblue.bootstrap",
        "deploy",
        *("--name", NAME, "--out", kit, "--root", ROOT),
        *("--https-port", https_port, "--http-port", http_port),
        *("--web-ports", ",".join(map(str, web_ports)), "--worker-ports", worker_port),
        *("--webrtc-hosts", "127.0.0.1"),
        *("--certificate", cert, "--certificate-key", key),
        *("--database-url", database, "--redis-url", redis_url),
    ]
    subprocess.run(
        [str(arg) for arg in command],
        cwd=ROOT,
        check=True,
        env={k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DEBUG"))},
    )
    # What an operator adds for this site: its own pool and cache prefix on a shared Redis
    # (the test's runs share one), demo users, and quicker beats and drains for a test.
    tag = secrets.token_hex(4)
    test_lines = {
        "MRBLUE_ENGINE_POOL": f"deploy-{tag}",
        "CACHE_KEY_PREFIX": f"deploy-{tag}",
        "MRBLUE_ENGINE_HEARTBEAT_SECONDS": "0.5",
        "MRBLUE_ENGINE_DRAIN_SECONDS": "3",
        "MRBLUE_DEMO_PASSWORD": PASSWORD,
    }
    env_file = _append(kit / "mrblue.env", test_lines)
    subprocess.run(
        [sys.executable, "manage.py", "demo_data"],
        cwd=ROOT,
        check=True,
        env={"PATH": os.environ["PATH"], **read_env_file(env_file)},
        capture_output=True,
    )

    host = Host(relay_ports=[urlsplit(database).port, urlsplit(redis_url).port])
    # The second host's copy of the environment file: its own address, the database and
    # Redis reached over its link.
    remote = read_env_file(env_file)
    remote["DATABASE_URL"] = _on_host(remote["DATABASE_URL"], host.gateway)
    remote["REDIS_URL"] = _on_host(remote["REDIS_URL"], host.gateway)
    remote["MRBLUE_ENGINE_WORKER_ADDRESS"] = remote["MRBLUE_WEBRTC_HOSTS"] = host.address
    remote_env = kit / "remote.env"
    remote_env.write_text("".join(f"{key}={value}\n" for key, value in remote.items()))
    web_unit, engine_unit = kit / "mrblue-web@.service", kit / "mrblue-engine@.service"
    processes, nginx = [], None
    try:
        processes += [run_unit(web_unit, str(port), env_file) for port in web_ports]
        processes.append(run_unit(engine_unit, str(worker_port), env_file))
        processes.append(run_unit(engine_unit, str(remote_worker_port), remote_env, host))
        nginx = Nginx(kit / "nginx-mrblue.conf", tmp_path)
        deployed = Deployment(
            https_port,
            http_port,
            cert,
            [
                f"http://127.0.0.1:{worker_port}/healthz",
                f"http://{host.address}:{remote_worker_port}/healthz",
            ],
            processes,
            nginx,
        )
        wait_for_port("127.0.0.1", https_port)
        _wait(
            lambda: deployed.placeable() == 2,
            READY_SECONDS,
            lambda: "the workers never became placeable\n" + deployed.diagnostics(),
        )
        deployed.spki = spki
        # Until the web processes listened, nginx logged refused connections: from here on
        # it must log no error.
        deployed.nginx_errors_before = deployed.nginx.log().count("[error]")
        yield deployed
    finally:
        if nginx is not None:
            nginx.stop()
        for process in processes:
            process.stop()
        host.close()


def _start_call(browser, deployed, username):
    """A user's editor on the demo page, logged in over https, in a voice call."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    log_in(page, deployed.url, username, PASSWORD)
    page.goto(f"{deployed.url}/editor/mundo-tango/")
    page.get_by_test_id("tab-ai").click()
    page.get_by_test_id("button-start-voice-chat").click()
    expect(page.get_by_test_id("text-voice-status")).to_have_text("Live Voice Chat")
    return context, page


def _heard_and_answered(page):
    """The user's words came back as their transcript, and Mr. Blue answered."""
    expect(page.get_by_test_id("message-user").first).to_contain_text(re.compile("hello", re.I))
    expect(page.get_by_test_id("message-assistant").first).to_contain_text("Mr. Blue")


def _user_of(pid: int) -> str:
    """The name of the user a process runs as (its real uid, from /proc)."""
    status = Path(f"/proc/{pid}/status").read_text()
    uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
    return pwd.getpwuid(uid).pw_name


def test_the_deployed_site_holds_voice_calls_on_both_hosts_over_https(deployment, tmp_path):
    deployed = deployment
    # Every process runs as the units' user, on both hosts.
    assert {_user_of(p.process.pid) for p in deployed.processes} == {"mrblue"}
    # The public side keeps the public rules: plain HTTP is sent to HTTPS, and the site
    # answers with HSTS and serves the collected static files itself (nginx).
    plain = httpx.get(f"{deployed.http_url}/accounts/login/", headers={"Host": NAME})
    assert plain.status_code == 301
    assert plain.headers["location"].startswith(f"https://{NAME}:{deployed.https_port}/")
    login = deployed.get("/accounts/login/")
    assert login.status_code == 200
    assert "max-age=31536000" in login.headers["strict-transport-security"]
    css = deployed.get("/static/editor/editor.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "nginx" in css.headers["server"]

    microphone = tmp_path / "hello.wav"
    write_wav(microphone, utterance("Hello Mister Blue.", 1.0, 20.0))
    with playwright_session() as playwright:
        browser = launch(
            playwright,
            f"--use-file-for-fake-audio-capture={microphone}",
            f"--host-resolver-rules=MAP {NAME} 127.0.0.1",
            f"--ignore-certificate-errors-spki-list={deployed.spki}",
        )
        contexts = []
        try:
            context, editor = _start_call(browser, deployed, "editor")
            contexts.append(context)
            _wait(
                lambda: sorted(deployed.worker_sessions()) == [0, 1],
                30,
                lambda: f"no worker took the first call: {deployed.worker_sessions()}",
            )
            # The second call goes to the other worker, the least loaded: both hosts carry one.
            context, admin = _start_call(browser, deployed, "admin")
            contexts.append(context)
            _wait(
                lambda: deployed.worker_sessions() == [1, 1],
                30,
                lambda: f"the calls are not one per host: {deployed.worker_sessions()}",
            )
            _heard_and_answered(editor)
            _heard_and_answered(admin)
            ARTIFACTS.mkdir(exist_ok=True)
            editor.screenshot(path=str(ARTIFACTS / "deployed-voice-call.png"), full_page=True)
            for page in (editor, admin):
                page.get_by_test_id("button-stop-voice-chat").click()
                expect(page.get_by_test_id("text-log-status")).to_have_text("Conversation saved")

            admin.goto(f"{deployed.url}/admin/mrblue/conversation/")
            rows = admin.locator("#result_list tbody tr")
            expect(rows).to_have_count(2)
            rows.first.locator("th a").click()
            expect(admin.locator("#content-main")).to_contain_text(re.compile("hello", re.I))
            expect(admin.locator("#content-main")).to_contain_text("Mr. Blue")
        finally:
            for context in contexts:
                close_settled(context)
            browser.close()
    assert deployed.nginx.log().count("[error]") == deployed.nginx_errors_before, (
        deployed.nginx.log()
    )
