"""A full engine: the site answers a new session with 503 `engine_busy` and Retry-After, and
the voice panel says in words that Mr. Blue is busy and when to try again."""

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.browser import chromium, log_in
from tests.support.live import ENGINE_KEY
from tests.support.workers import Cluster

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cluster(django_db_blocker):
    """A site with one worker that carries one session, and 7 s before trying again."""
    env = {"MRBLUE_ENGINE_WORKER_CAPACITY": "1", "MRBLUE_ENGINE_BUSY_RETRY_SECONDS": "7"}
    with django_db_blocker.unblock():
        cluster = Cluster(workers=1, env=env)
    yield cluster
    cluster.close()


def mint(cluster) -> httpx.Response:
    return httpx.post(
        f"{cluster.url}/v1/realtime/client_secrets",
        json={"session": {"type": "realtime"}},
        headers={"Authorization": f"Bearer {ENGINE_KEY}"},
    )


def test_a_full_engine_answers_engine_busy_and_the_panel_says_when_to_retry(
    cluster, make_user, make_page
):
    assert mint(cluster).status_code == 200  # the one place, promised to this secret
    refused = mint(cluster)
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "engine_busy"
    assert refused.headers["Retry-After"] == "7"

    make_page("mundo-tango", "Mundo Tango")
    make_user("editor", perms=("editor.change_page", "editor.view_page"))
    with chromium(exclude=("--use-fake-ui-for-media-stream",)) as browser:
        page = browser.new_page()
        log_in(page, cluster.url, "editor")
        page.goto(f"{cluster.url}/editor/mundo-tango/")
        page.get_by_test_id("tab-ai").click()
        page.get_by_test_id("toggle-text-only").check()
        with page.expect_response("**/api/realtime/session") as answer:
            page.get_by_test_id("button-start-voice-chat").click()
        assert answer.value.status == 503
        assert answer.value.json()["error"]["code"] == "engine_busy"
        assert answer.value.headers["retry-after"] == "7"
        expect(page.get_by_test_id("text-voice-error")).to_have_text(
            "Mr. Blue is busy with other calls right now. Try again in 7 seconds."
        )
        expect(page.get_by_test_id("text-voice-status")).to_have_text("Ready to help")
