"""The async adapter: brain runs, cancellation, failures, limits, expiry."""

import asyncio
import base64
import json

import pytest

from mrblue.commands_brain.brain import CommandsBrain
from mrblue.engine.protocol.core import RealtimeSession
from mrblue.engine.protocol.session_config import default_session
from mrblue.engine.transports import webrtc
from mrblue.engine.transports.connection import EngineConnection, loggable
from mrblue.engine.voice import speech
from mrblue.engine.voice.playout import PlayoutQueue
from mrblue.engine.voice.scheduler import URGENT
from tests.support import brains
from tests.support.audio_fixtures import utterance
from tests.support.realtime_schema import validate_server_event


class Client:
    """Collects what the connection sends and lets a test wait for an event type."""

    def __init__(self):
        self.events = []
        self.closed = asyncio.Event()
        self._arrived = asyncio.Condition()

    async def send(self, event):
        validate_server_event(event)
        async with self._arrived:
            self.events.append(event)
            self._arrived.notify_all()

    async def close(self):
        self.closed.set()

    async def wait_for(self, type_, count=1, timeout=5):
        async def arrived():
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(self.of(type_)) >= count)

        await asyncio.wait_for(arrived(), timeout)
        return self.of(type_)[count - 1]

    def of(self, type_):
        return [e for e in self.events if e["type"] == type_]


async def connect(brain, max_bytes=10_000, max_seconds=3600, text_only=True, playout=None):
    client = Client()
    config = default_session()
    if text_only:
        config["output_modalities"] = ["text"]
    connection = EngineConnection(
        RealtimeSession(config, output_audio_buffer=playout is not None),
        brain,
        client.send,
        client.close,
        max_message_bytes=max_bytes,
        max_seconds=max_seconds,
        label="test",
        playout=playout,
    )
    await connection.start()
    return connection, client


async def say(connection, text):
    await connection.receive_text(
        json.dumps(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": text}],
                },
            }
        )
    )
    await connection.receive_text(json.dumps({"type": "response.create"}))


async def test_a_text_turn_with_the_commands_brain():
    connection, client = await connect(CommandsBrain())
    assert client.events[0]["type"] == "session.created"
    await say(connection, "hello")
    done = await client.wait_for("response.done")
    assert done["response"]["status"] == "completed"
    text = await client.wait_for("response.output_text.done")
    assert text["text"].startswith("Hi! I'm Mr. Blue")
    await connection.shutdown()


async def test_cancel_stops_the_brain_and_reports_cancelled():
    connection, client = await connect(brains.HangingBrain())
    await say(connection, "tell me a long story")
    await client.wait_for("response.output_text.delta")
    await connection.receive_text(json.dumps({"type": "response.cancel", "event_id": "c1"}))
    done = await client.wait_for("response.done")
    assert done["response"]["status"] == "cancelled"
    assert done["response"]["output"][0]["content"][0]["text"] == "Let me think about that. "
    await asyncio.sleep(0)  # let the cancelled task unwind
    assert done["response"]["id"] in brains.CANCELLED
    # the session is usable: a new response can start
    await connection.receive_text(json.dumps({"type": "response.create"}))
    assert (await client.wait_for("response.created", 2))["response"]["status"] == "in_progress"
    await connection.shutdown()


@pytest.mark.parametrize(
    ("brain", "code"),
    [(brains.FailingBrain(), "brain_timeout"), (brains.CrashingBrain(), "brain_error")],
)
async def test_a_failing_brain_fails_the_response_not_the_session(brain, code):
    connection, client = await connect(brain)
    await say(connection, "hi")
    done = await client.wait_for("response.done")
    assert done["response"]["status"] == "failed"
    assert done["response"]["status_details"]["error"]["code"] == code
    await say(connection, "again")
    assert (await client.wait_for("response.done", 2))["response"]["status"] == "failed"
    await connection.shutdown()


