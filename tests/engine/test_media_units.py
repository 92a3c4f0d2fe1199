"""The media path without a network: pacing, the speaker track's packets, frame batching and
the Silero model's speech probability."""

import av
import numpy as np
import pytest

from mrblue.engine.voice.audio import SPEECH_RATE, Resampler, join_frames, packed_bytes
from mrblue.engine.voice.playout import (
    FRAME_BYTES,
    FRAME_SECONDS,
    SILENCE_PACKET,
    Pacer,
    PlayoutQueue,
    SpeakerTrack,
)
from mrblue.engine.voice.vad import CHUNK_BYTES, SileroProbability, TurnDetector
from tests.support.audio_fixtures import utterance

TONE = (np.sin(np.arange(24_000) * 0.06) * 8000).astype(np.int16).tobytes()  # 1 s at 24 kHz


def decode(payloads: list[bytes]) -> np.ndarray:
    """Opus payloads as a browser decodes them (48 kHz stereo)."""
    decoder = av.CodecContext.create("libopus", "r")
    decoder.sample_rate, decoder.layout, decoder.format = 48_000, "stereo", "s16"
    out = [f.to_ndarray() for p in payloads for f in decoder.decode(av.Packet(p))]
    return np.concatenate(out, axis=1) if out else np.zeros((1, 0), np.int16)


# --- pacing -----------------------------------------------------------------------------------


def test_the_pacer_keeps_real_time():
    pacer = Pacer()
    assert pacer.next(100.0, speaking=False) == 0 and pacer.frame == 0
    assert pacer.next(100.0, speaking=False) == pytest.approx(FRAME_SECONDS)
    assert pacer.next(100.0 + FRAME_SECONDS, speaking=False) == pytest.approx(FRAME_SECONDS)
    assert pacer.frame == 2


def test_a_late_silent_track_skips_the_silence_it_missed():
    pacer = Pacer()
    pacer.next(100.0, speaking=False)
    # The event loop was busy for half a second: no burst of 25 silent frames follows.
    assert pacer.next(100.5, speaking=False) == 0
    assert pacer.frame == 25  # the frame due now; the next one waits for its time again
    assert pacer.next(100.5, speaking=False) == pytest.approx(FRAME_SECONDS)


def test_a_late_speaking_track_sends_every_frame_it_owes():
    pacer = Pacer()
    pacer.next(100.0, speaking=True)
    waits = [pacer.next(100.5, speaking=True) for _ in range(25)]
    assert waits == [0] * 25 and pacer.frame == 25  # all of the answer, back to back
    assert pacer.next(100.5, speaking=True) > 0


def test_a_slightly_late_silent_track_does_not_skip():
    pacer = Pacer()
    pacer.next(100.0, speaking=False)
    assert pacer.next(100.0 + 2.5 * FRAME_SECONDS, speaking=False) == 0
    assert pacer.frame == 1  # ordinary jitter: the timestamps stay continuous


# --- the speaker track ------------------------------------------------------------------------


async def test_an_idle_track_sends_the_silence_packet_without_encoding():
    track = SpeakerTrack(PlayoutQueue(), on_note=lambda note: None)
    first, second = await track.recv(), await track.recv()
    assert bytes(first) == bytes(second) == SILENCE_PACKET
    assert (first.pts, second.pts) == (0, 960)  # Opus's 48 kHz RTP clock
    assert track._encoder is None
    silence = decode([bytes(first)])
    assert silence.shape[1] == 960 * 2 and not silence.any()


async def test_the_first_answer_frame_is_the_next_packet_with_no_silence_ahead():
    queue, notes = PlayoutQueue(), []
    track = SpeakerTrack(queue, on_note=notes.append)
    await track.recv()
    queue.push("resp_1", "item_1", TONE[: FRAME_BYTES * 10])
    packets = [await track.recv() for _ in range(10)]
    assert notes == [("started", "resp_1")]  # with the very first packet after the push
    assert all(bytes(p) != SILENCE_PACKET for p in packets)
    heard = decode([bytes(p) for p in packets])
    # libopus looks 6.5 ms ahead: the tone is heard within the first packet.
    first_sound = int(np.argmax(np.abs(heard[0, ::2]) > 2000))
    assert 0 < first_sound < 960
    assert [p.pts for p in packets] == [960 * i for i in range(1, 11)]


async def test_the_track_goes_back_to_silence_packets_when_the_answer_is_played():
    queue, notes = PlayoutQueue(), []
    track = SpeakerTrack(queue, on_note=notes.append)
    queue.push("resp_1", "item_1", TONE[:FRAME_BYTES])
    queue.finish("resp_1")
    answer = await track.recv()
    after = await track.recv()
    assert bytes(answer) != SILENCE_PACKET and bytes(after) == SILENCE_PACKET
    assert notes == [("started", "resp_1"), ("stopped", "resp_1")]


# --- microphone frames ------------------------------------------------------------------------


def stereo_frame(start: int, rate: int = 48_000) -> av.AudioFrame:
    samples = (np.arange(start, start + 1920) % 2000).astype(np.int16).reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="stereo")
    frame.sample_rate = rate
    return frame


def test_frames_are_joined_in_order():
    first, second = stereo_frame(0), stereo_frame(1920)
    [joined] = join_frames([first, second])
    assert joined.samples == 1920 and joined.sample_rate == 48_000
    assert packed_bytes(joined) == packed_bytes(first) + packed_bytes(second)
    assert packed_bytes(first) == first.to_ndarray().tobytes()


def test_frames_of_another_rate_are_not_joined():
    frames = [stereo_frame(0), stereo_frame(0, rate=44_100)]
    assert join_frames(frames) == frames


# --- voice activity ---------------------------------------------------------------------------


def test_silero_hears_speech_and_not_silence():
    pcm = Resampler(SPEECH_RATE).pcm(utterance("Make the heading blue.", 1.0, 1.0), 24_000)
    probability = SileroProbability()
    chunks = [pcm[i : i + CHUNK_BYTES] for i in range(0, len(pcm) - CHUNK_BYTES, CHUNK_BYTES)]
    values = [probability(chunk) for chunk in chunks]
    assert max(values[:25]) == 0.0  # the first second is digital silence: never run
    assert sum(v >= 0.5 for v in values) >= 20  # the sentence: most of its ~1.5 s
    events = TurnDetector({"type": "server_vad"}, probability=SileroProbability()).feed(pcm)
    assert [type(e).__name__ for e in events][0] == "SpeechStarted"
    assert type(events[-1]).__name__ == "SpeechStopped"
    assert 900 <= events[0].audio_start_ms <= 1200


def test_silero_starts_afresh_after_silence():
    probability = SileroProbability()
    noise = (np.random.default_rng(1).normal(0, 3000, 512)).astype(np.int16).tobytes()
    probability(noise)
    assert probability(bytes(CHUNK_BYTES)) == 0.0
    assert not probability._h.any() and not probability._context.any()


def test_silero_refuses_a_chunk_of_the_wrong_size():
    with pytest.raises(ValueError, match="512 samples"):
        SileroProbability()(bytes(100))
