"""The directory is not a trust boundary: a worker's record is used only if it is signed with
the engine key and well formed (`WorkerRecord.from_published`), whatever was written into Redis
or the database; a bad one is skipped and logged (never the key), never fatal; unknown fields
are ignored; liveness is judged by the store's clock, not the web process's."""

import datetime
import json
import logging
import os
import secrets
import time

import pytest
from django.db.models.functions import Now
from django.utils import timezone

from mrblue.engine.models import EngineWorker
from mrblue.engine.workers.directory import (
    DatabaseDirectory,
    RedisDirectory,
    WorkerRecord,
    read_published,
    sign,
)
from tests.support.live import ENGINE_KEY

KEY = "sk-mrblue-unit-test-key"


def record(worker_id: str = "web-1-1234-ab12cd34", **fields) -> WorkerRecord:
    values = {"url": "http://10.0.0.2:8001", "load": 0.25, "sessions": 1, "capacity": 2}
    return WorkerRecord(worker_id, **{**values, **fields})


def resigned(published: dict, key: str = KEY) -> dict:
    """`published` with its fields changed by the test and signed again, as a worker would."""
    fields = {k: v for k, v in published.items() if k != "signature"}
    return {**fields, "signature": sign(fields, key)}


# --- the pure check ---------------------------------------------------------------------------


def test_a_signed_record_reads_back_as_published():
    published = record(draining=True, beat=9, pid=77, started_at=1.5e9).signed(KEY)
    assert WorkerRecord.from_published(published, KEY) == record(
        draining=True, beat=9, pid=77, started_at=1.5e9
    )
    assert json.loads(json.dumps(published)) == published  # what the stores keep


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"signature": None}, "unsigned"),
        ({"signature": "0" * 64}, "bad signature"),
        ({"url": "http://attacker.example:8001"}, "bad signature"),  # not re-signed
        ({"load": 0.0}, "bad signature"),
    ],
)
def test_a_record_changed_after_signing_is_refused(change, reason):
    published = {**record().signed(KEY), **change}
    if change.get("signature", "") is None:
        del published["signature"]
    with pytest.raises(ValueError, match=reason):
        read_published(published, KEY)
    assert WorkerRecord.from_published(published, KEY) is None


def test_a_record_signed_with_another_key_is_refused():
    assert WorkerRecord.from_published(record().signed("sk-someone-else"), KEY) is None


@pytest.mark.parametrize(
    "url",
    [
        "ftp://10.0.0.2:8001",
        "file:///etc/passwd",
        "http://user:pw@10.0.0.2:8001",
        "http://user@10.0.0.2:8001",
        "http://10.0.0.2:8001/v1",
        "http://10.0.0.2:8001/",
        "http://10.0.0.2:8001?next=x",
        "http://10.0.0.2:8001#x",
        "http://10.0.0.2:99999",
        "http://",
        "http://10.0.0.2:8001\n",
        "http://" + "a" * 200,
        "10.0.0.2:8001",
    ],
)
def test_a_signed_record_with_a_url_no_worker_has_is_refused(url):
    # Even signed: a worker's URL is http(s)://host[:port], so nothing else is ever used.
    published = resigned({**record().signed(KEY), "url": url})
    with pytest.raises(ValueError, match="bad url"):
        read_published(published, KEY)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("load", "0.5"),
        ("load", 1.5),
        ("load", -0.1),
        ("load", True),
        ("sessions", 1.0),
        ("sessions", -1),
        ("capacity", "2"),
        ("draining", 0),
        ("responsive", "yes"),
        ("beat", None),
        ("worker_id", ""),
        ("worker_id", "w\nforged log line"),
        ("worker_id", "x" * 65),
        ("worker_id", 7),
        ("started_at", "yesterday"),
    ],
)
def test_a_signed_record_with_a_field_of_the_wrong_type_is_refused(field, value):
    published = resigned({**record().signed(KEY), field: value})
    with pytest.raises(ValueError, match=f"bad {field}"):
        read_published(published, KEY)


def test_a_record_without_a_field_a_gateway_needs_is_refused():
    published = record().signed(KEY)
    del published["capacity"]
    with pytest.raises(ValueError, match="no capacity"):
        read_published(resigned(published), KEY)


def test_not_a_record_at_all_is_refused():
    for data in (None, [], "record", 7):
        assert WorkerRecord.from_published(data, KEY) is None
    nan = resigned(record().signed(KEY))
    nan["load"] = float("nan")  # json.loads takes NaN; no worker writes it
    assert WorkerRecord.from_published(nan, KEY) is None


