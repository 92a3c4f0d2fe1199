"""Turns played straight through the `commands` brain, with the editor's tools, as the
engine would hand them over (the brain tests, the understanding tests and its benchmark)."""

import json

from editor.tools import editor_tools
from mrblue.commands_brain.brain import decide
from mrblue.engine.brains import Decision, FunctionCall
from mrblue.engine.protocol.core import ResponseRequest


def brain_request(
    conversation, tools=None, tool_choice="auto", instructions="", audio=False, scorers=None
):
    """A request for one response to `conversation`, with the editor's tools by default
    (`scorers`: the recognizer's, by user audio item id)."""
    return ResponseRequest(
        response_id="resp_1",
        instructions=instructions,
        tools=editor_tools() if tools is None else tools,
        tool_choice=tool_choice,
        output_modalities=["audio" if audio else "text"],
        max_output_tokens="inf",
        voice="marin",
        speed=1.0,
        conversation=conversation,
        audio=dict(scorers or {}),
    )


def user(text: str) -> dict:
    """A user message item saying `text`."""
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def spoken(transcript: str, item_id: str) -> dict:
    """A user audio item (its audio left out, as brains get it) heard as `transcript`."""
    return {
        "id": item_id,
        "type": "message",
        "role": "user",
        "content": [{"type": "input_audio", "transcript": transcript}],
    }


def assistant(text: str) -> dict:
    """An assistant message item saying `text`."""
    return {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text}],
    }


def play_turn(
    conversation, page: dict, tools=None, scorers=None, decisions=None
) -> tuple[list, tuple]:
    """Play the turn the conversation ends in, the editor answering `describe_page` with
    `page` (`tools`: the session's, the editor's by default; `scorers`: the recognizer's
    rescoring scorers, by user audio item id; the brain's `Decision` records are appended to
    the list `decisions`); returns the conversation grown by it, and its result: ("call",
    name, arguments) or ("say", words)."""
    conversation = list(conversation)
    for number in range(3):
        outputs = decide(brain_request(conversation, tools, scorers=scorers))
        if decisions is not None:
            decisions += [o.record for o in outputs if isinstance(o, Decision)]
        outputs = [o for o in outputs if not isinstance(o, Decision)]
        calls = [o for o in outputs if isinstance(o, FunctionCall)]
        if not calls:
            words = "".join(o.text for o in outputs)
            return [*conversation, assistant(words)], ("say", words)
        if calls[0].name != "describe_page":
            return conversation, ("call", calls[0].name, json.loads(calls[0].arguments))
        call_id = f"c{len(conversation)}_{number}"
        conversation += [
            {
                "type": "function_call",
                "name": "describe_page",
                "arguments": "{}",
                "call_id": call_id,
            },
            {"type": "function_call_output", "call_id": call_id, "output": json.dumps(page)},
        ]
    raise AssertionError("the brain kept looking at the page")
