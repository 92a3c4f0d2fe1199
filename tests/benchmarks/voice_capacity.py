"""Benchmark: how many simultaneous speaking calls the engine carries, and what they cost.

    .venv/bin/python -m tests.benchmarks.voice_capacity [--calls 0,1,2,4,6,8,12] [--seconds 30]
        [--workers 2] [--quick] [--json PATH] [--profile DIR]

Against `serve`'s set-up (a web process and `--workers` engine workers, one per core by
default; `--workers 0`: the single process that served both before). Each worker calibrates
its capacity as it starts (`MRBLUE_ENGINE_WORKER_CAPACITY=auto`, unless the environment pins
it); the benchmark prints what each decided and why. For each N, N Chromium
calls (one browser, a context per call) whose fake microphones say one sentence every ~10 s
are opened at once, then measured for `--seconds`:

- admitted or refused (the mint or the call answering 503 `engine_busy`, or refusing the call),
- concealed audio per admitted call (getStats inbound-rtp concealedSamples/totalSamplesReceived),
- turn latency (ms from the end of speech to the answer heard in the browser, median and p90),
  and the median as a ratio to one call's median in the same run (N = 1 is always measured:
  the target is at most 1.5x for admitted calls, with under 0.5% concealed),
- the browsers' mean jitter-buffer delay (getStats jitterBufferDelay/jitterBufferEmittedCount),
- `GET /accounts/login/` p50/p99 from a thread hitting it during the load,
- server CPU per call (web and engine processes apart, % of one core), from /proc,
- the clients' CPU (Chromium and Playwright's driver) apart.

`--profile DIR` runs `py-spy record` on the engine processes during each window (flame graphs).

JSON (`--json PATH`): `{"benchmark": "voice_capacity", "machine": {...}, "tables": [...],
"data": {"calls", "concealed_pct", "web_p99_ms", "baseline_web_p99_ms", "runs"}}` (the
plot's series, see tests/benchmarks/report.py; N = 0 is the baseline); each run has
`calls`, `admitted`, `refused`, `seconds`, `concealed` (ratio per admitted call),
`jitter_buffer_ms` (the browser's mean jitter-buffer delay per call), `heard_ms` (every
turn's latency), `login_ms` (every request's duration), `cpu_s` (`web`, `engine`, `clients`:
CPU seconds over the window); `data.workers` is each worker's capacity, reason and
calibration readings (its /healthz).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import django
import httpx

from tests.benchmarks.report import machine
from tests.benchmarks.stats import cpu_seconds, percentile
from tests.support.audio_fixtures import utterance, write_wav
from tests.support.live import ENGINE_KEY, ROOT, LiveServer, run_python

SENTENCE = "Make the heading blue."
# Silence after each sentence: long enough for the answer to be heard before the next one
# interrupts it (3.5 s, as voice_latency uses, barges into most answers on a loaded machine).
LISTEN_SECONDS = 8.0
PAGE_SCRIPT = """() => {
  const push = window.events.push.bind(window.events);
  window.events.push = (e) => push({...e, _t: performance.now()});
}"""
STATS_SCRIPT = """async () => {
  if (!window.pc) return null;
  const stats = await window.pc.getStats();
  for (const r of stats.values()) {
    if (r.type === "inbound-rtp" && r.kind === "audio")
      return {total: r.totalSamplesReceived, concealed: r.concealedSamples,
              delay: r.jitterBufferDelay, emitted: r.jitterBufferEmittedCount};
  }
  return null;
}"""
# Each turn: ms from the end of speech to the answer heard = the engine's own speech_stopped
# latency (response.done metadata) + from the speech_stopped event to sound in the page.
TURNS_SCRIPT = """(since) => {
  const stopped = window.events.filter(e => e.type === "input_audio_buffer.speech_stopped");
  return stopped.filter(s => s._t >= since).map(s => {
    const done = window.events.find(e => e.type === "response.done" && e._t > s._t);
    const after = window.heard.filter(t => t > s._t);
    const meta = done && done.response.metadata;
    if (!after.length || !meta || !meta.mrblue_speech_stopped_ms) return null;
    return after[0] - s._t + Number(meta.mrblue_speech_stopped_ms);
  }).filter(v => v !== null);
}"""


# --- the server under test ---------------------------------------------------------------------


class SingleProcess:
    """Today's set-up: one Daphne serving the site and the engine (`LiveServer`); secrets are
    minted with the engine key. The same interface as the multi-process one below."""

    def __init__(self, database_url: str, extra_env: dict):
        self.server = LiveServer(extra_env, database_url=database_url)
        self.url = self.server.url

    @property
    def web_pids(self) -> list[int]:
        """Processes serving the site (here also the engine)."""
        return [self.server.process.pid]

    @property
    def engine_pids(self) -> list[int]:
        """Processes running calls that are not also web processes."""
        return []

    def settle(self) -> None:
        """Wait until the last run's calls are gone (here: nothing to ask)."""

    def capacities(self) -> list[dict]:
        """What each engine worker carries and why (none here: the engine runs in-process)."""
        return []

    def mint(self) -> tuple[str | None, str]:
        """A client secret and the calls URL, or (None, why) when refused."""
        answer = httpx.post(
            f"{self.url}/v1/realtime/client_secrets",
            json={"session": _session()},
            headers={"Authorization": f"Bearer {ENGINE_KEY}"},
            timeout=30,
        )
        if answer.status_code != 200:
            return None, _refusal(answer)
        return answer.json()["value"], f"{self.url}/v1/realtime/calls"

    def close(self) -> None:
        """Stop the server."""
        self.server.close()


