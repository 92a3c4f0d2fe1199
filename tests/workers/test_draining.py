"""SIGTERM drains a worker: it takes no new session (the site places them on another), lets a
live session go on until the drain timeout, ends it with an `error` event, then exits cleanly;
with no session it exits at once."""

import signal

import pytest
import websockets
from asgiref.sync import sync_to_async

from tests.support.realtime_client import engine_api, next_event, until
from tests.support.realtime_schema import validate_server_event
from tests.support.workers import Cluster
from tests.workers.test_placement import minted_on, say_hello

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
DRAIN_SECONDS = 10


@pytest.fixture
def cluster(django_db_blocker):
    """Two workers that drain for 10 s."""
    with django_db_blocker.unblock():
        cluster = Cluster(workers=2, env={"MRBLUE_ENGINE_DRAIN_SECONDS": str(DRAIN_SECONDS)})
    yield cluster
    cluster.close()


async def mint(cluster) -> str:
    secret = await engine_api(cluster).realtime.client_secrets.create(
        session={"type": "realtime", "output_modalities": ["text"]}
    )
    return secret.value


@pytest.mark.usefixtures("close_async_connections")
async def test_a_draining_worker_finishes_its_session_then_ends_it_and_exits(cluster):
    key = await mint(cluster)
    async with engine_api(cluster, key).realtime.connect(model="gpt-realtime") as conn:
        assert (await next_event(conn))["type"] == "session.created"
        draining = await sync_to_async(cluster.holding)(1)
        (other,) = [worker for worker in cluster.workers if worker is not draining]
        draining.process.send_signal(signal.SIGTERM)
        await sync_to_async(cluster.wait_for)(lambda health: health["placeable"] == 1)
        assert (await sync_to_async(cluster.worker_health)(draining))["status"] == "draining"

        # New sessions go to the other worker; the live one goes on meanwhile.
        other_id = (await sync_to_async(cluster.worker_health)(other))["worker_id"]
        assert await sync_to_async(minted_on)(await mint(cluster)) == other_id
        assert "Mr. Blue" in await say_hello(conn)

        # At the drain timeout the session is ended, in words, and the socket closes.
        ended = (await until(conn, "error"))[-1]
        assert ended["error"]["code"] == "server_shutting_down"
        with pytest.raises(websockets.ConnectionClosed):
            await conn.recv()
    assert await sync_to_async(draining.process.wait)(30) == 0


def test_an_idle_worker_exits_on_sigterm_without_waiting_for_the_drain(django_db_blocker):
    with django_db_blocker.unblock():
        cluster = Cluster(workers=1, env={"MRBLUE_ENGINE_DRAIN_SECONDS": "600"})
    try:
        (worker,) = cluster.workers
        worker.process.send_signal(signal.SIGTERM)
        assert worker.process.wait(60) == 0  # far less than the 600 s drain
        cluster.wait_for(lambda health: health["workers"] == 0)
    finally:
        cluster.close()


def test_the_ending_event_is_an_error_event_the_sdk_reads():
    from mrblue.engine.protocol.core import RealtimeSession
    from mrblue.engine.protocol.session_config import default_session
    from mrblue.engine.workers.worker import SHUTTING_DOWN

    session = RealtimeSession({**default_session("gpt-realtime"), "id": "sess_x"})
    (event,) = session.ended_by_server(*SHUTTING_DOWN).events
    validate_server_event(event)
    assert event["error"]["type"] == "server_error"
    assert event["error"]["code"] == "server_shutting_down"
