"""Page-edit rows of the voice benchmark: editing the page by voice, as an editor does it.

A logged-in editor (change permission) opens a page in the editor and starts a voice call in
its AI tab; Chromium's fake microphone says a few editing requests (`REQUESTS`, spoken at run
time by piper), each followed by silence long enough for the whole answer. The panel's real
page tools carry them out over WebRTC against a real Daphne (site and engine). A probe added
to the page before its scripts (`page_edits.js`, with `tests/support/heard.js`) times, with
no change to the product, the data channel's events both ways, the tools' requests to the
server, each redraw that changed a block, and when the remote voice is heard. Per request:

- end of speech -> first audio heard (the acknowledgement, "Sure, making the heading blue.",
  is spoken before the edit) and end of speech -> the edited block changed in the page (ms;
  median, p90), and how many requests changed their block;
- per page tool call, in the browser: from `response.function_call_arguments.done` arriving
  to its `function_call_output` sent back, of which the HTTP request an edit makes; then to
  the `response.create` that asks for the next answer and that answer's `response.created`;
  and the same kind of edit request made with no turn going on (the call idle, then ended).

"End of speech" is, as in the other voice rows, the `speech_stopped` event's arrival minus the
silence the turn waited (`response.metadata.mrblue_speech_stopped_ms`).
"""

import statistics
from dataclasses import dataclass
from pathlib import Path

from tests.benchmarks.stats import percentile
from tests.benchmarks.turn_events import after_speech_ms, transcript_of, turn_span, waited_ms
from tests.benchmarks.turn_taking import words

PROBE = Path(__file__).with_name("page_edits.js")
USERNAME = "bench-editor"
LEAD_S = 1.5  # silence first: the call is up before the first request
TAIL_S = 30.0  # silence last: the looping microphone does not start again meanwhile


@dataclass(frozen=True)
class EditRequest:
    """A spoken request and the block it changes on the benchmark's page."""

    text: str
    block: str


REQUESTS = (
    EditRequest("Make the heading blue.", "heading"),
    EditRequest("Make the button green.", "cta"),
    EditRequest("Center the first paragraph.", "intro"),
    EditRequest("Delete the second paragraph.", "schedule"),
)
BLOCKS = [
    {"id": "heading", "type": "heading", "text": "Mundo Tango", "style": {}},
    {"id": "intro", "type": "paragraph", "text": "Tango classes for all.", "style": {}},
    {"id": "schedule", "type": "paragraph", "text": "Milongas on Saturdays.", "style": {}},
    {"id": "cta", "type": "button", "text": "Join a class", "style": {}},
]
# The pages and their editor, made in the benchmark's database by `manage.py shell`.
MAKE_PAGES = """
import json
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from editor.models import Page

user = get_user_model().objects.create_user({username!r}, password="pw-12345!")
user.user_permissions.add(*Permission.objects.filter(
    content_type__app_label="editor", codename__in=("change_page", "view_page")))
for slug in {slugs!r}:
    page = Page(slug=slug, title="Mundo Tango", content=json.loads({blocks!r}))
    page.full_clean()
    page.save()
"""
# Done: every request was heard, and the answer to the last one said its last words.
ANSWERED = """(count) => {
  const received = window.probe.received;
  const heard = received.filter(
    (e) => e.type === "conversation.item.input_audio_transcription.completed");
  if (heard.length < count) return false;
  const last = heard[heard.length - 1]._t;
  return received.some((e) => e.type === "response.done" && e._t > last
    && !(e.response.output || []).some((item) => item.type === "function_call"));
}"""


# The same kind of request an edit makes, with no turn going on: update_text, `runs` times,
# their call ids starting with `label`.
ALONE = """async ([runs, label]) => {
  const tools = await import("/static/editor/page-tools.js");
  for (let n = 0; n < runs; n += 1) {
    const text = `Mundo Tango ${n + 1}`;
    await tools.runCall({ name: "update_text", callId: `${label}-${n}`,
                          arguments: JSON.stringify({ block_id: "heading", text }) });
  }
  return window.probe.fetches.filter((f) => String(f.call_id).startsWith(`${label}-`))
    .map((f) => Math.round((f.end - f.start) * 10) / 10);
}"""
ALONE_RUNS = 5


def request_of(transcript: str) -> EditRequest | None:
    """The request a transcript says: the one sharing most of its words with it, if at least
    half of them (a misheard word or two still counts; noise does not)."""
    said = set(words(transcript))
    shared = {request: len(set(words(request.text)) & said) for request in REQUESTS}
    best = max(REQUESTS, key=lambda request: shared[request])
    return best if shared[best] * 2 >= len(set(words(best.text))) else None


def recording(gap_s: float) -> bytes:
    """The fake microphone's recording: each request, then `gap_s` of silence."""
    from tests.support.audio_fixtures import silence, spoken

    pcm = silence(LEAD_S)
    for request in REQUESTS:
        pcm += spoken(request.text) + silence(gap_s)
    return pcm + silence(TAIL_S)


