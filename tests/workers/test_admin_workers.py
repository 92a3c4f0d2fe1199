"""The admin shows the live engine workers with their load, and only to those allowed."""

import secrets

import pytest

from mrblue.engine.workers.directory import DatabaseDirectory, WorkerRecord

pytestmark = pytest.mark.django_db
URL = "/admin/engine/engineworker/"


@pytest.fixture
def pool(settings):
    # The URLs are built once per process, by the role at their import: build them with this
    # run's role first, or every later test of the run would get the gateway's engine views.
    import mrblue.project.urls  # noqa: F401

    settings.MRBLUE_ENGINE_ROLE = "gateway"
    settings.MRBLUE_ENGINE_POOL = "admin-" + secrets.token_hex(4)
    settings.REDIS_URL = ""  # the database directory, whatever this run's cache is
    settings.MRBLUE_ENGINE_HEARTBEAT_SECONDS = 60  # records stay live through a slow test
    return DatabaseDirectory(settings.MRBLUE_ENGINE_POOL)


def test_the_workers_page_lists_live_workers_with_their_load(client, pool, make_user):
    pool.publish(WorkerRecord("w-busy", "http://10.0.0.2:8001", 0.8, 2, 2))
    pool.publish(WorkerRecord("w-idle", "http://10.0.0.3:8001", 0.1, 0, 2))
    client.force_login(make_user("boss", superuser=True))
    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="engine-worker"') == 2
    assert html.index("w-idle") < html.index("w-busy")  # least loaded first
    assert "80%" in html and "taking sessions" in html and "full" in html


def test_with_no_worker_alive_the_page_says_so(client, pool, make_user):
    client.force_login(make_user("boss", superuser=True))
    assert "No worker is alive" in client.get(URL).content.decode()


def test_staff_without_the_permission_may_not_see_the_workers(client, pool, make_user):
    client.force_login(make_user("clerk", staff=True))
    assert client.get(URL).status_code == 403
