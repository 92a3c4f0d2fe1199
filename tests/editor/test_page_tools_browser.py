"""Mr. Blue edits the page by voice: Chromium's microphone asks, the built-in engine acts."""

import re

import pytest
from playwright.sync_api import expect

from tests.support.audio_fixtures import silence, spoken, write_wav
from tests.support.browser import close_settled, launch, log_in, playwright_session

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
# tiny.en hears a lone "Undo." as "And you": say it in a sentence.
REQUESTS = (
    "Make the heading blue.",
    "Add a button that says Sign up.",
    "Please undo that.",
    "Delete the third paragraph.",
)
BLOCKS = [
    {"id": "heading", "type": "heading", "text": "Mundo Tango", "style": {}},
    {"id": "intro", "type": "paragraph", "text": "Tango classes for all.", "style": {}},
    {"id": "schedule", "type": "paragraph", "text": "Milongas on Saturdays.", "style": {}},
    {"id": "cta", "type": "button", "text": "Join a class", "style": {}},
]
BLUE = "rgb(30, 136, 229)"


@pytest.fixture(scope="module")
def speaking_browser(tmp_path_factory):
    """Chromium whose microphone says the four requests, with time to act between them."""
    pcm = silence(1.0)
    for request in REQUESTS:
        pcm += spoken(request) + silence(9.0)
    path = tmp_path_factory.mktemp("audio") / "requests.wav"
    write_wav(path, pcm + silence(20.0))
    with playwright_session() as playwright:
        browser = launch(playwright, f"--use-file-for-fake-audio-capture={path}")
        yield browser
        browser.close()


def test_editing_the_page_by_voice(daphne_server, speaking_browser, make_page, make_user):
    make_page("mundo-tango", "Mundo Tango", blocks=BLOCKS)
    make_user("editor", perms=("editor.change_page", "editor.view_page"))
    context = speaking_browser.new_context()
    page = context.new_page()
    page.set_default_timeout(40_000)
    log_in(page, daphne_server.url, "editor")
    page.goto(f"{daphne_server.url}/editor/mundo-tango/")
    page.get_by_test_id("tab-ai").click()
    page.evaluate("""() => {
      window.toolStatuses = [];
      new MutationObserver(() => {
        const text = document.querySelector("[data-testid=text-tool-status]").textContent;
        if (text) window.toolStatuses.push(text);
      }).observe(document.querySelector("[data-testid=text-tool-status]"),
                 {childList: true, characterData: true, subtree: true});
    }""")
    page.get_by_test_id("button-start-voice-chat").click()
    expect(page.get_by_test_id("text-voice-status")).to_have_text("Live Voice Chat")
    try:
        follow_the_requests(page)
    except AssertionError:
        print(
            "conversation:",
            page.evaluate(
                "window.mrblueVoice.conversation.list().map(m => `${m.role}: ${m.text}`)"
            ),
        )
        raise
    page.get_by_test_id("button-stop-voice-chat").click()

    page.reload()
    expect(page.locator("[data-block-id=heading]")).to_have_css("color", BLUE)
    assert page.locator(".block").count() == len(BLOCKS)
    page.get_by_test_id("tab-history").click()
    expect(page.get_by_test_id("list-revisions")).to_contain_text("undo of revision")
    close_settled(context)


def follow_the_requests(page):
    """Each spoken request, carried out (or explained) in turn."""

    heading = page.locator("[data-block-id=heading]")
    expect(heading).to_have_css("color", BLUE)
    expect(
        page.get_by_test_id("message-assistant").filter(has_text="The heading is blue now")
    ).to_be_visible()
    assert "Changing the colour of the heading…" in page.evaluate("window.toolStatuses")

    sign_up = page.locator(".block-button", has_text=re.compile("sign up", re.I))
    # New words for the page are read back when the audio supports them weakly: the panel's
    # guess is answered with its button (the request is the spoken one, as heard).
    guess = page.get_by_test_id("guess")
    expect(sign_up.or_(guess)).to_be_visible()
    if guess.is_visible():
        expect(page.get_by_test_id("text-guess")).to_contain_text(re.compile("sign up", re.I))
        page.get_by_test_id("button-guess-yes").click()
    expect(sign_up).to_be_visible()
    expect(sign_up).to_be_hidden()  # "Please undo that." took it away again
    expect(heading).to_have_css("color", BLUE)  # the earlier change stays

    expect(
        page.get_by_test_id("message-assistant").filter(
            has_text="couldn't find the third paragraph"
        )
    ).to_be_visible()
    assert page.locator(".block").count() == len(BLOCKS)


def test_undo_and_redo_buttons(daphne_server, speaking_browser, make_page, make_user):
    make_page("mundo-tango", "Mundo Tango", blocks=BLOCKS)
    make_user("editor", perms=("editor.change_page", "editor.view_page"))
    context = speaking_browser.new_context()
    page = context.new_page()
    log_in(page, daphne_server.url, "editor")
    page.goto(f"{daphne_server.url}/editor/mundo-tango/")
    result = page.evaluate("""async () => {
      const tools = await import("/static/editor/page-tools.js");
      return tools.runCall({name: "update_text", callId: "c1",
                           arguments: JSON.stringify({block_id: "intro", text: "Changed"})});
    }""")
    assert result["ok"]
    intro = page.locator("[data-block-id=intro]")
    expect(intro).to_have_text("Changed")
    page.get_by_test_id("button-undo").click()
    expect(intro).to_have_text("Tango classes for all.")
    page.get_by_test_id("button-redo").click()
    expect(intro).to_have_text("Changed")
    page.get_by_test_id("button-redo").click()
    expect(page.get_by_test_id("text-editor-message")).to_have_text("There is nothing to redo.")
    page.get_by_test_id("tab-history").click()
    first = page.locator("[data-testid^=button-restore-]").last
    first.click()
    expect(intro).to_have_text("Tango classes for all.")
    close_settled(context)