def _first(events, test, default=None):
    return next((e for e in events if test(e)), default)


def edits_of(probe: dict, heard: list[float]) -> list[dict]:
    """One row per request heard in a call (its first turn): {"request", "said", "edited",
    and when measured "heard_ms", "changed_ms": ms after the end of speech}, from the probe's
    events and the times the remote voice was heard."""
    received = probe["received"]
    rows, seen = [], set()
    for stop in (e for e in received if e["type"] == "input_audio_buffer.speech_stopped"):
        completed = transcript_of(received, stop)
        request = request_of(completed["transcript"]) if completed else None
        if request is None or request in seen:
            continue
        seen.add(request)
        span = turn_span(received, stop)
        changed = [c["_t"] for c in probe["changes"] if request.block in c["changed"]]
        row = {"request": request.text, "said": completed["transcript"]}
        row["edited"] = any(span[0] < t < span[1] for t in changed)
        # The turn's first response that says how long its silence was (with page tools, the
        # answer is several responses: the one calling the tool, then the spoken one).
        done = _first(
            received,
            lambda e, span=span: (
                e["type"] == "response.done"
                and span[0] < e["_t"] < span[1]
                and waited_ms(e) is not None
            ),
        )
        waited = waited_ms(done)
        if waited is not None:
            for key, times in (("heard_ms", heard), ("changed_ms", changed)):
                ms = after_speech_ms(times, span, waited)
                if ms is not None:
                    row[key] = ms
        rows.append(row)
    return rows


def tool_calls_of(probe: dict) -> list[dict]:
    """One row per page tool call, in ms from its `function_call_arguments.done` arriving:
    {"tool", "output_sent", "http" (the edit's request, when it made one; "server": of it,
    from the request sent to the answer's first byte), "response_done"
    (the calling response's end arrived), "create_sent" (the next `response.create` sent),
    "created" (that response's `response.created` arrived)}; a step not seen is left out."""
    received, sent = probe["received"], probe["sent"]
    rows = []
    for call in (e for e in received if e["type"] == "response.function_call_arguments.done"):
        start = call["_t"]
        row = {"tool": call["name"]}
        done = _first(
            received,
            lambda e, call=call: (
                e["type"] == "response.done" and e["response"]["id"] == call["response_id"]
            ),
        )
        if done is not None:
            row["response_done"] = round(done["_t"] - start, 1)
        fetch = _first(probe["fetches"], lambda f, call=call: f["call_id"] == call["call_id"])
        if fetch is not None:
            row["http"] = round(fetch["end"] - fetch["start"], 1)
            timing = _resource_of(probe.get("resources", []), fetch)
            if timing is not None:
                row["server"] = round(timing["response"] - timing["request"], 1)
        output = _first(
            sent,
            lambda e, call=call: (
                e["type"] == "conversation.item.create"
                and e["item"].get("type") == "function_call_output"
                and e["item"].get("call_id") == call["call_id"]
            ),
        )
        if output is not None:
            row["output_sent"] = round(output["_t"] - start, 1)
            create = _first(
                sent, lambda e, t=output["_t"]: e["type"] == "response.create" and e["_t"] >= t
            )
            if create is not None:
                row["create_sent"] = round(create["_t"] - start, 1)
                created = _first(
                    received,
                    lambda e, t=create["_t"]: e["type"] == "response.created" and e["_t"] >= t,
                )
                if created is not None:
                    row["created"] = round(created["_t"] - start, 1)
        rows.append(row)
    return rows


def _resource_of(resources: list[dict], fetch: dict) -> dict | None:
    """The resource timing of a page tool's request: the one that started with it."""
    near = [r for r in resources if abs(r["start"] - fetch["start"]) < 5 and r["request"] > 0]
    return min(near, key=lambda r: abs(r["start"] - fetch["start"]), default=None)


def _median(values):
    return round(statistics.median(values), 1) if values else None


