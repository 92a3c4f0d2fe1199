"""The voice panel in Chromium while its server is killed with SIGKILL and started again on the
same port: the panel reconnects by itself, the talk goes on, and the log holds every line of
it exactly once."""

import pytest
from playwright.sync_api import expect

from tests.faults.conftest import server_errors
from tests.support.browser import chromium, log_in
from tests.support.live import LiveServer

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
# The panel's backoff waits 1+2+4+8+15 s before it gives up; a restart fits well inside.
RECONNECTED_MS = 60_000


@pytest.fixture
def server(django_db_blocker):
    """A server of this test's own (the session's is not to be killed)."""
    with django_db_blocker.unblock():
        server = LiveServer()
    yield server
    server.close()


@pytest.fixture
def editor(server, make_user, make_page):
    """The Mundo Tango editor in Chromium, logged in as an editor, on the AI tab."""
    make_page("mundo-tango", "Mundo Tango")
    make_user("editor", perms=("editor.change_page", "editor.view_page"))
    with chromium(exclude=("--use-fake-ui-for-media-stream",)) as browser:  # no microphone
        page = browser.new_page()
        page.set_default_timeout(30_000)
        log_in(page, server.url, "editor")
        page.goto(f"{server.url}/editor/mundo-tango/")
        page.get_by_test_id("tab-ai").click()
        yield page


def say(page, text: str, answer: str) -> None:
    """Type `text` to Mr. Blue and wait for an answer containing `answer`."""
    page.get_by_test_id("input-message").fill(text)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("message-user").filter(has_text=text)).to_be_visible()
    expect(page.get_by_test_id("message-assistant").filter(has_text=answer)).to_be_visible()


def test_the_panel_reconnects_to_a_restarted_server_and_logs_each_line_once(server, editor):
    from mrblue.models import Conversation, LogMessage, TranscriptEntry

    page = editor
    status = page.get_by_test_id("text-voice-status")
    page.get_by_test_id("toggle-text-only").check()
    page.get_by_test_id("button-start-voice-chat").click()
    expect(status).to_have_text("Live Text Chat")
    say(page, "hello", "Hi! I'm Mr. Blue")
    say(page, "What can you do?", "add, move or delete blocks")

    # Killed mid-conversation, whatever the outbox has or has not had acknowledged yet.
    assert server.kill() == -9
    expect(status).to_have_text("Reconnecting…")
    server.restart()  # the same port, the same database
    expect(status).to_have_text("Live Text Chat", timeout=RECONNECTED_MS)
    say(page, "great", "You're welcome!")
    shown = page.evaluate("window.mrblueVoice.conversation.list().map((m) => [m.role, m.text])")
    page.get_by_test_id("button-stop-voice-chat").click()
    expect(status).to_have_text("Ready to help")
    expect(page.get_by_test_id("text-log-status")).to_have_text(
        "Conversation saved", timeout=RECONNECTED_MS
    )

    assert len(shown) == 6 and shown[-1][0] == "assistant"
    assert shown[-1][1].startswith("You're welcome!")
    # The reconnected session continued the conversation: one conversation, ended once, and
    # every line in it once, in order (nothing lost in the crash, nothing replayed twice).
    (conversation,) = Conversation.objects.all()
    assert conversation.ended_at is not None
    lines = TranscriptEntry.objects.filter(conversation=conversation).order_by("position")
    assert [[line.role, line.text] for line in lines] == shown
    assert [line.position for line in lines] == list(range(6))
    log = LogMessage.objects.filter(conversation=conversation)
    assert log.filter(type="transcript").count() == 6
    assert log.filter(type="end").count() == 1
    assert server_errors(server) == []
