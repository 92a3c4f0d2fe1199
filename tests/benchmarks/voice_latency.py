"""Benchmark: spoken turns over WebRTC from Chromium against the built-in engine.

    .venv/bin/python -m tests.benchmarks.voice_latency [--turns 10] [--calls 1,2,4,6]

Prints, per stage, the median and p90 latency after the end of speech (speech_stopped,
transcript, first brain output, first synthesized audio, first audio heard in the browser),
then how many simultaneous calls this machine carries without audio gaps. Everything runs
here: Daphne, the engine and Chromium share the machine's cores.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import django
import httpx

from tests.support.audio_fixtures import utterance, write_wav
from tests.support.live import ENGINE_KEY, LiveServer, run_python

SENTENCE = "Make the heading blue."
STAGES = ("speech_stopped", "transcript", "first_output", "first_audio", "heard")
PAGE_SCRIPT = """
window.heard = [];
let quiet = 0;
setInterval(() => {
  if (window.maxLevelNow === undefined) return;
  if (window.maxLevelNow > 0.05 && quiet >= 10) window.heard.push(performance.now());
  quiet = window.maxLevelNow < 0.02 ? quiet + 1 : 0;
}, 20);
"""
STATS_SCRIPT = """async () => {
  const stats = await window.pc.getStats();
  for (const r of stats.values()) {
    if (r.type === "inbound-rtp" && r.kind === "audio")
      return {total: r.totalSamplesReceived, concealed: r.concealedSamples};
  }
  return null;
}"""


def percentile(values, q):
    """The q-quantile of `values` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def open_call(browser, server):
    """A page with a live call; events carry their arrival time."""
    from tests.engine.test_voice_live import open_client

    page = open_client(browser, server)
    page.evaluate(PAGE_SCRIPT)
    page.evaluate("""() => {
      const push = window.events.push.bind(window.events);
      window.events.push = (e) => push({...e, _t: performance.now()});
      setInterval(() => { window.maxLevelNow = window.maxLevel; window.maxLevel = 0; }, 20);
    }""")
    secret = httpx.post(
        f"{server.url}/v1/realtime/client_secrets",
        json={
            "session": {
                "type": "realtime",
                "audio": {"input": {"transcription": {"model": "whisper-1"}}},
            }
        },
        headers={"Authorization": f"Bearer {ENGINE_KEY}"},
    ).json()["value"]
    page.evaluate("([s, u]) => window.startCall(s, u)", [secret, f"{server.url}/v1/realtime/calls"])
    page.wait_for_function("window.pc.connectionState === 'connected'", timeout=30_000)
    return page


def latencies(page, turns):
    """Per-turn latencies (ms after end of speech) from response.done and the page."""
    page.wait_for_function(
        f"window.events.filter(e => e.type === 'response.done').length >= {turns}",
        timeout=turns * 15_000,
    )
    page.wait_for_function(f"window.heard.length >= {turns}", timeout=15_000)
    events = page.evaluate("window.events")
    heard = page.evaluate("window.heard")
    stopped = [e for e in events if e["type"] == "input_audio_buffer.speech_stopped"]
    done = [e for e in events if e["type"] == "response.done"][:turns]
    rows = []
    for stop, response in zip(stopped, done, strict=False):
        meta = {
            k.removeprefix("mrblue_").removesuffix("_ms"): int(v)
            for k, v in (response["response"].get("metadata") or {}).items()
        }
        after = [t for t in heard if t > stop["_t"]]
        if after and "speech_stopped" in meta:
            meta["heard"] = round(after[0] - stop["_t"]) + meta["speech_stopped"]
        rows.append(meta)
    return rows


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


def main(argv=None):
    """Run the benchmark and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--calls", default="1,2,4,6")
    parser.add_argument("--seconds", type=int, default=15, help="listening time per call count")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mrblue.settings")
    django.setup()
    from tests.support.browser import chromium

    workdir = Path(tempfile.mkdtemp(prefix="mrblue-bench-"))
    database = f"sqlite:///{workdir / 'bench.sqlite3'}"
    migrate = run_python(["manage.py", "migrate", "--noinput"], DATABASE_URL=database)
    if migrate.returncode:
        sys.exit(migrate.stderr)
    wav = workdir / "turn.wav"
    write_wav(wav, utterance(SENTENCE, before=1.0, after=3.5))
    server = LiveServer({"MRBLUE_ENGINE_MAX_SESSIONS": "50"}, database_url=database)
    try:
        with chromium(f"--use-file-for-fake-audio-capture={wav}") as browser:
            page = open_call(browser, server)
            rows = latencies(page, args.turns)
            page.context.close()
            print(
                f"\n{len(rows)} spoken turns over WebRTC ('{SENTENCE}'), ms after the end of "
                "speech:"
            )
            print(f"{'stage':<16}{'median':>8}{'p90':>8}")
            for stage in STAGES:
                values = [row[stage] for row in rows if stage in row]
                if values:
                    print(
                        f"{stage:<16}{statistics.median(values):>8.0f}"
                        f"{percentile(values, 0.9):>8.0f}"
                    )
            print("\nsimultaneous calls (all speaking), share of audio the browsers concealed:")
            for count in (int(c) for c in args.calls.split(",")):
                pages = [open_call(browser, server) for _ in range(count)]
                started = time.monotonic()
                ratios = [
                    gap_ratio(p, args.seconds) if i == 0 else gap_ratio(p, 1)
                    for i, p in enumerate(pages)
                ]
                verdict = "no gaps" if max(ratios) < 0.005 else "GAPS"
                print(
                    f"{count:>3} calls: worst {max(ratios):.2%} concealed "
                    f"({time.monotonic() - started:.0f} s) -> {verdict}"
                )
                for p in pages:
                    p.context.close()
    finally:
        server.close()


if __name__ == "__main__":
    main()
