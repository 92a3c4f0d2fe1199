"""Hearing a voice in the admin: the sample endpoint (who may use it, how often, what it says
back), the engine's and OpenAI's speech endpoints behind it, and the form's note on voices that
sound the same."""

import json

import pytest
from django.test import Client

from mrblue.admin import voice_samples
from mrblue.engine.protocol.spec import VOICES
from tests.support.audio_fixtures import read_wav
from tests.support.fake_openai_server import SPEECH_SECONDS
from tests.support.live import ENGINE_KEY

pytestmark = pytest.mark.django_db
URL = "/admin/mrblue/assistantprofile/voice-sample/"


def sample(client, voice="marin", speed=1.0, **extra):
    return client.post(
        URL, json.dumps({"voice": voice, "speed": speed}), "application/json", **extra
    )


@pytest.fixture
def staff_client(client, make_user):
    """A staff member who may change profiles (not a superuser)."""
    perms = ("mrblue.change_assistantprofile", "mrblue.view_assistantprofile")
    client.force_login(make_user("shaper", perms=perms, staff=True))
    return client


@pytest.fixture
def engine_key(settings):
    settings.MRBLUE_ENGINE_API_KEY = ENGINE_KEY
    settings.MRBLUE_REALTIME_PROVIDER = "local"


@pytest.mark.django_db(transaction=True)  # the in-process engine request closes connections
def test_the_built_in_engine_speaks_the_sample_in_the_voice_and_speed_asked(
    staff_client, engine_key
):
    normal = sample(staff_client, "cedar", 1.0)
    assert normal.status_code == 200, normal.content[:300]
    assert normal["Content-Type"] == "audio/wav"
    rate, seconds, peak = read_wav(normal.content)
    # The sentence has 18 words: a few seconds of speech, not silence.
    assert rate == 24_000 and 2.5 < seconds < 12 and peak > 0.1
    slow = sample(staff_client, "cedar", 0.5)
    assert slow.status_code == 200
    assert read_wav(slow.content)[1] > 1.5 * seconds  # half the speed, about twice as long


def test_openai_speaks_the_sample_with_its_speech_endpoint(staff_client, fake_openai):
    response = sample(staff_client, "ballad", 1.25)
    assert response.status_code == 200, response.content[:300]
    assert read_wav(response.content)[1] == pytest.approx(SPEECH_SECONDS)
    (sent,) = fake_openai.requests
    assert sent["path"] == "/v1/audio/speech"
    assert sent["headers"]["Authorization"] == "Bearer sk-good"
    assert sent["body"] == {
        "model": "gpt-4o-mini-tts",
        "input": voice_samples.SAMPLE_TEXT,
        "voice": "ballad",
        "speed": 1.25,
        "response_format": "wav",
    }


@pytest.mark.parametrize(
    ("key", "status", "code"),
    [
        ("sk-bad", 502, "provider_auth"),
        ("sk-busy", 503, "provider_rate_limited"),
        ("sk-broken", 502, "provider_error"),
        ("sk-picky", 502, "provider_rejected"),
        ("sk-garbage", 502, "provider_bad_response"),
    ],
)
def test_openai_failures_become_clear_errors_without_the_key(
    staff_client, fake_openai, settings, key, status, code
):
    settings.OPENAI_API_KEY = key
    response = sample(staff_client)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert key.encode() not in response.content


def test_anonymous_visitors_get_the_admin_login(client):
    response = sample(client)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_an_editor_who_is_not_staff_gets_the_admin_login(client, editor_user):
    client.force_login(editor_user)
    response = sample(client)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_staff_without_the_permission_are_refused_and_see_no_button(client, make_user):
    client.force_login(make_user("viewer", perms=("mrblue.view_assistantprofile",), staff=True))
    response = sample(client)
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"


def test_the_profile_form_shows_the_button_only_to_those_who_may_use_it(
    client, make_user, make_profile
):
    profile = make_profile(name="Main")
    url = f"/admin/mrblue/assistantprofile/{profile.pk}/change/"
    client.force_login(make_user("boss", superuser=True))
    assert 'data-testid="button-voice-sample"' in client.get(url).text
    viewer = make_user("viewer", perms=("mrblue.view_assistantprofile",), staff=True)
    client.force_login(viewer)
    body = client.get(url).text
    assert "marin" in body and 'data-testid="button-voice-sample"' not in body


def test_samples_are_rate_limited_per_user(staff_client, fake_openai, settings):
    settings.MRBLUE_VOICE_SAMPLES_PER_MINUTE = 2
    assert [sample(staff_client).status_code for _ in range(2)] == [200, 200]
    refused = sample(staff_client)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert refused.json()["error"]["code"] == "rate_limited"
    assert len(fake_openai.requests) == 2  # the refused one cost nothing


@pytest.mark.parametrize(
    "body",
    [
        {"voice": "nova"},
        {"voice": "marin", "speed": 3},
        {"voice": "marin", "speed": "fast"},
        {"voice": "marin", "speed": True},
        ["marin"],
    ],
)
def test_bad_requests_say_what_to_send(staff_client, fake_openai, body):
    response = staff_client.post(URL, json.dumps(body), "application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert fake_openai.requests == []


def test_the_endpoint_needs_the_csrf_token(make_user, fake_openai):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("boss", superuser=True))
    assert sample(client).status_code == 403
    assert fake_openai.requests == []


# --- voices that sound the same --------------------------------------------------------------


def test_one_offline_voice_for_all_says_they_all_sound_the_same():
    files = dict.fromkeys(VOICES, "/models/en_US-joe-medium.onnx")
    note = voice_samples.voice_note("local", files)
    assert "all 10 voices sound the same" in note and "en_US-joe-medium" in note
    assert "MRBLUE_TTS_VOICES" in note


def test_some_shared_voices_are_named_and_own_voices_are_not():
    files = dict.fromkeys(VOICES, "/m/joe.onnx") | {"marin": "/m/amy.onnx", "cedar": "/m/lj.onnx"}
    shared = voice_samples.same_sounding(files)
    assert shared == [("joe", [v for v in VOICES if v not in ("marin", "cedar")])]
    note = voice_samples.voice_note("local", files)
    assert "alloy, ash, ballad, coral, echo, sage, shimmer and verse (joe)" in note
    assert "marin" not in note
    distinct = {voice: f"/m/{voice}.onnx" for voice in VOICES}
    assert voice_samples.same_sounding(distinct) == []
    assert "each voice has an offline voice of its own" in voice_samples.voice_note(
        "local", distinct
    )


def test_openai_voices_are_their_own_and_no_voice_at_all_is_said(settings):
    assert "OpenAI's speech model (gpt-4o-mini-tts)" in voice_samples.voice_note("openai", {})
    assert "no offline voice" in voice_samples.voice_note("local", dict.fromkeys(VOICES))


def test_the_form_says_so_with_the_shipped_voice(client, make_user, make_profile, engine_key):
    profile = make_profile(name="Main")
    client.force_login(make_user("boss", superuser=True))
    body = client.get(f"/admin/mrblue/assistantprofile/{profile.pk}/change/").text
    assert "all 10 voices sound the same" in body and "en_US-joe-medium" in body
