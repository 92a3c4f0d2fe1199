"""How many sessions may live, and for how long: per process, per client secret, per user;
every session time-limited from its start; the accounting never leaks."""

import asyncio
import json
import logging

import httpx
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack
from channels.testing import WebsocketCommunicator
from django.test import AsyncClient

from mrblue.engine.models import EngineClientSecret
from mrblue.engine.protocol.session_config import default_session
from mrblue.engine.transports import webrtc
from mrblue.engine.transports.connection import EngineConnection
from mrblue.engine.workers.live_sessions import SessionRefused, sessions
from mrblue.project.asgi import application
from tests.fuzz.engine_client import DataChannelClient, Died
from tests.support.realtime_schema import validate_server_event

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_async_connections"),
]


@pytest.fixture(autouse=True)
def engine(settings):
    settings.MRBLUE_ENGINE_API_KEY = "sk-mrblue-unit"
    settings.MRBLUE_WEBRTC_HOSTS = ["127.0.0.1"]
    settings.MRBLUE_ENGINE_SESSIONS_PER_SECRET = 2
    settings.MRBLUE_ENGINE_SESSIONS_PER_OWNER = 3
    assert len(sessions) == 0
    yield settings
    assert len(sessions) == 0, "a session place leaked"


def mint(owner=None):
    body = {"session": {"type": "realtime", "output_modalities": ["text"]}}
    if owner is not None:
        body["mrblue_owner"] = owner
    response = AsyncClient()
    return response.post(
        "/v1/realtime/client_secrets",
        data=json.dumps(body),
        content_type="application/json",
        headers={"authorization": "Bearer sk-mrblue-unit"},
    )


async def secret_for(owner=None) -> str:
    answer = await mint(owner)
    assert answer.status_code == 200, answer.content
    return answer.json()["value"]


# --- the registry -------------------------------------------------------------------------


def test_the_registry_counts_per_secret_and_per_owner(engine):
    engine.MRBLUE_ENGINE_MAX_SESSIONS = 5
    held = [sessions.admit(secret="s1", owner="u1"), sessions.admit(secret="s1", owner="u1")]
    with pytest.raises(SessionRefused) as refused:
        sessions.admit(secret="s1", owner="u1")
    assert refused.value.code == "client_secret_session_limit"
    held.append(sessions.admit(secret="s2", owner="u1"))
    with pytest.raises(SessionRefused) as refused:
        sessions.admit(secret="s3", owner="u1")  # a new secret does not help the same user
    assert refused.value.code == "user_session_limit"
    held += [sessions.admit(secret="s4", owner="u2"), sessions.admit()]
    with pytest.raises(SessionRefused) as refused:
        sessions.admit()
    assert refused.value.code == "session_limit_reached"
    for slot in held:
        slot.release()
        slot.release()  # idempotent
    assert sessions.admit(secret="s1", owner="u1").release() is None


# --- the owner tag on a secret --------------------------------------------------------------


async def test_a_secret_carries_the_owner_the_app_names():
    value = await secret_for("user:7")
    row = await EngineClientSecret.objects.aget()
    assert row.owner == "user:7"
    assert "mrblue_owner" not in (await mint("user:7")).json()["session"]  # not a session field
    assert value.startswith("ek_")


@pytest.mark.parametrize("owner", [7, "", "x" * 129])
async def test_a_bad_owner_tag_is_refused(owner):
    answer = await mint(owner)
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "mrblue_owner"


# --- WebSocket --------------------------------------------------------------------------------


async def open_socket(key):
    socket = WebsocketCommunicator(
        application,
        "/v1/realtime?model=gpt-realtime",
        headers=[(b"authorization", f"Bearer {key}".encode())],
    )
    connected, _ = await socket.connect()
    assert connected
    first = await socket.receive_json_from(timeout=5)
    validate_server_event(first)
    return socket, first


