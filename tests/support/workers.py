"""The product's multi-process set-up on loopback: a web process (the gateway) and engine
workers, each a real Daphne, sharing the test database (and Redis, when the run has it).

Each cluster has a pool of its own, so clusters of different tests never see each other's
workers in the directory.
"""

import secrets
import socket
import time

import httpx

from mrblue.project.launch import WORKER_APPLICATION
from tests.support.live import LiveServer

HEARTBEAT_SECONDS = "0.3"  # a dead worker is noticed after 3 beats
READY_SECONDS = 120.0  # a worker loads Whisper and piper before it offers itself

# The stuck-loop test app's extra path (`tests/support/stuck_loop_app.py`).
BLOCK_PATH = "/__test__/block-loop"


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """`workers` engine workers and one gateway web process; `.url` is the site."""

    def __init__(
        self,
        workers: int = 2,
        env: dict | None = None,
        database_url: str | None = None,
        worker_app: str = WORKER_APPLICATION,
    ):
        self.pool = "test-" + secrets.token_hex(4)
        self.worker_app = worker_app
        self.env = {
            "MRBLUE_ENGINE_POOL": self.pool,
            "MRBLUE_ENGINE_HEARTBEAT_SECONDS": HEARTBEAT_SECONDS,
            "MRBLUE_ENGINE_DRAIN_SECONDS": "5",
            **(env or {}),
        }
        self.database_url = database_url
        self.workers: list[LiveServer] = []
        self.web = None
        try:
            for _ in range(workers):
                self.add_worker()
            self.web = LiveServer(
                {**self.env, "MRBLUE_ENGINE_ROLE": "gateway"},
                database_url=database_url,
                startup_timeout=READY_SECONDS,
            )
            self.wait_for(lambda health: health["placeable"] == workers, READY_SECONDS)
        except BaseException:
            self.close()
            raise
        self.url = self.web.url

    def add_worker(self, env: dict | None = None) -> LiveServer:
        """Start one more worker (it offers itself once its models are loaded)."""
        port = free_port()
        worker = LiveServer(
            {
                **self.env,
                "MRBLUE_ENGINE_ROLE": "worker",
                "MRBLUE_ENGINE_WORKER_URL": f"http://127.0.0.1:{port}",
                **(env or {}),
            },
            database_url=self.database_url,
            app=self.worker_app,
            port=port,
            startup_timeout=READY_SECONDS,
        )
        self.workers.append(worker)
        return worker

    def health(self) -> dict:
        """The site's `/healthz`: how many workers live, how many take sessions."""
        return httpx.get(f"{self.web.url}/healthz", timeout=10).json()

    @staticmethod
    def worker_health(worker: LiveServer, timeout: float = 10) -> dict:
        """A worker's own `/healthz`: its status, load, sessions and unused places."""
        return httpx.get(f"{worker.url}/healthz", timeout=timeout).json()

    def wait_for(self, condition, timeout: float = 30.0) -> dict:
        """Wait until `condition(site health)` holds; return that health."""
        deadline = time.monotonic() + timeout
        while True:
            health = self.health()
            if condition(health):
                return health
            if time.monotonic() > deadline:
                raise AssertionError(f"the cluster never got there: {health}")
            time.sleep(0.1)

    def holding(self, sessions: int = 1) -> LiveServer:
        """The worker that holds `sessions` live sessions (waiting until one does)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for worker in self.workers:
                if worker.process.poll() is None and (
                    self.worker_health(worker)["sessions"] == sessions
                ):
                    return worker
            time.sleep(0.1)
        raise AssertionError(f"no worker holds {sessions} sessions")

    def close(self) -> None:
        """Stop every process (SIGTERM, as a process manager would)."""
        for server in [self.web, *self.workers]:
            if server is not None:
                server.close(timeout=60)
