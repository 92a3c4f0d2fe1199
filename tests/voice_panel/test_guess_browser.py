"""A guess to confirm, in the editor's panel: Mr. Blue's "Did you mean ...?" comes with
buttons, and "Yes, do it" carries the guess out on the page; "No" leaves the page alone."""

import pytest
from playwright.sync_api import expect

from tests.support.live import ROOT, serving
from tests.voice_panel import test_voice_panel_browser as panel

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
playwright = panel.playwright
denying_browser = panel.denying_browser
editor_page = panel.editor_page
BLUE = "rgb(30, 136, 229)"


@pytest.fixture(scope="module")
def unsure_server(django_db_setup, django_db_blocker):
    """A server whose brain asks to confirm every new request (the real brain's answers)."""
    env = {"MRBLUE_ENGINE_BRAIN": "tests.support.brains.GuessingBrain"}
    with serving(django_db_blocker, env) as server:
        yield server


def ask(page, request):
    """Send `request`; wait for the guess to be shown."""
    page.get_by_test_id("input-message").fill(request)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("text-guess")).to_have_text("Did you mean: make the heading blue?")


def test_yes_does_the_guess_and_no_leaves_the_page_alone(
    unsure_server, denying_browser, editor_page
):
    page = editor_page(denying_browser, server=unsure_server)
    panel.start_text_chat(page)
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