async def test_bad_json_and_oversized_messages_are_errors():
    connection, client = await connect(CommandsBrain(), max_bytes=200)
    await connection.receive_text("{nope")
    await connection.receive_text(json.dumps({"type": "session.update", "x": "y" * 300}))
    errors = client.of("error")
    assert [e["error"]["code"] for e in errors] == ["invalid_json", "message_too_large"]
    await say(connection, "hi")
    assert (await client.wait_for("response.done"))["response"]["status"] == "completed"
    await connection.shutdown()


async def test_json_nested_too_deeply_is_an_error():
    connection, client = await connect(CommandsBrain(), max_bytes=1_000_000)
    await connection.receive_text("[" * 50_000 + "]" * 50_000)
    assert client.of("error")[-1]["error"]["code"] == "invalid_json"
    await say(connection, "hi")
    assert (await client.wait_for("response.done"))["response"]["status"] == "completed"
    await connection.shutdown()


async def test_the_session_expires_with_an_error_and_closes():
    connection, client = await connect(CommandsBrain(), max_seconds=0.05)
    await asyncio.wait_for(client.closed.wait(), 5)
    assert client.of("error")[-1]["error"]["code"] == "session_expired"
    await connection.shutdown()


def test_log_lines_leave_audio_out():
    event = {"type": "input_audio_buffer.append", "audio": "A" * 5000}
    assert loggable(event) == {"type": "input_audio_buffer.append", "audio": "<5000 base64 chars>"}


async def test_idle_timeout_prompts_the_person():
    connection, client = await connect(CommandsBrain())
    settings = connection.session.config["audio"]["input"]["turn_detection"]
    settings["idle_timeout_ms"] = 20  # below the API's minimum, to keep the test fast
    await say(connection, "hello")
    await client.wait_for("response.done")
    timeout = await client.wait_for("input_audio_buffer.timeout_triggered")
    assert timeout["item_id"].startswith("item_")
    prompt = await client.wait_for("response.output_text.done", 2)
    assert "anything else" in prompt["text"]
    await connection.shutdown()


async def test_speech_during_a_response_interrupts_it():
    connection, client = await connect(brains.HangingBrain())
    await say(connection, "tell me a story")
    await client.wait_for("response.output_text.delta")
    await connection.voice._speech_started(1000, {"interrupt_response": True})
    done = await client.wait_for("response.done")
    assert done["response"]["status_details"]["reason"] == "turn_detected"
    assert client.of("input_audio_buffer.speech_started")[0]["audio_start_ms"] == 1000
    await connection.shutdown()


async def append_audio(connection, pcm, chunk=4800):
    """Stream 24 kHz pcm16 as a client would, 100 ms per event."""
    for start in range(0, len(pcm), chunk):
        audio = base64.b64encode(pcm[start : start + chunk]).decode()
        await connection.receive_text(
            json.dumps({"type": "input_audio_buffer.append", "audio": audio})
        )


@pytest.fixture
def recognitions(monkeypatch):
    """Each recognition the engine runs, as seconds of audio (it still runs for real)."""
    seen = []
    real = speech.transcribe

    async def watched(pcm16k, *args, priority=URGENT, **kwargs):
        if priority == URGENT:  # partial transcripts of long speech aside
            seen.append(len(pcm16k) / 2 / 16_000)
        return await real(pcm16k, *args, priority=priority, **kwargs)

    monkeypatch.setattr(speech, "transcribe", watched)
    return seen


async def listening(playout=None):
    connection, client = await connect(CommandsBrain(), text_only=False, playout=playout)
    connection.session.config["audio"]["input"]["transcription"] = {"model": "whisper-1"}
    return connection, client


async def test_a_new_session_loads_the_speech_models_before_the_first_turn(monkeypatch):
    monkeypatch.setattr(speech, "_models", {})
    connection, _client = await connect(CommandsBrain())
    # Each model loads on its own single worker thread: once a job queued after the session
    # started has run there, the load queued by the start has finished.
    await speech.recognition.run("warm-up", lambda: None)
    await speech.synthesis.run("warm-up", lambda: None)
    assert "whisper" in speech._models
    assert any(name.startswith("piper:") for name in speech._models)
    await connection.shutdown()