def _session() -> dict:
    return {"type": "realtime", "audio": {"input": {"transcription": {"model": "whisper-1"}}}}


def _refusal(answer: httpx.Response) -> str:
    try:
        code = answer.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = "?"
    return f"{answer.status_code} {code}"


class Workers(SingleProcess):
    """`serve`'s set-up: a web process (the gateway: site, admission, forwarding) and engine
    workers, each a real Daphne (`tests.support.workers.Cluster`). Secrets are minted at the
    site, which places each on the least-loaded worker or answers 503 `engine_busy`."""

    def __init__(self, database_url: str, workers: int):
        from tests.support.workers import Cluster

        self.cluster = Cluster(workers=workers, database_url=database_url)
        self.url = self.cluster.url

    @property
    def web_pids(self) -> list[int]:
        """The gateway process."""
        return [self.cluster.web.process.pid]

    @property
    def engine_pids(self) -> list[int]:
        """The engine workers."""
        return [worker.process.pid for worker in self.cluster.workers]

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until no worker holds a session of the last run (hung-up calls take a moment
        to close), so that each N starts from empty workers."""
        deadline = time.monotonic() + timeout
        while any(self.cluster.worker_health(w)["sessions"] for w in self.cluster.workers):
            if time.monotonic() > deadline:
                raise RuntimeError("the workers still hold the last run's sessions")
            time.sleep(0.2)

    def capacities(self) -> list[dict]:
        """Each worker's capacity, why, and its calibration readings (its /healthz)."""
        keys = ("worker_id", "capacity", "capacity_reason", "calibration")
        return [
            {key: self.cluster.worker_health(worker).get(key) for key in keys}
            for worker in self.cluster.workers
        ]

    def close(self) -> None:
        """Stop every process."""
        self.cluster.close()


def start_target(database_url: str, workers: int) -> SingleProcess:
    """The set-up under test: `workers` engine workers behind the site, or (0) the single
    process that served both before engine workers."""
    if workers == 0:
        return SingleProcess(database_url, {"MRBLUE_ENGINE_MAX_SESSIONS": "50"})
    return Workers(database_url, workers)


# --- CPU from /proc -----------------------------------------------------------------------------


