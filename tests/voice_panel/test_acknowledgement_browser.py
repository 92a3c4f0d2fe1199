"""No dead air before a page edit: in the editor, Mr. Blue (the `commands` brain) says what it
is about to do before it calls the page tools, and the conversation's log has it in that
order (Chromium, a live Daphne, the engine, the editor's real tools)."""

import pytest
from playwright.sync_api import expect

from tests.voice_panel import test_voice_panel_browser as panel

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
playwright = panel.playwright
denying_browser = panel.denying_browser
editor_page = panel.editor_page
ACKNOWLEDGEMENT = "Sure, making the heading blue."


def test_the_acknowledgement_comes_before_the_tool_calls_and_the_log_keeps_that_order(
    daphne_server, denying_browser, editor_page
):
    from editor.models import Page
    from mrblue.models import Conversation, LogMessage

    page = editor_page(denying_browser)
    panel.start_text_chat(page)
    page.get_by_test_id("input-message").fill("Make the heading blue.")
    page.keyboard.press("Enter")
    said = page.get_by_test_id("message-assistant")
    expect(said.first.locator("p")).to_have_text(ACKNOWLEDGEMENT, timeout=30_000)
    expect(said.filter(has_text="is blue now")).to_be_visible()
    page.get_by_test_id("button-stop-voice-chat").click()
    expect(page.get_by_test_id("text-log-status")).to_have_text("Conversation saved")

    heading = next(b for b in Page.objects.get(slug="mundo-tango").content if b["id"] == "heading")
    assert heading["style"]["color"] == "#1e88e5"  # the editor's blue
    conversation = Conversation.objects.latest("started_at")
    log = [
        (m.type, m.payload.get("name") or m.payload.get("text"))
        for m in LogMessage.objects.filter(
            conversation=conversation, type__in=("transcript", "tool_call")
        )
    ]
    spoken = [text for kind, text in log if kind == "transcript"]
    assert spoken[:2] == ["Make the heading blue.", ACKNOWLEDGEMENT], log
    order = [entry for entry in log if entry[0] == "tool_call" or entry[1] == ACKNOWLEDGEMENT]
    assert order == [
        ("transcript", ACKNOWLEDGEMENT),
        ("tool_call", "describe_page"),
        ("tool_call", "update_style"),
    ], log
    assert "is blue now" in spoken[-1]