async def test_a_secret_opens_two_sessions_then_is_refused_with_an_error_and_a_close():
    key = await secret_for()
    first, _ = await open_socket(key)
    second, _ = await open_socket(key)
    third, refusal = await open_socket(key)
    assert refusal["error"]["code"] == "client_secret_session_limit"
    assert (await third.receive_output(timeout=5))["code"] == 4429
    await first.disconnect()
    fourth, created = await open_socket(key)  # a place was freed
    assert created["type"] == "session.created"
    for socket in (second, fourth):
        await socket.disconnect()


async def test_a_user_holding_secrets_is_bounded_across_them():
    keys = [await secret_for("user:1") for _ in range(2)]
    open_ = [(await open_socket(keys[0]))[0], *[(await open_socket(keys[1]))[0] for _ in range(2)]]
    _, refusal = await open_socket(await secret_for("user:1"))
    assert refusal["error"]["code"] == "user_session_limit"
    other, created = await open_socket(await secret_for("user:2"))
    assert created["type"] == "session.created"
    for socket in [*open_, other]:
        await socket.disconnect()


async def test_many_sessions_opened_and_closed_leave_the_registry_empty():
    key = await secret_for("user:1")
    for _ in range(12):
        socket, created = await open_socket(key)
        assert created["type"] == "session.created"
        await socket.disconnect()
    opened = [await open_socket(key) for _ in range(3)]
    assert [event["type"] for _, event in opened] == ["session.created"] * 2 + ["error"]
    assert len(sessions) == 2  # the two admitted, until they close
    for socket, _ in opened:
        await socket.disconnect()
    # (the fixture checks that every place was given back)


# --- WebRTC -----------------------------------------------------------------------------------


async def an_offer(with_channel: bool) -> RTCPeerConnection:
    """A browser stand-in: microphone audio, and the events channel only if asked."""
    # No STUN server (aiortc's default is a public one): on a machine without internet its
    # lookup can stall the offer for minutes.
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(AudioStreamTrack())
    if with_channel:
        pc.createDataChannel("oai-events")
    await pc.setLocalDescription(await pc.createOffer())
    return pc


def post_offer(pc, key):
    return AsyncClient().post(
        "/v1/realtime/calls",
        data=pc.localDescription.sdp,
        content_type="application/sdp",
        headers={"authorization": f"Bearer {key}"},
    )


async def test_a_call_that_never_opens_its_events_channel_is_closed_at_the_connect_timeout(engine):
    engine.MRBLUE_WEBRTC_CONNECT_TIMEOUT = 1.0
    browser = await an_offer(with_channel=False)
    answer = await post_offer(browser, await secret_for())
    assert answer.status_code == 201
    await browser.setRemoteDescription(RTCSessionDescription(answer.content.decode(), "answer"))
    call = webrtc.calls.get(answer["Location"].rsplit("/", 1)[-1])
    await asyncio.wait_for(call.closed.wait(), 15)  # audio connected; no channel: hung up
    assert len(webrtc.calls) == 0
    await browser.close()


async def test_every_call_is_time_limited_from_its_creation(engine):
    engine.MRBLUE_ENGINE_SESSION_SECONDS = 1
    engine.MRBLUE_WEBRTC_CONNECT_TIMEOUT = 60.0
    call = await webrtc.start_call(
        (await an_offer(with_channel=True)).localDescription.sdp,
        default_session(),
        sessions.admit(),
    )
    await asyncio.wait_for(call.closed.wait(), 10)  # never connected, yet ended in time
    assert [e["error"]["code"] for e in call._waiting] == ["session_expired"]
    assert len(webrtc.calls) == 0


async def test_an_sdp_offer_beyond_the_secret_limit_gets_a_429_json_error():
    key = await secret_for()
    browsers = [await an_offer(with_channel=True) for _ in range(3)]
    answers = [await post_offer(browser, key) for browser in browsers]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert answers[2].json()["error"]["code"] == "client_secret_session_limit"
    await webrtc.calls.close_all()
    for browser in browsers:
        await browser.close()