def descendants(root: int) -> set[int]:
    """Every live process below `root`."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


class CpuMeter:
    """CPU seconds of groups of processes between start() and stop()."""

    def __init__(self, groups: dict[str, set[int]]):
        self.groups = groups

    def _read(self) -> dict[str, float]:
        return {name: sum(cpu_seconds(p) for p in pids) for name, pids in self.groups.items()}

    def start(self) -> None:
        """Take the first reading."""
        self._first = self._read()

    def stop(self) -> dict[str, float]:
        """CPU seconds per group since start()."""
        last = self._read()
        return {name: round(last[name] - self._first[name], 2) for name in last}


# --- web latency under load ---------------------------------------------------------------------


class WebProbe(threading.Thread):
    """Hits `GET /accounts/login/` every 100 ms, keeping each request's duration in ms."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url = f"{url}/accounts/login/"
        self.durations: list[float] = []
        self.failures = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        """Request until stopped."""
        with httpx.Client(timeout=30) as client:
            while not self._stop_event.is_set():
                started = time.perf_counter()
                try:
                    ok = client.get(self.url).status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    self.durations.append((time.perf_counter() - started) * 1000)
                else:
                    self.failures += 1
                self._stop_event.wait(0.1)

    def stop(self) -> list[float]:
        """Stop and return the durations."""
        self._stop_event.set()
        self.join()
        return self.durations


# --- calls ---------------------------------------------------------------------------------------


def open_call(browser, target) -> tuple[object, str | None]:
    """A page calling the engine: (page, None) when admitted, (page, why) when refused."""
    from tests.engine.test_voice_live import open_client

    page = open_client(browser, target)
    page.evaluate(PAGE_SCRIPT)
    secret, calls_url = target.mint()
    if secret is None:
        return page, calls_url
    error = page.evaluate(
        "async ([s, u]) => { try { await window.startCall(s, u); return null; }"
        " catch (e) { return String(e); } }",
        [secret, calls_url],
    )
    return page, error


def connected(pages) -> tuple[list, int]:
    """The admitted calls whose media flows within a minute, and how many never got there."""
    from playwright.sync_api import Error

    ready = []
    for page in pages:
        try:
            page.wait_for_function(
                "window.pc.connectionState === 'connected' && "
                "window.events.some(e => e.type === 'session.created')",
                timeout=60_000,
            )
            ready.append(page)
        except Error:
            pass
    return ready, len(pages) - len(ready)


def audio_counters(pages) -> list[dict | None]:
    """The received-audio counters of each page (None where the browser has none yet)."""
    return [page.evaluate(STATS_SCRIPT) for page in pages]


def concealed(first, last) -> float:
    """Share of the samples received between two readings that the browser concealed."""
    if first is None or last is None or last["total"] <= first["total"]:
        return 1.0
    return (last["concealed"] - first["concealed"]) / (last["total"] - first["total"])


def buffered_ms(first, last) -> float | None:
    """The browser's mean jitter-buffer delay between two readings (what playout adds)."""
    if first is None or last is None or last["emitted"] <= first["emitted"]:
        return None
    return 1000 * (last["delay"] - first["delay"]) / (last["emitted"] - first["emitted"])


@dataclass
class Run:
    """The measurements for one number of calls."""

    calls: int
    seconds: float
    admitted: int = 0
    refused: list[str] = field(default_factory=list)
    concealed: list[float] = field(default_factory=list)
    jitter_buffer_ms: list[float] = field(default_factory=list)
    heard_ms: list[float] = field(default_factory=list)
    login_ms: list[float] = field(default_factory=list)
    cpu_s: dict = field(default_factory=dict)


