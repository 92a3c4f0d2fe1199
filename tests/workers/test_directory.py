"""The worker directory's two backends: the database (the embedded default) and Redis (when
the run has `REDIS_URL`): records are published, refreshed, found least-loaded first, and gone
once unheard for three beats or removed."""

import os
import secrets
import time

import pytest

from mrblue.engine.workers.directory import DatabaseDirectory, RedisDirectory, WorkerRecord


def record(worker_id: str, load: float, **fields) -> WorkerRecord:
    return WorkerRecord(worker_id, f"http://{worker_id}", load, sessions=0, capacity=2, **fields)


@pytest.fixture(params=["database", "redis"])
def directory(request, db, settings):
    settings.MRBLUE_ENGINE_HEARTBEAT_SECONDS = 0.2  # dead after 0.6 s
    pool = "unit-" + secrets.token_hex(4)
    if request.param == "database":
        return DatabaseDirectory(pool)
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs REDIS_URL")
    return RedisDirectory(pool, os.environ["REDIS_URL"])


def test_live_workers_come_least_loaded_first(directory):
    directory.publish(record("busy", 0.5))
    directory.publish(record("idle", 0.0))
    directory.publish(record("draining", 0.0, draining=True))
    found = directory.live()
    assert [r.worker_id for r in found] == ["draining", "idle", "busy"]
    assert [r.worker_id for r in found if r.placeable] == ["idle", "busy"]
    assert found[1].url == "http://idle" and 0 <= found[1].age < 5


def test_a_record_refreshed_is_one_worker_and_a_removed_one_is_gone(directory):
    directory.publish(record("w", 0.0))
    directory.publish(record("w", 0.5))
    (only,) = directory.live()
    assert only.load == 0.5
    directory.remove("w")
    assert directory.live() == []


def test_a_worker_unheard_for_three_beats_is_dead(directory):
    directory.publish(record("quiet", 0.0))
    directory.publish(record("beating", 0.0))
    deadline = time.monotonic() + 5
    while [r.worker_id for r in directory.live()] != ["beating"]:
        assert time.monotonic() < deadline, "the quiet worker never died"
        directory.publish(record("beating", 0.0))
        time.sleep(0.1)
