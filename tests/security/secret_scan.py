"""A pytest plugin that watches the whole suite for secrets reaching the outside world.

It reads what the app hands out while the tests run: every response the Django test client
gets (headers and body), every rendered template, every log record (formatted, with its
traceback), and every line a live server prints (`tests.support.live.LiveServer`). At the end of the
session it fails the run if any of them held the OpenAI key, the engine key, another
configured key, or a full client secret (`ek_...`). A minted secret may appear once, in the
response that delivered it to its owner, and nowhere else.

Everything is checked as it arrives (nothing is kept but the findings), so the cost is a few
substring searches per response, template and log line.
"""

import contextlib
import functools
import json
import logging
import os
import re
import threading

import pytest

from tests.support import fake_openai_server, live

# Keys the tests configure (in this process, in live servers, on the OpenAI stand-in).
OPENAI_TEST_KEY = "sk-mrblue-test-openai-key"
TEST_KEYS = (
    live.ENGINE_KEY,
    OPENAI_TEST_KEY,
    *fake_openai_server.KEYS,
)
KEY_SETTINGS = ("OPENAI_API_KEY", "MRBLUE_ENGINE_API_KEY", "MRBLUE_BRAIN_API_KEY")
# The paths whose JSON `value` hands a freshly minted secret to the one who asked for it.
MINTING_PATHS = ("/api/realtime/session", "/v1/realtime/client_secrets")
# ...and the admin's console ("Try it here"), which mints for the page's or profile's trials.
CONSOLE_MINTING_PATH = re.compile(r"/admin/\w+/\w+/[^/]+/console/session/")
# The engine's secrets are "ek_" + 43 url-safe characters; shorter ones (a log's "ek_ab12…")
# identify a secret without giving it away.
FULL_ENGINE_SECRET = re.compile(r"ek_[A-Za-z0-9_-]{40,}")
SHORTEST_KEY = 6  # shorter "keys" (say a test's "x") would match everywhere
# The app's own loggers log at every level during the suite, so a secret in a debug line shows.
APP_LOGGERS = ("mrblue", "editor")


class SecretScan:
    """Checks texts for secrets and keeps what it finds."""

    def __init__(self, keys=()):
        self.keys = {k for k in keys if len(k) >= SHORTEST_KEY}
        self.minted: set[str] = set()
        self.findings: list[str] = []
        self._planted: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def scan(self, text: str, where: str, extra_keys=(), delivered: str | None = None) -> None:
        """Record a finding for each secret in `text`; `delivered` may appear there once."""
        if delivered:
            text = text.replace(delivered, "", 1)
        keys = self.keys.union(k for k in extra_keys if k and len(k) >= SHORTEST_KEY)
        found = {k for k in keys if k in text}
        if "ek_" in text:
            found.update(s for s in self.minted if s in text)
            found.update(FULL_ENGINE_SECRET.findall(text))
        for secret in found:
            self._found(secret, where, text)

    def _found(self, secret: str, where: str, text: str) -> None:
        at = text.index(secret)
        context = text[max(0, at - 60) : at + len(secret) + 60].replace(secret, "<SECRET>")
        finding = f"{where}: {secret[:6]}… in …{context!r}…"
        with self._lock:
            planted = next((v for k, v in self._planted.items() if k in secret), None)
            (planted if planted is not None else self.findings).append(finding)

    @contextlib.contextmanager
    def planted(self, value: str):
        """Treat `value` as a secret, and collect its findings apart (the scan's own tests)."""
        caught: list[str] = []
        with self._lock:
            self._planted[value] = caught
            self.keys.add(value)
        try:
            yield caught
        finally:
            with self._lock:
                del self._planted[value]
                self.keys.discard(value)

    def response(self, method: str, path: str, response) -> None:
        """Scan a test client's response; register a secret it mints for its owner."""
        from mrblue.app_settings import app_settings

        body = b"" if getattr(response, "streaming", False) else response.content
        text = body.decode("utf-8", "replace")
        headers = "\n".join(f"{k}: {v}" for k, v in response.items())
        cookies = "\n".join(str(c) for c in response.cookies.values())
        delivered = self._minted_by(path, response, body)
        current = [getattr(app_settings, n) for n in ("OPENAI_API_KEY", "ENGINE_API_KEY")]
        current.append(app_settings.BRAIN_API_KEY)
        where = f"response to {method} {path}"
        self.scan(text, where, current, delivered)
        self.scan(headers + "\n" + cookies, f"headers of the {where}", current)

    def _minted_by(self, path: str, response, body: bytes) -> str | None:
        minting = path in MINTING_PATHS or CONSOLE_MINTING_PATH.fullmatch(path)
        if not minting or response.status_code != 200:
            return None
        try:
            value = json.loads(body).get("value")
        except (ValueError, AttributeError):
            return None
        if isinstance(value, str) and value.startswith("ek_"):
            with self._lock:
                self.minted.add(value)
            return value
        return None

    def report(self) -> str:
        """The findings, one a line."""
        return "\n".join(self.findings)


