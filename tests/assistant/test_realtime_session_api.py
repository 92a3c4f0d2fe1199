"""`POST /api/realtime/session`: minting client secrets with OpenAI (stand-in) or the engine."""

import json
import logging
import re

import httpx
import pytest
import websockets
from channels.db import database_sync_to_async
from django.test import Client
from openai.types.realtime import RealtimeSessionCreateRequest

from mrblue.engine.models import EngineClientSecret
from mrblue.models import Conversation
from mrblue.session import build_session, profile_for
from tests.support.fake_openai_server import KEYS, FakeOpenAI
from tests.support.live import run_python

URL = "/api/realtime/session"


@pytest.fixture
def fake_openai():
    server = FakeOpenAI()
    yield server
    server.close()


@pytest.fixture
def openai_provider(settings, fake_openai):
    """Point the OpenAI provider at the stand-in; return a function choosing the key."""
    settings.MRBLUE_REALTIME_PROVIDER = "openai"
    settings.OPENAI_BASE_URL = fake_openai.url
    settings.MRBLUE_PROVIDER_READ_TIMEOUT = 0.5

    def use_key(key):
        settings.OPENAI_API_KEY = key

    use_key("sk-good")
    return use_key


@pytest.fixture
def editor_client(client, editor_user, make_page):
    make_page("mundo-tango", "Mundo Tango")
    client.force_login(editor_user)
    return client


def mint(client, body=None, raw=None):
    data = raw if raw is not None else json.dumps(body or {"page": "mundo-tango"})
    return client.post(URL, data, content_type="application/json")


def test_openai_answer_and_the_exact_request_sent(
    editor_client, openai_provider, fake_openai, editor_user
):
    response = mint(editor_client, {"page": "mundo-tango", "selected": "h1"})
    assert response.status_code == 200, response.content
    data = response.json()
    conversation = Conversation.objects.get()
    assert data == {
        "value": "ek_fake_secret_value",
        "expires_at": data["expires_at"],
        "model": "gpt-realtime",
        "calls_url": f"{fake_openai.url}/realtime/calls",
        "conversation_id": conversation.pk,
        "transcript_ws": f"/ws/mrblue/conversations/{conversation.pk}/",
    }
    (sent,) = fake_openai.requests
    assert sent["method"] == "POST" and sent["path"] == "/v1/realtime/client_secrets"
    assert sent["headers"]["Authorization"] == "Bearer sk-good"
    assert sent["headers"]["Content-Type"] == "application/json"
    assert "OpenAI-Beta" not in sent["headers"]
    assert set(sent["body"]) == {"expires_after", "session"}
    assert sent["body"]["expires_after"] == {"anchor": "created_at", "seconds": 60}
    session = sent["body"]["session"]
    RealtimeSessionCreateRequest.model_validate(session)
    assert session == build_session(conversation.page, editor_user, "h1")
    assert 'heading "Hello" (id h1)' in session["instructions"]
    assert conversation.session == session and conversation.provider == "openai"
    assert conversation.user == editor_user and conversation.page_title == "Mundo Tango"
    assert conversation.profile == profile_for(conversation.page)  # its latency is the profile's


def test_a_reconnect_continues_its_conversation(editor_client, openai_provider):
    first = mint(editor_client).json()["conversation_id"]
    again = mint(editor_client, {"page": "mundo-tango", "conversation": first})
    assert again.status_code == 200, again.content
    assert again.json()["conversation_id"] == first
    assert again.json()["transcript_ws"] == f"/ws/mrblue/conversations/{first}/"
    assert Conversation.objects.count() == 1


def test_only_an_open_conversation_of_ones_own_on_this_page_is_continued(
    editor_client, openai_provider, make_user, make_page
):
    mine = Conversation.objects.get(pk=mint(editor_client).json()["conversation_id"])
    other = make_page("other", "Other")
    theirs = Conversation.objects.create(
        user=make_user("someone-else"), page=mine.page, provider="openai", model="m", session={}
    )
    elsewhere = Conversation.objects.create(
        user=mine.user, page=other, provider="openai", model="m", session={}
    )
    ended = Conversation.objects.create(
        user=mine.user,
        page=mine.page,
        provider="openai",
        model="m",
        session={},
        ended_at=mine.started_at,
    )
    for refused in (theirs.pk, elsewhere.pk, ended.pk, 10**9):
        answer = mint(editor_client, {"page": "mundo-tango", "conversation": refused})
        assert answer.status_code == 200, answer.content
        started = Conversation.objects.get(pk=answer.json()["conversation_id"])
        assert started.pk not in (mine.pk, theirs.pk, elsewhere.pk, ended.pk)
        assert (started.user, started.page) == (mine.user, mine.page)


