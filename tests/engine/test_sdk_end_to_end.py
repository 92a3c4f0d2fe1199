"""The official `openai` SDK against the engine, served by a live Daphne.

Every server event received is validated strictly against the SDK's own models.
"""

import json
from datetime import timedelta

import httpx
import openai
import pytest
import websockets
from channels.db import database_sync_to_async
from django.utils import timezone

from editor.tools import editor_tools
from mrblue.engine.models import EngineClientSecret, hash_secret
from tests.support.live import ENGINE_KEY, serving
from tests.support.realtime_client import engine_api, next_event, turn, until
from tests.support.realtime_schema import validate_server_event

pytestmark = pytest.mark.live
PAGE = {
    "blocks": [
        {"id": "heading", "type": "heading", "text": "Mundo Tango", "style": {}},
        {"id": "cta", "type": "button", "text": "Join a class", "style": {}},
    ],
    "selected": None,
}


@pytest.fixture(scope="module")
def hanging_server(django_db_setup, django_db_blocker):
    """A second server whose brain never finishes, and with room for one session only."""
    env = {
        "MRBLUE_ENGINE_BRAIN": "tests.support.brains.HangingBrain",
        "MRBLUE_ENGINE_MAX_SESSIONS": "1",
    }
    with serving(django_db_blocker, env) as server:
        yield server


def said(events):
    return "".join(
        e["delta"]
        for e in events
        if e["type"] in ("response.output_text.delta", "response.output_audio_transcript.delta")
    )


async def mint(server, session=None, seconds=60):
    secret = await engine_api(server).realtime.client_secrets.create(
        expires_after={"anchor": "created_at", "seconds": seconds},
        session=session or {"type": "realtime", "output_modalities": ["text"]},
    )
    assert secret.value.startswith("ek_")
    return secret


async def test_text_conversation_over_several_turns(daphne_server):
    secret = await mint(
        daphne_server,
        {"type": "realtime", "output_modalities": ["text"], "instructions": "Be Mr. Blue."},
    )
    assert secret.session.type == "realtime"
    async with engine_api(daphne_server, secret.value).realtime.connect(
        model="gpt-realtime"
    ) as conn:
        created = await next_event(conn)
        assert created["type"] == "session.created"
        assert created["session"]["instructions"] == "Be Mr. Blue."
        first = await turn(conn, "Hello!")
        assert said(first).startswith("Hi! I'm Mr. Blue")
        assert first[-1]["response"]["status"] == "completed"
        assert first[-1]["response"]["usage"]["total_tokens"] > 0
        second = await turn(conn, "What can you do?")
        assert "Offline I understand page edits" in said(second)
        await conn.session.update(
            session={"type": "realtime", "tools": editor_tools(), "output_modalities": ["audio"]}
        )
        updated = await until(conn, "session.updated")
        assert len(updated[-1]["session"]["tools"]) == len(editor_tools())
        third = await turn(conn, "what can you do")
        assert "add, move or delete blocks" in said(third)
        assert any(e["type"] == "response.output_audio_transcript.done" for e in third)


async def test_tool_call_round_trip(daphne_server):
    secret = await mint(
        daphne_server, {"type": "realtime", "output_modalities": ["text"], "tools": editor_tools()}
    )
    async with engine_api(daphne_server, secret.value).realtime.connect(
        model="gpt-realtime"
    ) as conn:
        await next_event(conn)
        events = await turn(conn, "Make the heading blue")
        look = next(e for e in events if e["type"] == "response.function_call_arguments.done")
        assert look["name"] == "describe_page"
        events = await reply_to_tool(conn, look["call_id"], PAGE)
        edit = next(e for e in events if e["type"] == "response.function_call_arguments.done")
        assert edit["name"] == "update_style"
        assert json.loads(edit["arguments"]) == {"block_id": "heading", "color": "blue"}
        events = await reply_to_tool(conn, edit["call_id"], {"ok": True})
        assert said(events) == "Done. The heading is blue now."


async def reply_to_tool(conn, call_id, output):
    await conn.conversation.item.create(
        item={"type": "function_call_output", "call_id": call_id, "output": json.dumps(output)}
    )
    await conn.response.create()
    return await until(conn, "response.done")


async def test_errors_leave_the_session_usable(daphne_server):
    secret = await mint(daphne_server)
    async with engine_api(daphne_server, secret.value).realtime.connect(
        model="gpt-realtime"
    ) as conn:
        await next_event(conn)
        await conn.response.cancel()
        error = await next_event(conn)
        assert error["error"]["code"] == "response_cancel_not_active"
        await conn.send(
            {
                "type": "session.update",
                "event_id": "evt_beta",
                "session": {"modalities": ["text"], "voice": "alloy"},
            }
        )
        error = await next_event(conn)
        assert error["error"]["code"] == "beta_api_shape_disabled"
        assert error["error"]["event_id"] == "evt_beta"
        await conn.send({"type": "made.up"})
        assert (await next_event(conn))["error"]["code"] == "invalid_value"
        events = await turn(conn, "hello")
        assert events[-1]["response"]["status"] == "completed"


