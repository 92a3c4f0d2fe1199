"""Minimal inputs the fuzzers found, each a regression test that fails until it is fixed.

Marked `xfail(strict=True)`: when a fix lands the test passes, strict makes that an error, and
the mark is removed then.
"""

import asyncio
import contextlib
import json

import httpx
import pytest
from django.test import Client

from mrblue.engine.transports.connection import EngineConnection
from mrblue.project.asgi import application
from tests.fuzz.engine_client import WebSocketClient, answers_until_probe, problem_with
from tests.fuzz.harness import Died
from tests.fuzz.test_sdp_offers import hang_up, post_offer, real_offer
from tests.support.live import ENGINE_KEY
from tests.support.realtime_client import mint_engine_secret

# Over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), the limit Django checks on reading a body.
OVER_DJANGOS_LIMIT = b'{"page": "fuzz", "x": "' + b"a" * (3 * 1024 * 1024) + b'"}'


async def engine_answers(event: dict) -> list[dict]:
    """Send one event on a fresh session, then a plain session.update; return what came back."""
    client = await WebSocketClient.open()
    try:
        await client.send("event", event)
        return await answers_until_probe(client)
    finally:
        await client.close()


@pytest.fixture
def engine_key(settings, transactional_db):
    settings.MRBLUE_ENGINE_API_KEY = ENGINE_KEY


def test_an_odd_length_audio_append_is_an_error(engine_key):
    answers = asyncio.run(engine_answers({"type": "input_audio_buffer.append", "audio": "AA=="}))
    assert answers[0]["type"] == "error"


def test_a_crashed_session_frees_its_place(engine_key, settings, monkeypatch):
    # Found with the odd-length append above, which no longer crashes: the crash is now
    # injected (a bug that escapes the session's own handling), the property is the same.
    settings.MRBLUE_ENGINE_MAX_SESSIONS = 1

    async def crash(self, text):
        raise RuntimeError("injected")

    async def crash_then_connect():
        with monkeypatch.context() as patch:
            patch.setattr(EngineConnection, "receive_text", crash)
            with contextlib.suppress(Died):
                await engine_answers({"type": "input_audio_buffer.clear"})
        client = await WebSocketClient.open()  # refused while the place stays taken
        await client.close()

    asyncio.run(crash_then_connect())


def test_free_form_session_fields_are_checked(engine_key):
    answers = asyncio.run(
        engine_answers(
            {"type": "session.update", "session": {"type": "realtime", "truncation": {}}}
        )
    )
    assert problem_with(answers) is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("url", ["/api/realtime/session", "/editor/fuzz/tools/"])
def test_a_body_over_djangos_limit_is_a_json_error(url, editor_user, make_page):
    make_page("fuzz", "Fuzz")
    client = Client(raise_request_exception=False)
    client.force_login(editor_user)
    response = client.post(url, OVER_DJANGOS_LIMIT, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "payload_too_large"


@pytest.mark.django_db(transaction=True)
def test_an_sdp_body_over_djangos_limit_is_a_json_error(engine_key):
    async def post():
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://testserver"
        ) as client:
            return await client.post(
                "/v1/realtime/calls",
                content=b"v=0 m=audio " + OVER_DJANGOS_LIMIT,
                headers={
                    "Authorization": f"Bearer {ENGINE_KEY}",
                    "Content-Type": "application/sdp",
                },
            )

    response = asyncio.run(post())
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/json"), response.text[:100]
    assert json.loads(response.text)["error"]["code"] == "payload_too_large"


@pytest.mark.django_db(transaction=True)
def test_a_lone_surrogate_in_selected_is_a_json_error(editor_user, make_page, settings):
    settings.MRBLUE_REALTIME_PROVIDER = "local"
    settings.MRBLUE_ENGINE_API_KEY = ENGINE_KEY
    make_page("fuzz", "Fuzz")
    client = Client(raise_request_exception=False)
    client.force_login(editor_user)
    body = '{"page": "fuzz", "selected": "\\ud800"}'
    response = client.post("/api/realtime/session", body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "bad_request"


def test_an_offer_without_a_fingerprint_is_refused(engine_key, settings):
    settings.MRBLUE_WEBRTC_HOSTS = "127.0.0.1"

    async def post():
        offer = await real_offer()
        offer = "\r\n".join(line for line in offer.split("\r\n") if "fingerprint" not in line)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://testserver"
        ) as client:
            answer = await post_offer(
                client, await mint_engine_secret(client), offer.encode(), "application/sdp"
            )
            if answer.status_code == 201:
                await hang_up(client, answer.headers["Location"])
            return answer

    assert asyncio.run(post()).status_code == 400