class _LogCapture(logging.Handler):
    """Scans every log record that reaches the root logger, formatted with its traceback."""

    def __init__(self, scan: SecretScan):
        super().__init__(logging.NOTSET)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.secret_scan = scan

    def emit(self, record):
        try:
            text = self.format(record)
        except Exception:  # a broken log call is the logging module's to report
            return
        self.secret_scan.scan(text, f"log record of {record.name}")


SCAN = SecretScan(TEST_KEYS)
_log_capture = _LogCapture(SCAN)


def pytest_configure(config):
    """Known test keys in this process; probes on the test clients, live servers and logs."""
    from django.conf import settings

    # Unset in the environment means a generated key (for the engine) or none: use known ones.
    if not os.environ.get("OPENAI_API_KEY"):
        settings.OPENAI_API_KEY = OPENAI_TEST_KEY
    if not os.environ.get("MRBLUE_ENGINE_API_KEY"):
        settings.MRBLUE_ENGINE_API_KEY = live.ENGINE_KEY
    _wrap_test_clients()
    live.output_watchers.append(_live_line)
    _attach_log_capture()


def _wrap_test_clients():
    from django.test.client import AsyncClient, Client

    original_sync, original_async = Client.request, AsyncClient.request

    @functools.wraps(original_sync)
    def request(client, **request):
        response = original_sync(client, **request)
        SCAN.response(request.get("REQUEST_METHOD", "?"), request.get("PATH_INFO"), response)
        return response

    @functools.wraps(original_async)
    async def arequest(client, **request):
        response = await original_async(client, **request)
        SCAN.response(request.get("method", "?"), request.get("path"), response)
        return response

    Client.request, AsyncClient.request = request, arequest


def _live_line(server, line: str) -> None:
    keys = [server.env.get(name, "") for name in KEY_SETTINGS]
    SCAN.scan(line, f"output of the live server on port {server.port}", keys)


def _attach_log_capture():
    # Django's setup (e.g. importing mrblue.project.asgi) re-applies LOGGING, which replaces the
    # root logger's handlers and the levels: put ours back before every test.
    root = logging.getLogger()
    if _log_capture not in root.handlers:
        root.addHandler(_log_capture)
        for name in APP_LOGGERS:
            logging.getLogger(name).setLevel(logging.DEBUG)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Re-attach the log probe (see `_attach_log_capture`)."""
    _attach_log_capture()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    """Re-attach the log probe (a fixture may have set Django up again)."""
    _attach_log_capture()


@pytest.fixture(scope="session", autouse=True)
def _scan_rendered_templates(django_test_environment):
    """Scan each template's output. The test environment's `template_rendered` signal carries
    only the context, not the output: wrap the render that the test environment instruments."""
    from django.template.base import Template

    instrumented = Template._render

    def render(template, context):
        output = instrumented(template, context)
        SCAN.scan(output, f"template {template.name or '<string>'}")
        return output

    Template._render = render
    yield
    Template._render = instrumented


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    """Fail the run if a secret was seen anywhere."""
    if SCAN.findings:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    """Say what leaked, and where."""
    if SCAN.findings:
        terminalreporter.section("secret scan", red=True, bold=True)
        terminalreporter.line(
            f"{len(SCAN.findings)} secret(s) reached a response, template, log record or "
            "live server's output:"
        )
        terminalreporter.line(SCAN.report())
