"""The `openai_compatible` brain against a real HTTP server speaking chat completions."""

import logging

import pytest

from editor.tools import editor_tools
from mrblue.engine.brains import BrainError, FunctionCall, TextDelta
from mrblue.engine.brains.openai_compatible import OpenAICompatibleBrain
from mrblue.engine.protocol.core import RealtimeSession, ResponseRequest
from mrblue.engine.protocol.responses import BRAIN_MAX_CHARS
from mrblue.engine.protocol.session_config import default_session
from tests.support.fake_chat_server import FakeChatServer


@pytest.fixture
def chat_server():
    server = FakeChatServer()
    yield server
    server.close()


def make_request(text="Hola", tools=None):
    conversation = [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        {"type": "function_call", "name": "undo", "arguments": "{}", "call_id": "c1"},
        {"type": "function_call_output", "call_id": "c1", "output": '{"ok": true}'},
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_audio", "transcript": "Undone."}],
        },
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_audio", "transcript": text}],
        },
    ]
    return ResponseRequest(
        "resp_1", "Be brief.", tools or [], "auto", ["audio"], 200, "marin", 1.0, conversation
    )


async def collect(brain, request):
    return [output async for output in brain.respond(request)]


async def test_streams_text_from_the_server(chat_server):
    brain = OpenAICompatibleBrain(url=chat_server.url, model="echo", api_key="k-1")
    outputs = await collect(brain, make_request("Hola amigo"))
    assert all(isinstance(o, TextDelta) for o in outputs) and len(outputs) > 1
    assert "".join(o.text for o in outputs).strip() == "You said: Hola amigo"
    sent = chat_server.requests[0]
    assert sent["headers"]["Authorization"] == "Bearer k-1"
    body = sent["body"]
    assert body["stream"] is True and body["max_tokens"] == 200
    assert [m["role"] for m in body["messages"]] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
    ]
    assert body["messages"][2]["tool_calls"][0]["id"] == "c1"
    assert body["messages"][3] == {"role": "tool", "tool_call_id": "c1", "content": '{"ok": true}'}


async def test_tool_calls_are_assembled_from_pieces(chat_server):
    brain = OpenAICompatibleBrain(url=chat_server.url, model="tools")
    outputs = await collect(brain, make_request(tools=editor_tools()))
    assert outputs == [FunctionCall("describe_page", '{"block_id": "heading"}', "call_fake1")]
    tools = chat_server.requests[0]["body"]["tools"]
    assert tools[0]["type"] == "function" and tools[0]["function"]["name"] == "describe_page"
    assert "Authorization" not in chat_server.requests[0]["headers"]


@pytest.mark.parametrize(
    ("model", "code"),
    [
        ("error500", "brain_http_error"),
        ("badjson", "brain_bad_response"),
        ("slow", "brain_timeout"),
    ],
)
async def test_server_failures_become_brain_errors(chat_server, model, code):
    brain = OpenAICompatibleBrain(url=chat_server.url, model=model, timeout=0.5)
    with pytest.raises(BrainError) as caught:
        await collect(brain, make_request())
    assert caught.value.code == code


async def test_an_unreachable_server_is_a_brain_error():
    brain = OpenAICompatibleBrain(url="http://127.0.0.1:9/v1", model="echo", timeout=1)
    with pytest.raises(BrainError) as caught:
        await collect(brain, make_request())
    assert caught.value.code == "brain_unreachable"


async def test_an_upstream_error_reaches_the_log_not_the_client(chat_server, caplog):
    brain = OpenAICompatibleBrain(
        url=chat_server.url, model="errorchunk", api_key="sk-brain-secret", timeout=1
    )
    with caplog.at_level(logging.WARNING), pytest.raises(BrainError) as caught:
        await collect(brain, make_request())
    assert caught.value.code == "brain_error"
    assert caught.value.message == "The brain server reported an error."
    assert "/srv/llm/internal.py" in caplog.text  # the operator can see what happened
    assert "sk-brain-secret" not in caplog.text + str(caught.value)


async def test_the_chat_server_gets_a_bounded_conversation(chat_server):
    """A session holding megabytes of text sends the chat server what the engine hands a
    brain (`BRAIN_MAX_CHARS` of the newest items), not all of it."""
    session = RealtimeSession(default_session())
    huge = "Hola " * 60_000  # 300 KB
    for text in ("first", huge, huge, huge, "Hola amigo"):
        item = {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        }
        session.receive({"type": "conversation.item.create", "item": item})
    request = session.receive({"type": "response.create"}).start_response
    brain = OpenAICompatibleBrain(url=chat_server.url, model="echo")
    outputs = await collect(brain, request)
    assert "".join(o.text for o in outputs).strip() == "You said: Hola amigo"
    messages = chat_server.requests[0]["body"]["messages"]
    sent = sum(len(m["content"] or "") for m in messages if m["role"] == "user")
    assert BRAIN_MAX_CHARS - 10 < sent <= BRAIN_MAX_CHARS  # not 900 KB
    assert messages[-1]["content"] == "Hola amigo"
    assert "first" not in [m["content"] for m in messages]  # older than what fits
