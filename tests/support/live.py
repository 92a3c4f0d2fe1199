"""A real Daphne server in a subprocess, serving the app against the test database."""

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from django.conf import settings
from django.db import connection

from mrblue.bootstrap import daphne_limits

ROOT = Path(__file__).resolve().parents[2]
ENGINE_KEY = "sk-mrblue-test-engine-key"
_LISTENING = re.compile(r"Listening on TCP address 127\.0\.0\.1:(\d+)")
# Called as watch(server, line) for every line a live server prints (the secret scan's probe).
output_watchers: list = []


def shared_database_url() -> str:
    """The URL of the database pytest-django set up, for the server process to share."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    if connection.vendor == "postgresql":
        host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        return f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"
    raise RuntimeError(f"no live-server support for {connection.vendor}")


class LiveServer:
    """Start Daphne on a free port (or on `port`) and wait for it to say it listens; stop it on
    close(). After kill(), restart() starts it again on the same port, for the browser to find."""

    def __init__(
        self,
        extra_env: dict | None = None,
        startup_timeout: float = 30.0,
        database_url: str | None = None,
        app: str = "mrblue.project.asgi:application",
        port: int = 0,
    ):
        env = {
            **os.environ,
            "DATABASE_URL": database_url or shared_database_url(),
            "MRBLUE_ENGINE_API_KEY": ENGINE_KEY,
            "MRBLUE_WEBRTC_HOSTS": "127.0.0.1",
            "PYTHONUNBUFFERED": "1",
            # The test's own cache keys (tests/conftest.py): its rate limits count afresh.
            "CACHE_KEY_PREFIX": settings.CACHES["default"].get("KEY_PREFIX", ""),
            **(extra_env or {}),
        }
        self.env = env
        self.app = app
        self.startup_timeout = startup_timeout
        self.output: list[str] = []  # every run's lines, in order
        self._new_output = threading.Condition()
        self.port = None
        self._start(port)
        self.url = f"http://127.0.0.1:{self.port}"

    def _start(self, port: int) -> None:
        """Run Daphne on `port` (0: any free one) and wait for its "Listening" line."""
        self.process = process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-v",
                "1",
                "-e",
                f"tcp:port={port}:interface=127.0.0.1",
                *daphne_limits(self.env),
                self.app,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        ready = threading.Event()
        bound = []

        def read():
            for line in process.stdout:
                for watch in output_watchers:  # before waiters can see the line
                    watch(self, line)
                with self._new_output:
                    self.output.append(line)
                    self._new_output.notify_all()
                match = _LISTENING.search(line)
                if match and not bound:
                    bound.append(int(match.group(1)))
                    ready.set()
            ready.set()  # the process ended: wake the waiter, which sees no port

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(self.startup_timeout) or not bound:
            self.close()
            raise RuntimeError("Daphne did not start:\n" + "".join(self.output[-40:]))
        self.port = bound[0]

    def kill(self, timeout: float = 10.0) -> int:
        """Kill the server with SIGKILL, as a crash would (no cleanup); return its exit code."""
        self.process.kill()
        return self.process.wait(timeout)

    def restart(self) -> None:
        """Start the server again after it died, on the same port (and so the same `url`).

        A port whose connections the dead server left in TIME_WAIT binds at once: Twisted sets
        SO_REUSEADDR on its listening sockets."""
        if self.process.poll() is None:
            raise RuntimeError("the server is still running: kill() or close() it first")
        self._start(self.port)

    def wait_for_output(self, text: str, timeout: float = 15.0) -> None:
        """Wait until the server has logged a line containing `text`."""
        with self._new_output:
            found = self._new_output.wait_for(
                lambda: any(text in line for line in self.output), timeout
            )
        assert found, f"the server never logged {text!r}"

    def close(self, timeout: float = 30.0) -> int:
        """Stop the server with SIGTERM, as a process manager would; return its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise RuntimeError("Daphne did not exit on SIGTERM") from None
        return self.process.returncode


def run_python(args: list[str], drop: tuple[str, ...] = (), **env) -> subprocess.CompletedProcess:
    """Run this project's Python with `args`, without env variables starting with `drop`."""
    clean = (
        {k: v for k, v in os.environ.items() if not k.startswith(drop)}
        if drop
        else dict(os.environ)
    )
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@contextlib.contextmanager
def serving(django_db_blocker, extra_env: dict | None = None):
    """A LiveServer for a pytest fixture: started with database access, closed afterwards."""
    with django_db_blocker.unblock():
        server = LiveServer(extra_env)
    try:
        yield server
    finally:
        server.close()
