"""Words a brain says just before it calls a tool are still being synthesized when the call
closes their message (streamed speech runs beside the brain). Over WebRTC their audio is
queued for the track as the message that holds it, never as no message at all: playout's
bookkeeping (what was heard of which item, for truncation on barge-in) needs the item."""

import pytest

from mrblue.engine.brains import FunctionCall, TextDelta
from mrblue.engine.voice import speech
from mrblue.engine.voice.playout import PlayoutQueue
from tests.engine.test_connection import connect, say

pytestmark = pytest.mark.skipif(not speech.tts_available(), reason="needs the tts extra")


class SaysThenCalls:
    """Says a sentence, then calls a tool at once (as the commands brain does)."""

    async def respond(self, request):
        yield TextDelta("Sure, I will open the page for you now.")
        yield FunctionCall("open_page", "{}", "call_1")


class RecordedPlayout(PlayoutQueue):
    """A playout queue that remembers which item each piece of audio was queued as."""

    def __init__(self):
        super().__init__()
        self.items = []

    def push(self, response_id, item_id, pcm):
        self.items.append(item_id)
        super().push(response_id, item_id, pcm)


async def test_audio_after_a_tool_call_is_played_as_the_message_that_holds_it():
    playout = RecordedPlayout()
    connection, client = await connect(SaysThenCalls(), text_only=False, playout=playout)
    await say(connection, "open the page")
    done = await client.wait_for("response.done", timeout=60)  # the voice loads first
    messages = {o["id"] for o in done["response"]["output"] if o["type"] == "message"}
    assert playout.items, "no audio was queued"
    assert set(playout.items) <= messages
    await connection.shutdown()
