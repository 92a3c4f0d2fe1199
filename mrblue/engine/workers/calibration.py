"""How many speaking calls this worker carries, from what it measures on its own machine.

A fixed capacity is right on one machine only: the project's machines differ several times
in speed, and a capacity that suited a fast one admitted calls on a slower one that were heard
far later than one alone. So a worker calibrates as it starts (after
loading its models, before it offers itself): it times, a few times each,

- recognition: Whisper, as the engine runs it (the short window), on a sentence piper says;
- synthesis: piper saying an answer;
- the end-of-turn model on that sentence (semantic_vad asks it at a turn's pauses);
- audio: the engine's own work on one second of a speaking call's sound (Opus decoded,
  resampled, voice-detected, an answer's Opus encoded).

Each timing counts its fastest try: what the machine can do, without the interruptions of
whatever else ran meanwhile; and the workers of one machine calibrate one at a time (a lock
file), since `serve` starts them together and each would otherwise time the others' work.

`decide()` turns those readings into a capacity and says why, free of I/O, by two rules:

1. **Audio is not concealed.** Calls' steady work must leave the worker's core half free
   (`CPU_BUDGET`): the other half absorbs turns and the machine's other work, so the 20 ms
   frames stay on time. A call's share is its audio (the timed steps times
   `AUDIO_OVERHEAD`, the WebRTC transport around them) plus its turns' speech work.
2. **An admitted call is heard within 1.5x of a lone call's time** (`HEARD_RATIO`). When
   all its calls finish speaking at once, the last one's turn waits for the others' first,
   done with what the calls' audio leaves of the core.

The capacity is the most calls both rules allow (at least one: a worker that took none would
only refuse). `MRBLUE_ENGINE_WORKER_CAPACITY` set to a number pins it; calibration still
runs, and the reason says what it suggested.
"""

import contextlib
import logging
import os
import tempfile
import time
from dataclasses import dataclass

logger = logging.getLogger("mrblue.engine.workers.calibration")

# Rule 1: the share of one core a worker's calls may keep busy. Chosen with the capacity
# benchmark (`tests/benchmarks/voice_capacity.py`: one worker, Chromium callers on the same
# cores): past about half a core, calls began to conceal audio; the other half absorbs turns
# and the machine's other work.
CPU_BUDGET = 0.5
# The WebRTC transport around the timed audio steps (ICE, SRTP, RTP, the event loop): a
# speaking call's whole audio cost in the capacity benchmark (its CPU less its turns') over
# what the timed second takes. Measure again there when the transport changes.
AUDIO_OVERHEAD = 7.0
# How often a speaking call takes a turn: someone who answers back at once (the benchmark's
# callers speak half as often), so a worker reckons with the busier caller.
TURN_EVERY_S = 5.0
# Rule 2: a lone call is heard this long after the end of speech, beside its speech work:
# the silence that ends a turn (500 ms by default) and the way to the ear (WebRTC and the
# browser's jitter buffer), as the voice benchmark's lone call shows.
HEARD_BASE_MS = 600.0
HEARD_RATIO = 1.5
MOST_CALLS = 64  # the rules are not tried past this many
FALLBACK_CAPACITY = 2  # when calibration fails: the capacity measured on the fastest machine

REQUEST = "Make the heading blue."  # what the caller says (piper says it at start)
ANSWER = "Done. The heading is blue now."  # what Mr. Blue answers
TRIES = 5  # timings of each, after one untimed warm-up
LOCK_WAIT_S = 120.0  # longest wait for the other workers' calibrations; then time anyway


@dataclass(frozen=True)
class Readings:
    """What calibration timed, in milliseconds, each try apart."""

    recognition_ms: tuple[float, ...]  # Whisper on the request, as the engine runs it
    synthesis_ms: tuple[float, ...]  # piper saying the answer (empty: no piper here)
    audio_ms: tuple[float, ...]  # the engine's steps on one second of a speaking call's audio
    # The end-of-turn model on the request (semantic_vad asks it at a turn's pauses; empty:
    # no model here).
    end_of_turn_ms: tuple[float, ...] = ()


