"""A worker that stops answering costs the site's callers seconds, not half a minute.

- A worker whose event loop is blocked (without using CPU, as a deadlock or blocking I/O would)
  keeps its heartbeat thread, but the heartbeat proves the loop runs: the worker publishes
  itself as not placeable, new sessions go to the other worker, and once its loop runs again
  it takes sessions again. Its loop is blocked through a test-only path of a wrapper app
  (`tests/support/stuck_loop_app.py`); the worker itself is the product's.
- A worker stopped outright (SIGSTOP: it accepts connections but answers nothing, and still
  looks alive until its record expires) is given `MRBLUE_ENGINE_WORKER_TIMEOUT` by the site:
  a mint fails over to the next worker, an SDP offer, a WebSocket and a hangup give up.
"""

import asyncio
import os
import signal
import threading
import time

import httpx
import pytest
import websockets

from tests.support.live import ENGINE_KEY
from tests.support.workers import BLOCK_PATH, Cluster
from tests.workers.test_placement import minted_on

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
WORKER_TIMEOUT = 1.0
MARGIN = 2.0  # the site's own work around a worker's timeout, on a slow shared machine
STUCK_LOOP_APP = "tests.support.stuck_loop_app:application"


def mint(cluster, timeout: float = 60) -> tuple[httpx.Response, float]:
    """A secret minted through the site with the engine key, and how long it took."""
    started = time.monotonic()
    answer = httpx.post(
        f"{cluster.url}/v1/realtime/client_secrets",
        json={"session": {"type": "realtime"}},
        headers={"Authorization": f"Bearer {ENGINE_KEY}"},
        timeout=timeout,
    )
    return answer, time.monotonic() - started


def worker_id(cluster, worker) -> str:
    return cluster.worker_health(worker)["worker_id"]


def test_a_worker_whose_loop_is_stuck_takes_no_session_until_it_runs_again(django_db_blocker):
    # Two places each (not calibrated: on a slow machine a worker may carry one, and the
    # mint below would fill the well worker for the 30 s its place is held).
    env = {"MRBLUE_ENGINE_WORKER_CAPACITY": "2"}
    with django_db_blocker.unblock():
        cluster = Cluster(workers=2, env=env, worker_app=STUCK_LOOP_APP)
    try:
        stuck, well = cluster.workers
        well_id = worker_id(cluster, well)
        blocking = threading.Thread(
            target=httpx.post, args=(f"{stuck.url}{BLOCK_PATH}?seconds=12",), kwargs={"timeout": 60}
        )
        blocking.start()
        # Its heartbeat thread still publishes, saying it cannot take a session.
        cluster.wait_for(lambda h: h == {"status": "ok", "workers": 2, "placeable": 1}, 10)
        with pytest.raises(httpx.TimeoutException):  # its loop answers nothing meanwhile
            cluster.worker_health(stuck, timeout=1)
        answer, took = mint(cluster)
        assert answer.status_code == 200 and took < WORKER_TIMEOUT + MARGIN
        assert minted_on(answer.json()["value"]) == well_id
        blocking.join(60)
        cluster.wait_for(lambda health: health["placeable"] == 2, 10)
        assert cluster.worker_health(stuck)["status"] == "ok"
    finally:
        cluster.close()


@pytest.fixture
def stopped_worker_cluster(django_db_blocker):
    """Two workers of four places, a 1 s worker timeout, and records that stay live for 30 s
    after their worker last beat (so a stopped worker still looks alive through the test)."""
    env = {
        "MRBLUE_ENGINE_WORKER_TIMEOUT": str(WORKER_TIMEOUT),
        "MRBLUE_ENGINE_HEARTBEAT_SECONDS": "10",
        "MRBLUE_ENGINE_WORKER_CAPACITY": "4",
    }
    with django_db_blocker.unblock():
        cluster = Cluster(workers=2, env=env)
    stopped = []
    yield cluster, stopped
    for worker in stopped:
        os.kill(worker.process.pid, signal.SIGCONT)
    cluster.close()


async def refused_socket(cluster, key: str) -> None:
    url = cluster.url.replace("http", "ws", 1) + "/v1/realtime?model=gpt-realtime"
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {key}"}):
            pass


def test_calls_to_a_stopped_worker_give_up_and_a_mint_fails_over(stopped_worker_cluster):
    cluster, stopped = stopped_worker_cluster
    first, _ = mint(cluster)
    secret = first.json()["value"]
    held_by = minted_on(secret)
    (frozen,) = [w for w in cluster.workers if worker_id(cluster, w) == held_by]
    (other,) = [w for w in cluster.workers if w is not frozen]
    other_id = worker_id(cluster, other)
    os.kill(frozen.process.pid, signal.SIGSTOP)
    stopped.append(frozen)
    assert cluster.health()["placeable"] == 2  # its record has not expired yet

    started = time.monotonic()
    offer = httpx.post(
        f"{cluster.url}/v1/realtime/calls",
        content=b"v=0\r\n",
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/sdp"},
        timeout=60,
    )
    assert offer.status_code == 503 and offer.json()["error"]["code"] == "engine_worker_gone"
    assert time.monotonic() - started < 2 * WORKER_TIMEOUT + MARGIN

    started = time.monotonic()
    asyncio.run(refused_socket(cluster, secret))
    assert time.monotonic() - started < WORKER_TIMEOUT + MARGIN

    started = time.monotonic()
    hangup = httpx.post(
        f"{cluster.url}/v1/realtime/calls/rtc_nothing/hangup",
        headers={"Authorization": f"Bearer {ENGINE_KEY}"},
        timeout=60,
    )
    assert hangup.status_code == 404
    assert time.monotonic() - started < WORKER_TIMEOUT + MARGIN

    # Mints go on: one that asks the stopped worker first waits its timeout, then the other
    # worker answers. (The site orders workers by load and its own placements, so the stopped
    # one, holding one place, comes first by the third mint at the latest.)
    for _ in range(3):
        answer, took = mint(cluster)
        assert answer.status_code == 200, answer.text
        assert minted_on(answer.json()["value"]) == other_id
        assert took < WORKER_TIMEOUT + MARGIN
        if took >= WORKER_TIMEOUT:
            break
    else:
        raise AssertionError("no mint asked the stopped worker")
    cluster.web.wait_for_output(f"worker {held_by} did not answer in time")
