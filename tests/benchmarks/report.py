"""`python -m tests.benchmarks.report [--quick]`: run every benchmark, write BENCHMARKS.md.

Each benchmark runs as its own process, `python -m <module> --json PATH` (and `--quick`), and
writes `{"benchmark", "machine", "tables": [{"caption", "columns", "rows"}], "data"}`. Its
tables are rendered as they are (each benchmark measures its own baseline in the same run: the
echo socket, no calls, ...), and `data` feeds one PNG plot per benchmark, chosen by its
`"benchmark"` name. A benchmark that is missing, fails, or writes no valid JSON is reported as
such in BENCHMARKS.md; the others still are. The JSON, output and plots land in `benchmarks/`.

    python -m tests.benchmarks.report                  # everything, full length
    python -m tests.benchmarks.report --quick          # the CI version
    python -m tests.benchmarks.report --only fuzz      # some of them
    python -m tests.benchmarks.report --render DIR     # re-render from DIR/*.json, run nothing

The `data` keys each plot reads (lists run in parallel and are of equal length):

- voice_latency: `stages` [str], in order (e.g. speech_stopped, transcript, first_output,
  first_audio, heard); `bars` [{"label": str, "ms": {stage: ms after the end of speech}}], one
  stacked bar each (e.g. the median turn, the p90 turn, a baseline), each segment the time
  from the stage before it.
- voice_capacity: `calls` [int]; `concealed_pct` [float], the worst call's concealed audio in
  percent; `web_p99_ms` [float], web requests' p99 meanwhile; optional `baseline_web_p99_ms`
  (float, with no call), drawn as a dashed line.
- transcript_log: `clients` [int]; `log_msgs_per_s` [float] and `echo_msgs_per_s` [float], the
  log and the bare echo on the same server.
- understanding: `speakers` [str]; `accuracy` [float, 0 to 1]; optional `baseline_accuracy`
  [float] (e.g. the same commands typed), drawn next to it.
- fuzz: `surfaces` [str]; `inputs_per_s` [float]; `failures` [int] (a surface with failures is
  drawn red).
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TAIL_CHARS = 2000


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: its name (as in its JSON), module, and any arguments of its own."""

    name: str
    module: str
    title: str
    args: tuple[str, ...] = ()
    quick_args: tuple[str, ...] = ("--quick",)
    timeout_s: int = 3600
    quick_timeout_s: int = 300

    def command(self, json_path: Path, quick: bool) -> list[str]:
        """The process to run."""
        extra = self.quick_args if quick else ()
        return [sys.executable, "-m", self.module, *self.args, *extra, "--json", str(json_path)]

    def exists(self) -> bool:
        """Whether its module is in this checkout."""
        path = ROOT.joinpath(*self.module.split("."))
        return path.with_suffix(".py").exists() or (path / "__main__.py").exists()


BENCHMARKS = (
    # Quick, it still plays the turn-taking corpus and the page edits: 5 and 2 minutes on this
    # project's faster machines (about 8 in all, noise rows left out), more on slower ones.
    Benchmark(
        "voice_latency",
        "tests.benchmarks.voice_latency",
        "Voice latency per stage",
        quick_timeout_s=1200,
    ),
    Benchmark("voice_capacity", "tests.benchmarks.voice_capacity", "Simultaneous calls"),
    Benchmark("transcript_log", "tests.benchmarks.transcript_log", "Transcript log throughput"),
    Benchmark("understanding", "tests.benchmarks.understanding", "Understanding per speaker"),
    Benchmark("fuzz", "tests.fuzz", "Fuzzing", quick_args=("--quick",), quick_timeout_s=600),
)


@dataclass
class Outcome:
    """What running one benchmark gave: its result (None if none) and what went wrong."""

    benchmark: Benchmark
    status: str  # ok, failed, missing, no results
    result: dict | None = None
    detail: str = ""
    seconds: float = 0.0
    plot: Path | None = None
    plot_problem: str = ""
    problems: list[str] = field(default_factory=list)


# --- the machine ---------------------------------------------------------------------------


def cpu_model(cpuinfo: str) -> str:
    """The CPU model from /proc/cpuinfo's text ("unknown" when it names none)."""
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("model name", "Model", "Hardware", "cpu model"):
            return value.strip()
    return "unknown"


