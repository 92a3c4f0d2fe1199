"""Benchmark: spoken editing requests, heard by the engine's recognition and understood by the
`commands` brain, against the demo page.

    .venv/bin/python -m tests.benchmarks.understanding [--quick] [--json PATH]
        [--speakers piper,espeak-us] [--every N] [--bias page|plain]

Each sentence of the corpus (tests/support/understanding_corpus.py, 300+ requests) is said by
each speaker (tests/support/speakers.py: piper at three paces, two espeak-ng voices, with a
little reverb and light noise), recognized in-process by faster-whisper exactly as a session
of the demo page would have it (`--bias page`: the session's prompt and hotwords built from
the page; `plain`: the engine's default prompt only), then played through the brain with a
probe answering `describe_page` as the editor does. A request is right when the turn ends in
the expected tool call with the expected arguments (new text compared without case or
punctuation), or, for the `ask` and `say` rows, in a question or in words without a change.

Prints accuracy per speaker and per intent, then the misses. `--quick` takes every 12th
sentence with two speakers (the CI sample's size). Clips are cached in the temp dir.

`--json PATH` writes {"benchmark", "machine", "tables", "data"}; `data` has `speakers` [str],
`accuracy` [0-1] per speaker and `baseline_accuracy` (the same requests typed), for the
report's plot; `results`: one {speaker, said, heard, intent, expected, got, right} per request;
and `bias`.
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
from tests.support.brain_turns import play_turn, user  # noqa: E402
from tests.support.speakers import SPEAKERS, cache_dir, clip  # noqa: E402
from tests.support.understanding_corpus import CASES, PAGE  # noqa: E402

QUICK_EVERY = 12
QUICK_SPEAKERS = ("piper", "espeak-us")


def hints(bias: str) -> tuple[str | None, str | None]:
    """The (prompt, hotwords) recognition gets: the demo page's session's, or the default."""
    if bias == "plain":
        return None, None
    return transcription_prompt(PAGE["blocks"]), tool_hotwords(editor_tools())


def turn(said: str) -> tuple[str, dict | str]:
    """Play one user turn through the brain; the probe answers describe_page with the page.
    Returns ("call", {name, arguments}) or ("ask" | "say", the words)."""
    try:
        _, result = play_turn([user(said)], PAGE)
    except AssertionError:
        return "say", "(looked at the page forever)"
    if result[0] == "call":
        return "call", {"name": result[1], "arguments": result[2]}
    words = result[1].strip()
    return ("ask" if words.endswith("?") else "say"), words


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


def run(speakers, every: int, bias: str, fresh: bool = False) -> list[dict]:
    """Hear and understand every `every`th case by each speaker; one result per request."""
    prompt, hotwords = hints(bias)
    results = []
    for speaker in speakers:
        for case in CASES[::every]:
            heard = hear(clip(speaker, case.said), prompt, hotwords, fresh)
            kind, got = turn(heard)
            results.append(
                {
                    "speaker": speaker.name,
                    "said": case.said,
                    "heard": heard,
                    "intent": case.intent,
                    "expected": {"tool": case.tool, "arguments": case.arguments},
                    "got": {"kind": kind, "value": got},
                    "right": right(case, kind, got),
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
    parser.add_argument("--bias", choices=("page", "plain"), default="page")
    parser.add_argument("--fresh", action="store_true", help="recognize again, not from cache")
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
    results = run(speakers, args.every, args.bias, args.fresh)
    tables = [
        table(results, "speaker", f"Right tool and arguments, per speaker (bias: {args.bias})"),
        table(results, "intent", "Right tool and arguments, per intent (all speakers)"),
    ]
    print("\nMisses:")
    for r in results:
        if not r["right"]:
            print(f"  [{r['speaker']}] said {r['said']!r} heard {r['heard']!r} -> {r['got']}")
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
