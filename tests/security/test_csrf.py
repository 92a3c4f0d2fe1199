"""Every state-changing request of a logged-in user needs the CSRF token; the engine's
Bearer endpoints need none, and a session cookie does not open them."""

import json

import pytest
from django.test import Client

from tests.security.test_anonymous_urls import BEARER
from tests.security.url_walk import endpoints

pytestmark = pytest.mark.django_db
UNSAFE = ("post", "put", "patch", "delete")
JSON_APIS = ("editor:run_tool", "editor:restore_revision", "realtime_session")


@pytest.fixture
def csrf_client(make_user):
    """A logged-in superuser's browser: session and CSRF cookies, but no token sent."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("boss", superuser=True))
    assert client.get("/accounts/login/").status_code in (200, 302)
    assert "csrftoken" in client.cookies
    return client


def test_every_state_changing_request_without_the_token_is_refused(csrf_client, url_values):
    accepted = []
    for endpoint in endpoints(url_values):
        if endpoint.name in BEARER:
            continue
        for method in UNSAFE:
            response = getattr(csrf_client, method)(endpoint.path, "{}", "application/json")
            if response.status_code != 403 or b"CSRF" not in response.content:
                accepted.append(f"{method.upper()} {endpoint.path} → {response.status_code}")
    assert accepted == []


def test_only_the_bearer_endpoints_skip_the_csrf_check(url_values):
    exempt = {e.name for e in endpoints(url_values) if getattr(e.view, "csrf_exempt", False)}
    assert exempt == set(BEARER)


def test_the_api_says_csrf_failed_in_json(csrf_client):
    for path in ("/api/realtime/session", "/api/realtime/instructions"):
        response = csrf_client.post(path, json.dumps({"page": "home"}), "application/json")
        assert response.status_code == 403
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"]["code"] == "csrf_failed"


def test_with_the_token_the_same_requests_get_through(csrf_client, url_values):
    token = {"X-CSRFToken": csrf_client.cookies["csrftoken"].value}
    api = csrf_client.post(
        "/api/realtime/instructions", {"page": "home"}, "application/json", headers=token
    )
    assert api.status_code == 200, api.content
    tool = csrf_client.post(
        "/editor/home/tools/",
        {"name": "update_text", "arguments": {"block_id": "h1", "text": "Hi"}},
        "application/json",
        headers=token,
    )
    assert tool.status_code == 200, tool.content
    logout = csrf_client.post("/accounts/logout/", headers=token)
    assert logout.status_code == 302


@pytest.mark.parametrize("name", ["editor:run_tool", "editor:restore_revision"])
def test_the_editors_json_endpoints_answer_a_csrf_failure_in_json(csrf_client, url_values, name):
    (endpoint,) = [e for e in endpoints(url_values) if e.name == name]
    response = csrf_client.post(endpoint.path, "{}", "application/json")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("name", BEARER)
def test_a_session_cookie_does_not_open_a_bearer_endpoint(csrf_client, url_values, name):
    (endpoint,) = [e for e in endpoints(url_values) if e.name == name]
    token = {"X-CSRFToken": csrf_client.cookies["csrftoken"].value}
    for headers in ({}, token):
        response = csrf_client.post(endpoint.path, "v=0\r\nm=audio", "application/sdp", **headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"