def tables(
    edits: list[dict], calls: list[dict], requested: int, alone: dict | None = None
) -> list[dict]:
    """The edits' table (per request and all together) and the tool calls' (median per
    tool, and an edit request's time with no turn going on, `alone`: {when: [ms]}), from the rows of
    `edits_of` and `tool_calls_of` over every call."""
    edit_rows = []
    groups = [(r.text, [e for e in edits if e["request"] == r.text]) for r in REQUESTS]
    for label, rows in [*groups, ("all", edits)]:
        heard = [e["heard_ms"] for e in rows if "heard_ms" in e]
        changed = [e["changed_ms"] for e in rows if "changed_ms" in e]
        asked = requested if label == "all" else requested // len(REQUESTS)
        edit_rows.append(
            [
                label,
                f"{sum(e['edited'] for e in rows)}/{asked}",
                round(statistics.median(heard)) if heard else None,
                percentile(heard, 0.9),
                round(statistics.median(changed)) if changed else None,
                percentile(changed, 0.9),
            ]
        )
    steps = ("output_sent", "http", "server", "response_done", "create_sent", "created")
    tool_rows = [
        [tool, len(rows), *(_median([r[s] for r in rows if s in r]) for s in steps)]
        for tool in dict.fromkeys(c["tool"] for c in calls)
        for rows in [[c for c in calls if c["tool"] == tool]]
    ]
    for when, times in (alone or {}).items():
        tool_rows.append([f"update_text, {when}", len(times), None, _median(times), *[None] * 4])
    return [
        {
            "caption": (
                "page edits by voice in the editor: edits done/requested; ms after the end of "
                "speech until the first audio was heard and until the block changed in the page"
            ),
            "columns": [
                "request",
                "edited",
                "heard median",
                "heard p90",
                "changed median",
                "changed p90",
            ],
            "rows": edit_rows,
        },
        {
            "caption": (
                "page tool calls in the browser: median ms after function_call_arguments.done "
                "arrived until: the output was sent (of which: the edit's HTTP request, and of "
                "that, from the request sent to the answer's first byte), the "
                "calling response's response.done arrived, the next response.create was sent, "
                "its response.created arrived"
            ),
            "columns": [
                "tool",
                "calls",
                "output sent",
                "http",
                "server",
                "response.done",
                "response.create sent",
                "response.created",
            ],
            "rows": tool_rows,
        },
    ]


def prepare(database: str, rounds: int) -> list[str]:
    """An editor and one fresh page per round in the benchmark's database; the pages' slugs."""
    import json

    from tests.support.live import run_python

    slugs = [f"edits-{n}" for n in range(1, rounds + 1)]
    script = MAKE_PAGES.format(username=USERNAME, slugs=slugs, blocks=json.dumps(BLOCKS))
    made = run_python(["manage.py", "shell", "-c", script], DATABASE_URL=database)
    if made.returncode:
        raise RuntimeError(f"could not make the benchmark's pages:\n{made.stderr}")
    return slugs


def edit_call(browser, server, slug: str, timeout_s: float) -> tuple[dict, list, dict]:
    """Log in, open the page in the editor, start a voice call, and wait until every request
    was heard and answered (or `timeout_s`); the probe's events, the times heard, and the
    times (ms) of `ALONE_RUNS` edit requests with no turn going on: {"call idle": the
    call still up, "no call": once it ended}."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    from tests.support.browser import HEARD_SCRIPT, close_settled, log_in

    context = browser.new_context()
    context.add_init_script(path=HEARD_SCRIPT)
    context.add_init_script(path=PROBE)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        log_in(page, server.url, USERNAME)
        page.goto(f"{server.url}/editor/{slug}/")
        page.get_by_test_id("tab-ai").click()
        page.get_by_test_id("button-start-voice-chat").click()
        page.wait_for_function("window.mrblueVoice.state === 'live'")
        try:
            page.wait_for_function(ANSWERED, arg=len(REQUESTS), timeout=timeout_s * 1000)
        except PlaywrightTimeout:
            print(f"page edits: not every request was answered in {timeout_s:.0f} s")
        page.wait_for_timeout(1000)  # the last answer's audio reaches the page
        probe, heard = page.evaluate("window.probe"), page.evaluate("window.heard")
        page.wait_for_function("!window.mrblueVoice.shown.speaking")
        alone = {"call idle": page.evaluate(ALONE, [ALONE_RUNS, "idle"])}
        page.evaluate("window.mrblueVoice.end()")
        alone["no call"] = page.evaluate(ALONE, [ALONE_RUNS, "alone"])
        return probe, heard, alone
    finally:
        close_settled(context)


def run(server, database: str, workdir: Path, gap_s: float, rounds: int = 1):
    """Say the requests to a fresh page `rounds` times, one call each; the tables and the raw
    data ({"requested", "edits": [row of `edits_of`], "tool_calls": [row of `tool_calls_of`],
    "http_alone_ms": {"call idle" or "no call": [ms]}})."""
    from tests.support.audio_fixtures import RATE, write_wav
    from tests.support.browser import chromium

    pcm = recording(gap_s)
    wav = workdir / "page-edits.wav"
    write_wav(wav, pcm)
    timeout_s = len(pcm) / (RATE * 2) - TAIL_S + 60
    edits, calls, alone = [], [], {}
    with chromium(f"--use-file-for-fake-audio-capture={wav}") as browser:
        for number, slug in enumerate(prepare(database, rounds), start=1):
            probe, heard, http_ms = edit_call(browser, server, slug, timeout_s)
            edits += [{"round": number, **row} for row in edits_of(probe, heard)]
            calls += [{"round": number, **row} for row in tool_calls_of(probe)]
            for when, times in http_ms.items():
                alone[when] = alone.get(when, []) + times
    requested = rounds * len(REQUESTS)
    data = {"requested": requested, "edits": edits, "tool_calls": calls, "http_alone_ms": alone}
    return tables(edits, calls, requested, alone), data
