"""Turn-taking rows of the voice benchmark: semantic_vad (the end-of-turn model) against
server_vad's 500 ms silence, in the same run, over WebRTC from Chromium.

The corpus (`turn_corpus.txt`, text) is spoken at run time by piper and espeak-ng into one
recording the fake microphone plays: each request, then silence long enough for the answer.
One call per turn detection listens to the whole recording, the calls taking turns (other
work on the machine weighs on both alike). From each call's events:

- complete requests: end of speech -> first audio heard (ms; median, p90);
- hesitant requests (a 600-900 ms pause after a filler or an unfinished phrase): the share
  cut off, i.e. answered as a turn of its own before the person finished;
- the end-of-turn model's own time per inference, alone in this process (with Whisper's on
  the same machine as a baseline, in the voice benchmark's first table);
- the server's CPU per turn it took (its whole call: detection, the model, recognition,
  synthesis, WebRTC), from its process's CPU time over each call.
"""

import io
import re
import shutil
import statistics
import subprocess
import time
import wave
from dataclasses import dataclass
from pathlib import Path

from tests.benchmarks.stats import cpu_seconds, percentile
from tests.benchmarks.turn_events import (
    after_speech_ms,
    answer_of,
    transcript_of,
    turn_span,
    waited_ms,
)

CORPUS = Path(__file__).with_name("turn_corpus.txt")
TURN_DETECTIONS = {
    "semantic_vad": {"type": "semantic_vad", "eagerness": "auto"},
    "server_vad 500 ms": {"type": "server_vad", "silence_duration_ms": 500},
}
PAUSES_S = (0.6, 0.75, 0.9)  # the hesitations' pauses, in turn
LEAD_S = 4.0  # silence first: the call is up before the first request
SENTINEL = "That is all for now."  # said last: the call has heard everything once answered
RATE = 24_000


@dataclass
class Request:
    """One spoken request of the recording: its kind, voice, words and last word."""

    kind: str  # "complete" or "hesitant"
    voice: str
    parts: tuple[str, ...]  # said with a pause between them

    @property
    def closing(self) -> str:
        """The request's last word: a transcript with it finishes this request."""
        return words(self.parts[-1])[-1]


def words(text: str) -> list[str]:
    """Lowercase words without punctuation."""
    return re.findall(r"[a-z']+", text.lower())


def corpus() -> list[tuple[str, tuple[str, ...]]]:
    """(kind, parts) per line of the corpus file."""
    requests = []
    for line in CORPUS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            kind, said = (part.strip() for part in line.split("|", 1))
            requests.append((kind, tuple(part.strip() for part in said.split(" / "))))
    return requests


def voices() -> list[str]:
    """The voices the requests are said in: piper's, and espeak-ng's if it is installed."""
    return ["piper", "espeak-ng"] if shutil.which("espeak-ng") else ["piper"]


def say(text: str, voice: str) -> bytes:
    """`text` spoken as 24 kHz mono pcm16 by piper (steady) or espeak-ng: "espeak-ng" is its
    American voice, "espeak-ng:en-gb+f2" another of its voices (with a variant)."""
    from mrblue.engine.voice.audio import Resampler
    from tests.support.audio_fixtures import spoken

    if voice == "piper":
        return spoken(text)
    _, _, espeak_voice = voice.partition(":")
    out = subprocess.run(
        ["espeak-ng", "-v", espeak_voice or "en-us", "-s", "160", "--stdout", text],
        capture_output=True,
        check=True,
    ).stdout
    with wave.open(io.BytesIO(out)) as recorded:
        rate, frames = recorded.getframerate(), recorded.readframes(recorded.getnframes())
    return Resampler(RATE).pcm(frames, rate)


def recording(
    gap_s: float, kinds: tuple[str, ...] = ("complete", "hesitant"), background=None
) -> tuple[bytes, list[Request]]:
    """The fake microphone's recording, and its requests in order (the sentinel last): the
    corpus' requests of `kinds`; `background(pcm)`, if given, changes the audio up to the
    sentinel (e.g. mixes noise under it), the sentinel being said in quiet."""
    from tests.support.audio_fixtures import silence

    pcm, requests, hesitation = silence(LEAD_S), [], 0
    for voice in voices():
        for kind, parts in corpus():
            if kind not in kinds:
                continue
            pcm += say(parts[0], voice)
            for part in parts[1:]:
                pcm += silence(PAUSES_S[hesitation % len(PAUSES_S)]) + say(part, voice)
                hesitation += 1
            pcm += silence(gap_s)
            requests.append(Request(kind, voice, parts))
    if background is not None:
        pcm = background(pcm)
    pcm += say(SENTINEL, "piper") + silence(gap_s)
    requests.append(Request("sentinel", "piper", (SENTINEL,)))
    return pcm, requests


def listen(page, requests: list[Request], timeout_s: float) -> list[dict]:
    """Wait until the call has answered the sentinel; the events (with `_t`)."""
    closing = requests[-1].closing
    page.wait_for_function(
        """(closing) => {
          const done = window.events.find(e =>
            e.type === "conversation.item.input_audio_transcription.completed"
            && e.transcript.toLowerCase().includes(closing));
          return done && window.events.some(e => e.type === "response.done" && e._t > done._t);
        }""",
        arg=closing,
        timeout=timeout_s * 1000,
    )
    page.wait_for_timeout(1000)  # the last answer's first audio reaches the page
    return page.evaluate("window.events")


