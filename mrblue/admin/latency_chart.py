"""Turn latencies for the admin: a chart's geometry, and the medians a profile is judged by.

Pure: it takes stored timings (`TurnTiming.stages()` dicts, ms after the end of speech, each
stage as it was reached) and returns numbers; the admin draws them (templates/mrblue/admin/).
"""

import statistics

STAGES = ("speech_stopped", "transcript", "first_output", "first_audio")
LABELS = {
    "speech_stopped": "end of speech detected",
    "transcript": "transcript",
    "first_output": "first answer",
    "first_audio": "first audio",
}
COLORS = {
    "speech_stopped": "#9aa5b1",
    "transcript": "#4c78a8",
    "first_output": "#f58518",
    "first_audio": "#54a24b",
}
# Chart geometry, in px: label column, bar area, one row per turn.
LABEL_WIDTH, BAR_WIDTH, ROW_HEIGHT, BAR_HEIGHT, AXIS_HEIGHT = 70, 420, 22, 14, 28
# Choices of the admin's slow-turn filter: the answer (first audio, else first answer) at least.
SLOW_TURN_MS = (1000, 2000, 3000, 5000)


def answer_ms(stages: dict[str, int]) -> int | None:
    """When the answer began: its first audio, else (a text answer) its first output."""
    return stages.get("first_audio", stages.get("first_output"))


def segments(stages: dict[str, int]) -> list[dict]:
    """Each measured stage as a piece of a stacked bar: from the stage before it to itself."""
    pieces, start = [], 0
    for name in STAGES:
        if name in stages:
            end = max(stages[name], start)
            pieces.append({"stage": name, "start": start, "ms": end - start, "at": stages[name]})
            start = end
    return pieces


def chart(turns: list[dict[str, int]]) -> dict:
    """A horizontal stacked bar per turn, scaled to the slowest: the template's context."""
    longest = max((p["start"] + p["ms"] for t in turns for p in segments(t)), default=0)
    scale = BAR_WIDTH / max(longest, 1)
    rows = []
    for index, stages in enumerate(turns):
        y = index * ROW_HEIGHT
        rects = [
            {
                **piece,
                "x": round(LABEL_WIDTH + piece["start"] * scale, 1),
                "width": round(max(piece["ms"] * scale, 0.5), 1),
                "color": COLORS[piece["stage"]],
                "label": LABELS[piece["stage"]],
            }
            for piece in segments(stages)
        ]
        end = rects[-1]["x"] + rects[-1]["width"] if rects else LABEL_WIDTH
        rows.append(
            {
                "number": index + 1,
                "y": y,
                "text_y": y + BAR_HEIGHT - 3,
                "rects": rects,
                "total_ms": rects[-1]["at"] if rects else None,
                "total_x": round(end + 4, 1),
            }
        )
    height = len(turns) * ROW_HEIGHT
    return {
        "rows": rows,
        "width": LABEL_WIDTH + BAR_WIDTH + 60,
        "height": height + AXIS_HEIGHT,
        "bar_height": BAR_HEIGHT,
        "axis_y": height + 4,
        "axis_text_y": height + 18,
        "axis_end_x": LABEL_WIDTH + BAR_WIDTH,
        "label_x": LABEL_WIDTH - 6,
        "longest_ms": longest,
        "legend": [(LABELS[s], COLORS[s]) for s in STAGES],
    }


def medians(turns: list[dict[str, int]]) -> dict[str, float]:
    """The median of each stage over the turns that measured it, and of the answer."""
    result = {}
    for name in STAGES:
        values = [t[name] for t in turns if name in t]
        if values:
            result[name] = statistics.median(values)
    answers = [a for a in map(answer_ms, turns) if a is not None]
    if answers:
        result["answer"] = statistics.median(answers)
    return result
