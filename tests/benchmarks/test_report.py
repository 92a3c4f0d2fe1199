"""The benchmark report: BENCHMARKS.md and its plots, from fixture results and one real run."""

import json
import shutil
import struct
from pathlib import Path

import pytest
from django.db import connection

from tests.benchmarks import report

FIXTURES = Path(__file__).parent / "fixtures"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PLOTTED = ("voice_latency", "voice_capacity", "transcript_log", "understanding")


def png_size(path: Path) -> tuple[int, int]:
    """A PNG's width and height, from its header (after checking it is a PNG)."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE and head[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


@pytest.fixture
def results(tmp_path):
    """A results directory holding the fixture JSON of the four benchmarks with plots."""
    out = tmp_path / "benchmarks"
    out.mkdir()
    for name in PLOTTED:
        shutil.copy(FIXTURES / f"{name}.json", out)
    return out


def test_the_report_renders_every_table_and_plot_and_names_what_is_missing(results):
    markdown_path = results.parent / "BENCHMARKS.md"
    status = report.main(["--render", str(results), "--out", str(markdown_path)])
    assert status == 1  # the fuzzers' results are missing
    text = markdown_path.read_text()
    info = report.machine()
    assert f"cores {info['cores']}" in text and f"cpu {info['cpu']}" in text
    assert " UTC by `python -m tests.benchmarks.report --render " in text
    assert "| fuzz | no results |" in text and "**NO RESULTS**: it wrote no JSON" in text
    for name in PLOTTED:
        assert f"| {name} | ok |" in text
        assert png_size(results / f"{name}.png") == (800, 450)
        assert f"![{name}](benchmarks/{name}.png)" in text
    assert "**Simultaneous calls, all speaking**" in text
    assert "| 10 | echo | 3900 | 2.40 | 6.00 |" in text  # numbers as the benchmark gave them
    assert "| voice c \\| fast | 0.60 | 0.95 |" in text  # a pipe in a cell stays in its cell


def test_data_that_does_not_fit_its_plot_is_reported_not_raised(results):
    result = json.loads((results / "understanding.json").read_text())
    result["data"]["speakers"].pop()  # one speaker fewer than accuracies
    (results / "understanding.json").write_text(json.dumps(result))
    markdown_path = results.parent / "BENCHMARKS.md"
    report.main(["--render", str(results), "--out", str(markdown_path), "--only", "under"])
    text = markdown_path.read_text()
    assert "No plot: its data does not fit the plot" in text and "one length" in text
    assert "**Commands understood per speaker" in text  # the table is still there


@pytest.mark.django_db
def test_a_missing_or_failing_benchmark_is_reported_and_the_rest_still_run(tmp_path):
    missing = report.Benchmark("nowhere", "tests.benchmarks.nowhere", "Not written yet")
    broken = report.Benchmark("broken", "tests.benchmarks.fixtures.broken_benchmark", "Broken")
    # One real benchmark, at its shortest: the fuzzer of the session API.
    fuzz = report.Benchmark(
        "fuzz", "tests.fuzz", "Fuzzing", args=("--only", "test_session_api", "--inputs", "5")
    )
    # Its pytest gets a test database of its own (pytest-django suffixes the name with
    # TOX_PARALLEL_ENV), so it does not drop the one this session's tests use.
    own_database = {"TOX_PARALLEL_ENV": "bench_report"}
    outcomes = [
        report.run_benchmark(b, tmp_path, quick=False, env=own_database)
        for b in (missing, broken, fuzz)
    ]
    assert [o.status for o in outcomes] == ["missing", "no results", "ok"], outcomes[2].detail
    if connection.vendor == "sqlite":
        assert Path(connection.settings_dict["NAME"]).exists()  # this session's, still there
    assert "row 0 does not have 1 cells" in outcomes[1].detail
    assert "exited 3" in outcomes[1].detail and "something broke" in outcomes[1].detail
    text = report.render(outcomes, tmp_path, tmp_path / "BENCHMARKS.md", quick=True)
    assert "bench --quick" in text and "**MISSING**: no module tests.benchmarks.nowhere" in text
    assert "something broke" in text
    assert "| POST /api/realtime/session | 5 |" in text  # its table, as the fuzzer wrote it
    assert png_size(tmp_path / "fuzz.png") == (800, 450)


def test_the_cpu_model_comes_from_cpuinfo():
    cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n"
    assert report.cpu_model(cpuinfo) == "AMD EPYC 7B13"
    assert report.cpu_model("processor : 0\n") == "unknown"
