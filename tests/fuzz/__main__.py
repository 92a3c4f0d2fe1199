"""`python -m tests.fuzz [--inputs N] [--only WORD] [--quick] [--json PATH]`: every surface
with at least N inputs (`--quick`: 25, for CI).

Each surface runs in its own pytest process (so its memory is its own) with the `long`
hypothesis profile, counting failures instead of stopping at the first; then a table:
inputs, errors answered, crashes (connection died, 5xx, HTML, no answer), unhandled exceptions
(ERROR records of django.request, daphne, mrblue*, editor, asyncio), wrong answers, the
process's peak memory, and the time taken. Exit status 1 if anything failed.

`--json PATH` also writes the table as a benchmark result (see tests/benchmarks/report.py),
with `data`: `surfaces` [str], `inputs` [int], `inputs_per_s` [float], `failures` [int].

Surfaces run one after another: they share the SQLite test database file, so do not run
other tests in the same checkout meanwhile.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.report import machine
from tests.fuzz.harness import INPUTS_ENV, PROFILE_ENV, RECORD_ENV, REPORT_ENV

ROOT = Path(__file__).resolve().parents[2]
# (test, the most inputs it needs: the admin check only needs some stored messages)
SURFACES = [
    ("test_engine_events.py::test_engine_client_events", None),
    ("test_data_channel_events.py::test_data_channel_client_events", None),
    ("test_sdp_offers.py::test_sdp_offers", None),
    ("test_session_api.py::test_session_request_bodies", None),
    ("test_transcript_log.py::test_log_messages_are_answered_and_stored_once", None),
    ("test_transcript_log.py::test_the_admin_renders_after_fuzzed_logs", 1000),
    ("test_page_tools.py::test_page_tool_calls", None),
    ("test_instruction_templates.py::test_templates_from_all_of_djangos_syntax", None),
]
COLUMNS = [
    ("surface", "surface", 40),
    ("inputs", "inputs", 7),
    ("errors_answered", "errors answered", 15),
    ("crashes", "crashes", 7),
    ("unhandled", "unhandled", 9),
    ("wrong_answers", "wrong answers", 13),
    ("max_rss_mib", "max RSS MiB", 11),
    ("seconds", "seconds", 7),
    ("rate", "inputs/s", 8),
]


def run_surface(test: str, inputs: int) -> list[dict]:
    """Run one fuzz test in its own process; return its tallies."""
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        env = {
            **os.environ,
            PROFILE_ENV: "long",
            INPUTS_ENV: str(inputs),
            RECORD_ENV: "1",
            REPORT_ENV: report.name,
        }
        command = [sys.executable, "-m", "pytest", f"tests/fuzz/{test}", "-q", "--runxfail",
                   "-p", "no:cacheprovider", "-p", "no:logging", "-W", "ignore"]  # fmt: skip
        started = time.monotonic()
        finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        rows = json.loads(Path(report.name).read_text() or "[]")
    if not rows:
        print(finished.stdout[-3000:], finished.stderr[-3000:], file=sys.stderr)
        rows = [{"surface": test, "crashes": 1, "failures": [{"kind": "run", "input": "",
                 "detail": f"pytest exited {finished.returncode} without a report"}]}]  # fmt: skip
    for row in rows:
        row.setdefault("seconds", round(time.monotonic() - started, 1))
        row["rate"] = round(row.get("inputs", 0) / row["seconds"]) if row.get("seconds") else 0
    return rows


def table(rows: list[dict]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| " + " | ".join(title.ljust(width) for _, title, width in COLUMNS) + " |",
        "|" + "|".join("-" * (width + 2) for _, _, width in COLUMNS) + "|",
    ]
    for row in rows:
        cells = [str(row.get(key, "")).ljust(width) for key, _, width in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def result(rows: list[dict], inputs: int) -> dict:
    """The rows as a benchmark result: the table, and the series the report plots."""
    return {
        "benchmark": "fuzz",
        "machine": machine(),
        "tables": [
            {
                "caption": f"Fuzzed surfaces, up to {inputs} inputs each",
                "columns": [title for _, title, _ in COLUMNS],
                "rows": [[row.get(key, "") for key, _, _ in COLUMNS] for row in rows],
            }
        ],
        "data": {
            "surfaces": [row["surface"] for row in rows],
            "inputs": [row.get("inputs", 0) for row in rows],
            "inputs_per_s": [row.get("rate", 0) for row in rows],
            "failures": [len(row.get("failures", [])) for row in rows],
        },
    }


def main(argv=None) -> int:
    """Run the surfaces, print the table and the first failures of each."""
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--inputs", type=int, help="inputs per surface (default 10000)")
    parser.add_argument("--only", default="", help="run only the surfaces whose test has this")
    parser.add_argument("--quick", action="store_true", help="25 inputs per surface")
    parser.add_argument("--json", type=Path, help="also write the results here, as JSON")
    args = parser.parse_args(argv)
    inputs = args.inputs or (25 if args.quick else 10_000)
    rows = []
    for test, most in SURFACES:
        if args.only in test:
            print(f"fuzzing {test} ...", file=sys.stderr, flush=True)
            rows += run_surface(test, min(inputs, most or inputs))
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(result(rows, inputs), indent=1))
    failed = False
    for row in rows:
        for failure in row.get("failures", []):
            failed = True
            print(f"\n{row['surface']}: {failure['kind']}\n  input: {failure['input']}")
            print("  " + failure["detail"].replace("\n", "\n  "))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