async def test_recognition_starts_at_the_pause_that_ends_the_turn(recognitions):
    connection, client = await listening()
    await append_audio(connection, utterance("Make the heading blue.", after=1.0))
    heard = await client.wait_for(
        "conversation.item.input_audio_transcription.completed", timeout=30
    )
    assert "heading blue" in heard["transcript"].lower()
    # One recognition, of the speech without the silence that confirmed the end of the turn;
    # the usage still counts the whole item.
    assert len(recognitions) == 1
    assert heard["usage"]["seconds"] - recognitions[0] >= 0.2
    await connection.shutdown()


async def test_a_pause_the_person_talks_through_is_recognised_again(recognitions):
    connection, client = await listening()
    speech_with_a_pause = utterance("Make the heading", after=0.2) + utterance(
        "blue.", before=0.0, after=1.0
    )
    await append_audio(connection, speech_with_a_pause)
    heard = await client.wait_for(
        "conversation.item.input_audio_transcription.completed", timeout=30
    )
    assert "heading blue" in heard["transcript"].lower().replace(",", "")
    # The first pause ended nothing: what was recognised there is not the transcript.
    assert len(client.of("input_audio_buffer.speech_stopped")) == 1
    assert recognitions[-1] >= 1.5
    await connection.shutdown()


class WatchedPlayout(PlayoutQueue):
    """A playout queue that says when audio arrives."""

    def __init__(self):
        super().__init__()
        self.filled = asyncio.Event()

    def push(self, response_id, item_id, pcm):
        super().push(response_id, item_id, pcm)
        self.filled.set()


async def test_barge_in_over_webrtc_clears_playout_and_truncates_to_what_was_heard():
    playout = WatchedPlayout()
    connection, client = await connect(brains.HangingBrain(), text_only=False, playout=playout)
    await say(connection, "tell me a story")
    await asyncio.wait_for(playout.filled.wait(), 10)
    for _ in range(5):  # the track plays 100 ms
        playout.pull()
    await connection.voice._speech_started(3000, {"interrupt_response": True})
    truncated = await client.wait_for("conversation.item.truncated")
    assert truncated["audio_end_ms"] == 100
    assert client.of("output_audio_buffer.cleared")
    assert client.of("response.done")[0]["response"]["status"] == "cancelled"
    assert not client.of("response.output_audio.delta")  # audio rides the track
    assert not playout.busy
    await connection.shutdown()


async def test_a_call_refuses_client_events_beyond_its_queue():
    call = webrtc.Call(default_session())
    for _ in range(webrtc.MAX_WAITING_EVENTS + 2):
        call._receive('{"type": "input_audio_buffer.clear"}')
    await asyncio.gather(*call._tasks)  # the refusals, queued until the data channel opens
    assert call._inbox.qsize() == webrtc.MAX_WAITING_EVENTS
    assert [e["error"]["code"] for e in call._waiting] == ["too_many_events"] * 2
    for event in call._waiting:
        validate_server_event(event)
    await call.close()


async def test_a_client_clear_over_webrtc_is_answered_once():
    playout = WatchedPlayout()
    connection, client = await connect(brains.HangingBrain(), text_only=False, playout=playout)
    await say(connection, "tell me a story")
    await asyncio.wait_for(playout.filled.wait(), 10)
    for _ in range(5):  # the track plays 100 ms
        playout.pull()
    await connection.receive_text(json.dumps({"type": "output_audio_buffer.clear"}))
    (cleared,) = client.of("output_audio_buffer.cleared")
    assert cleared["response_id"] == connection.session.active_response_id
    assert client.of("conversation.item.truncated")[0]["audio_end_ms"] == 100
    assert not playout.busy
    # Nothing playing any more: the clear is still answered, once.
    await connection.receive_text(json.dumps({"type": "output_audio_buffer.clear"}))
    assert len(client.of("output_audio_buffer.cleared")) == 2
    assert len(client.of("conversation.item.truncated")) == 1
    await connection.shutdown()