@pytest.mark.parametrize(
    ("key", "status", "code", "retry_after"),
    [
        ("sk-bad", 502, "provider_auth", None),
        ("sk-busy", 503, "provider_rate_limited", "7"),
        ("sk-broken", 502, "provider_error", None),
        ("sk-slow", 504, "provider_timeout", None),
        ("sk-garbage", 502, "provider_bad_response", None),
        ("sk-picky", 502, "provider_rejected", None),
        ("sk-oddsession", 502, "provider_bad_response", None),
    ],
)
def test_provider_failures(editor_client, openai_provider, key, status, code, retry_after, caplog):
    openai_provider(key)
    with caplog.at_level(logging.DEBUG):
        response = mint(editor_client)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code
    assert response.get("Retry-After") == retry_after
    assert not Conversation.objects.exists()
    failures = [r for r in caplog.records if r.name == "mrblue.providers"]
    assert len(failures) == 1
    if key != "sk-slow":
        assert "req_fake123" in failures[0].getMessage()
    text = response.content.decode() + caplog.text
    assert not any(k in text for k in KEYS)
    assert "Incorrect API key" not in text and "oops" not in text  # no provider body


def test_unreachable_provider(editor_client, openai_provider, settings):
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"
    response = mint(editor_client)
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "provider_unreachable"


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        ("{not json", 400, "bad_request"),
        ("[1, 2]", 400, "bad_request"),
        ("[" * 5000 + "]" * 5000, 400, "bad_request"),
        ('{"selected": "h1"}', 400, "bad_request"),
        ('{"page": "mundo-tango", "selected": 5}', 400, "bad_request"),
        ('{"page": "nowhere"}', 404, "page_not_found"),
        ('{"page": "mundo-tango", "conversation": "7"}', 400, "bad_request"),
        ('{"page": "mundo-tango", "conversation": true}', 400, "bad_request"),
        ('{"page": "mundo-tango", "conversation": 0}', 400, "bad_request"),
        ('{"page": "mundo-tango", "conversation": 9223372036854775808}', 400, "bad_request"),
        # Valid JSON, but not text a provider or a database takes (PostgreSQL: neither).
        ('{"page": "mundo-tango", "selected": "\\ud800"}', 400, "bad_request"),
        ('{"page": "mundo-tango", "bogus": ["\\udfff"]}', 400, "bad_request"),
        ('{"page": "mundo-tango", "selected": "a\\u0000b"}', 400, "bad_request"),
        ('{"page": "mundo\\u0000tango"}', 400, "bad_request"),
        (b'{"page": "mundo-tango", "selected": "\xed\xa0\x80"}', 400, "bad_request"),
        ('{"page": "mundo-tango", "selected": "\\ud83d\\ude00"}', 200, None),  # a pair: fine
        (json.dumps({"page": "mundo-tango", "x": "a" * 16 * 1024}), 413, "payload_too_large"),
    ],
)
def test_bad_requests(editor_client, openai_provider, raw, status, code):
    response = mint(editor_client, raw=raw)
    assert response.status_code == status
    assert response.json().get("error", {}).get("code") == code


def test_anonymous_is_401_json(client, make_page):
    make_page("mundo-tango")
    response = mint(client)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_without_permission_is_403(client, make_user, make_page, openai_provider):
    make_page("mundo-tango")
    client.force_login(make_user("visitor"))
    response = mint(client)
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"


def test_get_is_not_allowed(editor_client):
    assert editor_client.get(URL).status_code == 405


