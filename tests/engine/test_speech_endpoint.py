"""The engine's speech endpoint, `POST /v1/audio/speech`, as OpenAI's speech endpoint takes it:
what the admin's voice samples play. Through a gateway it is made by a worker
(tests/workers/test_placement.py)."""

import json

import pytest

from tests.support.audio_fixtures import read_wav
from tests.support.live import ENGINE_KEY

pytestmark = pytest.mark.django_db
SPEECH = "/v1/audio/speech"


@pytest.fixture
def engine_key(settings):
    settings.MRBLUE_ENGINE_API_KEY = ENGINE_KEY


def speak(client, body, key=ENGINE_KEY):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post(SPEECH, json.dumps(body), "application/json", headers=headers)


def test_the_engine_speaks_as_openais_speech_endpoint_does(client, engine_key):
    answer = speak(client, {"model": "tts-1", "input": "Hello there.", "voice": "marin"})
    assert answer.status_code == 200 and answer["Content-Type"] == "audio/wav"
    rate, seconds, peak = read_wav(answer.content)
    assert rate == 24_000 and 0.4 < seconds < 3 and peak > 0.1
    raw = speak(client, {"input": "Hello there.", "voice": "marin", "response_format": "pcm"})
    assert raw["Content-Type"] == "audio/pcm" and len(raw.content) > 0.4 * 48_000


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"voice": "marin"}, "input"),
        ({"input": "", "voice": "marin"}, "input"),
        ({"input": "x" * 4097, "voice": "marin"}, "input"),
        ({"input": "Hi", "voice": "nova"}, "voice"),
        ({"input": "Hi", "voice": "marin", "speed": 9}, "speed"),
        ({"input": "Hi", "voice": "marin", "response_format": "mp3"}, "response_format"),
        ({"input": "Hi", "voice": "marin", "stream_format": "sse"}, "stream_format"),
    ],
)
def test_the_engine_refuses_a_bad_speech_request_naming_the_field(client, engine_key, body, param):
    answer = speak(client, body)
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == param


def test_the_engine_speaks_only_for_its_key(client, engine_key):
    for key in (None, "sk-wrong"):
        answer = speak(client, {"input": "Hi", "voice": "marin"}, key=key)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "invalid_api_key"
