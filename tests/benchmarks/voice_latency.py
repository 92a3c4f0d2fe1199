"""Benchmark: spoken turns over WebRTC from Chromium against the built-in engine.

    .venv/bin/python -m tests.benchmarks.voice_latency [--turns 10] [--calls 1,2,4,6]
        [--json PATH] [--quick] [--turn-rounds 1] [--edit-rounds 1] [--noise-rounds 1]

Prints, in one run:

- Whisper's (on its whole 30 s window, and on the short one the engine gives it) and piper's
  own time for the benchmark's sentence, measured alone in this process (so readers can
  compare machines);
- per stage, the median and p90 latency in ms after the end of speech (speech_stopped: the
  silence window has run out; recognition_start: the recognition whose transcript was used
  began; transcript; first brain output; first synthesized audio; heard in the browser) and
  the first audio heard after the silence window ended, for the engine as configured
  (`streamed`: recognition overlapping the pause on a short encoder window, clause-by-clause
  streamed synthesis) and for a `baseline` with all three switched off (`MRBLUE_STT_EARLY=0`,
  `MRBLUE_STT_SILENCE_AFTER_S=0`, `MRBLUE_TTS_STREAMING=0`);
- then (unless `--calls ""`) how many simultaneous calls this machine carries without audio
  gaps (`tests.benchmarks.voice_capacity` measures capacity properly);
- then (unless `--turn-rounds 0`) turn-taking (`tests.benchmarks.turn_taking`): semantic_vad
  with its end-of-turn model against server_vad's 500 ms, on a small corpus of complete and
  hesitant requests in two voices: end of speech -> first audio heard, and the share of
  hesitant requests cut off; the model's own time per inference joins the first table;
- then (unless `--edit-rounds 0`) page edits by voice (`tests.benchmarks.page_edits`): a
  logged-in editor's voice call on the editor page, the panel's real page tools, a few spoken
  editing requests ("Make the heading blue.", ...): per request, end of speech -> first audio
  heard and -> the edited block changed in the page, and how many requests were carried out;
  per page tool call, where its round trip goes in the browser (the call's arguments arrive
  -> its output is sent back, of which the edit's HTTP request -> the next response.create
  -> that response is created), and an edit request's time with no turn going on.
- then (unless `--noise-rounds 0`) background noise (`tests.benchmarks.turn_noise`): babble of
  four talkers made at run time (piper and espeak-ng, mixed with sox). Per turn detection,
  the corpus' complete requests with the babble under them at 10 dB SNR (and without, as a
  baseline): the turns, those ending a request, and the others; then Mr. Blue
  talking for a minute or more while the microphone plays the babble alone, 10 dB below the
  corpus' speech: turns the noise started and answers it cut, per minute of Mr. Blue
  speaking, and the share of that time inside a turn of the person's (noise holding a turn
  open); positive controls: "Wait, stop." in quiet and in the babble must cut the answer.

Everything runs here: Daphne, the engine and Chromium share the machine's cores.

`--json PATH` writes `{"benchmark", "machine", "tables", "data"}`; `data` holds:

- `stages` and `bars`, as `tests.benchmarks.report` plots them: the stages in order, and one
  bar for the median and one for the p90 turn of each configuration, {"label", "ms": {stage:
  ms}};
- `isolated`: {"whisper_ms": [...], "whisper_short_window_ms": [...], "piper_ms": [...]}, one
  value per run (Whisper on its whole 30 s window, then on the engine's short one);
- `turns`: {config: [{stage: ms}, ...]}, one dict per turn (stages as above);
- `partials`: {config: [transcription deltas before `completed`, per turn]};
- `server_cpu_s_per_turn`: {config: the server process's CPU seconds per turn (its whole
  call: detection, recognition, synthesis, WebRTC)};
- `calls`: [{"calls": n, "worst_concealed": ratio}];
- `isolated.smart_turn_ms`: the end-of-turn model's time per inference, one value per run;
- `turn_taking`: {turn detection: [{"request", "kind" (complete, hesitant, or cut: a turn
  that ended before its request did), "said", "turn_end_ms", "heard_ms"}, ...]};
- `page_edits`: {"requested": requests said, "edits": [{"round", "request", "said",
  "edited" (its block changed), "heard_ms", "changed_ms"}, ...] (one per request heard; the
  times are left out when not measured), "tool_calls": [{"round", "tool", and ms after the
  call's arguments arrived: "output_sent", "http" (the edit's request; "server": of it,
  from the request sent to the answer's first byte), "response_done", "create_sent",
  "created"}, ...], "http_alone_ms": {"call idle" or "no call": [an edit
  request's ms with no turn going on, ...]}}
  (empty with `--edit-rounds 0`).
- `noise`: {"snr_db", "speech_level_rms" (the corpus' speech, RMS over its active part, pcm16
  units), "turns": {"<turn detection> / <noise>": {"requests", "turns", "detected" (turns
  whose transcript ends a request, each request once), "other", "heard": [{"request",
  "said"}, ...]}}, "barge_in": {turn detection: {"speaking_s", "turns", "turns_while_speaking",
  "cut", "speaking_over_a_turn" (the share of Mr. Blue's speaking time inside a turn of the
  person's)}}, "controls": [{the same counts, "turn detection", "under" (quiet or babble),
  "said" [transcripts], "stopped" (the answer was cut and "stop" heard)}]}.

`--quick` runs 2 turns per configuration, no call counts and no noise rows (the turn-taking
and page-edit rows take most of its 5-8 minutes on an idle machine).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import django
import httpx

from tests.benchmarks.report import machine
from tests.benchmarks.stats import cpu_seconds, percentile
from tests.benchmarks.turn_events import after_speech_ms, answer_of, turn_span
from tests.support.audio_fixtures import utterance, write_wav
from tests.support.live import ENGINE_KEY, LiveServer, run_python

SENTENCE = "Make the heading blue."
STAGES = (
    "speech_stopped",
    "recognition_start",
    "transcript",
    "first_output",
    "first_audio",
    "heard",
    "heard_after_window",
)
CONFIGS = {
    "streamed": {},
    "baseline": {
        "MRBLUE_STT_EARLY": "0",
        "MRBLUE_TTS_STREAMING": "0",
        "MRBLUE_STT_SILENCE_AFTER_S": "0",
    },
}
STATS_SCRIPT = """async () => {
  const stats = await window.pc.getStats();
  for (const r of stats.values()) {
    if (r.type === "inbound-rtp" && r.kind === "audio")
      return {total: r.totalSamplesReceived, concealed: r.concealedSamples};
  }
  return null;
}"""


def isolated_times(runs: int) -> dict:
    """Whisper's (on its whole 30 s window, and on the engine's short one) and piper's own
    time (ms) for the benchmark sentence, alone in this process."""
    from django.test import override_settings

    from mrblue.engine.voice import speech
    from mrblue.engine.voice.audio import SPEECH_RATE, Resampler

    pcm16k = Resampler(SPEECH_RATE).pcm(utterance(SENTENCE, 0.2, 0.3), 24_000)
    whole_window = override_settings(MRBLUE_STT_SILENCE_AFTER_S=0)
    jobs = {
        "whisper_ms": whole_window(lambda: speech._transcribe(pcm16k, "en")),
        "whisper_short_window_ms": lambda: speech._transcribe(pcm16k, "en"),
        "piper_ms": lambda: speech._synthesize(SENTENCE, "marin", 1.0),
    }
    for job in jobs.values():
        job()  # loads the models
    times = {name: [] for name in jobs}
    for _ in range(runs):
        for name, job in jobs.items():
            started = time.perf_counter()
            job()
            times[name].append(round((time.perf_counter() - started) * 1000))
    return times


def open_call(browser, server, turn_detection=None):
    """A page with a live call (with `turn_detection`, else the session's default); events
    carry their arrival time."""
    from tests.engine.test_voice_live import open_client

    page = open_client(browser, server)
    page.evaluate("""() => {
      const push = window.events.push.bind(window.events);
      window.events.push = (e) => push({...e, _t: performance.now()});
    }""")
    listening = {"transcription": {"model": "whisper-1"}}
    if turn_detection is not None:
        listening["turn_detection"] = turn_detection
    secret = httpx.post(
        f"{server.url}/v1/realtime/client_secrets",
        json={"session": {"type": "realtime", "audio": {"input": listening}}},
        headers={"Authorization": f"Bearer {ENGINE_KEY}"},
    ).json()["value"]
    page.evaluate("([s, u]) => window.startCall(s, u)", [secret, f"{server.url}/v1/realtime/calls"])
    page.wait_for_function("window.pc.connectionState === 'connected'", timeout=30_000)
    return page


def latencies(page, turns):
    """Per-turn latencies (ms after end of speech) from response.done and the page, and the
    number of partial transcripts before each turn's `completed`. A turn counts when its
    answer was done before the next speech began (a slow machine may answer a turn so late
    that the fake microphone's next loop cancels it: that turn is left out)."""
    page.wait_for_function(
        f"window.events.filter(e => e.type === 'response.done').length >= {turns}",
        timeout=max(90_000, turns * 30_000),
    )
    page.wait_for_timeout(1000)  # the last answer's first audio reaches the page
    events = page.evaluate("window.events")
    heard = page.evaluate("window.heard")
    rows, partials = [], []
    for stop in (e for e in events if e["type"] == "input_audio_buffer.speech_stopped"):
        done = answer_of(events, stop)
        if done is None:
            continue
        meta = {
            k.removeprefix("mrblue_").removesuffix("_ms"): int(v)
            for k, v in (done["response"].get("metadata") or {}).items()
        }
        after_window = after_speech_ms(heard, turn_span(events, stop), waited=0)
        if after_window is not None and "speech_stopped" in meta:
            meta["heard_after_window"] = after_window
            meta["heard"] = after_window + meta["speech_stopped"]
        rows.append(meta)
        types = [e["type"] for e in events if e.get("item_id") == stop["item_id"]]
        completed = "conversation.item.input_audio_transcription.completed"
        end = types.index(completed) if completed in types else len(types)
        partials.append(types[:end].count("conversation.item.input_audio_transcription.delta"))
    return rows, partials


def audio_stats(page):
    """The received-audio counters, once the browser reports them (not at once on connect)."""
    for _ in range(150):
        stats = page.evaluate(STATS_SCRIPT)
        if stats is not None:
            return stats
        page.wait_for_timeout(100)
    raise RuntimeError("the browser reported no received audio")


def gap_ratio(page, seconds):
    """Share of received audio samples the browser had to conceal over `seconds`."""
    first = audio_stats(page)
    page.wait_for_timeout(seconds * 1000)
    last = audio_stats(page)
    total = last["total"] - first["total"]
    return (last["concealed"] - first["concealed"]) / total if total else 1.0


def stage_table(turns: dict) -> dict:
    """Median and p90 per stage, one column pair per configuration."""
    columns = ["stage"] + [f"{name} {q}" for name in turns for q in ("median", "p90")]
    rows = []
    for stage in STAGES:
        row = [stage]
        for per_turn in turns.values():
            values = [turn[stage] for turn in per_turn if stage in turn]
            row += (
                [round(statistics.median(values)), percentile(values, 0.9)]
                if values
                else [None, None]
            )
        rows.append(row)
    return {
        "caption": f"ms after the end of speech ('{SENTENCE}')",
        "columns": columns,
        "rows": rows,
    }


def plot_bars(turns: dict) -> dict:
    """`stages` and `bars` for the report's stacked-bar plot: per configuration, the median
    turn and the p90 turn (by when the answer was heard), each a real turn's stages, so they
    follow each other (recognition may begin before speech_stopped: it is left out)."""
    stages = [s for s in STAGES if s not in ("recognition_start", "heard_after_window")]
    bars = []
    for name, per_turn in turns.items():
        heard = [turn for turn in per_turn if "heard" in turn]
        for label, q in (("median", 0.5), ("p90", 0.9)):
            turn = percentile(heard, q, key=lambda t: t["heard"])
            if turn is not None:
                ms = {stage: turn[stage] for stage in stages if stage in turn}
                bars.append({"label": f"{name} {label} turn", "ms": ms})
    return {"stages": stages, "bars": bars}


def print_table(table: dict) -> None:
    """A table as aligned text."""
    print(f"\n{table['caption']}:")
    widths = [
        max(len(str(v)) for v in col)
        for col in zip(*[table["columns"], *table["rows"]], strict=True)
    ]
    for row in [table["columns"], *table["rows"]]:
        print(
            "  ".join(
                str("-" if v is None else v).rjust(w) for v, w in zip(row, widths, strict=True)
            )
        )


ROUND_TURNS = 2  # turns per configuration before the other's turn (load changes meanwhile)


def run_configs(browser, database, turns):
    """Spoken turns against one server per configuration, the configurations taking turns in
    rounds of `ROUND_TURNS` (other work on the machine then weighs on both alike). Returns,
    per configuration: per-turn stages, partials per turn, the server's CPU seconds per turn."""
    servers = {
        name: LiveServer({"MRBLUE_ENGINE_MAX_SESSIONS": "50", **env}, database_url=database)
        for name, env in CONFIGS.items()
    }
    rows = {name: [] for name in CONFIGS}
    partials = {name: [] for name in CONFIGS}
    spent = dict.fromkeys(CONFIGS, 0.0)
    try:
        for _ in range(turns):  # rounds: a turn left out (cut off) may need another one
            if min(len(r) for r in rows.values()) >= turns:
                break
            for name, server in servers.items():
                page = open_call(browser, server)
                before = cpu_seconds(server.process.pid)
                more_rows, more_partials = latencies(page, ROUND_TURNS)
                spent[name] += cpu_seconds(server.process.pid) - before
                page.context.close()
                rows[name] += more_rows
                partials[name] += more_partials
    finally:
        for server in servers.values():
            server.close()
    cpu = {name: spent[name] / max(1, len(rows[name])) for name in CONFIGS}
    return rows, partials, cpu


def call_counts(browser, database, counts, seconds):
    """Worst concealed share of audio with `count` simultaneous speaking calls, per count."""
    server = LiveServer({"MRBLUE_ENGINE_MAX_SESSIONS": "50"}, database_url=database)
    results = []
    try:
        for count in counts:
            pages = [open_call(browser, server) for _ in range(count)]
            ratios = [
                gap_ratio(p, seconds) if i == 0 else gap_ratio(p, 1) for i, p in enumerate(pages)
            ]
            results.append({"calls": count, "worst_concealed": max(ratios)})
            for p in pages:
                p.context.close()
    finally:
        server.close()
    return results


def rows_on_a_server(database: str, run) -> tuple[list[dict], dict]:
    """`run(server)`'s (tables, data) against a server of its own on `database` (closed after);
    its tables printed."""
    server = LiveServer({"MRBLUE_ENGINE_MAX_SESSIONS": "50"}, database_url=database)
    try:
        tables, data = run(server)
    finally:
        server.close()
    for table in tables:
        print_table(table)
    return tables, data


def main(argv=None):
    """Run the benchmark, print its tables (and write them as JSON if asked)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--calls", default="1,2,4,6", help='call counts; "" for none')
    parser.add_argument("--seconds", type=int, default=15, help="listening time per call count")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    parser.add_argument("--quick", action="store_true", help="2 turns, no call counts")
    parser.add_argument(
        "--turn-rounds",
        type=int,
        default=1,
        help="times the turn-taking corpus is played per turn detection (0: not at all)",
    )
    parser.add_argument(
        "--edit-rounds",
        type=int,
        default=1,
        help="calls in which the page-edit requests are said (0: none)",
    )
    parser.add_argument(
        "--noise-rounds",
        type=int,
        help="times the background-noise calls are made per turn detection (0: not at all; "
        "default 1, 0 with --quick)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.turns, args.calls = 2, ""
    if args.noise_rounds is None:
        args.noise_rounds = 0 if args.quick else 1  # the noise rows alone take ~9 minutes

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mrblue.project.settings")
    django.setup()
    from mrblue.engine.voice import end_of_turn
    from tests.benchmarks import page_edits, turn_noise, turn_taking
    from tests.support.browser import chromium

    workdir = Path(tempfile.mkdtemp(prefix="mrblue-bench-"))
    database = f"sqlite:///{workdir / 'bench.sqlite3'}"
    migrate = run_python(["manage.py", "migrate", "--noinput"], DATABASE_URL=database)
    if migrate.returncode:
        sys.exit(migrate.stderr)
    isolated = isolated_times(2 if args.quick else 7)
    if args.turn_rounds and end_of_turn.available():
        isolated["smart_turn_ms"] = turn_taking.model_times(5 if args.quick else 20)
    # The fake microphone loops: leave room for a whole turn on a slow (or busy) machine, so
    # that the next loop does not cut the answer off.
    models_s = statistics.median(isolated["whisper_ms"]) + statistics.median(isolated["piper_ms"])
    wav = workdir / "turn.wav"
    write_wav(wav, utterance(SENTENCE, before=1.0, after=max(8.0, 3 * models_s / 1000 + 3)))
    isolated_table = {
        "caption": f"alone in this process, '{SENTENCE}' (ms)",
        "columns": ["model", "median", "min", "max"],
        "rows": [
            [name.removesuffix("_ms"), round(statistics.median(v)), min(v), max(v)]
            for name, v in isolated.items()
        ],
    }
    print_table(isolated_table)
    counts = [int(c) for c in args.calls.split(",") if c.strip()]
    calls = []
    with chromium(f"--use-file-for-fake-audio-capture={wav}") as browser:
        turns, partials, cpu = run_configs(browser, database, args.turns)
        stages = stage_table(turns)
        stages["rows"].append(
            ["server_cpu_ms_per_turn"] + [v for c in cpu.values() for v in (round(c * 1000), None)]
        )
        print_table(stages)
        for name, counted in partials.items():
            print(f"{name}: partial transcripts before completed, per turn: {counted}")
        if counts:
            calls = call_counts(browser, database, counts, args.seconds)
    turn_tables, turn_data = [], {}
    if args.turn_rounds and end_of_turn.available():
        turn_tables, turn_data = rows_on_a_server(
            database,
            lambda server: turn_taking.compare(
                server,
                open_call,
                workdir,
                gap_s=max(6.0, 2 * models_s / 1000 + 4),
                rounds=args.turn_rounds,
            ),
        )
    edit_tables, edit_data = [], {}
    if args.edit_rounds:
        edit_tables, edit_data = rows_on_a_server(
            database,
            lambda server: page_edits.run(
                server,
                database,
                workdir,
                gap_s=max(10.0, 3 * models_s / 1000 + 6),
                rounds=args.edit_rounds,
            ),
        )
    noise_tables, noise_data = [], {}
    if args.noise_rounds:
        noise_tables, noise_data = turn_noise.compare(
            lambda env: LiveServer(
                {"MRBLUE_ENGINE_MAX_SESSIONS": "50", **env}, database_url=database
            ),
            open_call,
            workdir,
            gap_s=max(6.0, 2 * models_s / 1000 + 4),
            rounds=args.noise_rounds,
        )
        for table in noise_tables:
            print_table(table)
    tables = [isolated_table, stages, *turn_tables, *edit_tables, *noise_tables]
    if calls:
        calls_table = {
            "caption": "simultaneous speaking calls: worst share of audio the browsers concealed",
            "columns": ["calls", "worst concealed", "verdict"],
            "rows": [
                [
                    c["calls"],
                    f"{c['worst_concealed']:.2%}",
                    "no gaps" if c["worst_concealed"] < 0.005 else "GAPS",
                ]
                for c in calls
            ],
        }
        print_table(calls_table)
        tables.append(calls_table)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "benchmark": "voice_latency",
                    "machine": machine(),
                    "tables": tables,
                    "data": {
                        **plot_bars(turns),
                        "isolated": isolated,
                        "turns": turns,
                        "partials": partials,
                        "server_cpu_s_per_turn": cpu,
                        "calls": calls,
                        "turn_taking": turn_data,
                        "page_edits": edit_data,
                        "noise": noise_data,
                    },
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