def turns_of(events: list[dict], heard: list[float], requests: list[Request]) -> list[dict]:
    """Each turn the engine took: {"request": the one its transcript finishes, or None (cut
    off before the end), "at": when it stopped, "said", and when answered before the next
    speech "turn_end" (ms from the end of speech until the turn ended) and "heard" (until
    its first audio was heard)}."""
    closings = {request.closing: request for request in requests}
    turns = []
    for stop in (e for e in events if e["type"] == "input_audio_buffer.speech_stopped"):
        completed = transcript_of(events, stop)
        said = words(completed["transcript"]) if completed else []
        request = next((closings[w] for w in reversed(said) if w in closings), None)
        turn = {"request": request, "at": stop["_t"], "said": " ".join(said)}
        waited = waited_ms(answer_of(events, stop))
        if waited is not None:
            turn["turn_end"] = waited
            heard_ms = after_speech_ms(heard, turn_span(events, stop), waited)
            if heard_ms is not None:
                turn["heard"] = heard_ms
        turns.append(turn)
    return turns


def summary(turns: list[dict]) -> dict:
    """For complete requests, when the turn ended and when the answer was heard (ms after
    the end of speech); the hesitant requests, and how many were cut off."""
    complete = [t for t in turns if t["request"] and t["request"].kind == "complete"]
    heard = [t["heard"] for t in complete if t.get("heard") is not None]
    turn_end = [t["turn_end"] for t in complete if t.get("turn_end") is not None]
    finished = [i for i, t in enumerate(turns) if t["request"] and t["request"].kind == "hesitant"]
    # Cut off: the turn just before the one that finished it ended mid-request, in the
    # same request (a few seconds before: requests are further apart than that).
    cut = [
        i
        for i in finished
        if i > 0 and turns[i - 1]["request"] is None and turns[i]["at"] - turns[i - 1]["at"] < 5000
    ]
    return {"heard": heard, "turn_end": turn_end, "hesitant": len(finished), "cut": len(cut)}


def model_times(runs: int) -> list[int]:
    """The end-of-turn model's time per inference (ms; 8 s of audio, as at every pause),
    alone in this process."""
    from mrblue.engine.voice import end_of_turn
    from mrblue.engine.voice.audio import SPEECH_RATE, Resampler

    pcm16k = Resampler(SPEECH_RATE).pcm(say("Make the heading blue.", "piper"), RATE)
    end_of_turn.completion(pcm16k)  # loads the model
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        end_of_turn.completion(pcm16k)
        times.append(round((time.perf_counter() - started) * 1000))
    return times


def compare(
    server, open_call, workdir: Path, gap_s: float, rounds: int = 1
) -> tuple[list[dict], dict]:
    """Play the recording to one call per turn detection, `rounds` times each, taking turns;
    returns the tables and the raw per-turn data."""
    from tests.support.audio_fixtures import write_wav
    from tests.support.browser import chromium

    pcm, requests = recording(gap_s)
    seconds = len(pcm) / (RATE * 2)
    wav = workdir / "turn-taking.wav"
    write_wav(wav, pcm)
    results = {name: [] for name in TURN_DETECTIONS}
    cpu_s = dict.fromkeys(TURN_DETECTIONS, 0.0)
    with chromium(f"--use-file-for-fake-audio-capture={wav}") as browser:
        for _ in range(rounds):
            for name, detection in TURN_DETECTIONS.items():
                before = cpu_seconds(server.process.pid)
                page = open_call(browser, server, turn_detection=detection)
                events = listen(page, requests, timeout_s=2 * seconds + 60)
                results[name] += turns_of(events, page.evaluate("window.heard"), requests)
                page.context.close()
                cpu_s[name] += cpu_seconds(server.process.pid) - before
    summaries = {name: summary(turns) for name, turns in results.items()}
    rows = []
    for name, s in summaries.items():
        heard, turn_end = s["heard"], s["turn_end"]
        rows.append(
            [
                name,
                len(heard),
                round(statistics.median(turn_end)) if turn_end else None,
                percentile(turn_end, 0.9),
                round(statistics.median(heard)) if heard else None,
                percentile(heard, 0.9),
                f"{s['cut']}/{s['hesitant']}",
                f"{s['cut'] / s['hesitant']:.0%}" if s["hesitant"] else None,
                round(cpu_s[name] * 1000 / len(results[name])) if results[name] else None,
            ]
        )
    table = {
        "caption": (
            f"turn detection: complete requests, ms after the end of speech until the turn "
            f"ended and until the answer was heard; hesitant requests cut off "
            f"({len(corpus())} requests x voices {voices()})"
        ),
        "columns": [
            "turn detection",
            "turns",
            "turn end median",
            "turn end p90",
            "heard median",
            "heard p90",
            "cut off",
            "share",
            "server CPU ms/turn",
        ],
        "rows": rows,
    }
    data = {
        name: [
            {
                "request": " / ".join(t["request"].parts) if t["request"] else None,
                "kind": t["request"].kind if t["request"] else "cut",
                "said": t["said"],
                "turn_end_ms": t.get("turn_end"),
                "heard_ms": t.get("heard"),
            }
            for t in turns
        ]
        for name, turns in results.items()
    }
    return [table], data
