"""Background-noise rows of the voice benchmark: turn detection with babble in the room, over
WebRTC from Chromium (the fake microphone plays a recording made at run time).

The babble: four talkers (piper, and espeak-ng in three voices), each saying its own few
everyday sentences (none ends like a request of the corpus) over and over; their tracks
are mixed with `sox -m`, so several people talk at once, as in an open office or a cafe.

- Turns in noise: the corpus' complete requests (`turn_corpus.txt`, both voices), with the
  babble mixed under the whole recording (the answers' gaps too) at `SNR_DB` (the speech's
  RMS over its active part against the babble's RMS); the sentinel is said in quiet. Per
  turn detection: how many requests became a turn whose transcript ends the request, and
  how many other turns there were (the noise's, a request misheard or split up); the same recording
  without noise as a baseline.
- False barge-ins: Mr. Blue talks (`tests.support.brains.TalkativeBrain`, asked with
  `response.create` again and again) for at least `SPEAKING_S` seconds while the
  microphone plays babble alone, at the same level (`SNR_DB` below the corpus' speech).
  Counted per minute of Mr. Blue speaking: turns the noise started (speech_started; those
  while it spoke tried to barge in) and answers cut (cancelled or their audio cleared). The
  session's turn detection answers nothing (`create_response: false`): every answer is
  asked for, and each is as long.
- Positive controls: "Wait, stop." at the corpus' level every 15 s, in quiet and in the same
  babble; it must cut the answer.

Chromium's microphone processing (noise suppression, gain control) is on, as in the
product's client.
"""

import contextlib
import subprocess
import wave
from collections import Counter
from pathlib import Path

import numpy as np

from tests.benchmarks import turn_taking
from tests.benchmarks.turn_taking import RATE, TURN_DETECTIONS, say

SNR_DB = 10.0
# Each talker's sentences, said in turn and looped: different voices, different words.
TALKERS = {
    "piper": (
        "Did you see the match last night? I could not believe the last ten minutes.",
        "We should really book the tickets before the prices go up again.",
    ),
    "espeak-ng": (
        "My sister is moving to another city in the spring, so we are helping her pack.",
        "I think the meeting was moved to Thursday afternoon, but nobody told me why.",
    ),
    "espeak-ng:en-gb+f2": (
        "The coffee machine on the third floor has been broken for a week.",
        "She said the report would be ready by Friday, and then it was not.",
    ),
    "espeak-ng:en-us+m3": (
        "We went hiking on Sunday and it started raining halfway up the hill.",
        "Could you pass me the salt and the pepper, please? Thanks a lot.",
    ),
}
TALKER_GAP_S = 0.3  # between one talker's sentences
FRAME_S = 0.02
ACTIVE_DB = 40.0  # frames this far below the loudest are not the speech's active part
SPEAKING_S = 60.0  # Mr. Blue speaks at least this long per call
STOP = "Wait, stop."
CONTROL_PERIOD_S, CONTROL_AT_S = 15.0, 7.0  # the fake microphone loops: "Wait, stop." recurs


def samples(pcm: bytes) -> np.ndarray:
    """pcm16 as float samples."""
    return np.frombuffer(pcm, dtype=np.int16).astype(np.float64)


def pcm16(values: np.ndarray) -> bytes:
    """Float samples as pcm16 (clipped)."""
    return np.clip(np.round(values), -32768, 32767).astype(np.int16).tobytes()


def rms(pcm: bytes) -> float:
    """Root mean square of pcm16 audio."""
    values = samples(pcm)
    return float(np.sqrt(np.mean(values**2))) if values.size else 0.0


