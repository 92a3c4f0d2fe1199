"""Bodies over Django's upload limit: a JSON 413 from the JSON endpoints, Django's page for forms.

(The session API, the page tools and SDP offers: tests/fuzz/test_found_inputs.py.)
"""

import pytest
from django.test import Client

from tests.support.live import ENGINE_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    return 1000


def test_the_engine_answers_in_openais_error_shape(client, settings, small_limit):
    settings.MRBLUE_ENGINE_API_KEY = ENGINE_KEY
    response = client.post(
        "/v1/realtime/client_secrets",
        '{"session": {"instructions": "' + "a" * small_limit + '"}}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {ENGINE_KEY}"},
    )
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "payload_too_large" and str(small_limit) in error["message"]
    assert set(error) == {"message", "type", "param", "code"}


def test_a_json_body_within_the_limit_reaches_the_view(editor_user, make_page, small_limit):
    make_page("fuzz", "Fuzz")
    client = Client()
    client.force_login(editor_user)
    body = '{"name": "nope", "arguments": {}, "x": "' + "a" * (small_limit - 60) + '"}'
    assert len(body) <= small_limit
    response = client.post("/editor/fuzz/tools/", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "tool_error"


def test_any_json_request_gets_json(editor_user, small_limit):
    client = Client()
    client.force_login(editor_user)
    body = b"[" + b"1," * small_limit + b"1]"
    response = client.post("/editor/anything/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_form_over_the_limit_gets_djangos_page(client, small_limit):
    response = client.post("/accounts/login/", {"username": "x" * small_limit, "password": "p"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
