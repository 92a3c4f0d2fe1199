"""Benchmark: spoken editing requests, heard by the engine's recognition and understood by the
`commands` brain, against the demo page.

    .venv/bin/python -m tests.benchmarks.understanding [--quick] [--json PATH]
        [--speakers piper,espeak-us] [--every N] [--start N] [--bias page|plain]
        [--no-rescoring]

Each sentence of the corpus (tests/support/understanding_corpus.py, 300+ requests) is said by
each speaker (tests/support/speakers.py: piper at four paces, three espeak-ng voices, with a
little reverb and light noise; piper and an espeak-ng voice again at 10 dB SNR), recognized
in-process by faster-whisper exactly as a session of the demo page would have it (`--bias
page`: the session's prompt and hotwords built from the page; `plain`: the engine's default
prompt only), then played through the brain with a probe answering `describe_page` as the
editor does. A request is right when the turn ends in the expected tool call with the
expected arguments (new text compared without case or punctuation), or, for the `ask` and
`say` rows, in a question or in words without a change.

With rescoring (the default; `--no-rescoring` leaves it out), each clip is recognized afresh
and the recognizer's scorer goes to the brain, as the engine hands it over; when the brain
asks "Did you mean: ...?", the simulated user answers as the person who said it would: "yes"
if the guess does what was meant, else "no". Each request then ends in one of: right at
once; right after one confirmation; asked and refused (a guess the user said no to); no
action (a refusal, "I heard ...", another question); a wrong action (a change not meant: the
worst outcome, counted on its own). The same transcripts without the scorer (the brain as
before) are the baseline, measured in the same run; so are recognition's own time and the
time the brain takes without rescoring, beside the rescoring's (decoder passes) and the
brain's added time per turn.

Prints the outcomes per speaker and per intent, the times, then the misses. `--quick` takes
every 12th sentence with two speakers (the CI sample's size). Clips are cached in the temp dir.

`--json PATH` writes {"benchmark", "machine", "tables", "data"}; `data` has `speakers` [str],
`accuracy` [0-1] per speaker and `baseline_accuracy` (the same requests typed), for the
report's plot; `results`: one {speaker, said, heard, intent, expected, got, right, outcome,
outcome_without_rescoring, recognition_ms, rescoring_ms, brain_ms, brain_ms_without} per
request; and `bias`.
"""

import argparse
import hashlib
import json
import os
import re
import sys
import time
from collections import defaultdict

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mrblue.project.settings")
django.setup()

from editor.tools import editor_tools  # noqa: E402
from mrblue.commands_brain.page_words import transcription_prompt  # noqa: E402
from mrblue.engine.voice import speech  # noqa: E402
from mrblue.engine.voice.hints import tool_hotwords  # noqa: E402
from tests.benchmarks.report import machine  # noqa: E402
from tests.support.brain_turns import play_turn, spoken, user  # noqa: E402
from tests.support.speakers import SPEAKERS, cache_dir, clip  # noqa: E402
from tests.support.understanding_corpus import CASES, PAGE  # noqa: E402

QUICK_EVERY = 12
QUICK_SPEAKERS = ("piper", "espeak-us")
ITEM = "item_said"
GUESS = "Did you mean: "
OUTCOMES = ("right_at_once", "right_after_yes", "asked_refused", "no_action", "wrong_action")


def hints(bias: str) -> tuple[str | None, str | None]:
    """The (prompt, hotwords) recognition gets: the demo page's session's, or the default."""
    if bias == "plain":
        return None, None
    return transcription_prompt(PAGE["blocks"]), tool_hotwords(editor_tools())


def turn(said: str) -> tuple[str, dict | str]:
    """Play one user turn through the brain; the probe answers describe_page with the page.
    Returns ("call", {name, arguments}) or ("ask" | "say", the words)."""
    return _kind(_play([user(said)])[1])


def _play(conversation, scorer=None, decisions=None) -> tuple[list, tuple]:
    try:
        scorers = {ITEM: scorer} if scorer else None
        return play_turn(conversation, PAGE, scorers=scorers, decisions=decisions)
    except AssertionError:
        return conversation, ("say", "(looked at the page forever)")


def _kind(result) -> tuple[str, dict | str]:
    if result[0] == "call":
        return "call", {"name": result[1], "arguments": result[2]}
    words = result[1].strip()
    return ("ask" if words.endswith("?") else "say"), words


def converse(case, heard: str, scorer, decisions=None) -> tuple[str, str, dict | str, float]:
    """The request heard as `heard` played through the brain (with the audio's `scorer`, if
    any), the user answering a guess as they would: (outcome, kind, got, brain seconds of the
    first turn). The brain's decision records are appended to `decisions`."""
    item = spoken(heard, ITEM)
    started = time.perf_counter()
    conversation, result = _play([item], scorer, decisions)
    brain_s = time.perf_counter() - started
    kind, got = _kind(result)
    if right(case, kind, got):
        return "right_at_once", kind, got, brain_s
    if kind == "ask" and got.startswith(GUESS) and case.tool not in ("ask", "say"):
        _, after_yes = _play([*conversation, user("yes")], scorer)
        yes_kind, yes_got = _kind(after_yes)
        if right(case, yes_kind, yes_got):
            return "right_after_yes", yes_kind, yes_got, brain_s
        return "asked_refused", kind, got, brain_s  # the user says no: nothing changes
    return ("wrong_action" if kind == "call" else "no_action"), kind, got, brain_s