def test_fields_a_newer_worker_adds_are_ignored_and_still_signed():
    newer = resigned({**record().signed(KEY), "gpu": {"name": "x", "memory": [1, 2]}})
    assert WorkerRecord.from_published(newer, KEY) == record()
    newer["gpu"] = "changed"  # covered by the signature like any other field
    assert WorkerRecord.from_published(newer, KEY) is None


# --- the directories --------------------------------------------------------------------------


@pytest.fixture(params=["database", "redis"])
def directory(request, transactional_db, settings):
    settings.MRBLUE_ENGINE_API_KEY = ENGINE_KEY
    settings.MRBLUE_ENGINE_HEARTBEAT_SECONDS = 5.0  # live for 15 s: through a slow test
    pool = "records-" + secrets.token_hex(4)
    if request.param == "database":
        return DatabaseDirectory(pool)
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs REDIS_URL")
    return RedisDirectory(pool, os.environ["REDIS_URL"])


def write_raw(directory, worker_id: str, text: str) -> None:
    """Write a record straight into the store, as anyone with access to it could."""
    if isinstance(directory, RedisDirectory):
        directory.redis.set(directory._key(worker_id), text, px=15_000)
        directory.redis.sadd(directory.index, worker_id)
    else:
        EngineWorker.objects.create(
            pool=directory.pool, worker_id=worker_id, published=text, seen_at=Now()
        )


def test_a_forged_record_is_skipped_and_logged_and_the_rest_still_serve(directory, caplog):
    # Ids of this test's own: a skipped record is logged once a minute per id and reason.
    forged = [f"forged-{n}-{secrets.token_hex(4)}" for n in range(3)]
    directory.publish(record("real-1", url="http://127.0.0.1:8001"))
    genuine = record(forged[0], url="http://127.0.0.1:8002").signed(ENGINE_KEY)
    write_raw(directory, forged[0], json.dumps({**genuine, "url": "http://evil.example"}))
    unsigned = record(forged[1]).signed(ENGINE_KEY)
    del unsigned["signature"]
    write_raw(directory, forged[1], json.dumps(unsigned))
    write_raw(directory, forged[2], "not json {")
    with caplog.at_level(logging.WARNING, logger="mrblue.engine.workers.directory"):
        live = directory.live()
    assert [r.worker_id for r in live] == ["real-1"]
    assert live[0].url == "http://127.0.0.1:8001"
    warnings = [r.getMessage() for r in caplog.records]
    for worker_id, reason in zip(forged, ("bad signature", "unsigned", "not JSON"), strict=True):
        assert any(f"{worker_id!r}" in w and reason in w for w in warnings), (worker_id, warnings)
    assert ENGINE_KEY not in caplog.text


def test_a_genuine_record_stored_under_another_id_is_skipped(directory):
    write_raw(directory, "someone-else", json.dumps(record("real-1").signed(ENGINE_KEY)))
    assert directory.live() == []


def test_a_record_with_an_unknown_field_is_used(directory):
    # A rolling upgrade: a newer worker publishes a field this gateway does not know.
    newer = resigned({**record("newer-1").signed(ENGINE_KEY), "accelerator": "gpu"}, ENGINE_KEY)
    write_raw(directory, "newer-1", json.dumps(newer))
    (found,) = directory.live()
    assert found.worker_id == "newer-1" and found.url == "http://10.0.0.2:8001"


def test_liveness_is_judged_by_the_stores_clock_not_this_process(directory, monkeypatch):
    directory.publish(record("w-1"))
    # This process's clock an hour off (as a web process on another host might be): the
    # worker is live all the same, and its age is read from the store.
    real_time, real_now = time.time, timezone.now
    monkeypatch.setattr(time, "time", lambda: real_time() + 3600)
    monkeypatch.setattr(timezone, "now", lambda: real_now() + datetime.timedelta(hours=1))
    (found,) = directory.live()
    assert 0 <= found.age < 5


def test_a_row_the_database_stamped_three_beats_ago_is_dead(transactional_db, settings):
    settings.MRBLUE_ENGINE_API_KEY = ENGINE_KEY
    settings.MRBLUE_ENGINE_HEARTBEAT_SECONDS = 1.0
    pool = DatabaseDirectory("records-" + secrets.token_hex(4))
    pool.publish(record("old"))
    pool.publish(record("new"))
    EngineWorker.objects.filter(worker_id="old").update(
        seen_at=Now() - datetime.timedelta(seconds=3.5)
    )
    assert [r.worker_id for r in pool.live()] == ["new"]
