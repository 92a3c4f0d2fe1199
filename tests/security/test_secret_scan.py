"""The secret scan itself: planted leaks are found, where the suite's probes are installed."""

import json
import logging
import secrets

import httpx
import pytest
from django.http import HttpResponse, JsonResponse

from tests.security.secret_scan import SCAN, SecretScan
from tests.support.live import ENGINE_KEY


def engine_secret() -> str:
    return "ek_" + secrets.token_urlsafe(32)


def minted(value: str) -> JsonResponse:
    return JsonResponse({"value": value, "expires_at": 1, "model": "gpt-realtime"})


def test_a_key_in_a_body_or_a_header_is_found():
    scan = SecretScan([ENGINE_KEY])
    scan.response("GET", "/a", HttpResponse(f"<p>{ENGINE_KEY}</p>"))
    header = HttpResponse("fine")
    header["X-Debug"] = f"Bearer {ENGINE_KEY}"
    scan.response("GET", "/b", header)
    scan.response("GET", "/c", HttpResponse("nothing to see"))
    assert len(scan.findings) == 2
    assert "response to GET /a" in scan.findings[0]
    assert "headers of the response to GET /b" in scan.findings[1]
    assert ENGINE_KEY not in scan.report()  # the report does not leak it either


def test_the_settings_keys_of_the_moment_are_looked_for(settings):
    settings.MRBLUE_BRAIN_API_KEY = "sk-brain-" + secrets.token_hex(8)
    scan = SecretScan()
    scan.response("POST", "/x", JsonResponse({"error": settings.MRBLUE_BRAIN_API_KEY}))
    assert len(scan.findings) == 1


def test_a_minted_secret_may_reach_its_owner_once_and_nowhere_else():
    scan = SecretScan()
    value = engine_secret()
    scan.response("POST", "/api/realtime/session", minted(value))
    assert scan.findings == []
    scan.response("GET", "/editor/home/", HttpResponse(f"<script>{value}</script>"))
    assert len(scan.findings) == 1
    twice = JsonResponse({"value": value, "instructions": f"your key is {value}"})
    scan.response("POST", "/api/realtime/session", twice)
    assert len(scan.findings) == 2


def test_a_short_minted_secret_is_tracked_by_value():
    scan = SecretScan()
    scan.response("POST", "/v1/realtime/client_secrets", minted("ek_fake_secret_value"))
    scan.scan("user 3 got ek_fake_secret_value", "a log line")
    assert len(scan.findings) == 1


def test_any_full_engine_secret_in_a_log_line_is_found_but_not_a_short_prefix():
    scan = SecretScan()
    value = engine_secret()
    scan.scan(f"opened a session with {value[:10]}…", "a log line")
    assert scan.findings == []
    scan.scan(f"opened a session with {value}", "a log line")
    assert len(scan.findings) == 1


def test_a_non_minting_path_gets_no_exemption():
    scan = SecretScan()
    scan.response("POST", "/api/realtime/instructions", minted(engine_secret()))
    assert len(scan.findings) == 1


# The probes the suite runs with: a planted value is caught (apart from the real findings).


def test_a_log_record_at_any_level_reaches_the_scan():
    planted = "sk-planted-" + secrets.token_hex(8)
    with SCAN.planted(planted) as caught:
        logging.getLogger("mrblue.planted").debug("debug %s", planted)
        try:
            raise RuntimeError(planted)
        except RuntimeError:
            logging.getLogger("elsewhere").exception("it failed")
    assert len(caught) == 2, caught
    assert all("log record of" in c for c in caught)


@pytest.mark.django_db
def test_a_response_and_its_templates_reach_the_scan(client, editor_user, make_page):
    planted = "sk-planted-" + secrets.token_hex(8)
    make_page("leaky", planted)
    client.force_login(editor_user)
    with SCAN.planted(planted) as caught:
        response = client.get("/editor/leaky/")
    assert response.status_code == 200
    assert any("response to GET /editor/leaky/" in c for c in caught), caught
    assert any("template editor/page_editor.html" in c for c in caught), caught


@pytest.mark.django_db(transaction=True)
async def test_an_async_client_response_reaches_the_scan(async_client):
    planted = "sk-planted-" + secrets.token_hex(8)
    with SCAN.planted(planted) as caught:
        await async_client.post(
            "/v1/realtime/client_secrets",
            json.dumps({"session": {"type": "realtime", "instructions": planted}}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {ENGINE_KEY}"},
        )
    assert any("response to POST /v1/realtime/client_secrets" in c for c in caught), caught


@pytest.mark.django_db(transaction=True)  # the in-process engine request closes connections
def test_minted_secrets_are_collected_from_the_api(client, editor_user, make_page, settings):
    settings.MRBLUE_REALTIME_PROVIDER = "local"
    make_page("mundo-tango")
    client.force_login(editor_user)
    response = client.post("/api/realtime/session", {"page": "mundo-tango"}, "application/json")
    assert response.status_code == 200, response.content
    assert response.json()["value"] in SCAN.minted


@pytest.mark.live
def test_a_live_servers_output_reaches_the_scan(daphne_server):
    planted = "sk-planted-" + secrets.token_hex(8)
    with SCAN.planted(planted) as caught:
        assert httpx.get(f"{daphne_server.url}/{planted}/").status_code == 404
        daphne_server.wait_for_output(planted)
    assert any("output of the live server" in c for c in caught), caught
