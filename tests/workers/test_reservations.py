"""No user can hold places they do not use: through the site's own `POST /api/realtime/session`,
one editor who mints again and again (a tab that retries, or someone who never connects) holds
one unused place in the whole fleet, and another editor still gets a session.

Each mint promises its secret a place on a worker for 30 s. The promise belongs to the user the
site names as the secret's owner: a user's new mint replaces their own older unused one on that
worker, and the site sends it to the worker of their newest secret, so the replaced place is
the one they held."""

import asyncio
import json
import re

import httpx
import pytest
import websockets
from asgiref.sync import async_to_sync

from mrblue.engine.models import EngineClientSecret
from tests.support.workers import Cluster

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
MINTS = 10  # MRBLUE_MINT_RATE_PER_MINUTE's default


def editor(cluster, make_user, name: str) -> httpx.Client:
    """A logged-in browser-like client of the site, for a new editor `name`."""
    make_user(name, perms=("editor.change_page", "editor.view_page"))
    http = httpx.Client(base_url=cluster.url, timeout=60)
    login_page = http.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text)[1]
    logged_in = http.post(
        "/accounts/login/",
        data={"username": name, "password": "pw-12345!", "csrfmiddlewaretoken": token},
    )
    assert logged_in.status_code == 302
    return http


def start_voice_chat(http: httpx.Client) -> httpx.Response:
    """What the panel's "Start Voice Chat" asks of the site."""
    return http.post(
        "/api/realtime/session",
        json={"page": "mundo-tango"},
        headers={"X-CSRFToken": http.cookies["csrftoken"]},
    )


@async_to_sync
async def opens_a_session(cluster, secret: str) -> str:
    """The first event of a session opened through the site with `secret`."""
    url = cluster.url.replace("http", "ws", 1) + "/v1/realtime?model=gpt-realtime"
    async with websockets.connect(
        url, subprotocols=["realtime", f"openai-insecure-api-key.{secret}"]
    ) as ws:
        return json.loads(await ws.recv())["type"]


def unused_places(cluster) -> int:
    return sum(cluster.worker_health(worker)["reserved"] for worker in cluster.workers)


@pytest.fixture
def cluster(request, django_db_blocker):
    """`request.param` workers of two places each."""
    with django_db_blocker.unblock():
        cluster = Cluster(workers=request.param, env={"MRBLUE_ENGINE_WORKER_CAPACITY": "2"})
    yield cluster
    cluster.close()


@pytest.mark.parametrize("cluster", [1], indirect=True)
def test_one_worker_of_two_places_an_editor_who_keeps_minting_leaves_one(
    cluster, make_user, make_page
):
    make_page("mundo-tango", "Mundo Tango")
    restless, patient, third = (editor(cluster, make_user, n) for n in ("ana", "ben", "cy"))
    answers = [start_voice_chat(restless) for _ in range(MINTS)]
    assert [answer.status_code for answer in answers] == [200] * MINTS
    assert start_voice_chat(restless).status_code == 429  # the mint rate stops them there
    assert unused_places(cluster) == 1  # their newest secret's place

    theirs = start_voice_chat(patient)
    assert theirs.status_code == 200, theirs.text
    # Both places are held now, one by each: a third editor waits (and is told so).
    busy = start_voice_chat(third)
    assert busy.status_code == 503 and busy.json()["error"]["code"] == "engine_busy"
    # Each holder's secret opens its session: the places were theirs.
    assert opens_a_session(cluster, theirs.json()["value"]) == "session.created"
    assert opens_a_session(cluster, answers[-1].json()["value"]) == "session.created"


@pytest.mark.parametrize("cluster", [2], indirect=True)
def test_two_workers_an_editor_who_keeps_minting_holds_one_place_in_the_fleet(
    cluster, make_user, make_page
):
    make_page("mundo-tango", "Mundo Tango")
    restless = editor(cluster, make_user, "ana")
    answers = [start_voice_chat(restless) for _ in range(MINTS)]
    assert [answer.status_code for answer in answers] == [200] * MINTS
    assert unused_places(cluster) == 1
    (owner,) = EngineClientSecret.objects.values_list("owner", flat=True).distinct()
    assert EngineClientSecret.objects.filter(owner=owner).values("worker").distinct().count() == 1

    # Three places remain, and three other editors get them.
    for name in ("ben", "cy", "dee"):
        answer = start_voice_chat(editor(cluster, make_user, name))
        assert answer.status_code == 200, (name, answer.text)
    assert unused_places(cluster) == 4


@pytest.fixture
def one_session_each(django_db_blocker):
    """One worker whose users may hold one session each."""
    env = {"MRBLUE_ENGINE_WORKER_CAPACITY": "2", "MRBLUE_ENGINE_SESSIONS_PER_OWNER": "1"}
    with django_db_blocker.unblock():
        cluster = Cluster(workers=1, env=env)
    yield cluster
    cluster.close()


@async_to_sync
async def mint_during_a_session(cluster, http: httpx.Client, secret: str) -> httpx.Response:
    """The panel's mint by the owner of `secret`, while a session opened with it is live."""
    url = cluster.url.replace("http", "ws", 1) + "/v1/realtime?model=gpt-realtime"
    async with websockets.connect(
        url, subprotocols=["realtime", f"openai-insecure-api-key.{secret}"]
    ) as ws:
        assert json.loads(await ws.recv())["type"] == "session.created"
        return await asyncio.to_thread(start_voice_chat, http)


def test_an_editor_at_their_session_limit_is_told_so_not_that_mr_blue_is_busy(
    one_session_each, make_user, make_page
):
    make_page("mundo-tango", "Mundo Tango")
    http = editor(one_session_each, make_user, "ana")
    first = start_voice_chat(http)
    assert first.status_code == 200, first.text
    refused = mint_during_a_session(one_session_each, http, first.json()["value"])
    assert refused.status_code == 429, refused.text
    error = refused.json()["error"]
    assert error["code"] == "user_session_limit" and "end one" in error["message"]
