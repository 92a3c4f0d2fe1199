"""Real workers calibrate as they start: each says in its /healthz and in the directory how
many speaking calls it carries on this machine and why, the admin's workers page shows it,
and a number in `MRBLUE_ENGINE_WORKER_CAPACITY` pins the capacity (calibration still shown)."""

import html
import re

import httpx
import pytest

from tests.support.live import ENGINE_KEY
from tests.support.workers import Cluster

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
PINNED = 3


@pytest.fixture(scope="module")
def cluster(django_db_setup, django_db_blocker):
    """A site, one worker left to calibrate (`auto`, the default) and one pinned at 3."""
    with django_db_blocker.unblock():
        cluster = Cluster(workers=1)
        try:
            cluster.add_worker({"MRBLUE_ENGINE_WORKER_CAPACITY": str(PINNED)})
            cluster.wait_for(lambda health: health["placeable"] == 2, 120)
        except BaseException:
            cluster.close()
            raise
    yield cluster
    cluster.close()


def test_a_worker_reports_the_capacity_it_measured_and_why(cluster):
    health = cluster.worker_health(cluster.workers[0])
    measured = health["calibration"]
    assert health["capacity"] == measured["suggested"] >= 1
    calls = "1 call" if health["capacity"] == 1 else f"{health['capacity']} calls"
    assert health["capacity_reason"].startswith(f"{calls}: a speaking call takes ~")
    assert re.search(r"~\d+% of a core here", health["capacity_reason"])
    assert measured["call_share"] > 0
    for reading in ("recognition_ms", "synthesis_ms", "audio_ms_per_s"):
        assert measured[reading] > 0
        assert f" {measured[reading]:.0f} ms" in health["capacity_reason"]


def test_a_pinned_capacity_wins_and_the_worker_still_says_what_it_measured(cluster):
    pinned = cluster.workers[1]
    health = cluster.worker_health(pinned)
    assert health["capacity"] == PINNED
    assert health["capacity_reason"].startswith(
        f"{PINNED} calls, as MRBLUE_ENGINE_WORKER_CAPACITY says; calibration: "
        f"{health['calibration']['suggested']} call"
    )
    answers = [mint_at(pinned).status_code for _ in range(PINNED + 1)]
    assert answers == [200] * PINNED + [503]


def test_the_admin_workers_page_shows_each_capacity_and_why(cluster, client, settings, make_user):
    settings.MRBLUE_ENGINE_ROLE = "gateway"
    settings.MRBLUE_ENGINE_POOL = cluster.pool
    client.force_login(make_user("boss", superuser=True))
    # A test run in a transaction empties the tables after it, the workers' rows too: they
    # are back at the workers' next beat.
    cluster.wait_for(lambda health: health["workers"] == 2)
    page = html.unescape(client.get("/admin/engine/engineworker/").content.decode())
    for worker in cluster.workers:
        health = cluster.worker_health(worker)
        row = re.search(rf"<td>{re.escape(health['worker_id'])}</td>.*?</tr>", page, re.S)
        assert row is not None, f"{health['worker_id']} is not listed"
        assert f"<td>{health['capacity']}</td>" in row.group()
        assert health["capacity_reason"] in row.group()


def mint_at(worker) -> httpx.Response:
    """A client secret minted at a worker itself (as the site's placement asks it)."""
    return httpx.post(
        f"{worker.url}/v1/realtime/client_secrets",
        json={"session": {"type": "realtime"}},
        headers={"Authorization": f"Bearer {ENGINE_KEY}"},
        timeout=30,
    )