@dataclass(frozen=True)
class Decision:
    """A worker's capacity and why."""

    capacity: int  # what the worker carries
    suggested: int  # what calibration found (the capacity unless pinned)
    reason: str  # for people: the admin's workers page and /healthz
    call_share: float = 0.0  # share of one core a speaking call takes here

    def summary(self, readings: Readings | None) -> dict:
        """The decision, the timings it counted (each one's fastest try) and every try, for
        the health check."""
        measured = {}
        if readings is not None:
            measured = {
                "recognition_ms": _ms(readings.recognition_ms),
                "synthesis_ms": _ms(readings.synthesis_ms),
                "audio_ms_per_s": _ms(readings.audio_ms),
                "end_of_turn_ms": _ms(readings.end_of_turn_ms),
                "tries_ms": {
                    "recognition": list(readings.recognition_ms),
                    "synthesis": list(readings.synthesis_ms),
                    "audio": list(readings.audio_ms),
                    "end_of_turn": list(readings.end_of_turn_ms),
                },
            }
        return {
            "suggested": self.suggested,
            "call_share": round(self.call_share, 3),
            **measured,
        }


def decide(readings: Readings, pinned: int | None = None) -> Decision:
    """The capacity the readings allow (or `pinned`, when a number is configured), and why."""
    turn_ms = (
        _fastest(readings.recognition_ms)
        + _fastest(readings.synthesis_ms)
        + _fastest(readings.end_of_turn_ms)
    )
    audio_share = AUDIO_OVERHEAD * _fastest(readings.audio_ms) / 1000
    call_share = audio_share + turn_ms / 1000 / TURN_EVERY_S
    lone_ms = _heard_ms(1, turn_ms, audio_share)

    suggested, stop = 0, ""
    for calls in range(1, MOST_CALLS + 1):
        stop = _over(calls, call_share, turn_ms, audio_share, lone_ms)
        if stop:
            break
        suggested = calls
    timings = [f"recognition {_fastest(readings.recognition_ms):.0f} ms"]
    if readings.synthesis_ms:
        timings.append(f"synthesis {_fastest(readings.synthesis_ms):.0f} ms")
    timings.append(f"audio {_fastest(readings.audio_ms):.0f} ms a second")
    cost = f"a speaking call takes ~{call_share:.0%} of a core here ({', '.join(timings)})"
    if suggested == 0:
        suggested = 1
        why = f"1 call: {cost}; even one {stop}: this machine is too slow to answer well"
    elif not stop:
        why = f"{suggested} calls (the most tried): {cost}"
    else:
        why = f"{_calls(suggested)}: {cost}; a {_nth(suggested + 1)} {stop}"
    if not readings.synthesis_ms:
        why += " (no piper here: synthesis not counted)"
    if pinned is not None:
        reason = f"{_calls(pinned)}, as MRBLUE_ENGINE_WORKER_CAPACITY says; calibration: {why}"
        return Decision(pinned, suggested, reason, call_share)
    return Decision(suggested, suggested, why, call_share)


def fallback(error: BaseException, pinned: int | None = None) -> Decision:
    """The capacity when calibration failed: the pinned one, else the default."""
    failed = f"calibration failed ({type(error).__name__})"
    if pinned is not None:
        return Decision(
            pinned, pinned, f"{_calls(pinned)}, as MRBLUE_ENGINE_WORKER_CAPACITY says; {failed}"
        )
    return Decision(
        FALLBACK_CAPACITY,
        FALLBACK_CAPACITY,
        f"{_calls(FALLBACK_CAPACITY)}, the default: {failed}",
    )