def outcome_of(case, kind: str, got) -> str:
    """One turn's outcome without a conversation after it (the baseline's)."""
    if right(case, kind, got):
        return "right_at_once"
    return "wrong_action" if kind == "call" else "no_action"


def right(case, kind: str, got) -> bool:
    """Whether the turn ended as the corpus says it should."""
    if case.tool in ("ask", "say"):
        return kind == case.tool
    if case.tool == "describe_page":
        return kind == "say" and got.startswith("This page has")
    if kind != "call" or got["name"] != case.tool:
        return False
    return _comparable(got["arguments"]) == _comparable(case.arguments)


def _comparable(arguments: dict) -> dict:
    return {k: _plain(v) if k == "text" else v for k, v in arguments.items()}


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def hear(pcm: bytes, prompt, hotwords, fresh: bool) -> str:
    """What recognition hears in a clip with these hints. Greedy decoding is deterministic, so
    transcripts are cached beside the clips (keyed by clip, hints, model and encoder window)
    unless `fresh`."""
    model = (speech.stt_model_name(), speech.engine_settings.STT_SILENCE_AFTER_S)
    key = hashlib.sha256(repr((pcm, prompt, hotwords, model)).encode())
    path = cache_dir() / f"heard-{key.hexdigest()[:24]}.txt"
    if not fresh and path.exists():
        return path.read_text()
    heard = speech._transcribe(pcm, "en", prompt, hotwords)
    path.write_text(heard)
    return heard


def run(
    speakers, every: int, bias: str, fresh: bool = False, rescoring: bool = False, start: int = 0
) -> list[dict]:
    """Hear and understand every `every`th case by each speaker; one result per request.
    With `rescoring`, each clip is recognized afresh, keeping the scorer the engine would
    hand the brain, and a guess is answered as the speaker would. `start`: the first case
    taken (another sample of the same size)."""
    prompt, hotwords = hints(bias)
    results = []
    for speaker in speakers:
        for case in CASES[start::every]:
            pcm = clip(speaker, case.said)
            keep = {} if rescoring else None
            started = time.perf_counter()
            if rescoring:
                heard = speech._transcribe(pcm, "en", prompt, hotwords, keep=keep)
            else:
                heard = hear(pcm, prompt, hotwords, fresh)
            recognition_s = time.perf_counter() - started
            started = time.perf_counter()
            kind, got = _kind(_play([spoken(heard, ITEM)])[1])
            brain_without_s = time.perf_counter() - started
            without = outcome_of(case, kind, got)
            scorer = (keep or {}).get("scorer")
            decisions = []
            if scorer is not None:
                outcome, kind, got, brain_s = converse(case, heard, scorer, decisions)
            else:
                outcome, brain_s = without, brain_without_s
            results.append(
                {
                    "speaker": speaker.name,
                    "said": case.said,
                    "heard": heard,
                    "intent": case.intent,
                    "expected": {"tool": case.tool, "arguments": case.arguments},
                    "got": {"kind": kind, "value": got},
                    "right": outcome == "right_at_once",
                    "outcome": outcome,
                    "outcome_without_rescoring": without,
                    "recognition_ms": round(recognition_s * 1000, 1),
                    "rescoring_ms": round((scorer.seconds if scorer else 0) * 1000, 1),
                    "brain_ms": round(brain_s * 1000, 1),
                    "brain_ms_without": round(brain_without_s * 1000, 1),
                    "decision": decisions[0] if decisions else None,
                }
            )
    return results


def plot_series(results) -> dict:
    """Accuracy per speaker, heard and (the baseline) typed: the report's plot reads these."""
    speakers = list(dict.fromkeys(r["speaker"] for r in results))
    by_said = {c.said: c for c in CASES}
    accuracy, typed = [], []
    for name in speakers:
        mine = [r for r in results if r["speaker"] == name]
        accuracy.append(sum(r["right"] for r in mine) / len(mine))
        typed.append(sum(right(by_said[r["said"]], *turn(r["said"])) for r in mine) / len(mine))
    return {"speakers": speakers, "accuracy": accuracy, "baseline_accuracy": typed}


def table(results, key: str, caption: str) -> dict:
    """Accuracy per `key` (speaker or intent)."""
    groups = defaultdict(list)
    for result in results:
        groups[result[key]].append(result["right"])
    rows = [
        [name, sum(marks), len(marks), round(100 * sum(marks) / len(marks), 1)]
        for name, marks in groups.items()
    ]
    total = [r["right"] for r in results]
    rows.append(["all", sum(total), len(total), round(100 * sum(total) / max(1, len(total)), 1)])
    return {"caption": caption, "columns": [key, "right", "of", "%"], "rows": rows}


