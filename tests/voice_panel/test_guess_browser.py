"""A guess to confirm, in the editor's panel: Mr. Blue's "Did you mean ...?" comes with
buttons, and "Yes, do it" carries the guess out on the page; "No" leaves the page alone."""

import pytest
from playwright.sync_api import expect

from tests.support.browser import close_settled, launch, log_in, playwright_session
from tests.support.live import ROOT, serving

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
BLUE = "rgb(30, 136, 229)"
BLOCKS = [
    {"id": "heading", "type": "heading", "text": "Mundo Tango", "style": {}},
    {"id": "cta", "type": "button", "text": "Join a class", "style": {}},
]


@pytest.fixture(scope="module")
def unsure_server(django_db_setup, django_db_blocker):
    """A server whose brain asks to confirm every new request (the real brain's answers)."""
    env = {"MRBLUE_ENGINE_BRAIN": "tests.support.brains.GuessingBrain"}
    with serving(django_db_blocker, env) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    with playwright_session() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


def open_text_chat(browser, server, make_page, make_user):
    """The Mundo Tango editor, logged in, with a text-only call to Mr. Blue started."""
    make_page("mundo-tango", "Mundo Tango", blocks=BLOCKS)
    make_user("editor", perms=("editor.change_page", "editor.view_page"))
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(30_000)
    log_in(page, server.url, "editor")
    page.goto(f"{server.url}/editor/mundo-tango/")
    page.get_by_test_id("tab-ai").click()
    page.get_by_test_id("toggle-text-only").check()
    page.get_by_test_id("button-start-voice-chat").click()
    expect(page.get_by_test_id("text-voice-status")).to_have_text("Live Text Chat")
    return context, page


def ask(page, request):
    """Send `request`; wait for the guess to be shown."""
    page.get_by_test_id("input-message").fill(request)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("text-guess")).to_have_text("Did you mean: make the heading blue?")


def test_yes_does_the_guess_and_no_leaves_the_page_alone(
    unsure_server, browser, make_page, make_user
):
    context, page = open_text_chat(browser, unsure_server, make_page, make_user)
    heading = page.locator("[data-block-id=heading]")
    ask(page, "Make the heading blew.")
    page.get_by_test_id("button-guess-no").click()
    expect(page.get_by_test_id("guess")).to_be_hidden()
    expect(page.get_by_test_id("message-user").last).to_contain_text("No.")
    expect(page.get_by_test_id("message-assistant").last).to_contain_text("changed nothing")
    assert heading.evaluate("el => getComputedStyle(el).color") != BLUE

    ask(page, "Make the heading blew.")
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    page.screenshot(path=str(ROOT / "test-artifacts" / "voice-panel-guess.png"))
    page.get_by_test_id("button-guess-yes").click()
    expect(page.get_by_test_id("guess")).to_be_hidden()
    expect(page.get_by_test_id("message-user").last).to_contain_text("Yes.")
    expect(heading).to_have_css("color", BLUE)
    page.get_by_test_id("button-stop-voice-chat").click()
    close_settled(context)
