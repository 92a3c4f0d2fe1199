"""`POST /v1/realtime/calls` (Bearer `ek_` secret, `application/sdp`): fuzzed SDP bodies.

Property: a 201 with an SDP answer and a `Location` (that call is then hung up), or a 4xx JSON
`{"error": {...}}`; never a 5xx, never HTML, nothing logged as an error, and no session place
left taken: with room for one more session only, a real offer is still answered at the end.
"""

import asyncio

import httpx
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from hypothesis import given
from hypothesis import strategies as st

from mrblue.project.asgi import application
from tests.fuzz.harness import close_loop, drive, fuzz_settings, tally
from tests.support.live import ENGINE_KEY
from tests.support.realtime_client import mint_engine_secret

pytestmark = [pytest.mark.django_db(transaction=True)]
SURFACE = "SDP offers"
MAX_SDP_BYTES = 64 * 1024


async def real_offer() -> str:
    """An offer as a browser makes it: a microphone track and the events channel."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("audio", direction="sendrecv")
    pc.createDataChannel("oai-events")
    await pc.setLocalDescription(await pc.createOffer())
    offer = pc.localDescription.sdp
    await pc.close()
    return offer


def bodies(offer: str) -> st.SearchStrategy:
    lines = offer.split("\r\n")
    mutated = st.builds(
        lambda drop, extra, at: "\r\n".join(
            [line for i, line in enumerate(lines) if i not in drop][:at] + extra
            + [line for i, line in enumerate(lines) if i not in drop][at:]
        ),
        st.sets(st.integers(0, len(lines) - 1), max_size=4),
        st.lists(st.text(max_size=40) | st.sampled_from(["m=audio 9 x", "a=setup:x", "c=IN"]),
                 max_size=3),
        st.integers(0, len(lines)),
    )  # fmt: skip
    text = st.one_of(
        st.text(max_size=300),
        st.text(max_size=300).map(lambda rest: "v=0\r\nm=audio " + rest),
        st.integers(0, len(offer) - 1).map(lambda end: offer[:end]),
        mutated,
        st.just(offer),
        st.integers(MAX_SDP_BYTES - 64, MAX_SDP_BYTES + 64).map(
            lambda n: (offer + "a=x\r\n" * n)[:n]
        ),
    )
    raw = st.one_of(
        text.map(lambda body: body.encode("utf-8", "surrogatepass")),
        st.binary(max_size=300),
        st.just(b"v=0\r\nm=audio \xff\xfe\x00"),
        # Bodies over Django's upload limit (2.5 MB): see test_found_inputs.py.
        st.integers(MAX_SDP_BYTES, 2 * 1024 * 1024).map(lambda n: b"v=0 m=audio " + b"a" * n),
    )
    content_type = st.sampled_from(
        ["application/sdp"] * 6 + ["application/sdp; charset=utf-8", "text/plain", ""]
    )
    return st.tuples(raw, content_type)


async def post_offer(client, secret: str, body: bytes, content_type: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {secret}"}
    if content_type:
        headers["Content-Type"] = content_type
    return await client.post("/v1/realtime/calls", content=body, headers=headers)


async def hang_up(client, location: str) -> int:
    answer = await client.post(
        f"{location}/hangup", headers={"Authorization": f"Bearer {ENGINE_KEY}"}
    )
    return answer.status_code


def answer_problem(answer: httpx.Response) -> str | None:
    """Why this answer is not a 201 call or a 4xx JSON error, if it is not."""
    kind = answer.headers.get("content-type", "")
    if answer.status_code == 201:
        if not kind.startswith("application/sdp") or "Location" not in answer.headers:
            return f"201 without an SDP answer and Location: {answer.headers}"
        return None
    if not 400 <= answer.status_code < 500:
        return f"status {answer.status_code}: {answer.text[:300]}"
    if not kind.startswith("application/json"):
        return f"{answer.status_code} as {kind}: {answer.text[:300]}"
    error = answer.json().get("error")
    if not isinstance(error, dict) or not error.get("message"):
        return f"no error object: {answer.text[:300]}"
    return None


async def room_for_one_more(settings, client, secret, offer) -> None:
    """Set the session limit to leave room for exactly one more session (places may be
    taken already, e.g. by the crashed sessions of test_found_inputs.py)."""
    for limit in range(1, 100):
        settings.MRBLUE_ENGINE_MAX_SESSIONS = limit
        answer = await post_offer(client, secret, offer.encode(), "application/sdp")
        if answer.status_code == 201:
            await hang_up(client, answer.headers["Location"])
            return
    raise AssertionError("the engine refuses every session")


def test_sdp_offers(settings):
    settings.MRBLUE_ENGINE_API_KEY = ENGINE_KEY
    settings.MRBLUE_WEBRTC_HOSTS = "127.0.0.1"
    record = tally(SURFACE)
    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://testserver"
    )
    offer = loop.run_until_complete(real_offer())
    secret = loop.run_until_complete(mint_engine_secret(client))
    loop.run_until_complete(room_for_one_more(settings, client, secret, offer))

    async def one(body: bytes, content_type: str):
        answer = await post_offer(client, secret, body, content_type)
        problem = answer_problem(answer)
        if problem:
            (record.crash if answer.status_code >= 500 else record.wrong)(body, problem)
        else:
            record.answered(error=answer.status_code != 201)
        if answer.status_code == 201:
            status = await hang_up(client, answer.headers["Location"])
            if status not in (200, 404):  # 404: the call failed and ended by itself
                record.wrong(body, f"hanging up the call answered {status}")
        record.check_logs((body, content_type))

    @fuzz_settings(ci_examples=60)
    @given(request=bodies(offer))
    def fuzz(request):
        loop.run_until_complete(one(*request))

    try:
        drive(record, fuzz)
        # With room for one more session, a place left taken would refuse this one (429).
        final = loop.run_until_complete(
            post_offer(client, secret, offer.encode(), "application/sdp")
        )
        if final.status_code != 201:
            record.wrong("a real offer after the run", f"{final.status_code}: {final.text}")
        else:
            loop.run_until_complete(hang_up(client, final.headers["Location"]))
    finally:
        loop.run_until_complete(client.aclose())
        close_loop(loop)  # aiortc leaves a connect task of a closed peer connection pending
    record.finish()
