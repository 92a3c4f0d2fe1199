"""Recognition overlapping the silence: which recognition a turn's transcript comes from.

Voice detection hears scripted audio (any sound is speech) and recognition is a stand-in whose
answers the test releases when it wants, so the races the engine must get right (speech that
resumes while the pause's recognition runs, a result that arrives late) happen on purpose.
"""

import asyncio

import pytest

from mrblue.commands_brain.brain import CommandsBrain
from mrblue.engine.transports.speaker import split_clauses
from mrblue.engine.voice import speech
from mrblue.engine.voice.partial_words import Words, added_words, final_delta
from mrblue.engine.voice.scheduler import URGENT
from mrblue.engine.voice.vad import CHUNK_BYTES, TurnDetector
from tests.engine.test_connection import append_audio, connect

DELTA = "conversation.item.input_audio_transcription.delta"
COMPLETED = "conversation.item.input_audio_transcription.completed"


def sound(seconds: float) -> bytes:
    """Audio voice detection takes for speech (24 kHz pcm16)."""
    return b"\x00\x10" * int(24_000 * seconds)


def quiet(seconds: float) -> bytes:
    return bytes(2 * int(24_000 * seconds))


class Recognizer:
    """Stands in for Whisper: one word per 0.2 s of sound heard ("w0 w1 ..."); each call can
    be held until the test releases it."""

    def __init__(self):
        self.calls = []  # (seconds of sound, priority, speech_stopped events sent before)
        self.hold = set()  # indexes of calls to hold
        self.released = {}

    def words(self, pcm16k: bytes) -> str:
        voiced = sum(any(pcm16k[i : i + CHUNK_BYTES]) for i in range(0, len(pcm16k), CHUNK_BYTES))
        return " ".join(f"w{i}" for i in range(round(voiced * 0.032 / 0.2))) + "."

    async def __call__(
        self,
        pcm16k,
        language=None,
        prompt=None,
        hotwords=None,
        *,
        priority=URGENT,
        started=None,
        **_,
    ):
        index = len(self.calls)
        self.calls.append(
            (pcm16k, priority, len(self.client.of("input_audio_buffer.speech_stopped")))
        )
        if started is not None:
            started()
        if index in self.hold:
            self.released[index] = asyncio.Event()
            await self.released[index].wait()
        return self.words(pcm16k)


@pytest.fixture
async def listening(monkeypatch):
    recognizer = Recognizer()
    monkeypatch.setattr(speech, "transcribe", recognizer)
    connection, client = await connect(CommandsBrain(), max_bytes=1_000_000)
    recognizer.client = client
    session = connection.session
    session.config["audio"]["input"]["transcription"] = {"model": "whisper-1"}
    settings = session.turn_detection()
    voice = connection.voice
    voice._detector = TurnDetector(settings, probability=lambda chunk: 0.9 if any(chunk) else 0.0)
    voice._detector_config = settings
    yield connection, client, recognizer
    await connection.shutdown()


def after_completed(client, type_):
    types = [e["type"] for e in client.events]
    return [t for t in types[types.index(COMPLETED) + 1 :] if t == type_]


async def test_a_pause_that_ends_the_turn_uses_the_recognition_started_at_once(listening):
    connection, client, recognizer = listening
    await append_audio(connection, quiet(0.3) + sound(1.0) + quiet(1.0))
    heard = await client.wait_for(COMPLETED)
    assert heard["transcript"] == "w0 w1 w2 w3 w4."
    urgent = [call for call in recognizer.calls if call[1] == URGENT]
    assert len(urgent) == 1  # not recognised again after the silence
    assert urgent[0][2] == 0  # it began before the turn was declared over