def measure(browser, target, count: int, seconds: float, profile: Path | None) -> Run:
    """Open `count` calls at once, wait until they speak, and measure them for `seconds`."""
    run = Run(count, seconds)
    target.settle()
    opened = [open_call(browser, target) for _ in range(count)]
    pages = [page for page, why in opened if why is None]
    run.refused = [why for _, why in opened if why is not None]
    try:
        pages, lost = connected(pages)
        run.refused += ["did not connect"] * lost
        run.admitted = len(pages)
        servers = set(target.web_pids) | set(target.engine_pids)
        meter = CpuMeter(
            {
                "web": set(target.web_pids),
                "engine": set(target.engine_pids),
                "clients": descendants(os.getpid()) - servers - _trees(servers),
            }
        )
        probe = WebProbe(target.url)
        since = [page.evaluate("performance.now()") for page in pages]
        spy = _profiler(target, count, seconds, profile)
        first = audio_counters(pages)
        meter.start()
        probe.start()
        if pages:
            pages[0].wait_for_timeout(seconds * 1000)
        else:
            time.sleep(seconds)  # the measured window: nothing to wait for but the clock
        run.cpu_s = meter.stop()
        run.login_ms = probe.stop()
        last = audio_counters(pages)
        run.concealed = [concealed(a, b) for a, b in zip(first, last, strict=True)]
        delays = [buffered_ms(a, b) for a, b in zip(first, last, strict=True)]
        run.jitter_buffer_ms = [round(d, 1) for d in delays if d is not None]
        for page, start in zip(pages, since, strict=True):
            run.heard_ms += page.evaluate(TURNS_SCRIPT, start)
        if spy is not None:
            spy.wait()
    finally:
        for page, _ in opened:
            page.context.close()
    return run


def warm_up(browser, target) -> None:
    """One call until its first answer: the models load before anything is measured."""
    page, why = open_call(browser, target)
    try:
        if why is not None:
            raise RuntimeError(f"the warm-up call was refused: {why}")
        page.wait_for_function(
            "window.events.some(e => e.type === 'response.done')", timeout=120_000
        )
    finally:
        page.context.close()


def _trees(pids: set[int]) -> set[int]:
    return set().union(*(descendants(p) for p in pids)) if pids else set()


