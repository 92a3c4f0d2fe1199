"""The engine over WebRTC: fuzzed client events on the `oai-events` data channel of a real
call (an aiortc peer in the test, the offer posted to `/v1/realtime/calls` in-process).

The same property as over the WebSocket (`tests/fuzz/engine_client.py`). A call takes a
handshake, so sequences share one call; a call that dies is recorded and replaced.
"""

import asyncio

import httpx
import pytest
from hypothesis import given

from mrblue.project.asgi import application
from tests.fuzz.engine_client import DataChannelClient, check_sequence
from tests.fuzz.engine_events import frames
from tests.fuzz.harness import close_loop, drive, fuzz_settings, tally
from tests.support.live import ENGINE_KEY
from tests.support.realtime_client import mint_engine_secret

pytestmark = [pytest.mark.django_db(transaction=True)]
SURFACE = "engine events (data channel)"


def test_data_channel_client_events(settings):
    settings.MRBLUE_ENGINE_API_KEY = ENGINE_KEY
    settings.MRBLUE_WEBRTC_HOSTS = "127.0.0.1"
    record = tally(SURFACE)
    loop = asyncio.new_event_loop()
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://testserver"
    )
    secret = loop.run_until_complete(mint_engine_secret(http))
    call = {"client": None}

    async def one_sequence(sequence):
        if call["client"] is None:
            call["client"] = await DataChannelClient.open(http, secret)
        if not await check_sequence(record, call["client"], sequence):
            await call["client"].close()
            call["client"] = None
        record.check_logs(sequence)

    @fuzz_settings(ci_examples=30, inputs_per_example=3.5)
    @given(sequence=frames)
    def fuzz(sequence):
        loop.run_until_complete(one_sequence(sequence))

    try:
        drive(record, fuzz)
    finally:
        if call["client"] is not None:
            loop.run_until_complete(call["client"].close())
        loop.run_until_complete(http.aclose())
        close_loop(loop)
    record.finish()