def machine() -> dict:
    """Where the benchmarks run: cores, CPU model, memory, OS and Python."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        cpuinfo = ""
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu_model(cpuinfo) if cpuinfo else platform.processor() or "unknown",
        "memory": memory or "unknown",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load average": [round(v, 2) for v in os.getloadavg()],  # others' work, at the start
    }


# --- results -------------------------------------------------------------------------------


def schema_problems(result) -> list[str]:
    """What makes `result` not a benchmark result as documented (empty: it is one)."""
    if not isinstance(result, dict):
        return ["the JSON is not an object"]
    problems = []
    if not isinstance(result.get("benchmark"), str):
        problems.append("'benchmark' is not a string")
    if not isinstance(result.get("data", {}), dict):
        problems.append("'data' is not an object")
    tables = result.get("tables")
    if not isinstance(tables, list) or not tables:
        return [*problems, "'tables' is not a non-empty list"]
    for n, table in enumerate(tables):
        if not isinstance(table, dict) or not isinstance(table.get("caption"), str):
            problems.append(f"table {n} has no caption")
            continue
        columns, rows = table.get("columns"), table.get("rows")
        if not isinstance(columns, list) or not isinstance(rows, list):
            problems.append(f"table {n} needs 'columns' and 'rows' lists")
            continue
        for r, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != len(columns):
                problems.append(f"table {n} row {r} does not have {len(columns)} cells")
    return problems


def tail(text: str) -> str:
    """The end of a process's output, where its error is."""
    return text[-TAIL_CHARS:].strip()