def _over(calls: int, call_share: float, turn_ms: float, audio_share: float, lone_ms: float):
    """Why `calls` calls are too many ("" if they are not)."""
    if calls * call_share > CPU_BUDGET:
        return (
            f"would need {calls * call_share:.0%} of a core (at most {CPU_BUDGET:.0%}, so "
            "that audio is not concealed)"
        )
    heard_ms = _heard_ms(calls, turn_ms, audio_share)
    if heard_ms > HEARD_RATIO * lone_ms:
        return (
            f"would be heard at {heard_ms / lone_ms:.2f}x a lone call's time when all "
            f"answer at once (at most {HEARD_RATIO:g}x)"
        )
    return ""


def _heard_ms(calls: int, turn_ms: float, audio_share: float) -> float:
    """When the last of `calls` calls that stopped speaking at once is heard: after every
    turn's speech work, at the pace the calls' audio leaves of the core."""
    spare = 1 - calls * audio_share
    if spare <= 0:
        return float("inf")
    return HEARD_BASE_MS + calls * turn_ms / spare


def _fastest(values) -> float:
    return min(values) if values else 0.0


def _ms(values) -> int | None:
    return round(min(values)) if values else None


def _calls(count: int) -> str:
    return f"{count} call" if count == 1 else f"{count} calls"


def _nth(count: int) -> str:
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(count % 10 if count % 100 not in (11, 12, 13) else 0)
    return f"{count}{suffix or 'th'}"


# --- the timing (I/O) -------------------------------------------------------------------------


def pinned_capacity() -> int | None:
    """The capacity `MRBLUE_ENGINE_WORKER_CAPACITY` pins, or None for `auto`."""
    from mrblue.engine.engine_settings import AUTO, engine_settings

    value = engine_settings.ENGINE_WORKER_CAPACITY
    return None if value == AUTO else int(value)


def measure() -> tuple[Decision, Readings | None]:
    """Calibrate this worker and decide its capacity (the setting's, when it pins one); a
    calibration that fails falls back (`fallback`) and is logged, never fatal."""
    pinned = pinned_capacity()
    try:
        readings = calibrate()
    except Exception as error:
        logger.exception("capacity calibration failed")
        return fallback(error, pinned), None
    return decide(readings, pinned), readings


def calibrate(tries: int = TRIES) -> Readings:
    """Time recognition, synthesis and a second of call audio on this machine (the models
    must be loadable; they are loaded if they are not), when no other worker here does.
    Takes about a second on a fast machine, a few on a slow one."""
    with _one_at_a_time():
        return _time_all(tries)


def _time_all(tries: int) -> Readings:
    from mrblue.engine.voice import end_of_turn, speech

    spoken = _request_audio()
    recognition = _timed(lambda: speech._transcribe(spoken, "en"), tries)
    synthesis: tuple[float, ...] = ()
    if speech.tts_available():
        synthesis = _timed(lambda: speech._synthesize(ANSWER, "marin", 1.0), tries)
    judged: tuple[float, ...] = ()
    if end_of_turn.available():
        judged = _timed(lambda: end_of_turn.completion(spoken), tries)
    packets, answer = _opus_packets(spoken), _answer_frames(spoken)
    audio = _timed(lambda: _carry_audio(packets, answer), tries)
    return Readings(recognition, synthesis, audio, judged)


@contextlib.contextmanager
def _one_at_a_time(wait_s: float = LOCK_WAIT_S):
    """Hold this machine's calibration lock (waiting up to `wait_s` for it); without one to
    be had (no writable temporary folder, a wait too long), go on anyway."""
    import fcntl

    path = os.path.join(tempfile.gettempdir(), "mrblue-calibration.lock")
    try:
        lock = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    except OSError:
        yield
        return
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    logger.warning("another calibration holds %s: timing anyway", path)
                    break
                time.sleep(0.05)
        yield
    finally:
        os.close(lock)  # lets go of the lock too


def _timed(job, tries: int) -> tuple[float, ...]:
    job()  # warm-up: first runs allocate and load
    times = []
    for _ in range(tries):
        started = time.perf_counter()
        job()
        times.append(round((time.perf_counter() - started) * 1000, 2))
    return tuple(times)