def outcomes_table(results, key: str, caption: str) -> dict:
    """Per `key` (speaker or intent): each outcome's share, and the baseline's (the same
    transcripts, without rescoring) right and wrong shares."""
    groups = defaultdict(list)
    for result in [*results, *({**r, key: "all"} for r in results)]:
        groups[result[key]].append(result)
    rows = []
    for name, mine in groups.items():
        n = len(mine)
        share = {o: 100 * sum(r["outcome"] == o for r in mine) / n for o in OUTCOMES}
        base = [r["outcome_without_rescoring"] for r in mine]
        rows.append(
            [
                name,
                n,
                *(round(share[o], 1) for o in OUTCOMES),
                round(share["right_at_once"] + share["right_after_yes"], 1),
                round(100 * base.count("right_at_once") / n, 1),
                round(100 * base.count("wrong_action") / n, 1),
            ]
        )
    columns = [key, "n", "at once %", "after yes %", "refused %", "no action %", "WRONG %"]
    columns += ["right, 1 yes %", "base right %", "base WRONG %"]
    return {"caption": caption, "columns": columns, "rows": rows}


def times_table(results) -> dict:
    """Per speaker: recognition's time (the baseline), the brain's without rescoring, and per
    turn that rescored, the decoder's time and the brain's added time (mean, p50, p95)."""
    groups = defaultdict(list)
    for result in [*results, *({**r, "speaker": "all"} for r in results)]:
        groups[result["speaker"]].append(result)
    rows = []
    for name, mine in groups.items():
        rescored = [r for r in mine if r["rescoring_ms"] > 0]
        added = [r["brain_ms"] - r["brain_ms_without"] for r in rescored]
        scoring = [r["rescoring_ms"] for r in rescored]
        rows.append(
            [
                name,
                f"{len(rescored)}/{len(mine)}",
                _p(50, [r["recognition_ms"] for r in mine]),
                _p(50, [r["brain_ms_without"] for r in mine]),
                round(sum(scoring) / len(scoring), 1) if scoring else "-",
                _p(50, scoring),
                _p(95, scoring),
                _p(50, added),
                _p(95, added),
            ]
        )
    columns = ["speaker", "rescored", "recog p50", "brain p50", "score mean", "score p50"]
    columns += ["score p95", "added p50", "added p95"]
    return {
        "caption": "Milliseconds per turn (added: brain with rescoring - without)",
        "columns": columns,
        "rows": rows,
    }


def _p(percent: int, values: list) -> float | str:
    if not values:
        return "-"
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))], 1)


def _print(tab: dict) -> None:
    print(f"\n{tab['caption']}")
    print("  ".join(f"{c:>14}" for c in tab["columns"]))
    for row in tab["rows"]:
        print("  ".join(f"{c!s:>14}" for c in row))


def main(argv=None) -> int:
    """Run the benchmark and print (and maybe save) its tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a CI-sized sample")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument("--speakers", help="comma-separated speaker names (default: all)")
    parser.add_argument("--every", type=int, default=1, help="take every Nth sentence")
    parser.add_argument("--start", type=int, default=0, help="from the Nth sentence")
    parser.add_argument("--bias", choices=("page", "plain"), default="page")
    parser.add_argument("--fresh", action="store_true", help="recognize again, not from cache")
    parser.add_argument(
        "--no-rescoring", action="store_true", help="the brain without the recognizer's scorer"
    )
    args = parser.parse_args(argv)
    names = args.speakers.split(",") if args.speakers else None
    if args.quick:
        names, args.every = names or list(QUICK_SPEAKERS), max(args.every, QUICK_EVERY)
    unknown = set(names or ()) - {s.name for s in SPEAKERS}
    if unknown:
        parser.error(
            f"unknown speakers {sorted(unknown)}: choose from {[s.name for s in SPEAKERS]}"
        )
    speakers = [s for s in SPEAKERS if names is None or s.name in names]
    started = time.monotonic()
    results = run(speakers, args.every, args.bias, args.fresh, not args.no_rescoring, args.start)
    tables = [
        table(results, "speaker", f"Right tool and arguments, per speaker (bias: {args.bias})"),
        table(results, "intent", "Right tool and arguments, per intent (all speakers)"),
    ]
    if not args.no_rescoring:
        tables += [
            outcomes_table(results, "speaker", "Outcomes per speaker, % of requests"),
            outcomes_table(results, "intent", "Outcomes per intent (all speakers), %"),
            times_table(results),
        ]
    print("\nMisses:")
    for r in results:
        if not r["right"]:
            print(
                f"  [{r['speaker']}] {r['outcome']}: said {r['said']!r} heard {r['heard']!r}"
                f" -> {r['got']}"
            )
    for tab in tables:
        _print(tab)
    print(f"\n{len(results)} requests in {time.monotonic() - started:.0f} s")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(
                {
                    "benchmark": "understanding",
                    "machine": machine(),
                    "tables": tables,
                    "data": {**plot_series(results), "results": results, "bias": args.bias},
                },
                out,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
