"""The site places sessions on its engine workers and forwards to them: a WebSocket session
through the site runs on a worker, sessions spread over two workers, a spoken WebRTC call
through the site's own URL is answered by a worker, so is speech (the admin's voice samples),
and the web process loads no speech model.
"""

from pathlib import Path

import httpx
import pytest
from asgiref.sync import sync_to_async
from openai import OpenAI

from mrblue.engine.models import EngineClientSecret, hash_secret
from tests.engine.test_voice_live import LISTENING, open_client, voice_browser, wait_for_event
from tests.support.audio_fixtures import read_wav
from tests.support.live import ENGINE_KEY
from tests.support.realtime_client import engine_api, next_event, turn
from tests.support.workers import Cluster

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
voice_browser = voice_browser  # the fixture: Chromium whose microphone asks for a blue heading
SPEECH_LIBRARIES = ("libctranslate2", "libonnxruntime")


@pytest.fixture(scope="module")
def cluster(django_db_setup, django_db_blocker):
    """A site and two engine workers with room for two sessions each."""
    with django_db_blocker.unblock():
        cluster = Cluster(workers=2)
    yield cluster
    cluster.close()


@pytest.fixture(autouse=True)
def heard_again(cluster):
    """Both workers in the directory before each test: a transactional test's teardown empties
    the database, the database directory's rows with it, until the workers' next beats."""
    cluster.wait_for(lambda health: health["workers"] == 2)


async def text_session(cluster):
    """A client secret minted through the site, and an SDK connection opened with it."""
    secret = await engine_api(cluster).realtime.client_secrets.create(
        session={"type": "realtime", "output_modalities": ["text"]}
    )
    return secret.value, engine_api(cluster, secret.value).realtime.connect(model="gpt-realtime")


async def say_hello(conn) -> str:
    """One typed turn; the answer's text."""
    done = (await turn(conn, "hello"))[-1]
    return done["response"]["output"][0]["content"][0]["text"]


def minted_on(value: str) -> str:
    """The worker a secret was minted on."""
    return EngineClientSecret.objects.get(key_hash=hash_secret(value)).worker


def worker_ids(cluster) -> set[str]:
    return {cluster.worker_health(worker)["worker_id"] for worker in cluster.workers}


@pytest.mark.usefixtures("close_async_connections")
async def test_two_sessions_through_the_site_run_on_two_workers(cluster):
    first_key, first = await text_session(cluster)
    second_key, second = await text_session(cluster)
    placed = {await sync_to_async(minted_on)(first_key), await sync_to_async(minted_on)(second_key)}
    assert placed == await sync_to_async(worker_ids)(cluster)  # one on each
    async with first as conn_a, second as conn_b:
        assert (await next_event(conn_a))["type"] == "session.created"
        assert (await next_event(conn_b))["type"] == "session.created"
        assert "Mr. Blue" in await say_hello(conn_a)
        assert "Mr. Blue" in await say_hello(conn_b)
        loads = [await sync_to_async(cluster.worker_health)(w) for w in cluster.workers]
        assert [health["sessions"] for health in loads] == [1, 1]
    await sync_to_async(cluster.wait_for)(lambda health: health["placeable"] == 2)


def test_a_spoken_call_through_the_site_is_answered_by_a_worker(cluster, voice_browser):
    secret = httpx.post(
        f"{cluster.url}/v1/realtime/client_secrets",
        json={"session": LISTENING},
        headers={"Authorization": f"Bearer {ENGINE_KEY}"},
    ).json()["value"]
    page = open_client(voice_browser, cluster)
    page.evaluate(
        "([s, u]) => window.startCall(s, u)", [secret, f"{cluster.url}/v1/realtime/calls"]
    )
    assert page.evaluate("window.callLocation").startswith("/v1/realtime/calls/rtc_")
    # The fake microphone loops its file from the moment it opens: on a slow machine the call
    # may connect after the first words, so the sentence is waited for, not its first hearing.
    page.wait_for_function(
        """window.events.some((e) => e.type === "conversation.item.input_audio_transcription"
           + ".completed" && /heading blue/i.test(e.transcript))""",
        timeout=60_000,
    )
    wait_for_event(page, "output_audio_buffer.started")
    page.wait_for_function("window.maxLevel > 0.05")  # the worker's answer is heard
    holder = cluster.holding(1)
    assert cluster.worker_health(holder)["worker_id"] == minted_on(secret)
    page.context.close()


def test_speech_through_the_site_is_made_by_a_worker_as_the_sdk_asks(cluster):
    client = OpenAI(base_url=f"{cluster.url}/v1", api_key=ENGINE_KEY, max_retries=0)
    answer = client.audio.speech.create(
        model="gpt-4o-mini-tts",
        voice="marin",
        input="Make the heading blue.",
        response_format="wav",
    )
    _, seconds, peak = read_wav(answer.content)
    assert 0.5 < seconds < 5 and peak > 0.1
    client.close()


def test_an_admin_hears_a_voice_sample_through_the_site(cluster, make_user):
    make_user("boss", superuser=True)
    with httpx.Client(base_url=cluster.url, timeout=60) as browser:
        browser.get("/admin/login/")
        token = browser.cookies["csrftoken"]
        form = {"username": "boss", "password": "pw-12345!", "csrfmiddlewaretoken": token}
        assert browser.post("/admin/login/?next=/admin/", data=form).status_code == 302
        answer = browser.post(
            "/admin/mrblue/assistantprofile/voice-sample/",
            json={"voice": "verse", "speed": 1.0},
            headers={"X-CSRFToken": browser.cookies["csrftoken"]},
        )
    assert answer.status_code == 200 and answer.headers["content-type"] == "audio/wav"
    _, seconds, peak = read_wav(answer.content)
    assert 2.5 < seconds < 12 and peak > 0.1


def test_the_web_process_loads_no_speech_model_and_the_workers_do(cluster):
    # What a process has loaded is what it maps: Whisper (CTranslate2) and the voice activity
    # and synthesis models (ONNX Runtime) are native libraries.
    def mapped(server) -> str:
        return Path(f"/proc/{server.process.pid}/maps").read_text()

    web = mapped(cluster.web)
    assert not [library for library in SPEECH_LIBRARIES if library in web]
    for worker in cluster.workers:
        assert all(library in mapped(worker) for library in SPEECH_LIBRARIES)