def active_rms(pcm: bytes) -> float:
    """RMS over the active part: the 20 ms frames within `ACTIVE_DB` of the loudest one (the
    pauses between words and requests left out)."""
    values = samples(pcm)
    size = int(RATE * FRAME_S)
    frames = values[: values.size // size * size].reshape(-1, size)
    power = np.mean(frames**2, axis=1)
    if not power.size or power.max() == 0:
        return 0.0
    active = power >= power.max() / 10 ** (ACTIVE_DB / 10)
    return float(np.sqrt(np.mean(power[active])))


def looped(pcm: bytes, seconds: float) -> bytes:
    """`pcm` repeated (and cut) to `seconds`."""
    values = samples(pcm)
    size = int(RATE * seconds)
    return pcm16(np.resize(values, size))


def snr_db(speech: bytes, noise: bytes) -> float:
    """Speech level (active RMS) over noise level (RMS), in dB."""
    return 20 * np.log10(active_rms(speech) / rms(noise))


def noise_at(noise: bytes, level: float, seconds: float) -> bytes:
    """`noise` looped to `seconds`, scaled to RMS `level`."""
    values = samples(looped(noise, seconds))
    return pcm16(values * level / np.sqrt(np.mean(values**2)))


def mixed(speech: bytes, noise: bytes, snr: float) -> bytes:
    """`noise` (looped to length) under `speech`, `snr` dB below the speech's active level;
    the sum turned down as a whole if it would clip (the ratio stays)."""
    level = active_rms(speech) / 10 ** (snr / 20)
    total = samples(speech) + samples(noise_at(noise, level, len(speech) / 2 / RATE))
    peak = np.abs(total).max(initial=0)
    return pcm16(total * min(1.0, 32000 / peak) if peak else total)


def babble(seconds: float, workdir: Path) -> bytes:
    """`seconds` of several talkers at once: each talker's sentences looped to length, the
    tracks mixed with `sox -m` (which scales each by 1/n)."""
    from tests.support.audio_fixtures import silence, write_wav

    tracks = []
    for index, (voice, sentences) in enumerate(TALKERS.items()):
        talk = b"".join(say(s, voice) + silence(TALKER_GAP_S) for s in sentences)
        track = workdir / f"talker-{index}.wav"
        write_wav(track, looped(talk, seconds))
        tracks.append(str(track))
    out = workdir / "babble.wav"
    subprocess.run(["sox", "-m", *tracks, str(out)], check=True, capture_output=True)
    with wave.open(str(out)) as mix:
        return mix.readframes(mix.getnframes())


# --- counting, from the events of a call -------------------------------------------------


def detected(turns: list[dict], requests: list) -> dict:
    """Of the requests (the sentinel left out): how many turns there were, and how many of
    them ended a request (each request once: a request is told by its last word, the same in
    every voice); the other turns are the noise's, a request misheard, or one split up."""
    asked = Counter(r.closing for r in requests if r.kind != "sentinel")
    said = Counter(
        t["request"].closing for t in turns if t["request"] and t["request"].kind != "sentinel"
    )
    ended = sum(min(n, asked[closing]) for closing, n in said.items())
    taken = [t for t in turns if not (t["request"] and t["request"].kind == "sentinel")]
    return {
        "requests": sum(asked.values()),
        "turns": len(taken),
        "detected": ended,
        "other": len(taken) - ended,
    }


def speaking(events: list[dict]) -> list[tuple[float, float]]:
    """When Mr. Blue's voice played: (start, end) ms per answer, from the output audio
    buffer's `started` to its `stopped` or `cleared` (an answer still playing: the last
    event)."""
    last = max((e["_t"] for e in events), default=0.0)
    spans = []
    for start in (e for e in events if e["type"] == "output_audio_buffer.started"):
        end = next(
            (
                e["_t"]
                for e in events
                if e["type"] in ("output_audio_buffer.stopped", "output_audio_buffer.cleared")
                and e.get("response_id") == start["response_id"]
                and e["_t"] >= start["_t"]
            ),
            last,
        )
        spans.append((start["_t"], end))
    return spans


def user_turns(events: list[dict]) -> list[tuple[float, float]]:
    """When the engine heard the person speak: (start, end) ms from each speech_started to
    its speech_stopped (a turn still open: the last event)."""
    last = max((e["_t"] for e in events), default=0.0)
    stops = [e["_t"] for e in events if e["type"] == "input_audio_buffer.speech_stopped"]
    return [
        (e["_t"], min((t for t in stops if t >= e["_t"]), default=last))
        for e in events
        if e["type"] == "input_audio_buffer.speech_started"
    ]


def overlap_ms(spans: list[tuple[float, float]], others: list[tuple[float, float]]) -> float:
    """How long `spans` and `others` (each list without overlaps of its own) overlap."""
    return sum(max(0.0, min(b, d) - max(a, c)) for a, b in spans for c, d in others)


def barge_ins(events: list[dict]) -> dict:
    """Mr. Blue's speaking time (s), the turns the microphone started (all, and while it
    spoke), the answers cut (cancelled, or their audio cleared), and the share of its
    speaking time the engine heard the person speak meanwhile (a turn held open: speech
    during it does not barge in again)."""
    spans = speaking(events)
    turns = user_turns(events)
    cut = {
        e["response"]["id"]
        for e in events
        if e["type"] == "response.done" and e["response"]["status"] == "cancelled"
    } | {e["response_id"] for e in events if e["type"] == "output_audio_buffer.cleared"}
    spoken_ms = sum(end - start for start, end in spans)
    return {
        "speaking_s": round(spoken_ms / 1000, 1),
        "turns": len(turns),
        "turns_while_speaking": sum(any(a <= t <= b for a, b in spans) for t, _ in turns),
        "cut": len(cut),
        "speaking_over_a_turn": round(overlap_ms(spans, turns) / spoken_ms, 2) if spoken_ms else 0,
    }


def per_minute(count: int, seconds: float) -> float | None:
    """`count` per minute of `seconds`."""
    return round(count * 60 / seconds, 2) if seconds else None


# --- the calls ---------------------------------------------------------------------------

ASK = "window.channel.send(JSON.stringify({type: 'response.create'}))"
# Every response is done and every answer's audio has stopped or been cleared.
QUIET = """(asked) => {
  const of = (type) => window.events.filter(e => e.type === type);
  const ended = new Set([...of("output_audio_buffer.stopped"),
                         ...of("output_audio_buffer.cleared")].map(e => e.response_id));
  return of("response.done").length >= asked
    && of("response.created").length === of("response.done").length
    && of("output_audio_buffer.started").every(e => ended.has(e.response_id));
}"""


def talk(page, seconds: float, answer_timeout_s: float) -> list[dict]:
    """Ask for answers, one after the other, until Mr. Blue has spoken `seconds`; the
    events."""
    asked = 0
    events = page.evaluate("window.events")
    while barge_ins(events)["speaking_s"] < seconds:
        page.evaluate(ASK)
        asked += 1
        page.wait_for_function(QUIET, arg=asked, timeout=answer_timeout_s * 1000)
        events = page.evaluate("window.events")
    return events


def stop_control(page, answer_timeout_s: float) -> dict:
    """One answer while "Wait, stop." recurs in the babble: whether it was cut, and what the
    turns said."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.evaluate(ASK)
    page.wait_for_function(QUIET, arg=1, timeout=answer_timeout_s * 1000)
    # The cutting turn's transcript follows the cut (none heard: the control fails below).
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(
            """() => window.events.some(e =>
              e.type === "conversation.item.input_audio_transcription.completed"
              && e.transcript.toLowerCase().includes("stop"))""",
            timeout=20_000,
        )
    events = page.evaluate("window.events")
    said = [
        e["transcript"]
        for e in events
        if e["type"] == "conversation.item.input_audio_transcription.completed"
    ]
    counts = barge_ins(events)
    return {
        **counts,
        "said": said,
        "stopped": counts["cut"] > 0 and any("stop" in s.lower() for s in said),
    }


def noisy_listen(page, requests: list, timeout_s: float) -> list[dict]:
    """`turn_taking.listen`, but a call that never heard the sentinel (the noise held a turn
    open, or it was lost in it) still gives its events."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        return turn_taking.listen(page, requests, timeout_s)
    except PlaywrightTimeout:
        return page.evaluate("window.events")


def turns_in_noise(server, open_call, workdir: Path, gap_s: float, noise: bytes, rounds: int):
    """Per (turn detection, noise or none): the counts of `detected`, summed over rounds, and
    the turns."""
    from tests.support.audio_fixtures import write_wav
    from tests.support.browser import chromium

    results = {}
    for label, background in (
        ("none", None),
        (f"babble {SNR_DB:g} dB SNR", lambda pcm: mixed(pcm, noise, SNR_DB)),
    ):
        pcm, requests = turn_taking.recording(gap_s, ("complete",), background)
        wav = workdir / "turn-noise.wav"
        write_wav(wav, pcm)
        with chromium(f"--use-file-for-fake-audio-capture={wav}") as browser:
            for _ in range(rounds):
                for name, detection in TURN_DETECTIONS.items():
                    page = open_call(browser, server, turn_detection=detection)
                    events = noisy_listen(page, requests, 2 * len(pcm) / 2 / RATE + 60)
                    turns = turn_taking.turns_of(events, page.evaluate("window.heard"), requests)
                    page.context.close()
                    counts = detected(turns, requests)
                    result = results.setdefault(
                        (name, label), {**dict.fromkeys(counts, 0), "heard": []}
                    )
                    for key, value in counts.items():
                        result[key] += value
                    result["heard"] += [
                        {
                            "request": " / ".join(t["request"].parts) if t["request"] else None,
                            "said": t["said"],
                        }
                        for t in turns
                    ]
    return results


def barge_in_calls(
    server, open_call, workdir: Path, noise: bytes, speech_level: float, rounds: int
):
    """Per turn detection, Mr. Blue talking over babble `SNR_DB` below `speech_level` (summed
    over rounds); then the controls: "Wait, stop." at `speech_level`, in quiet and in the
    same babble."""
    from tests.support.audio_fixtures import write_wav
    from tests.support.browser import chromium

    level = speech_level / 10 ** (SNR_DB / 20)

    wav = workdir / "babble-only.wav"
    write_wav(wav, noise_at(noise, level, SPEAKING_S))
    results = {}
    with chromium(f"--use-file-for-fake-audio-capture={wav}") as browser:
        for _ in range(rounds):
            for name, detection in TURN_DETECTIONS.items():
                page = open_call(
                    browser, server, turn_detection={**detection, "create_response": False}
                )
                counts = barge_ins(talk(page, SPEAKING_S, answer_timeout_s=120))
                page.context.close()
                total = results.setdefault(name, dict.fromkeys(counts, 0))
                for key, value in counts.items():
                    total[key] += value
    stop = samples(say(STOP, "piper"))
    stop *= speech_level / active_rms(pcm16(stop))
    at = int(CONTROL_AT_S * RATE)
    controls = []
    for under, noise_level in (("quiet", 0.0), ("babble", level)):
        control = samples(noise_at(noise, noise_level, CONTROL_PERIOD_S))
        control[at : at + stop.size] += stop
        write_wav(wav, pcm16(control))
        with chromium(f"--use-file-for-fake-audio-capture={wav}") as browser:
            name = next(iter(TURN_DETECTIONS))
            detection = {**TURN_DETECTIONS[name], "create_response": False}
            page = open_call(browser, server, turn_detection=detection)
            controls.append(
                {"turn detection": name, "under": under, **stop_control(page, answer_timeout_s=120)}
            )
            page.context.close()
    return results, controls


def compare(
    serve, open_call, workdir: Path, gap_s: float, rounds: int = 1
) -> tuple[list[dict], dict]:
    """The noise rows: `serve(env)` starts a server (closed by the caller's `close`); returns
    the tables and the raw data."""
    noise = babble(60.0, workdir)
    quiet, _ = turn_taking.recording(gap_s, ("complete",))
    speech_level = active_rms(quiet)  # the sentinel's too: it is in the same voice
    server = serve({})
    try:
        turns = turns_in_noise(server, open_call, workdir, gap_s, noise, rounds)
    finally:
        server.close()
    server = serve({"MRBLUE_ENGINE_BRAIN": "tests.support.brains.TalkativeBrain"})
    try:
        barge, controls = barge_in_calls(server, open_call, workdir, noise, speech_level, rounds)
    finally:
        server.close()
    turn_table = {
        "caption": (
            f"turns in babble noise: the corpus' complete requests (voices {turn_taking.voices()}, "
            f"x{rounds}): the turns, those whose transcript ends a request (each once), and the "
            f"others (the noise's, misheard, or a request split up)"
        ),
        "columns": ["turn detection", "noise", "requests", "turns", "ending a request", "other"],
        "rows": [
            [name, label, r["requests"], r["turns"], r["detected"], r["other"]]
            for (name, label), r in turns.items()
        ],
    }
    barge_rows = [
        [
            name,
            r["speaking_s"],
            r["turns"],
            per_minute(r["turns"], r["speaking_s"]),
            r["turns_while_speaking"],
            r["cut"],
            per_minute(r["cut"], r["speaking_s"]),
            f"{r['speaking_over_a_turn'] / rounds:.0%}",
        ]
        for name, r in barge.items()
    ]
    barge_rows += [
        [
            f"control: '{STOP}' in {c['under']} ({c['turn detection']})",
            c["speaking_s"],
            c["turns"],
            None,
            c["turns_while_speaking"],
            c["cut"],
            "cut" if c["stopped"] else "NOT CUT",
            f"{c['speaking_over_a_turn']:.0%}",
        ]
        for c in controls
    ]
    barge_table = {
        "caption": (
            f"false barge-ins: Mr. Blue talking while the microphone plays babble "
            f"{SNR_DB:g} dB below the corpus' speech: turns the noise started and answers it "
            f"cut (per minute of Mr. Blue speaking), and the share of Mr. Blue's speaking time "
            f"the engine heard the person speak (a turn held open)"
        ),
        "columns": [
            "turn detection",
            "speaking s",
            "turns",
            "turns/min",
            "while speaking",
            "answers cut",
            "cut/min",
            "over a turn",
        ],
        "rows": barge_rows,
    }
    data = {
        "snr_db": SNR_DB,
        "speech_level_rms": round(speech_level, 1),
        "turns": {f"{name} / {label}": r for (name, label), r in turns.items()},
        "barge_in": barge,
        "controls": controls,
    }
    return [turn_table, barge_table], data