def _profiler(target, count: int, seconds: float, directory: Path | None):
    if directory is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    pid = (target.engine_pids or target.web_pids)[0]  # the first worker (calls spread)
    spy = Path(sys.executable).with_name("py-spy")
    return subprocess.Popen(
        [
            str(spy),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(int(seconds)),
            "--rate",
            "50",
            "--nonblocking",
            "--format",
            "speedscope",
            "--output",
            str(directory / f"engine-{count}-calls.json"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


# --- report --------------------------------------------------------------------------------------


def heard_p50(run: Run | None) -> float | None:
    """The median turn latency of a run (None without turns)."""
    return statistics.median(run.heard_ms) if run is not None and run.heard_ms else None


def row(run: Run, lone: Run | None = None) -> list:
    """One table row: the run's numbers, per admitted call where it says so; `lone` is the
    same run's one-call measurement, the reference of the heard ratio."""
    per_call = max(run.admitted, 1)
    p50, lone_p50 = heard_p50(run), heard_p50(lone)
    ratio = round(p50 / lone_p50, 2) if p50 is not None and lone_p50 else None
    share = 100 / run.seconds / per_call  # CPU seconds over the window -> % of a core per call

    def fmt(value):
        return None if value is None else round(value)

    return [
        run.calls,
        run.admitted,
        len(run.refused),
        round(100 * max(run.concealed), 2) if run.concealed else None,
        round(100 * statistics.mean(run.concealed), 2) if run.concealed else None,
        len(run.heard_ms),
        fmt(p50),
        fmt(percentile(run.heard_ms, 0.9)),
        ratio,
        fmt(statistics.mean(run.jitter_buffer_ms)) if run.jitter_buffer_ms else None,
        fmt(percentile(run.login_ms, 0.5)),
        fmt(percentile(run.login_ms, 0.99)),
        round(run.cpu_s["web"] * share, 1),
        round(run.cpu_s["engine"] * share, 1),
        round(run.cpu_s["clients"] * share, 1),
    ]


COLUMNS = [
    "calls",
    "admitted",
    "refused",
    "worst concealed %",
    "mean concealed %",
    "turns",
    "heard p50 ms",
    "heard p90 ms",
    "heard p50 / 1 call",
    "jitter buffer ms",
    "login p50 ms",
    "login p99 ms",
    "web CPU %/call",
    "engine CPU %/call",
    "clients CPU %/call",
]


def lone(runs: list[Run]) -> Run | None:
    """The run of one call alone, if measured yet."""
    return next((run for run in runs if run.calls == 1), None)


def plot_data(runs: list[Run]) -> dict:
    """The JSON `data`: the plot's series (calls against the worst concealment and the web's
    p99, the run with no call as the baseline) and every run's raw measurements."""
    loaded = [run for run in runs if run.calls > 0]
    idle = next((run for run in runs if run.calls == 0), None)
    data = {
        "calls": [run.calls for run in loaded],
        "concealed_pct": [100 * max(run.concealed, default=0.0) for run in loaded],
        "web_p99_ms": [percentile(run.login_ms, 0.99) for run in loaded],
        "runs": [run.__dict__ for run in runs],
    }
    if idle is not None:
        data["baseline_web_p99_ms"] = percentile(idle.login_ms, 0.99)
    return data


def print_table(rows: list[list]) -> None:
    """The table, one column per measure."""
    widths = [max(len(c), 6) for c in COLUMNS]
    print("  ".join(c.rjust(w) for c, w in zip(COLUMNS, widths, strict=True)))
    for values in rows:
        cells = ["-" if v is None else str(v) for v in values]
        print("  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)))


def main(argv=None):
    """Run the benchmark, print its table, and write JSON if asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", default="0,1,2,4,6,8,12", help="0: the baseline, no call")
    parser.add_argument("--seconds", type=float, default=30, help="measured time per N")
    parser.add_argument("--quick", action="store_true", help="N = 0, 1, 2 for 10 s (CI)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--profile", type=Path, help="py-spy flame graphs into this folder")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count(),
        help="engine workers (default: one per core, as serve runs); 0: one process for all",
    )
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.calls.split(",")]
    if args.quick:
        counts, args.seconds = [0, 1, 2], 10
    if 1 not in counts:  # one call alone: the reference of the heard ratio
        counts.insert(counts.index(0) + 1 if 0 in counts else 0, 1)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mrblue.project.settings")
    django.setup()
    from tests.support.browser import chromium

    about = machine()
    workdir = Path(tempfile.mkdtemp(prefix="mrblue-capacity-"))
    database = f"sqlite:///{workdir / 'bench.sqlite3'}"
    migrate = run_python(["manage.py", "migrate", "--noinput"], DATABASE_URL=database)
    if migrate.returncode:
        sys.exit(migrate.stderr)
    wav = workdir / "turn.wav"
    write_wav(wav, utterance(SENTENCE, before=1.0, after=LISTEN_SECONDS))
    target = start_target(database, args.workers)
    runs = []
    try:
        workers = target.capacities()
        for worker in workers:
            print(f"worker {worker['worker_id']} carries {worker['capacity_reason']}", flush=True)
        with chromium(f"--use-file-for-fake-audio-capture={wav}") as browser:
            warm_up(browser, target)
            for count in counts:
                runs.append(measure(browser, target, count, args.seconds, args.profile))
                print(f"{count} calls: {json.dumps(row(runs[-1], lone(runs)))}", flush=True)
    finally:
        target.close()
    caption = (
        f"{' / '.join(str(c) for c in counts)} simultaneous speaking calls ('{SENTENCE}' every "
        f"~{LISTEN_SECONDS + 2.5:.0f} s), {args.seconds:.0f} s each; heard p50 against one "
        "call's in the same run; CPU in % of one core per admitted call"
    )
    print(f"\n{caption}:")
    rows = [row(run, lone(runs)) for run in runs]
    print_table(rows)
    if args.json:
        result = {
            "benchmark": "voice_capacity",
            "machine": about,
            "tables": [{"caption": caption, "columns": COLUMNS, "rows": rows}],
            "data": {**plot_data(runs), "workers": workers},
        }
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