async def test_speech_that_resumes_is_heard_in_full_and_the_pause_shows_partial_words(listening):
    connection, client, recognizer = listening
    await append_audio(connection, quiet(0.3) + sound(1.0) + quiet(0.2) + sound(1.0) + quiet(1.0))
    heard = await client.wait_for(COMPLETED)
    assert heard["transcript"] == "w0 w1 w2 w3 w4 w5 w6 w7 w8 w9."
    deltas = [e for e in client.of(DELTA) if e["item_id"] == heard["item_id"]]
    assert deltas[0]["delta"] == "w0 w1 w2 w3 w4"  # the pause's words, before the end
    said = "".join(d["delta"] for d in deltas)
    assert said.rstrip(".").split() == heard["transcript"].rstrip(".").split()
    types = [e["type"] for e in client.events]
    assert types.index(DELTA) < types.index(COMPLETED)
    assert len(client.of("input_audio_buffer.speech_stopped")) == 1


async def test_a_late_result_of_an_earlier_pause_is_never_the_transcript(listening):
    connection, client, recognizer = listening
    recognizer.hold = {0}  # the first pause's recognition finishes last of all
    await append_audio(connection, quiet(0.3) + sound(1.0) + quiet(0.2) + sound(1.0) + quiet(1.0))
    heard = await client.wait_for(COMPLETED)
    assert heard["transcript"] == "w0 w1 w2 w3 w4 w5 w6 w7 w8 w9."
    recognizer.released[0].set()
    await asyncio.sleep(0.05)  # let the late result arrive (it must change nothing)
    assert not after_completed(client, DELTA)
    assert len(client.of(COMPLETED)) == 1


async def test_the_next_turn_never_gets_the_words_of_the_one_before(listening):
    connection, client, recognizer = listening
    recognizer.hold = {0}  # turn one's recognition is still running when turn two ends
    await append_audio(connection, quiet(0.3) + sound(1.0) + quiet(1.0) + sound(0.4) + quiet(1.0))
    await client.wait_for("input_audio_buffer.speech_stopped", count=2)
    recognizer.released[0].set()
    first = await client.wait_for(COMPLETED)
    second = await client.wait_for(COMPLETED, count=2)
    by_item = {first["item_id"]: first["transcript"], second["item_id"]: second["transcript"]}
    stops = [e["item_id"] for e in client.of("input_audio_buffer.speech_stopped")]
    assert [by_item[item] for item in stops] == ["w0 w1 w2 w3 w4.", "w0 w1."]


async def test_audio_the_client_cleared_during_the_pause_is_not_the_transcript(listening):
    connection, client, recognizer = listening
    await append_audio(connection, quiet(0.3) + sound(1.0) + quiet(0.1))  # the pause is told
    await connection.receive_text('{"type": "input_audio_buffer.clear"}')
    await append_audio(connection, quiet(1.0))  # the silence ends the turn at the same pause
    heard = await client.wait_for(COMPLETED)
    assert heard["transcript"] == "."  # what is left: silence (the stand-in's "no words")


def test_partial_words_only_grow_and_the_final_adds_the_rest():
    assert added_words("", "Make the heading.") == "Make the heading"
    assert added_words("Make the heading", "Make the heading blue.") == " blue"
    assert added_words("Make the heading", "Make a heading blue.") is None  # disagrees
    assert final_delta("Make the heading", "Make the heading blue.") == " blue."
    assert final_delta("Make the heading", "Make a heading blue.") == ""
    words = Words()
    words.begin("item_1")
    assert words.hypothesis("item_1", "Make the.", 300) == "Make the"
    assert words.hypothesis("item_1", "Make.", 200) is None  # older than one applied
    assert words.hypothesis("item_0", "Other words.", 900) is None  # another utterance's
    assert words.final("item_1", "Make the heading blue.") == ("Make the", " heading blue.")
    assert words.hypothesis("item_1", "Make the heading blue now.", 1200) is None  # final


def test_answers_are_spoken_clause_by_clause():
    assert split_clauses("Done, I undid the last change. Make the heading blue, then add") == (
        ["Done, I undid the last change.", "Make the heading blue,"],
        "then add",
    )
    assert split_clauses("Sure, I can — maybe; fine: ok. And") == (
        ["Sure, I can —", "maybe; fine:", "ok."],
        "And",
    )
    assert split_clauses("Make the heading blue, then") == (["Make the heading blue,"], "then")
    assert split_clauses("blue,") == ([], "blue,")  # no space yet: the clause may go on
