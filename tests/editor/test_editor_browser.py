"""The editor in a real headless Chromium against a live Daphne."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_editor_selects_the_heading_and_opens_the_ai_tab(
    daphne_server, browser_page, login, make_page, editor_user
):
    make_page(
        "mundo-tango",
        "Mundo Tango",
        blocks=[
            {"id": "heading", "type": "heading", "text": "Mundo Tango", "style": {}},
            {"id": "intro", "type": "paragraph", "text": "Tango every week.", "style": {}},
        ],
    )
    page = browser_page
    login(page, "editor")
    page.click("[data-testid=link-page-mundo-tango]")
    page.wait_for_url(f"{daphne_server.url}/editor/mundo-tango/")
    heading = page.locator("[data-block-id=heading]")
    heading.click()
    expect(heading).to_have_class("block block-heading is-selected")
    expect(page.get_by_test_id("text-selected")).to_have_text('Selected: heading "Mundo Tango"')
    page.locator("[data-block-id=intro]").click()
    expect(heading).not_to_have_class("block block-heading is-selected")
    expect(page.get_by_test_id("text-selected")).to_have_text(
        'Selected: paragraph "Tango every week."'
    )
    expect(page.get_by_test_id("voice-panel")).to_be_hidden()
    page.get_by_test_id("tab-ai").click()
    expect(page.get_by_test_id("tab-ai")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("voice-panel")).to_be_visible()
    expect(page.get_by_test_id("text-voice-status")).to_have_text("Ready to help")


def test_anonymous_browser_lands_on_the_login_page(daphne_server, browser_page, make_page):
    make_page()
    browser_page.goto(f"{daphne_server.url}/editor/home/")
    expect(browser_page.get_by_test_id("button-login")).to_be_visible()
    assert "/accounts/login/?next=/editor/home/" in browser_page.url
