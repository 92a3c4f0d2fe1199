"""The transcript log's WebSocket `/ws/mrblue/conversations/<id>/`: fuzzed log messages.

Property: every message gets an `ack` with its `seq` or an `error` with a code and message;
the connection stays open unless an error said it closes (`too_many_errors`,
`too_many_messages`); nothing logs a traceback; every acknowledged `seq` is stored exactly
once. Afterwards the admin's conversation list and change page still render.
"""

import asyncio
import json

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from mrblue.models import LogMessage
from mrblue.project.asgi import application
from tests.fuzz.harness import (
    Died,
    close_loop,
    disconnect,
    drive,
    fuzz_settings,
    next_output,
    tally,
)
from tests.fuzz.strategies import garbage_bytes, garbage_text, junk, mostly, short_text, tricky_text
from tests.support.sockets import session_cookie

pytestmark = [pytest.mark.django_db(transaction=True)]
SURFACE = "transcript log messages"
CLOSING_CODES = ("too_many_errors", "too_many_messages")
TIMEOUT = 10

seqs = mostly(st.integers(-2, 40) | st.integers(2**53 - 2, 2**64))
small_ints = mostly(st.integers(-5, 10**7))
token_details = mostly(
    st.fixed_dictionaries(
        {},
        optional={
            key: small_ints
            for key in ("text_tokens", "audio_tokens", "cached_tokens", "image_tokens")
        }
        | {"cached_tokens_details": junk},
    )
)
usage = mostly(
    st.fixed_dictionaries(
        {},
        optional={
            "input_tokens": small_ints,
            "output_tokens": small_ints,
            "total_tokens": small_ints,
            "input_token_details": token_details,
            "output_token_details": token_details,
            "bogus": junk,
        },
    )
)


def _message(type_: str, required: dict, optional: dict | None = None) -> st.SearchStrategy:
    return st.fixed_dictionaries(
        {"type": mostly(st.just(type_)), "seq": seqs, **required},
        optional={**(optional or {}), "bogus": junk},
    )


log_message = st.one_of(
    _message(
        "transcript",
        {
            "item_id": mostly(st.sampled_from(["item_1", "item_2", "x" * 65]) | short_text),
            "role": mostly(st.sampled_from(["user", "assistant", "system"])),
            "text": mostly(tricky_text),
            "final": mostly(st.booleans()),
        },
        {"interrupted": mostly(st.booleans()), "index": mostly(st.integers(-1, 1_000_001))},
    ),
    _message("usage", {"response_id": mostly(short_text), "usage": usage}),
    _message(
        "tool_call",
        {
            "call_id": mostly(short_text),
            "name": mostly(st.sampled_from(["update_text", "describe_page"])),
            "arguments": mostly(tricky_text),
            "output": mostly(tricky_text),
        },
    ),
    _message(
        "metric",
        {
            "name": mostly(st.sampled_from(["first_audio_ms", "Bad Name"]) | short_text),
            "value_ms": mostly(st.floats(-1, 4_000_000) | st.integers(-1, 4_000_000)),
        },
    ),
    _message(
        "timing",
        {
            "source": mostly(st.sampled_from(["engine", "panel", "browser"])),
            "stages": mostly(
                st.dictionaries(
                    st.sampled_from(["speech_stopped", "transcript", "first_audio", "heard"]),
                    st.integers(-1, 4_000_000) | st.floats(0, 10),
                    max_size=4,
                )
            ),
        },
        {"response_id": mostly(short_text)},
    ),
    _message("end", {}),
    junk,
)
frame = st.one_of(
    st.tuples(st.just("message"), log_message),
    st.tuples(st.just("text"), garbage_text),
    st.tuples(st.just("bytes"), garbage_bytes),
)
# Usage reports that are stored (right envelope, fresh seq): what the admin adds up later.
stored_usage = st.tuples(
    st.just("message"),
    st.fixed_dictionaries(
        {
            "type": st.just("usage"),
            "seq": st.integers(100, 10**9),
            "response_id": st.integers(0, 10**12).map(lambda n: f"resp_{n}"),
            "usage": usage,
        }
    ),
)


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    """The fuzzer sends thousands of messages a second as one user: what it checks is how
    each is answered, not the user's rate (tests/transcript_log covers that)."""
    settings.MRBLUE_LOG_MESSAGES_PER_10S = 10**9