def _request_audio() -> bytes:
    """The request as a caller says it, 16 kHz pcm16 with a little silence around it: piper's
    voice when piper is here, else two seconds of a voice-like buzz."""
    import numpy as np

    from mrblue.engine.protocol.spec import PROTOCOL_RATE
    from mrblue.engine.voice import speech
    from mrblue.engine.voice.audio import SPEECH_RATE, Resampler

    if speech.tts_available():
        pcm24 = speech._synthesize(REQUEST, "marin", 1.0, steady=True)
        return (
            bytes(SPEECH_RATE // 5 * 2)
            + Resampler(SPEECH_RATE).pcm(pcm24, PROTOCOL_RATE)
            + bytes(SPEECH_RATE // 2 * 2)
        )
    seconds = np.arange(2 * SPEECH_RATE) / SPEECH_RATE
    buzz = np.sin(2 * np.pi * 140 * seconds) * (1 + np.sin(2 * np.pi * 4 * seconds)) * 6000
    return buzz.astype(np.int16).tobytes()


def _opus_packets(pcm16k: bytes) -> list[bytes]:
    """One second of the speech as a browser sends it: 20 ms Opus packets, 48 kHz mono."""
    import av

    from mrblue.engine.voice.audio import SPEECH_RATE, Resampler

    pcm48 = Resampler(48_000).pcm(pcm16k, SPEECH_RATE)
    pcm48 = (pcm48 * (1 + 96_000 // max(len(pcm48), 1)))[:96_000]  # one second
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate, codec.format, codec.layout = 48_000, "s16", "mono"
    packets = []
    for start in range(0, len(pcm48), 1920):
        frame = _frame(pcm48[start : start + 1920], 48_000, "mono")
        frame.pts = start // 2
        packets += [bytes(packet) for packet in codec.encode(frame)]
    return packets


def _answer_frames(pcm16k: bytes) -> list[bytes]:
    """Fifty 20 ms frames of speech at the protocol's rate, for the answer's encoder."""
    from mrblue.engine.protocol.spec import PROTOCOL_RATE
    from mrblue.engine.voice.audio import SPEECH_RATE, Resampler
    from mrblue.engine.voice.playout import FRAME_SAMPLES

    pcm24 = Resampler(PROTOCOL_RATE).pcm(pcm16k, SPEECH_RATE)
    size = FRAME_SAMPLES * 2
    frames = [pcm24[start : start + size] for start in range(0, len(pcm24) - size + 1, size)]
    return (frames * 50)[:50]


def _carry_audio(packets: list[bytes], answer: list[bytes]) -> None:
    """The engine's own work on a second of a speaking call's audio, as a call does it:
    decode each packet (as aiortc does), resample to 24 and 16 kHz in pairs of frames, detect
    voice, and encode a 20 ms frame of the answer for each frame heard."""
    import av

    from mrblue.engine.protocol.spec import PROTOCOL_RATE
    from mrblue.engine.voice.audio import SPEECH_RATE, Resampler, join_frames
    from mrblue.engine.voice.playout import OpusEncoder
    from mrblue.engine.voice.vad import TurnDetector

    decoder = av.CodecContext.create("libopus", "r")
    decoder.sample_rate, decoder.format, decoder.layout = 48_000, "s16", "stereo"
    to_24k, to_16k = Resampler(PROTOCOL_RATE), Resampler(SPEECH_RATE)
    detector = TurnDetector({"type": "server_vad"})
    encoder = OpusEncoder()
    frames, spoken = [], iter(answer)
    for payload in packets:
        frames += decoder.decode(av.Packet(payload))
        if len(frames) >= 2:  # the engine hears microphone frames in pairs
            for joined in join_frames(frames):
                to_24k.frame(joined)
                detector.feed(to_16k.frame(joined))
            for _ in frames:
                encoder.encode(next(spoken, answer[0]))
            frames = []


def _frame(pcm: bytes, rate: int, layout: str):
    import av
    import numpy as np

    samples = np.frombuffer(pcm, dtype=np.int16).reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(samples, format="s16", layout=layout)
    frame.sample_rate = rate
    return frame