# --- however a session ends, its place is given back --------------------------------------


async def test_a_websocket_session_the_server_cancels_gives_its_place_back():
    socket, _ = await open_socket(await secret_for())
    assert len(sessions) == 1
    socket.future.cancel()  # as Daphne does to an application that outlives its connection
    with pytest.raises(asyncio.CancelledError):
        await socket.future
    assert len(sessions) == 0


async def test_a_websocket_session_that_crashes_gives_its_place_back(monkeypatch):
    async def crash(self, text):
        raise RuntimeError("a bug that escaped")

    monkeypatch.setattr(EngineConnection, "receive_text", crash)
    socket, _ = await open_socket(await secret_for())
    await socket.send_to(text_data="{}")
    with pytest.raises(RuntimeError):
        await socket.wait(timeout=5)
    assert len(sessions) == 0


async def test_a_failing_task_of_a_call_closes_the_call_once_with_a_warning(engine, caplog):
    engine.MRBLUE_WEBRTC_CONNECT_TIMEOUT = 60.0
    call = await webrtc.start_call(
        (await an_offer(with_channel=True)).localDescription.sdp,
        default_session(),
        sessions.admit(),
    )

    async def broken():
        raise RuntimeError("a bug in a call's task")

    call._spawn(broken())
    await asyncio.wait_for(call.closed.wait(), 5)
    assert len(webrtc.calls) == 0  # and the fixture checks its place was given back
    logged = [r for r in caplog.records if "a bug in a call's task" in r.getMessage()]
    assert [(r.levelname, r.exc_info) for r in logged] == [("WARNING", None)]


async def test_an_offer_without_a_fingerprint_is_refused_before_a_call_is_made():
    browser = await an_offer(with_channel=True)
    sdp = "\r\n".join(
        line for line in browser.localDescription.sdp.split("\r\n") if "fingerprint" not in line
    )
    answer = await AsyncClient().post(
        "/v1/realtime/calls",
        data=sdp,
        content_type="application/sdp",
        headers={"authorization": f"Bearer {await secret_for()}"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_offer"
    assert "fingerprint" in answer.json()["error"]["message"]
    assert len(webrtc.calls) == 0
    await browser.close()


async def test_a_failure_in_aiortcs_own_connect_task_closes_the_call(engine, caplog):
    # Such an offer is refused at the door now (sdp.check_offer); past it, aiortc's connect
    # task asserts on the missing fingerprint, and nobody awaits that task but the call.
    engine.MRBLUE_WEBRTC_CONNECT_TIMEOUT = 60.0
    browser = await an_offer(with_channel=True)
    sdp = "\r\n".join(
        line for line in browser.localDescription.sdp.split("\r\n") if "fingerprint" not in line
    )
    call = await webrtc.start_call(sdp, default_session(), sessions.admit())
    await browser.setRemoteDescription(RTCSessionDescription(call.answer_sdp, "answer"))
    await asyncio.wait_for(call.closed.wait(), 20)
    logged = [r for r in caplog.records if "__connect failed (AssertionError" in r.getMessage()]
    assert [r.levelname for r in logged] == ["WARNING"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    await browser.close()


async def test_a_connected_call_hears_why_the_server_ends_it_before_it_is_hung_up(engine):
    engine.MRBLUE_ENGINE_SESSION_SECONDS = 2
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://testserver"
    )
    client = await DataChannelClient.open(http, await secret_for())
    events = []
    try:
        with pytest.raises(Died):  # the channel closes (or falls silent) after the last event
            while True:
                events.append(await client.next_event())
    finally:
        await client.pc.close()
        await http.aclose()
    assert events and events[-1]["type"] == "error", events
    assert events[-1]["error"]["code"] == "session_expired"
    await webrtc.calls.close_all()
