"""No dead air before a page edit: the `commands` brain says what it is about to do, then calls
the tool; the engine speaks those words (their audio in their own item) before the call."""

import json

from editor.tools import editor_tools
from mrblue.commands_brain.brain import CommandsBrain, decide
from mrblue.engine.brains import FunctionCall, TextDelta
from tests.engine.test_connection import connect, say
from tests.support.brain_turns import brain_request, user


def words_then_calls(outputs) -> tuple[str, list[str]]:
    """(the words before the first call, the calls' names); no words after a call."""
    first = next(i for i, o in enumerate(outputs) if isinstance(o, FunctionCall))
    assert all(isinstance(o, TextDelta) for o in outputs[:first])
    assert all(isinstance(o, FunctionCall) for o in outputs[first:])
    return "".join(o.text for o in outputs[:first]), [o.name for o in outputs[first:]]


def test_an_edit_is_acknowledged_before_the_page_is_looked_at():
    cases = {
        "make the heading blue": "Sure, making the heading blue.",
        "give the button a yellow background": "Sure, giving the button a yellow background.",
        "delete the second paragraph": "Sure, deleting the second paragraph.",
        "add a button that says Sign up": "Sure, adding a button.",
        "undo": "Sure, undoing the last change.",
        "what is on the page": "Let me look at the page.",
    }
    for said, acknowledgement in cases.items():
        words, calls = words_then_calls(decide(brain_request([user(said)])))
        assert (words, len(calls)) == (acknowledgement, 1), said


def test_no_acknowledgement_when_a_question_or_no_tool_comes():
    # "Which colour?" comes once the page is seen: nothing is under way yet.
    outputs = decide(brain_request([user("change the colour of the button")]))
    assert [type(o) for o in outputs] == [FunctionCall]
    outputs = decide(brain_request([user("hello")]))
    assert all(isinstance(o, TextDelta) for o in outputs)
    outputs = decide(brain_request([user("make the heading blue")], tools=[]))
    assert all(isinstance(o, TextDelta) for o in outputs)


def test_a_failed_edit_is_said_after_the_acknowledgement():
    conversation = [user("make the heading blue")]
    first = decide(brain_request(conversation))
    conversation += [
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": words_then_calls(first)[0]}],
        },
        {"type": "function_call", "name": "update_style", "arguments": "{}", "call_id": "c1"},
        {
            "type": "function_call_output",
            "call_id": "c1",
            "output": json.dumps({"ok": False, "error": "The page changed meanwhile"}),
        },
    ]
    said = "".join(o.text for o in decide(brain_request(conversation)))
    assert said == "I couldn't do that: The page changed meanwhile."


async def test_the_acknowledgement_is_spoken_in_its_own_item_before_the_call():
    connection, client = await connect(CommandsBrain(), max_bytes=1_000_000, text_only=False)
    update = {"type": "session.update", "session": {"type": "realtime", "tools": editor_tools()}}
    await connection.receive_text(json.dumps(update))
    await client.wait_for("session.updated")
    await say(connection, "make the heading blue")
    done = await client.wait_for("response.done", timeout=30)
    message, call = done["response"]["output"]
    assert message["type"] == "message" and call["type"] == "function_call"
    assert message["content"][0]["transcript"] == "Sure, making the heading blue."
    assert call["name"] == "describe_page"
    types = [(e["type"], e.get("item_id")) for e in client.events]
    audio = [i for i, (kind, item) in enumerate(types) if kind == "response.output_audio.delta"]
    called = types.index(("response.function_call_arguments.done", call["id"]))
    assert audio and max(audio) < called  # heard first: all of its audio precedes the call
    assert {types[i][1] for i in audio} == {message["id"]}
    await connection.shutdown()