def test_csrf_is_enforced(editor_user, make_page, openai_provider):
    make_page("mundo-tango")
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor_user)
    refused = mint(client)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    client.get("/editor/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        URL,
        json.dumps({"page": "mundo-tango"}),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert accepted.status_code == 200


def test_per_user_rate_limit(editor_client, openai_provider, settings):
    settings.MRBLUE_MINT_RATE_PER_MINUTE = 2
    assert [mint(editor_client).status_code for _ in range(2)] == [200, 200]
    limited = mint(editor_client)
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 120


@pytest.mark.django_db(transaction=True)  # the in-process engine request closes connections
def test_local_provider_mints_an_engine_secret(editor_client, settings, editor_user):
    settings.MRBLUE_REALTIME_PROVIDER = "local"
    response = mint(editor_client)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["value"].startswith("ek_")
    assert data["calls_url"] == "http://testserver/v1/realtime/calls"
    stored = EngineClientSecret.live_session(data["value"])
    assert stored["instructions"] == Conversation.objects.get().session["instructions"]
    # The secret names its user, so the engine bounds their sessions over all their secrets.
    assert EngineClientSecret.live(data["value"]).owner == f"user:{editor_user.pk}"
    assert Conversation.objects.get().provider == "local"


def _run(code, **env):
    return run_python(["-c", code], drop=("OPENAI_", "MRBLUE_"), **env)


def test_openai_without_a_key_fails_at_startup():
    check = _run(
        "import django, os; from django.core.management import call_command;"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mrblue.project.settings');"
        "django.setup(); call_command('check')",
        MRBLUE_REALTIME_PROVIDER="openai",
    )
    assert check.returncode != 0 and "mrblue.E002" in check.stderr
    server = _run("import mrblue.project.asgi", MRBLUE_REALTIME_PROVIDER="openai")
    assert server.returncode != 0
    assert "OPENAI_API_KEY is not set" in server.stderr
    assert _run("import mrblue.project.asgi").returncode == 0


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
async def test_local_flow_from_login_to_an_engine_session(daphne_server, make_user, make_page):
    # database_sync_to_async closes the worker thread's connection (PostgreSQL cares).
    await database_sync_to_async(make_page)("mundo-tango", "Mundo Tango")
    await database_sync_to_async(make_user)("editor", perms=("editor.change_page",))
    async with httpx.AsyncClient(base_url=daphne_server.url) as http:
        login_page = await http.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text)[1]
        logged_in = await http.post(
            "/accounts/login/",
            data={"username": "editor", "password": "pw-12345!", "csrfmiddlewaretoken": token},
        )
        assert logged_in.status_code == 302
        answer = await http.post(
            URL, json={"page": "mundo-tango"}, headers={"X-CSRFToken": http.cookies["csrftoken"]}
        )
    assert answer.status_code == 200, answer.text
    secret = answer.json()
    assert secret["calls_url"] == f"{daphne_server.url}/v1/realtime/calls"
    url = daphne_server.url.replace("http", "ws") + "/v1/realtime"
    async with websockets.connect(
        url, subprotocols=["realtime", f"openai-insecure-api-key.{secret['value']}"]
    ) as ws:
        created = json.loads(await ws.recv())
    assert created["type"] == "session.created"
    assert "Mundo Tango" in created["session"]["instructions"]


def test_instructions_are_rebuilt_for_a_selection(editor_client, client):
    answer = editor_client.post(
        "/api/realtime/instructions",
        json.dumps({"page": "mundo-tango", "selected": "p1"}),
        content_type="application/json",
    )
    assert answer.status_code == 200
    assert 'paragraph "Welcome here." (id p1)' in answer.json()["instructions"]
    client.logout()
    anonymous = client.post(
        "/api/realtime/instructions",
        json.dumps({"page": "mundo-tango"}),
        content_type="application/json",
    )
    assert anonymous.status_code == 401


@pytest.mark.parametrize("where", ["profile", "page"])
def test_a_stored_template_that_cannot_render_is_a_json_error(
    editor_client, openai_provider, make_profile, where
):
    # Stored before templates were sandboxed (no validation on a queryset update).
    from editor.models import Page
    from mrblue.models import AssistantProfile, PageAssistant

    profile = make_profile(name="Broken one", is_default=True)
    if where == "profile":
        AssistantProfile.objects.filter(pk=profile.pk).update(instructions='{% include "x" %}')
    else:
        page = Page.objects.get(slug="mundo-tango")
        PageAssistant.objects.update_or_create(page=page, defaults={"instructions": "x"})
        PageAssistant.objects.filter(page=page).update(instructions="{% debug %}")
    response = mint(editor_client)
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "instructions_invalid"
    assert ("'Broken one'" if where == "profile" else "'mundo-tango'") in error["message"]
    assert not Conversation.objects.exists()
    response = editor_client.post(
        "/api/realtime/instructions", {"page": "mundo-tango"}, content_type="application/json"
    )
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "instructions_invalid"
