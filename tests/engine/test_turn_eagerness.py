"""Eager turn detection on real speech with a natural pause (piper's spoken comma, ~380 ms):
Silero hears it, Whisper transcribes it, recognition overlaps every pause."""

import json

from mrblue.commands_brain.brain import CommandsBrain
from mrblue.engine.voice import end_of_turn
from tests.engine.test_connection import append_audio, connect
from tests.support.audio_fixtures import utterance

WITH_A_COMMA = "Make the heading blue, then add a button that says Sign up."
COMPLETED = "conversation.item.input_audio_transcription.completed"


async def eager_session(turn_detection: dict):
    connection, client = await connect(CommandsBrain(), max_bytes=1_000_000)
    update = {
        "type": "session.update",
        "session": {
            "type": "realtime",
            "audio": {
                "input": {
                    "transcription": {"model": "whisper-1"},
                    "turn_detection": turn_detection,
                }
            },
        },
    }
    await connection.receive_text(json.dumps(update))
    await client.wait_for("session.updated")
    return connection, client


def words(text: str) -> str:
    return text.lower().replace(",", "").replace(".", "")


async def test_semantic_vad_with_high_eagerness_does_not_cut_a_sentence_at_its_comma(monkeypatch):
    # Without the end-of-turn model, eagerness is a silence window (with it, see
    # test_end_of_turn: "Make the heading blue," sounds finished, a hesitation does not).
    monkeypatch.setattr(end_of_turn, "available", lambda: False)
    connection, client = await eager_session({"type": "semantic_vad", "eagerness": "high"})
    await append_audio(connection, utterance(WITH_A_COMMA, after=1.5))
    heard = await client.wait_for(COMPLETED, timeout=60)
    assert len(client.of("input_audio_buffer.speech_stopped")) == 1
    assert "heading blue" in words(heard["transcript"])
    assert "sign up" in words(heard["transcript"])
    await connection.shutdown()


async def test_a_short_silence_ends_a_turn_at_the_comma_and_each_turn_has_its_own_words():
    connection, client = await eager_session(
        {"type": "server_vad", "silence_duration_ms": 200, "create_response": False}
    )
    await append_audio(connection, utterance(WITH_A_COMMA, after=1.5))
    await client.wait_for(COMPLETED, count=2, timeout=60)
    stops = [e["item_id"] for e in client.of("input_audio_buffer.speech_stopped")]
    assert len(stops) == 2
    said = {e["item_id"]: words(e["transcript"]) for e in client.of(COMPLETED)}
    first, second = said[stops[0]], said[stops[1]]
    assert "heading blue" in first and "sign up" not in first
    assert "sign up" in second and "heading" not in second  # no stale words of the first
    await connection.shutdown()
