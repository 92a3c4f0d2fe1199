"""A worker's record says why it carries its capacity, in both directory backends, and the
record of a worker that predates it still reads (with no reason)."""

import json
import time
from dataclasses import asdict

from django.db import connection

from mrblue.engine.directory import RedisDirectory
from mrblue.engine.models import EngineWorker
from tests.workers.test_directory import directory, record

directory = directory  # the fixture: each backend in turn
REASON = "2 calls: a speaking call takes ~14% of a core here"


def test_a_record_carries_why_its_worker_has_its_capacity(directory):
    directory.publish(record("calibrated", 0.0, capacity_reason=REASON))
    (found,) = directory.live()
    assert found.capacity_reason == REASON


def test_the_record_of_an_older_worker_reads_with_no_reason(directory):
    older = asdict(record("older", 0.0))
    del older["capacity_reason"]
    if isinstance(directory, RedisDirectory):
        directory.redis.set(directory._key("older"), json.dumps(older), px=60_000)
        directory.redis.sadd(directory.index, "older")
    else:
        write_row_as_older_code_does(directory.pool, older)
    (found,) = directory.live()
    assert (found.worker_id, found.capacity_reason) == ("older", "")


def write_row_as_older_code_does(pool: str, fields: dict) -> None:
    """Insert a worker's row naming only the columns a worker before calibration knew."""
    row = {**fields, "pool": pool, "seen_at": time.time()}
    columns, places = ", ".join(row), ", ".join(["%s"] * len(row))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {EngineWorker._meta.db_table} ({columns}) VALUES ({places})",
            list(row.values()),
        )
