"""The OpenAI provider slow, failing and sending garbage while a live server keeps minting:
each fault is a JSON error with its code, and the next mint, once it recovers, succeeds."""

import json
import time

import pytest

from tests.faults.conftest import server_errors
from tests.faults.outbox import browser
from tests.support.live import LiveServer
from tests.support.loopback import LoopbackServer, RecordingHandler

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
OPENAI_KEY = "sk-mrblue-test-openai-key"  # the secret scan knows it (tests/security)
READ_TIMEOUT = 0.5


class _SwitchableOpenAI(RecordingHandler):
    """OpenAI's `POST /v1/realtime/client_secrets`, behaving as `server.mode` says."""

    def do_POST(self):
        body = self.read_json()
        mode = self.server.mode
        if mode == "slow":  # answer only after the caller gave up (or 30 s)
            self.server.release.wait(30)
            return self.send_json(500, {"error": {"message": "late"}})
        if mode == "failing":
            return self.send_json(500, {"error": {"message": "internal"}})
        if mode == "garbage":
            return self.send_json(200, b'{"value": "ek_cut', {"x-request-id": "req_1"})
        answer = {"value": "ek_fake_secret_value", "expires_at": int(time.time()) + 60}
        if mode == "session_not_an_object":
            return self.send_json(200, {**answer, "session": ["gpt-realtime"]})
        return self.send_json(200, {**answer, "session": {**body["session"], "id": "sess_1"}})


@pytest.fixture(scope="module")
def openai():
    server = LoopbackServer(_SwitchableOpenAI)
    server.server.mode = "ok"
    yield server
    server.close()


@pytest.fixture(scope="module")
def server(openai, django_db_setup, django_db_blocker):
    env = {
        "MRBLUE_REALTIME_PROVIDER": "openai",
        "OPENAI_BASE_URL": openai.url,
        "OPENAI_API_KEY": OPENAI_KEY,
        "MRBLUE_PROVIDER_READ_TIMEOUT": str(READ_TIMEOUT),
        "MRBLUE_MINT_RATE_PER_MINUTE": "1000",
    }
    with django_db_blocker.unblock():
        server = LiveServer(env)
    yield server
    server.close()


@pytest.fixture
async def editor(server, make_user, make_page):
    from channels.db import database_sync_to_async

    await database_sync_to_async(make_user)("owner", perms=("editor.change_page",))
    await database_sync_to_async(make_page)("mundo-tango", "Mundo Tango")
    http = await browser(server.url, "owner")
    yield http
    await http.aclose()


async def mint(http):
    return await http.post("/api/realtime/session", content=json.dumps({"page": "mundo-tango"}))


async def fault_then_recovery(openai, http, mode):
    """Mint while the provider is in `mode`, then once it is well again."""
    openai.server.release.clear()
    openai.server.mode = mode
    fault = await mint(http)
    openai.server.release.set()  # a slow answer may now come, to a caller long gone
    openai.server.mode = "ok"
    recovered = await mint(http)
    assert recovered.status_code == 200, recovered.text
    assert recovered.json()["value"] == "ek_fake_secret_value"
    return fault


@pytest.mark.parametrize(
    ("mode", "status", "code"),
    [
        ("slow", 504, "provider_timeout"),
        ("failing", 502, "provider_error"),
        ("garbage", 502, "provider_bad_response"),
        ("session_not_an_object", 502, "provider_bad_response"),
    ],
)
async def test_a_provider_fault_is_a_json_error_and_the_next_mint_succeeds(
    openai, server, editor, mode, status, code
):
    started, lines = time.monotonic(), len(server.output)
    fault = await fault_then_recovery(openai, editor, mode)
    assert fault.headers["Content-Type"] == "application/json", fault.text[:200]
    assert (fault.status_code, fault.json()["error"]["code"]) == (status, code)
    if mode == "slow":
        assert time.monotonic() - started < READ_TIMEOUT + 10  # it gave up, it did not hang
    assert OPENAI_KEY not in fault.text
    assert server_errors(server, since=lines) == []
