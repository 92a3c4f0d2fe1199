"""Helpers for tests that talk to the engine: the official SDK, and minting secrets."""

import json

from openai import AsyncOpenAI, DefaultAsyncHttpxClient

from tests.support.live import ENGINE_KEY
from tests.support.realtime_schema import validate_server_event


async def mint_engine_secret(http, seconds: int = 7200) -> str:
    """A client secret from the engine, through an httpx client of the app (`base_url` set)."""
    answer = await http.post(
        "/v1/realtime/client_secrets",
        json={"expires_after": {"anchor": "created_at", "seconds": seconds}},
        headers={"Authorization": f"Bearer {ENGINE_KEY}"},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["value"]


def engine_api(server, key=ENGINE_KEY) -> AsyncOpenAI:
    """An SDK client of a live server's engine.

    Its HTTP client is a plain one: the SDK's own default closes itself, when garbage-collected,
    in a task on whatever loop is running then, which is a later test's, and that task fails
    ("Event loop is closed") in the middle of that test.
    """
    return AsyncOpenAI(
        base_url=f"{server.url}/v1",
        api_key=key,
        max_retries=0,
        http_client=DefaultAsyncHttpxClient(),
    )


async def next_event(conn) -> dict:
    """The next server event, validated strictly against the SDK's models."""
    event = json.loads(await conn.recv_bytes())
    validate_server_event(event)
    return event


async def until(conn, type_) -> list[dict]:
    """All events up to and including the first of `type_`."""
    seen = []
    while True:
        event = await next_event(conn)
        seen.append(event)
        if event["type"] == type_:
            return seen


async def turn(conn, text: str) -> list[dict]:
    """One typed turn over an SDK connection: the events up to its `response.done`."""
    await conn.conversation.item.create(
        item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    )
    await conn.response.create()
    return await until(conn, "response.done")
