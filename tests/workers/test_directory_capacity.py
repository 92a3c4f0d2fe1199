"""A worker's record says why it carries its capacity, in both directory backends, and the
record of a worker that predates it (signed, with no reason) still reads, with no reason."""

import json

from mrblue.engine.engine_settings import engine_settings
from tests.workers.test_directory import directory, record
from tests.workers.test_records import resigned, write_raw

directory = directory  # the fixture: each backend in turn
REASON = "2 calls: a speaking call takes ~14% of a core here"


def test_a_record_carries_why_its_worker_has_its_capacity(directory):
    directory.publish(record("calibrated", 0.0, capacity_reason=REASON))
    (found,) = directory.live()
    assert found.capacity_reason == REASON


def test_the_record_of_an_older_worker_reads_with_no_reason(directory):
    older = record("older", 0.0).signed(engine_settings.ENGINE_API_KEY)
    del older["capacity_reason"]
    write_raw(directory, "older", resigned_json(older))
    (found,) = directory.live()
    assert (found.worker_id, found.capacity_reason) == ("older", "")


def resigned_json(published: dict) -> str:
    return json.dumps(resigned(published, engine_settings.ENGINE_API_KEY))
