"""Helpers for tests that talk to the engine with the official SDK."""

import json

from openai import AsyncOpenAI

from tests.support.live import ENGINE_KEY
from tests.support.realtime_schema import validate_server_event


def engine_api(server, key=ENGINE_KEY) -> AsyncOpenAI:
    """An SDK client of a live server's engine."""
    return AsyncOpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)


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
