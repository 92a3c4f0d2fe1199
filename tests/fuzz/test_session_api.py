"""`POST /api/realtime/session` (logged in, built-in engine): fuzzed request bodies.

Property: a 200 with the session fields, or a 4xx JSON `{"error": {"code", "message"}}`;
never a 5xx, never HTML, nothing logged as an error.
"""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.harness import drive, fuzz_settings, tally
from tests.fuzz.strategies import garbage_bytes, garbage_text, junk, mostly, tricky_text
from tests.support.live import ENGINE_KEY

# The in-process engine request closes connections at its end, as every request does.
pytestmark = [pytest.mark.django_db(transaction=True)]
SURFACE = "POST /api/realtime/session"
URL = "/api/realtime/session"
ANSWER_FIELDS = {"value", "expires_at", "model", "calls_url", "conversation_id", "transcript_ws"}
MAX_BODY = 16 * 1024

body_object = st.fixed_dictionaries(
    {},
    optional={
        "page": mostly(st.sampled_from(["fuzz", "fuzz", "missing", "", "FUZZ", "fuzz/"])),
        "selected": mostly(st.none() | tricky_text | st.just("x" * 501)),
        "bogus": junk,
    },
)
bodies = st.one_of(
    body_object.map(json.dumps),
    junk.map(json.dumps),
    garbage_text,
    garbage_bytes,
    # Around the API's own limit, and well past it (Django's own limit: test_found_inputs.py).
    st.integers(MAX_BODY - 40, MAX_BODY + 40).map(
        lambda n: json.dumps({"page": "fuzz", "selected": "x" * n})
    ),
    st.integers(0, 2 * 1024 * 1024).map(lambda n: '{"page": "fuzz", "x": "' + "a" * n + '"}'),
)
content_types = st.sampled_from(
    ["application/json"] * 5 + ["text/plain", "application/x-www-form-urlencoded"]
)


def answer_problem(response) -> str | None:
    """Why this is not a session or a 4xx JSON error, if it is not."""
    kind = response.get("Content-Type", "")
    if not kind.startswith("application/json"):
        return f"{response.status_code} as {kind}: {response.content[:300]!r}"
    body = response.json()
    if response.status_code == 200:
        missing = ANSWER_FIELDS - set(body)
        return f"200 without {missing}" if missing else None
    if not 400 <= response.status_code < 500:
        return f"status {response.status_code}: {body}"
    error = body.get("error")
    if not (isinstance(error, dict) and error.get("code") and error.get("message")):
        return f"no error code and message: {body}"
    return None


@pytest.fixture(autouse=True)
def local_engine(settings):
    settings.MRBLUE_REALTIME_PROVIDER = "local"
    settings.MRBLUE_ENGINE_API_KEY = ENGINE_KEY
    settings.MRBLUE_MINT_RATE_PER_MINUTE = 10**9  # every body reaches the mint


def test_session_request_bodies(editor_client):
    record = tally(SURFACE)

    @fuzz_settings(ci_examples=80)
    @given(body=bodies, content_type=content_types)
    def fuzz(body, content_type):
        response = editor_client.post(URL, body, content_type=content_type)
        problem = answer_problem(response)
        if problem:
            (record.crash if response.status_code >= 500 else record.wrong)(body, problem)
        else:
            record.answered(error=response.status_code != 200)
        record.check_logs(body)

    drive(record, fuzz)
    record.finish()
