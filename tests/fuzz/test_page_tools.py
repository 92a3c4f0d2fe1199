"""`POST /editor/<slug>/tools/` (a logged-in editor): page-tool calls with fuzzed arguments.

Arguments come from the tools' own JSON schemas (`editor.tools`), mostly right and sometimes
just outside, plus junk and raw bodies. Property: a 200 JSON answer or a 4xx JSON error, never
a 5xx, nothing logged as an error, and the page's content always passes `validate_blocks`.
"""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from editor.blocks import validate_blocks
from editor.models import Page
from editor.tools import EDITOR_TOOLS
from tests.fuzz.harness import drive, fuzz_settings, tally
from tests.fuzz.strategies import (
    from_schema,
    garbage_bytes,
    garbage_text,
    junk,
    mostly,
    short_text,
)

pytestmark = [pytest.mark.django_db]
SURFACE = "page tools"
URL = "/editor/fuzz/tools/"

block_ids = mostly(st.sampled_from(["h1", "p1", "b-00000000", "", "h1 "]) | short_text)
ID_FIELDS = {"block_id": block_ids, "relative_to": block_ids}
call = st.one_of(
    *(
        st.fixed_dictionaries(
            {
                "name": st.just(tool["name"]),
                "arguments": from_schema(tool["parameters"], ID_FIELDS),
            },
            optional={"call_id": junk},
        )
        for tool in EDITOR_TOOLS
    )
)
bodies = st.one_of(
    call.map(json.dumps),
    call.map(json.dumps),
    call.map(lambda body: json.dumps({**body, "arguments": json.dumps(body["arguments"])})),
    st.fixed_dictionaries({"name": mostly(st.sampled_from(["describe_page", "eval"]))},
                          optional={"arguments": junk}).map(json.dumps),
    junk.map(json.dumps),
    garbage_text,
    garbage_bytes,
)  # fmt: skip


def answer_problem(response) -> str | None:
    """Why this is not a 200 JSON answer or a 4xx JSON error, if it is not."""
    kind = response.get("Content-Type", "")
    if not kind.startswith("application/json"):
        return f"{response.status_code} as {kind}: {response.content[:300]!r}"
    if response.status_code != 200 and not 400 <= response.status_code < 500:
        return f"status {response.status_code}: {response.content[:300]!r}"
    body = response.json()
    if response.status_code != 200 and not body.get("error"):
        return f"an error without a message: {body}"
    return None


def test_page_tool_calls(editor_client):
    record = tally(SURFACE)
    page = Page.objects.get(slug="fuzz")

    @fuzz_settings(ci_examples=100)
    @given(body=bodies)
    def fuzz(body):
        response = editor_client.post(URL, body, content_type="application/json")
        problem = answer_problem(response)
        page.refresh_from_db()
        try:
            validate_blocks(page.content)
        except Exception as exc:
            problem = problem or f"the page content is no longer valid: {exc}"
        if problem:
            (record.crash if response.status_code >= 500 else record.wrong)(body, problem)
        else:
            record.answered(error=response.status_code != 200)
        record.check_logs(body)

    drive(record, fuzz)
    record.finish()