def run_benchmark(benchmark: Benchmark, out: Path, quick: bool, env=None) -> Outcome:
    """Run one benchmark into `out/<name>.json` (with `env` added to its environment); never
    raises for the benchmark's failures."""
    if not benchmark.exists():
        return Outcome(benchmark, "missing", detail=f"no module {benchmark.module} here")
    json_path = out / f"{benchmark.name}.json"
    json_path.unlink(missing_ok=True)
    timeout = benchmark.quick_timeout_s if quick else benchmark.timeout_s
    started = time.monotonic()
    try:
        finished = subprocess.run(
            benchmark.command(json_path, quick),
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as expired:
        output = expired.stderr or ""
        if isinstance(output, bytes):
            output = output.decode(errors="replace")
        seconds = time.monotonic() - started
        detail = f"did not finish within {timeout} s\n{tail(output)}"
        return Outcome(benchmark, "failed", detail=detail, seconds=seconds)
    seconds = time.monotonic() - started
    (out / f"{benchmark.name}.log").write_text(finished.stdout + "\n" + finished.stderr)
    outcome = read_result(benchmark, json_path)
    outcome.seconds = seconds
    if finished.returncode != 0:
        # Its own report of what failed may be on either (the fuzzers print it after the table).
        output = tail(f"{finished.stdout}\n{finished.stderr}")
        why = "; ".join(filter(None, [f"exited {finished.returncode}", outcome.detail]))
        outcome.detail = f"{why}\n{output}".strip()
        if outcome.status == "ok":
            outcome.status = "failed"  # its results are still shown
    return outcome


def read_result(benchmark: Benchmark, json_path: Path) -> Outcome:
    """The benchmark's JSON, checked against the schema."""
    try:
        result = json.loads(json_path.read_text())
    except FileNotFoundError:
        return Outcome(benchmark, "no results", detail="it wrote no JSON")
    except (OSError, ValueError) as error:
        return Outcome(benchmark, "no results", detail=f"its JSON does not parse: {error}")
    problems = schema_problems(result)
    if problems:
        return Outcome(benchmark, "no results", detail="; ".join(problems))
    if result["benchmark"] != benchmark.name:
        problems.append(f"it calls itself {result['benchmark']!r}")
    return Outcome(benchmark, "ok", result=result, problems=problems)


# --- BENCHMARKS.md -------------------------------------------------------------------------


def cell(value) -> str:
    """A table cell: numbers to a sensible precision, text with its pipes escaped."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        size = abs(value)
        return f"{value:.0f}" if size >= 100 else f"{value:.1f}" if size >= 10 else f"{value:.2f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(table: dict) -> str:
    """One of a benchmark's tables in Markdown, under its caption."""
    lines = [
        f"**{cell(table['caption'])}**",
        "",
        "| " + " | ".join(cell(c) for c in table["columns"]) + " |",
        "|" + "|".join("---" for _ in table["columns"]) + "|",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table["rows"]]
    return "\n".join(lines)


def describe_machine(info: dict) -> str:
    """A machine dict as one line."""
    return ", ".join(f"{key} {cell(value)}" for key, value in info.items())


def section(outcome: Outcome, md_dir: Path) -> str:
    """A benchmark's part of BENCHMARKS.md."""
    bench = outcome.benchmark
    parts = [f"## {bench.title} (`{bench.name}`)", ""]
    if outcome.status != "ok":
        parts += [f"**{outcome.status.upper()}**: {cell(outcome.detail.splitlines()[0])}", ""]
        rest = outcome.detail.splitlines()[1:]
        if rest:
            parts += ["```", *rest, "```", ""]
    result = outcome.result
    if result is None:
        return "\n".join(parts)
    if result.get("machine"):
        parts += [f"Reported machine: {describe_machine(result['machine'])}.", ""]
    for problem in outcome.problems:
        parts += [f"Note: {problem}.", ""]
    for table in result["tables"]:
        parts += [markdown_table(table), ""]
    if outcome.plot is not None:
        relative = os.path.relpath(outcome.plot, md_dir)
        parts += [f"![{bench.name}]({relative})", ""]
    elif outcome.plot_problem:
        parts += [f"No plot: {outcome.plot_problem}.", ""]
    return "\n".join(parts)


def markdown(
    outcomes: list[Outcome], info: dict, when: str, quick: bool, md_dir: Path, rendered=None
) -> str:
    """The whole BENCHMARKS.md (`rendered`: the folder it was re-rendered from, if it was)."""
    if rendered is None:
        command = "python3 -m mrblue.bootstrap bench" + (" --quick" if quick else "")
        origin = (
            f"Written by `{command}` on {when}; every figure below comes from that one run "
            "(each benchmark's baseline included). Do not edit by hand: run it again."
        )
    else:
        origin = (
            f"Rendered on {when} by `python -m tests.benchmarks.report --render {rendered}` from "
            "each benchmark's own run (`python -m <module> --json`, one after another on the "
            "same machine; each baseline measured in its benchmark's run). Do not edit by hand."
        )
    lines = [
        "# Benchmarks",
        "",
        origin,
        "",
        f"Machine: {describe_machine(info)}.",
        "",
        "| benchmark | status | seconds |",
        "|---|---|---|",
    ]
    lines += [
        f"| {o.benchmark.name} | {o.status} | {o.seconds:.0f} |"
        if o.seconds
        else f"| {o.benchmark.name} | {o.status} | – |"
        for o in outcomes
    ]
    lines.append("")
    return "\n".join(lines) + "\n" + "\n".join(section(o, md_dir) for o in outcomes)


# --- running it all ------------------------------------------------------------------------


def render(outcomes: list[Outcome], out: Path, md_path: Path, quick: bool, rendered=None) -> str:
    """Plot each result into `out` and write `md_path`; return the Markdown."""
    from tests.benchmarks.plots import plot

    for outcome in outcomes:
        if outcome.result is None:
            continue
        png = out / f"{outcome.benchmark.name}.png"
        try:
            made = plot(outcome.result, png)
        except (KeyError, TypeError, ValueError, IndexError) as error:
            made, outcome.plot_problem = False, f"its data does not fit the plot ({error!r})"
        if made:
            outcome.plot = png
        elif not outcome.plot_problem:
            outcome.plot_problem = f"no plot is defined for '{outcome.benchmark.name}'"
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = markdown(outcomes, machine(), when, quick, md_path.parent, rendered)
    md_path.write_text(text)
    return text


def selected(only: str) -> list[Benchmark]:
    """The benchmarks whose name contains one of the comma-separated words (all if none)."""
    words = [w for w in only.split(",") if w]
    return [b for b in BENCHMARKS if not words or any(w in b.name for w in words)]


def main(argv=None) -> int:
    """Run (or re-render) the benchmarks; exit 1 if any is missing or failed."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.report", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs, for CI")
    parser.add_argument("--only", default="", help="comma-separated parts of benchmark names")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md", help="the Markdown")
    parser.add_argument("--render", type=Path, help="render DIR/<name>.json; run nothing")
    args = parser.parse_args(argv)
    out = args.render or args.out.parent / "benchmarks"
    out.mkdir(parents=True, exist_ok=True)
    outcomes = []
    for benchmark in selected(args.only):
        if args.render:
            outcome = read_result(benchmark, out / f"{benchmark.name}.json")
        else:
            print(f"==> {benchmark.name}", file=sys.stderr, flush=True)
            outcome = run_benchmark(benchmark, out, args.quick)
        print(f"    {outcome.status} ({outcome.seconds:.0f} s)", file=sys.stderr, flush=True)
        outcomes.append(outcome)
    rendered = str(args.render) if args.render else None
    render(outcomes, out, args.out, args.quick, rendered)
    print(f"wrote {args.out} and {len(outcomes)} results in {out}", file=sys.stderr)
    return 0 if all(o.status == "ok" for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
