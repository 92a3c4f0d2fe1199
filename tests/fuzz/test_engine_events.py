"""The engine's WebSocket `/v1/realtime`: sequences of fuzzed client events and raw frames,
each on a fresh session (the property: `tests/fuzz/engine_client.py`)."""

import asyncio

import pytest
from hypothesis import given

from tests.fuzz.engine_client import WebSocketClient, check_sequence
from tests.fuzz.engine_events import frames
from tests.fuzz.harness import close_loop, drive, fuzz_settings, tally
from tests.support.live import ENGINE_KEY

# The consumer looks its key up on a worker thread, which may hold a connection from before.
pytestmark = [pytest.mark.django_db(transaction=True)]
SURFACE = "engine events (WebSocket)"


@pytest.fixture
def engine(settings):
    settings.MRBLUE_ENGINE_API_KEY = ENGINE_KEY
    loop = asyncio.new_event_loop()
    yield loop
    close_loop(loop)


async def one_session(record, sequence) -> None:
    client = await WebSocketClient.open()
    try:
        await check_sequence(record, client, sequence)
    finally:
        failed = await client.close()
        if failed:  # e.g. an exception raised while handling a frame that was answered
            record.crash(sequence, f"on disconnect: {failed}")
    record.check_logs(sequence)


def test_engine_client_events(engine):
    record = tally(SURFACE)

    @fuzz_settings(ci_examples=100, inputs_per_example=3.5)
    @given(sequence=frames)
    def fuzz(sequence):
        engine.run_until_complete(one_session(record, sequence))

    drive(record, fuzz)
    record.finish()
