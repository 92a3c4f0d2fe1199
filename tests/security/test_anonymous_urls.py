"""Every URL answers an anonymous visitor with a refusal, unless it is on the allow-list."""

import pytest
from django.test import Client

from tests.security.url_walk import endpoints

pytestmark = pytest.mark.django_db

# URL name → why it may answer without a login. Static files are served outside the URL
# resolver (ASGIStaticFilesHandler, under STATIC_URL) and are public by nature.
ALLOWED = {
    "login": "the login form",
    "admin:login": "the admin's login form",
    "health": "the health check of proxies and process managers: a status and counts only",
}
# Authenticated by an `Authorization: Bearer` key, not by the session: 401 JSON without one.
BEARER = ("engine_client_secrets", "engine_calls", "engine_hangup", "engine_speech")
LOGIN_PAGES = ("/accounts/login/", "/admin/login/")


def refused(client, response, hops=5) -> bool:
    """A refusal: 401, 403, 404, 405, or redirects that end on a login page."""
    while 300 <= response.status_code < 400 and hops:
        location = response["Location"].split("?")[0]
        if location in LOGIN_PAGES:
            return True
        response, hops = client.get(location), hops - 1
    return response.status_code in (401, 403, 404, 405)


def exposures(values: dict, urlconf=None) -> dict[str, str]:
    """Each endpoint that answered an anonymous GET or POST with something else than a
    refusal: name → what it answered."""
    client = Client()
    found = {}
    for endpoint in endpoints(values, urlconf):
        for method in ("get", "post"):
            response = getattr(client, method)(endpoint.path)
            if not refused(client, response):
                found[endpoint.name] = f"{method.upper()} {endpoint.path} → {response.status_code}"
    return found


def test_only_allow_listed_urls_answer_anonymous_visitors(url_values):
    found = exposures(url_values)
    assert set(found) <= set(ALLOWED), {k: v for k, v in found.items() if k not in ALLOWED}
    assert set(found) == set(ALLOWED), "an allow-list entry is stale (it refuses now)"


def test_a_new_url_without_a_login_check_is_caught(url_values, settings):
    settings.ROOT_URLCONF = "tests.security.leaky_urls"
    found = exposures(url_values, "tests.security.leaky_urls")
    assert set(found) - set(ALLOWED) == {"extras"}


def test_every_pattern_is_reached(url_values):
    names = {endpoint.name for endpoint in endpoints(url_values)}
    assert {*ALLOWED, *BEARER, "editor:run_tool", "realtime_session", "admin:app_list"} <= names
    assert "admin:mrblue_conversation_change" in names


@pytest.mark.parametrize("name", BEARER)
def test_bearer_endpoints_answer_401_json_without_a_key(url_values, name):
    (endpoint,) = [e for e in endpoints(url_values) if e.name == name]
    for headers in ({}, {"Authorization": "Bearer sk-wrong"}, {"Authorization": "Basic x"}):
        response = Client().post(endpoint.path, headers=headers)
        assert response.status_code == 401
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"]["code"] == "invalid_api_key"
