"""The voice panel in Chromium while the engine worker holding its session is killed with
SIGKILL: the panel reconnects through the site to the other worker, the talk goes on, and the
log holds every line exactly once."""

import pytest
from playwright.sync_api import expect

from mrblue.models import Conversation, LogMessage, TranscriptEntry
from tests.faults.conftest import server_errors
from tests.faults.test_panel_survives_a_killed_server import RECONNECTED_MS, say
from tests.support.browser import chromium, log_in
from tests.support.workers import Cluster

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cluster(django_db_blocker):
    """A site and two workers."""
    with django_db_blocker.unblock():
        cluster = Cluster(workers=2)
    yield cluster
    cluster.close()


def test_the_panel_moves_to_another_worker_when_its_worker_dies(cluster, make_user, make_page):
    make_page("mundo-tango", "Mundo Tango")
    make_user("editor", perms=("editor.change_page", "editor.view_page"))
    with chromium(exclude=("--use-fake-ui-for-media-stream",)) as browser:
        page = browser.new_page()
        page.set_default_timeout(30_000)
        log_in(page, cluster.url, "editor")
        page.goto(f"{cluster.url}/editor/mundo-tango/")
        page.get_by_test_id("tab-ai").click()
        status = page.get_by_test_id("text-voice-status")
        page.get_by_test_id("toggle-text-only").check()
        page.get_by_test_id("button-start-voice-chat").click()
        expect(status).to_have_text("Live Text Chat")
        say(page, "hello", "Hi! I'm Mr. Blue")
        say(page, "What can you do?", "add, move or delete blocks")

        dead = cluster.holding(1)
        assert dead.kill() == -9
        survivor = next(worker for worker in cluster.workers if worker is not dead)
        # The status may still read "Live Text Chat" before the panel notices the loss:
        # the session being on the survivor is what says it moved.
        assert cluster.holding(1) is survivor
        expect(status).to_have_text("Live Text Chat", timeout=RECONNECTED_MS)
        say(page, "great", "You're welcome!")
        shown = page.evaluate("window.mrblueVoice.conversation.list().map((m) => [m.role, m.text])")
        page.get_by_test_id("button-stop-voice-chat").click()
        expect(page.get_by_test_id("text-log-status")).to_have_text(
            "Conversation saved", timeout=RECONNECTED_MS
        )

    assert len(shown) == 6
    (conversation,) = Conversation.objects.all()
    lines = TranscriptEntry.objects.filter(conversation=conversation).order_by("position")
    assert [[line.role, line.text] for line in lines] == shown
    assert [line.position for line in lines] == list(range(6))
    assert LogMessage.objects.filter(conversation=conversation, type="transcript").count() == 6
    assert server_errors(cluster.web) == []
    assert server_errors(survivor) == []
