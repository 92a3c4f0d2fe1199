"""The voice path end to end: spoken audio over WebSocket (SDK) and WebRTC (Chromium)."""

import asyncio
import base64
import time

import httpx
import pytest

from tests.support.audio_fixtures import utterance, write_wav
from tests.support.browser import HEARD_SCRIPT, chromium
from tests.support.live import ENGINE_KEY, ROOT, LiveServer
from tests.support.realtime_client import engine_api, next_event, until
from tests.support.realtime_schema import validate_server_event

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
CHUNK = 24_000 * 2 // 10  # 100 ms, as a client streams it
LISTENING = {"type": "realtime", "audio": {"input": {"transcription": {"model": "whisper-1"}}}}


async def start_listening(conn):
    """Skip session.created, then ask for transcripts."""
    await next_event(conn)
    await conn.session.update(session=LISTENING)
    await until(conn, "session.updated")


async def speak(conn, pcm):
    for start in range(0, len(pcm), CHUNK):
        await conn.input_audio_buffer.append(
            audio=base64.b64encode(pcm[start : start + CHUNK]).decode()
        )


async def test_a_spoken_turn_over_websocket(daphne_server):
    async with engine_api(daphne_server).realtime.connect(model="gpt-realtime") as conn:
        await start_listening(conn)
        await speak(conn, utterance("Make the heading blue."))
        events = await until(conn, "response.done")
    types = [e["type"] for e in events]
    for expected in (
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.input_audio_transcription.completed",
        "response.output_audio.delta",
        "response.output_audio_transcript.done",
    ):
        assert expected in types, expected
    assert (
        types.index("input_audio_buffer.speech_started")
        < types.index("input_audio_buffer.speech_stopped")
        < types.index("response.created")
    )
    started = next(e for e in events if e["type"] == "input_audio_buffer.speech_started")
    stopped = next(e for e in events if e["type"] == "input_audio_buffer.speech_stopped")
    assert 300 <= started["audio_start_ms"] <= 700  # 0.5 s of silence came first
    assert stopped["audio_end_ms"] > started["audio_start_ms"] + 500
    heard = next(
        e for e in events if e["type"] == "conversation.item.input_audio_transcription.completed"
    )
    assert "heading blue" in heard["transcript"].lower()
    assert heard["item_id"] == stopped["item_id"] and heard["usage"]["type"] == "duration"
    answer = next(e for e in events if e["type"] == "response.output_audio_transcript.done")
    assert answer["transcript"]
    audio = b"".join(
        base64.b64decode(e["delta"]) for e in events if e["type"] == "response.output_audio.delta"
    )
    assert len(audio) > 24_000  # more than half a second of speech
    done = events[-1]["response"]
    assert done["status"] == "completed"
    assert int(done["metadata"]["mrblue_speech_stopped_ms"]) >= 500  # the silence it waited
    assert int(done["metadata"]["mrblue_transcript_ms"]) >= 0
    assert int(done["metadata"]["mrblue_first_audio_ms"]) >= int(
        done["metadata"]["mrblue_transcript_ms"]
    )


async def test_partial_words_arrive_before_the_transcript_is_complete(daphne_server):
    # Spoken in real time, as a microphone would: the pause at the comma is recognised while
    # the second half is spoken (or, on a slow machine, while the turn ends).
    pcm = utterance("Make the heading blue, then add a button that says Sign up.")
    async with engine_api(daphne_server).realtime.connect(model="gpt-realtime") as conn:
        await start_listening(conn)
        for start in range(0, len(pcm), CHUNK):
            await conn.input_audio_buffer.append(
                audio=base64.b64encode(pcm[start : start + CHUNK]).decode()
            )
            await asyncio.sleep(0.1)  # real time: 100 ms of audio per 100 ms
        events = await until(conn, "conversation.item.input_audio_transcription.completed")
    for event in events:
        validate_server_event(event)
    types = [e["type"] for e in events]
    completed = events[-1]
    deltas = [
        e
        for e in events
        if e["type"] == "conversation.item.input_audio_transcription.delta"
        and e["item_id"] == completed["item_id"]
    ]
    assert deltas and types.index(deltas[0]["type"]) < len(types) - 1
    # The first words, recognised at the pause (or, on a slow machine, while still speaking).
    assert "heading" in deltas[0]["delta"].lower()
    assert "sign up" not in deltas[0]["delta"].lower()
    assert "sign up" in completed["transcript"].lower()


