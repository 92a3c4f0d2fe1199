"""Conversations as the panel logs them, through the real transcript log, with their edits
made through the real page tools."""

import json

from editor.history import run_tool
from mrblue.conversation_log.store import store, validate
from mrblue.models import Conversation


def hold(user, page, *turns, timings=(), provider="local", usage=None):
    """A conversation as the panel logs it: per turn (said, answer, *tool calls), the user's
    words, each tool call (run on the page, then logged), Mr. Blue's answer and its `usage`
    (if given); then the turns' timings (answer ms) and the end."""
    conversation = Conversation.objects.create(
        user=user,
        page=page,
        page_title=page.title,
        provider=provider,
        model="gpt-realtime",
        session={},
    )
    seq = iter(range(1_000))

    def log(**message):
        assert store(conversation, validate({**message, "seq": next(seq)}))

    for index, (said, answer, *calls) in enumerate(turns):
        log(type="transcript", item_id=f"u{index}", role="user", text=said, final=True)
        for number, (name, arguments) in enumerate(calls):
            call_id = f"call_{conversation.pk}_{index}_{number}"
            result = run_tool(page.pk, user, name, arguments, call_id)
            output = json.dumps({"ok": True, "result": result["result"]})
            arguments = json.dumps(arguments)
            log(type="tool_call", call_id=call_id, name=name, arguments=arguments, output=output)
        log(type="transcript", item_id=f"a{index}", role="assistant", text=answer, final=True)
        if usage is not None:
            log(type="usage", response_id=f"resp_{conversation.pk}_{index}", usage=usage)
    for ms in timings:
        log(type="timing", source="engine", stages={"speech_stopped": 300, "first_audio": ms})
    log(type="end")
    conversation.refresh_from_db()
    return conversation