@pytest.fixture
def conversation(make_conversation, make_page):
    return make_conversation(page=make_page("fuzz", "Fuzz"), model="gpt-realtime")


async def open_log(conversation_id: int, cookie: bytes) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(
        application,
        f"/ws/mrblue/conversations/{conversation_id}/",
        headers=[(b"origin", b"http://127.0.0.1"), (b"cookie", cookie)],
    )
    connected, _ = await socket.connect(timeout=TIMEOUT)
    assert connected
    return socket


async def answer(socket):
    """The next reply, or why there is none."""
    try:
        message = await next_output(socket, TIMEOUT)
    except Died as exc:
        return None, str(exc)
    if message["type"] != "websocket.send":
        return None, f"the connection closed: {message}"
    return json.loads(message["text"]), None


def contract_problem(sent, reply) -> str | None:
    """Why `reply` is not an answer the log's protocol allows to `sent`."""
    if reply.get("type") == "ack":
        if not (isinstance(sent, dict) and reply.get("seq") == sent.get("seq")):
            return f"ack for another seq: {reply}"
        return None
    if reply.get("type") != "error" or not reply.get("code") or not reply.get("message"):
        return f"neither an ack nor an error with a code: {reply}"
    return None


async def run_sequence(record, conversation_id, cookie, sequence, acked: set) -> None:
    socket = await open_log(conversation_id, cookie)
    try:
        for kind, payload in sequence:
            if kind == "bytes":
                frame_ = {"type": "websocket.receive", "bytes": payload}
            else:
                text = json.dumps(payload) if kind == "message" else payload
                frame_ = {"type": "websocket.receive", "text": text}
            await socket.send_input(frame_)
            reply, died = await answer(socket)
            if died:
                record.crash(payload, died)
                return
            problem = contract_problem(payload if kind == "message" else None, reply)
            if problem:
                record.wrong(payload, problem)
            else:
                record.answered(error=reply["type"] == "error")
                if reply["type"] == "ack":
                    acked.add(reply["seq"])
            record.check_logs(payload)
            if reply.get("code") in CLOSING_CODES:
                return  # the protocol closes here; a new connection goes on
    finally:
        failed = await disconnect(socket)
        if failed:
            record.crash(sequence, f"on disconnect: {failed}")


def stored_problem(conversation, acked: set) -> str | None:
    """Why the stored log does not match what was acknowledged, if it does not."""
    stored = list(
        LogMessage.objects.filter(conversation=conversation).values_list("seq", flat=True)
    )
    if len(stored) != len(set(stored)):
        return f"a seq is stored twice: {sorted(stored)}"
    if set(stored) != acked:
        return f"acknowledged {sorted(acked)} but stored {sorted(stored)}"
    return None


def fuzz_log(record, conversation, frames=frame) -> set:
    """Send fuzzed sequences on fresh connections; return the acknowledged seqs."""
    cookie = session_cookie(conversation.user)
    acked: set = set()
    loop = asyncio.new_event_loop()

    @fuzz_settings(ci_examples=80, inputs_per_example=4)
    @given(sequence=st.lists(frames, min_size=1, max_size=8))
    def fuzz(sequence):
        loop.run_until_complete(run_sequence(record, conversation.pk, cookie, sequence, acked))

    try:
        drive(record, fuzz)
    finally:
        close_loop(loop)
    return acked


def test_log_messages_are_answered_and_stored_once(conversation):
    record = tally(SURFACE)
    acked = fuzz_log(record, conversation)
    problem = stored_problem(conversation, acked)
    if problem:
        record.wrong("the whole run", problem)
    record.finish()


def test_the_admin_renders_after_fuzzed_logs(conversation, make_user):
    record = tally(SURFACE + " → admin")
    fuzz_log(record, conversation, frames=frame | stored_usage)
    admin = Client(raise_request_exception=False)
    admin.force_login(make_user("root", superuser=True))
    for url in (
        "/admin/mrblue/conversation/",
        f"/admin/mrblue/conversation/{conversation.pk}/change/",
    ):
        response = admin.get(url)
        if response.status_code != 200:
            record.crash(url, f"{url} answered {response.status_code}")
        else:
            record.answered(error=False)
    record.finish()