async def test_barge_in_over_websocket_cancels_and_the_client_truncates(hanging_server):
    async with engine_api(hanging_server).realtime.connect(model="gpt-realtime") as conn:
        await start_listening(conn)
        await speak(conn, utterance("Tell me a long story."))
        events = await until(conn, "response.output_audio.delta")
        item_id = events[-1]["item_id"]
        await speak(conn, utterance("Stop, please.", before=0.2))
        events = await until(conn, "response.done")
        types = [e["type"] for e in events]
        assert "input_audio_buffer.speech_started" in types
        done = events[-1]["response"]
        assert done["status"] == "cancelled"
        assert done["status_details"]["reason"] == "turn_detected"
        await conn.conversation.item.truncate(item_id=item_id, content_index=0, audio_end_ms=300)
        truncated = await until(conn, "conversation.item.truncated")
        assert truncated[-1]["audio_end_ms"] == 300


def mint(server, session=LISTENING) -> str:
    answer = httpx.post(
        f"{server.url}/v1/realtime/client_secrets",
        json={"session": session},
        headers={"Authorization": f"Bearer {ENGINE_KEY}"},
    )
    answer.raise_for_status()
    return answer.json()["value"]


@pytest.fixture(scope="module")
def voice_browser(tmp_path_factory):
    """Chromium whose fake microphone says 'Make the heading blue.' (then stays quiet)."""
    wav = tmp_path_factory.mktemp("audio") / "request.wav"
    write_wav(wav, utterance("Make the heading blue.", before=1.0, after=8.0))
    with chromium(f"--use-file-for-fake-audio-capture={wav}") as browser:
        yield browser


def open_client(browser, server):
    page = browser.new_context().new_page()
    page.set_default_timeout(30_000)
    page.add_init_script(path=HEARD_SCRIPT)
    html = (ROOT / "tests" / "support" / "webrtc_client.html").read_text()
    page.route(
        f"{server.url}/__webrtc_test__",
        lambda route: route.fulfill(body=html, content_type="text/html"),
    )
    page.goto(f"{server.url}/__webrtc_test__")
    return page


def wait_for_event(page, type_):
    page.wait_for_function(f"window.events.some(e => e.type === {type_!r})")
    return page.evaluate(f"window.events.find(e => e.type === {type_!r})")


def test_a_spoken_turn_over_webrtc_in_chromium(daphne_server, voice_browser):
    page = open_client(voice_browser, daphne_server)
    page.evaluate(
        "([s, u]) => window.startCall(s, u)",
        [mint(daphne_server), f"{daphne_server.url}/v1/realtime/calls"],
    )
    assert page.evaluate("window.callLocation").startswith("/v1/realtime/calls/rtc_")
    assert wait_for_event(page, "session.created")["session"]["type"] == "realtime"
    heard = wait_for_event(page, "conversation.item.input_audio_transcription.completed")
    assert "heading blue" in heard["transcript"].lower()
    answer = wait_for_event(page, "response.output_audio_transcript.done")
    assert answer["transcript"]
    wait_for_event(page, "output_audio_buffer.started")
    page.wait_for_function("window.maxLevel > 0.05")  # the answer is heard, not silence
    for event in page.evaluate("window.events"):
        validate_server_event(event)
    assert not any(
        e["type"] == "response.output_audio.delta" for e in page.evaluate("window.events")
    )  # audio rides the track
    page.evaluate("window.pc.close()")
    page.context.close()


def test_server_with_a_live_call_exits_promptly_on_sigterm(
    django_db_setup, django_db_blocker, voice_browser
):
    with django_db_blocker.unblock():
        server = LiveServer()
    try:
        page = open_client(voice_browser, server)
        page.evaluate(
            "([s, u]) => window.startCall(s, u)", [mint(server), f"{server.url}/v1/realtime/calls"]
        )
        wait_for_event(page, "session.created")
        page.wait_for_function("window.pc.connectionState === 'connected'")
    finally:
        started = time.monotonic()
        code = server.close(timeout=15)
        took = time.monotonic() - started
    assert took < 5, f"took {took:.1f} s"
    assert code == 0, "".join(server.output[-20:])
    page.context.close()
