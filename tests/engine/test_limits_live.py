"""The engine's limits over a live Daphne: what one session keeps, how many sessions a secret
or a user may hold, how long any session lives, and how large a message may be."""

import asyncio
import base64
import json

import pytest
import websockets

from tests.support.live import serving
from tests.support.realtime_client import engine_api, next_event, until

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def bounded_server(django_db_setup, django_db_blocker):
    """A server whose sessions keep three items and 5,000 characters, one per secret."""
    env = {
        "MRBLUE_ENGINE_MAX_ITEMS": "3",
        "MRBLUE_ENGINE_SESSION_BYTES": "5000",
        "MRBLUE_ENGINE_SESSIONS_PER_SECRET": "1",
    }
    with serving(django_db_blocker, env) as server:
        yield server


def text_item(text, item_id):
    return {
        "id": item_id,
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": text}],
    }


async def test_a_session_keeps_a_bounded_conversation_over_the_websocket(bounded_server):
    async with (
        asyncio.timeout(20),
        engine_api(bounded_server).realtime.connect(model="gpt-realtime") as conn,
    ):
        await next_event(conn)
        for n in range(3):
            await conn.conversation.item.create(item=text_item(f"number {n}", f"n{n}"))
            await until(conn, "conversation.item.done")
        await conn.conversation.item.create(item=text_item("number 3", "n3"))
        await until(conn, "conversation.item.done")
        deleted = await next_event(conn)
        assert (deleted["type"], deleted["item_id"]) == ("conversation.item.deleted", "n0")
        await conn.send(
            {
                "type": "conversation.item.create",
                "event_id": "big",
                "item": text_item("x" * 5001, "big"),
            }
        )
        error = await next_event(conn)
        assert error["error"]["code"] == "session_memory_limit"
        assert error["error"]["event_id"] == "big"
        # The session goes on, with what it kept.
        await conn.conversation.item.retrieve(item_id="n3")
        retrieved = await next_event(conn)
        assert retrieved["item"]["content"][0]["text"] == "number 3"


async def test_a_message_just_over_the_limit_is_an_error_event_not_a_close(daphne_server):
    from mrblue.engine.engine_settings import declared_default

    limit = declared_default("MRBLUE_ENGINE_MAX_MESSAGE_BYTES")
    async with (
        asyncio.timeout(60),
        engine_api(daphne_server).realtime.connect(model="gpt-realtime") as conn,
    ):
        await next_event(conn)
        # Well over Daphne's own 1 MiB default, well under the engine's limit: accepted.
        audio = base64.b64encode(bytes(2 * 1024 * 1024)).decode()
        await conn.input_audio_buffer.append(audio=audio)
        await conn.input_audio_buffer.clear()
        assert (await next_event(conn))["type"] == "input_audio_buffer.cleared"
        over = json.dumps({"type": "session.update", "pad": "x" * limit})
        await conn.send_raw(over)
        error = await next_event(conn)
        assert error["error"]["code"] == "message_too_large"
        await conn.input_audio_buffer.clear()  # still usable
        assert (await next_event(conn))["type"] == "input_audio_buffer.cleared"


async def test_a_secret_beyond_its_sessions_is_refused_with_an_error_then_a_close(
    bounded_server, transactional_db
):
    secret = await engine_api(bounded_server).realtime.client_secrets.create(
        session={"type": "realtime", "output_modalities": ["text"]}
    )
    url = bounded_server.url.replace("http", "ws") + "/v1/realtime?model=gpt-realtime"
    headers = {"Authorization": f"Bearer {secret.value}"}
    async with asyncio.timeout(20), websockets.connect(url, additional_headers=headers) as first:
        assert json.loads(await first.recv())["type"] == "session.created"
        async with websockets.connect(url, additional_headers=headers) as second:
            refusal = json.loads(await second.recv())
            assert refusal["error"]["code"] == "client_secret_session_limit"
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await second.recv()
            assert closed.value.rcvd.code == 4429
    async with asyncio.timeout(20), websockets.connect(url, additional_headers=headers) as again:
        # the first one's place was given back when it closed
        assert json.loads(await again.recv())["type"] == "session.created"
