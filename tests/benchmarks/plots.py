"""One PNG per benchmark result, from its `data` (keys: see tests/benchmarks/report.py).

Each plot reads only the JSON a benchmark wrote; a missing key raises KeyError, series of
different lengths ValueError, and the report says so instead of drawing.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

SIZE_IN, DPI = (8, 4.5), 100  # 800 x 450 px
COLORS = ["#9aa5b1", "#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2"]


def series(data: dict, *keys: str) -> list[list]:
    """The named lists of `data`, which must be of one length."""
    values = [list(data[key]) for key in keys]
    lengths = {len(v) for v in values}
    if len(lengths) != 1 or not values[0]:
        raise ValueError(f"{', '.join(keys)} must be non-empty lists of one length")
    return values


def voice_latency(data: dict, ax) -> None:
    """A stacked bar per entry of `bars`: each stage's share of the time after speech ended."""
    stages, bars = list(data["stages"]), list(data["bars"])
    if not stages or not bars:
        raise ValueError("stages and bars must be non-empty")
    labels = [bar["label"] for bar in bars]
    starts = [0.0] * len(bars)
    for n, stage in enumerate(stages):
        widths = []
        for i, bar in enumerate(bars):
            at = bar["ms"].get(stage)
            widths.append(0.0 if at is None else max(float(at) - starts[i], 0.0))
        ax.barh(labels, widths, left=starts, color=COLORS[n % len(COLORS)], label=stage)
        starts = [s + w for s, w in zip(starts, widths, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("ms after the end of speech")
    ax.set_title("Latency per stage")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=len(stages), fontsize="small")


def voice_capacity(data: dict, ax) -> None:
    """Concealed audio (left axis) and web p99 (right axis) against simultaneous calls."""
    calls, concealed, p99 = series(data, "calls", "concealed_pct", "web_p99_ms")
    ax.plot(calls, concealed, "o-", color=COLORS[4], label="concealed audio (worst call)")
    ax.set_xlabel("simultaneous calls")
    ax.set_ylabel("concealed audio, %")
    web = ax.twinx()
    web.plot(calls, p99, "s-", color=COLORS[1], label="web p99")
    if data.get("baseline_web_p99_ms") is not None:
        web.axhline(data["baseline_web_p99_ms"], ls="--", color=COLORS[1], label="web p99, no call")
    web.set_ylabel("web request p99, ms")
    ax.set_ylim(bottom=0)
    web.set_ylim(bottom=0)
    lines = ax.get_legend_handles_labels()
    more = web.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left", fontsize="small")
    ax.set_title("Capacity")


def transcript_log(data: dict, ax) -> None:
    """Log and echo messages per second, side by side per number of clients."""
    clients, log, echo = series(data, "clients", "log_msgs_per_s", "echo_msgs_per_s")
    positions = range(len(clients))
    ax.bar([p - 0.2 for p in positions], log, 0.4, color=COLORS[1], label="transcript log")
    ax.bar([p + 0.2 for p in positions], echo, 0.4, color=COLORS[0], label="bare echo (ceiling)")
    ax.set_xticks(list(positions), [str(c) for c in clients])
    ax.set_xlabel("clients")
    ax.set_ylabel("messages acknowledged per second")
    ax.set_title("Transcript log throughput")
    ax.legend(fontsize="small")


def understanding(data: dict, ax) -> None:
    """Accuracy per speaker (and the baseline next to it, if given)."""
    keys = ["speakers", "accuracy"] + (["baseline_accuracy"] if "baseline_accuracy" in data else [])
    speakers, accuracy, *baseline = series(data, *keys)
    positions = range(len(speakers))
    width = 0.4 if baseline else 0.6
    shift = width / 2 if baseline else 0
    ax.bar([p - shift for p in positions], accuracy, width, color=COLORS[3], label="accuracy")
    if baseline:
        right = [p + shift for p in positions]
        ax.bar(right, baseline[0], width, color=COLORS[0], label="baseline")
    ax.set_xticks(list(positions), speakers, rotation=20, ha="right")
    ax.set_ylim(0, 1.15)  # room for the legend above a perfect score
    ax.set_ylabel("share understood")
    ax.set_title("Understanding per speaker")
    ax.legend(fontsize="small")


def fuzz(data: dict, ax) -> None:
    """Inputs per second per surface; red where the fuzzer found a failure."""
    surfaces, rates, failures = series(data, "surfaces", "inputs_per_s", "failures")
    colors = [COLORS[4] if f else COLORS[3] for f in failures]
    ax.barh([s.split("::")[-1] for s in surfaces], rates, color=colors)
    ax.invert_yaxis()
    ax.set_xlabel("inputs per second (red: failures found)")
    ax.set_title("Fuzzing")


PLOTS = {
    "voice_latency": voice_latency,
    "voice_capacity": voice_capacity,
    "transcript_log": transcript_log,
    "understanding": understanding,
    "fuzz": fuzz,
}


def plot(result: dict, path: Path) -> bool:
    """Draw `result`'s plot into `path`; False if its benchmark has no plot."""
    draw = PLOTS.get(result["benchmark"])
    if draw is None:
        return False
    figure, ax = plt.subplots(figsize=SIZE_IN, dpi=DPI)
    try:
        draw(result.get("data") or {}, ax)
        figure.tight_layout()
        figure.savefig(path, dpi=DPI)
    finally:
        plt.close(figure)
    return True