async def test_a_response_can_be_cancelled(hanging_server):
    async with engine_api(hanging_server).realtime.connect(model="gpt-realtime") as conn:
        await next_event(conn)
        await conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        await until(conn, "session.updated")
        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Tell me everything."}],
            }
        )
        await conn.response.create()
        await until(conn, "response.output_text.delta")
        await conn.response.cancel()
        events = await until(conn, "response.done")
        response = events[-1]["response"]
        assert response["status"] == "cancelled"
        assert response["status_details"]["reason"] == "client_cancelled"
        assert response["output"][0]["status"] == "incomplete"


async def test_the_concurrent_session_limit(hanging_server):
    async with engine_api(hanging_server).realtime.connect(model="gpt-realtime") as conn:
        await next_event(conn)
        url = hanging_server.url.replace("http", "ws") + "/v1/realtime?model=gpt-realtime"
        async with websockets.connect(
            url, additional_headers={"Authorization": f"Bearer {ENGINE_KEY}"}
        ) as ws:
            event = json.loads(await ws.recv())
            assert event["error"]["code"] == "session_limit_reached"
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd.code == 4429


async def test_client_secret_errors_are_openai_style(daphne_server):
    with pytest.raises(openai.AuthenticationError) as caught:
        await engine_api(daphne_server, "sk-wrong").realtime.client_secrets.create(
            session={"type": "realtime"}
        )
    assert caught.value.code == "invalid_api_key"
    with pytest.raises(openai.BadRequestError) as caught:
        await engine_api(daphne_server).realtime.client_secrets.create(
            session={"type": "realtime", "modalities": ["text"]}
        )
    assert caught.value.code == "beta_api_shape_disabled"
    with pytest.raises(openai.BadRequestError) as caught:
        await engine_api(daphne_server).realtime.client_secrets.create(
            expires_after={"anchor": "created_at", "seconds": 5}, session={"type": "realtime"}
        )
    assert caught.value.param == "expires_after.seconds"
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{daphne_server.url}/v1/realtime/client_secrets",
            content=b"{oops",
            headers={"Authorization": f"Bearer {ENGINE_KEY}"},
        )
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_json"
        deep = await client.post(
            f"{daphne_server.url}/v1/realtime/client_secrets",
            content=b"[" * 50_000,
            headers={"Authorization": f"Bearer {ENGINE_KEY}"},
        )
    assert deep.status_code == 400 and deep.json()["error"]["code"] == "invalid_json"


def test_secrets_are_stored_only_as_hashes(daphne_server, transactional_db):
    import asyncio

    secret = asyncio.run(mint(daphne_server))
    rows = EngineClientSecret.objects.all()
    assert rows and not any(
        secret.value in json.dumps(r.session) or r.key_hash == secret.value for r in rows
    )
    assert EngineClientSecret.live_session(secret.value) is not None


async def ws_refusal(server, headers=None, subprotocols=None):
    url = server.url.replace("http", "ws") + "/v1/realtime?model=gpt-realtime"
    async with websockets.connect(
        url, additional_headers=headers or {}, subprotocols=subprotocols
    ) as ws:
        event = json.loads(await ws.recv())
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    return event, closed.value.rcvd


async def test_wrong_or_expired_keys_are_refused_with_a_reason(daphne_server, transactional_db):
    event, close = await ws_refusal(daphne_server, {"Authorization": "Bearer sk-nope"})
    assert event["error"]["code"] == "invalid_api_key"
    assert close.code == 4401
    expired = "ek_expired-for-this-test"
    # database_sync_to_async closes the thread's connection afterwards (PostgreSQL cares).
    await database_sync_to_async(EngineClientSecret.objects.create)(
        key_hash=hash_secret(expired),
        session={"type": "realtime"},
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    event, close = await ws_refusal(daphne_server, {"Authorization": f"Bearer {expired}"})
    assert event["error"]["code"] == "invalid_api_key" and close.code == 4401
    event, close = await ws_refusal(
        daphne_server, {"Authorization": f"Bearer {ENGINE_KEY}", "OpenAI-Beta": "realtime=v1"}
    )
    assert event["error"]["code"] == "beta_api_shape_disabled" and close.code == 4400


async def test_browser_style_subprotocol_auth(daphne_server):
    secret = await mint(daphne_server)
    url = daphne_server.url.replace("http", "ws") + "/v1/realtime"
    protocols = ["realtime", f"openai-insecure-api-key.{secret.value}"]
    async with websockets.connect(
        url, subprotocols=protocols, origin="http://elsewhere.example"
    ) as ws:
        assert ws.subprotocol == "realtime"
        event = json.loads(await ws.recv())
        validate_server_event(event)
        assert event["type"] == "session.created"
        assert event["session"]["output_modalities"] == ["text"]


async def test_the_engine_key_opens_a_session_for_the_model_asked(daphne_server):
    async with engine_api(daphne_server).realtime.connect(model="gpt-realtime-2") as conn:
        created = await next_event(conn)
        assert created["session"]["model"] == "gpt-realtime-2"
