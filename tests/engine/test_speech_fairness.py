"""The speech threads are shared fairly between sessions, and a session's work is bounded."""

import asyncio
import base64
import json
import threading

import pytest

from mrblue.commands_brain.brain import CommandsBrain
from mrblue.engine.protocol.conversation import MemoryLimits
from mrblue.engine.protocol.core import RealtimeSession
from mrblue.engine.protocol.session_config import default_session
from mrblue.engine.voice import speech
from mrblue.engine.voice.scheduler import BACKGROUND, SUPERSEDED, FairWorker, QueueFull
from tests.engine.test_connection import connect


def held(worker: FairWorker):
    """Occupy `worker` until the returned event is set (its first job blocks on it)."""
    release, running = threading.Event(), threading.Event()

    def block():
        running.set()
        release.wait(10)

    worker.submit("someone else", block)
    assert running.wait(10)
    return release


def test_sessions_take_turns_whatever_one_of_them_queued():
    worker = FairWorker("test")
    release = held(worker)
    order = []
    futures = [worker.submit("flood", order.append, f"flood{i}") for i in range(4)]
    futures.append(worker.submit("quiet", order.append, "quiet"))
    release.set()
    for future in futures:
        future.result(10)
    # The session that queued four jobs first does not make the other wait for all four.
    assert order == ["flood0", "quiet", "flood1", "flood2", "flood3"]


def test_a_turn_goes_before_background_work_and_only_the_newest_background_job_runs():
    worker = FairWorker("test")
    release = held(worker)
    order = []
    older = worker.submit("a", order.append, "partial 1", priority=BACKGROUND)
    newer = worker.submit("a", order.append, "partial 2", priority=BACKGROUND)
    turn = worker.submit("b", order.append, "turn")
    release.set()
    newer.result(10), turn.result(10)
    assert older.result(10) is SUPERSEDED
    assert order == ["turn", "partial 2"]


def test_a_job_cancelled_before_it_starts_never_runs_and_a_full_queue_refuses_more():
    worker = FairWorker("test", max_queued=lambda: 2)
    release = held(worker)
    ran = []
    dropped = worker.submit("a", ran.append, "dropped")
    kept = worker.submit("a", ran.append, "kept")
    with pytest.raises(QueueFull):
        worker.submit("a", ran.append, "one too many")
    assert dropped.cancel()
    worker.submit("a", ran.append, "room again")  # a cancelled job holds no place
    release.set()
    kept.result(10)
    assert worker.waiting() in (0, 1)
    assert "dropped" not in ran


def test_an_input_audio_buffer_at_its_limit_is_an_error_and_the_session_goes_on():
    core = RealtimeSession(default_session(), limits=MemoryLimits(input_audio_seconds=1))
    second = base64.b64encode(bytes(48_000)).decode()  # one second of 24 kHz pcm16
    assert core.receive({"type": "input_audio_buffer.append", "audio": second}).events == []
    refused = core.receive({"type": "input_audio_buffer.append", "audio": second}).events
    assert refused[0]["type"] == "error"
    assert refused[0]["error"]["code"] == "input_audio_buffer_full"
    assert "1 seconds" in refused[0]["error"]["message"]
    assert len(core.input_audio) == 48_000  # what was buffered stays
    committed = core.receive({"type": "input_audio_buffer.commit"}).events
    assert committed[0]["type"] == "input_audio_buffer.committed"
    assert core.receive({"type": "input_audio_buffer.append", "audio": second}).events == []


async def test_a_session_that_queues_too_much_recognition_gets_an_error_and_goes_on(settings):
    settings.MRBLUE_ENGINE_SPEECH_JOBS = 1
    connection, client = await connect(CommandsBrain(), max_bytes=1_000_000)
    session = connection.session
    session.config["audio"]["input"]["turn_detection"] = None  # the client commits
    session.config["audio"]["input"]["transcription"] = {"model": "whisper-1"}
    release = await asyncio.to_thread(held, speech.recognition)
    audio = base64.b64encode(bytes(24_000)).decode()  # half a second of silence
    for _ in range(2):
        await connection.receive_text(
            json.dumps({"type": "input_audio_buffer.append", "audio": audio})
        )
        await connection.receive_text(json.dumps({"type": "input_audio_buffer.commit"}))
    error = await client.wait_for("error")
    assert error["error"]["code"] == "speech_queue_full"
    failed = await client.wait_for("conversation.item.input_audio_transcription.failed")
    release.set()
    completed = await client.wait_for(
        "conversation.item.input_audio_transcription.completed", timeout=60
    )
    assert completed["item_id"] != failed["item_id"]  # the first one is still heard
    await connection.shutdown()
