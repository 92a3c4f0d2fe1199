"""What a brain is handed is bounded, and one huge request freezes nothing.

A 300 KB text item once kept the `commands` brain busy on the event loop for minutes, and
every other session of the process (web pages included) waited with it.
"""

import asyncio
import contextlib
import json
import time

import pytest

from mrblue.commands_brain.brain import CommandsBrain
from mrblue.engine.protocol.core import RealtimeSession
from mrblue.engine.protocol.responses import (
    BRAIN_MAX_CHARS,
    BRAIN_MAX_INSTRUCTIONS,
    BRAIN_MAX_ITEMS,
    brain_view,
)
from mrblue.engine.protocol.session_config import default_session
from tests.engine.test_connection import connect, say
from tests.support.live import serving
from tests.support.realtime_client import engine_api, next_event, until

HUGE = "." * 300_000 + " make the heading blue"  # dots: what made the old patterns backtrack


def user(text):
    return {
        "id": f"item_{len(text)}",
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": text}],
    }


def text_chars(items) -> int:
    """Every character of text a brain could read in these items."""
    total = 0
    for item in items:
        total += len(item.get("arguments") or "") + len(item.get("output") or "")
        for part in item.get("content", []):
            total += len(part.get("text") or "") + len(part.get("transcript") or "")
    return total


def test_a_huge_item_is_cut_to_the_budget_and_the_session_keeps_its_own():
    items = [user("hello"), user(HUGE)]
    view = brain_view(items)
    assert text_chars(view) == BRAIN_MAX_CHARS
    assert view[-1]["content"][0]["text"] == HUGE[:BRAIN_MAX_CHARS]
    assert items[-1]["content"][0]["text"] == HUGE  # a view, not a change


def test_the_newest_items_are_kept_oldest_first():
    items = [user(f"turn {i}") for i in range(BRAIN_MAX_ITEMS + 50)]
    view = brain_view(items)
    assert len(view) == BRAIN_MAX_ITEMS
    assert view[0]["content"][0]["text"] == "turn 50"
    assert view[-1]["content"][0]["text"] == f"turn {BRAIN_MAX_ITEMS + 49}"


def test_tool_outputs_and_arguments_count_too():
    items = [
        user("describe the page"),
        {"type": "function_call", "name": "describe_page", "arguments": "{}" * 200_000},
        {"type": "function_call_output", "call_id": "c1", "output": "x" * 300_000},
    ]
    view = brain_view(items)
    assert text_chars(view) == BRAIN_MAX_CHARS
    assert [item["type"] for item in view] == ["function_call_output"]  # the budget is spent


def test_the_request_the_core_builds_is_bounded():
    session = RealtimeSession(default_session())
    instructions = "Be Mr. Blue. " * 30_000
    session.receive(
        {"type": "session.update", "session": {"type": "realtime", "instructions": instructions}}
    )
    for text in ("hello", HUGE, HUGE):
        session.receive({"type": "conversation.item.create", "item": user(text)})
    request = session.receive({"type": "response.create"}).start_response
    assert request.instructions == instructions[:BRAIN_MAX_INSTRUCTIONS]
    assert text_chars(request.conversation) == BRAIN_MAX_CHARS
    assert request.conversation[-1]["content"][0]["text"] == HUGE[:BRAIN_MAX_CHARS]


async def test_a_huge_request_is_answered_briefly():
    connection, client = await connect(CommandsBrain(), max_bytes=1_000_000)
    await say(connection, HUGE)
    await connection.receive_text(json.dumps({"type": "response.create"}))
    done = await client.wait_for("response.done")
    assert done["response"]["status"] == "completed"
    answer = client.of("response.output_text.done")[-1]["text"]
    assert "too long" in answer and len(answer) < 200
    await say(connection, "hello")  # and the session goes on
    await connection.receive_text(json.dumps({"type": "response.create"}))
    await client.wait_for("response.done", count=2)
    assert client.of("response.output_text.done")[-1]["text"].startswith("Hi!")
    await connection.shutdown()


@pytest.fixture(scope="module")
def own_server(django_db_setup, django_db_blocker):
    """A server of this module's own: a frozen one must not spoil the other tests."""
    with serving(django_db_blocker) as server:
        yield server


async def open_session(stack, server):
    api = engine_api(server)
    secret = await api.realtime.client_secrets.create(
        session={"type": "realtime", "output_modalities": ["text"]}
    )
    manager = engine_api(server, secret.value).realtime.connect(model="gpt-realtime")
    conn = await stack.enter_async_context(manager)
    assert (await next_event(conn))["type"] == "session.created"
    return conn


@pytest.mark.live
@pytest.mark.django_db(transaction=True)  # the server stores client secrets
async def test_a_huge_request_over_the_websocket_freezes_no_other_session(own_server):
    async with contextlib.AsyncExitStack() as stack:
        big, other = await open_session(stack, own_server), await open_session(stack, own_server)
        await big.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": HUGE}],
            }
        )
        await big.response.create()
        await asyncio.wait_for(until(big, "response.created"), 10)  # the brain is at work now
        asked = time.monotonic()
        await other.session.update(session={"type": "realtime", "instructions": "Still there?"})
        updated = await asyncio.wait_for(until(other, "session.updated"), 10)
        assert time.monotonic() - asked < 2  # it took minutes while the loop was frozen
        assert updated[-1]["session"]["instructions"] == "Still there?"
        events = await asyncio.wait_for(until(big, "response.done"), 10)
        answer = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
        assert "too long" in answer
        assert events[-1]["response"]["status"] == "completed"
