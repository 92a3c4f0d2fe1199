"""`serve`'s process runner for real: supervisord starts the web process and two engine workers
as one command, restarts a worker that crashes, and stops them all on SIGTERM."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.support.live import ENGINE_KEY, ROOT, shared_database_url

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def free_port_block(size: int) -> int:
    """A port P with P .. P+size-1 all free now."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + size < 65536 and all(_free(base + i) for i in range(1, size)):
            return base


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_for(read, condition, timeout: float = 120.0):
    """Call `read()` until `condition(value)` holds (a refused connection counts as not yet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = read()
            if condition(value):
                return value
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the processes")


def health(port: int) -> dict:
    return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()


def pid_of(worker_health: dict) -> int:
    """A worker's process id, from its id (`host-pid-random`)."""
    return int(worker_health["worker_id"].rsplit("-", 2)[1])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_one_command_runs_the_site_and_two_workers_restarts_a_crash_and_stops_all(tmp_path):
    port = free_port_block(3)
    env = {
        **os.environ,
        "DATABASE_URL": shared_database_url(),
        "MRBLUE_ENGINE_API_KEY": ENGINE_KEY,
        "MRBLUE_ENGINE_POOL": "serve-" + secrets.token_hex(4),
        "MRBLUE_ENGINE_HEARTBEAT_SECONDS": "0.3",
        "MRBLUE_ENGINE_DRAIN_SECONDS": "5",
        "MRBLUE_WEBRTC_HOSTS": "127.0.0.1",
    }
    runner = subprocess.Popen(
        [sys.executable, "-m", "mrblue.processes", "--port", str(port), "--workers", "2"]
        + ["--run-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: health(port), lambda h: h["placeable"] == 2)
        assert httpx.get(f"http://127.0.0.1:{port}/accounts/login/").status_code == 200
        first = health(port + 1)
        os.kill(pid_of(first), signal.SIGKILL)  # a crash: supervisord starts it again
        restarted = wait_for(
            lambda: health(port + 1),
            lambda h: h["status"] == "ok" and h["worker_id"] != first["worker_id"],
        )
        assert restarted["sessions"] == 0
        wait_for(lambda: health(port), lambda h: h["placeable"] == 2)

        runner.send_signal(signal.SIGTERM)
        assert runner.wait(60) == 0
        for p in (port, port + 1, port + 2):
            assert _free(p), f"port {p} is still served"
        assert not alive(pid_of(restarted))
        # Nothing critical in supervisord's own log (as root it would say so unless told whom
        # to run as); its children's output goes to the terminal, not there.
        log = (tmp_path / "supervisord.log").read_text()
        assert "CRIT" not in log and "exited: engine-1" in log
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
