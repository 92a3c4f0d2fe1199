"""The admin's console ("Try it here") in headless Chromium, against a live Daphne and the
built-in engine: spoken and typed requests change only the scratch preview, with the settings
on the form even before they are saved."""

import re

import pytest
from playwright.sync_api import expect

from editor.models import Page, PageRevision
from mrblue.models import AssistantProfile, Conversation, PageAssistant
from tests.assistant.test_admin_console import PAGE_PERMS, PROFILE_PERMS
from tests.support.audio_fixtures import silence, spoken, write_wav
from tests.support.browser import close_settled, launch, playwright_session
from tests.support.live import ROOT

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
ARTIFACTS = ROOT / "test-artifacts"
BLOCKS = [
    {"id": "heading", "type": "heading", "text": "Mundo Tango", "style": {}},
    {"id": "intro", "type": "paragraph", "text": "Tango classes for all levels.", "style": {}},
    {"id": "cta", "type": "button", "text": "Join a class", "style": {}},
]
BLUE = "rgb(30, 136, 229)"  # "blue" as the page tools have it (#1e88e5)
RED = "rgb(229, 57, 53)"  # "red" (#e53935)


@pytest.fixture(scope="module")
def playwright():
    with playwright_session() as session:
        yield session


@pytest.fixture(scope="module")
def asking_browser(playwright, tmp_path_factory):
    """Chromium whose microphone asks for a blue heading, then stays quiet for a long while."""
    path = tmp_path_factory.mktemp("audio") / "blue.wav"
    write_wav(path, silence(1.0) + spoken("Make the heading blue.") + silence(40.0))
    browser = launch(playwright, f"--use-file-for-fake-audio-capture={path}")
    yield browser
    browser.close()


@pytest.fixture
def admin_page(daphne_server, make_page, make_user, make_profile):
    """Returns a function opening a change form in the admin, logged in as staff with `perms`."""
    make_profile(name="Mr. Blue", is_default=True)
    make_page("mundo-tango", "Mundo Tango", blocks=BLOCKS)
    contexts = []

    def open_admin(browser, path, perms, username="staff"):
        make_user(username, perms=perms, staff=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(40_000)
        page.goto(f"{daphne_server.url}/admin/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "pw-12345!")
        page.click("input[type=submit]")
        page.goto(f"{daphne_server.url}{path}")
        return page

    yield open_admin
    for context in contexts:
        close_settled(context)


def saved(page):
    """What the console must leave alone: the page's content, its revisions, its settings."""
    page = Page.objects.get(pk=page.pk)
    revisions = list(PageRevision.objects.filter(page=page).values_list("pk", "content"))
    assistant = list(PageAssistant.objects.filter(page=page).values("profile", "instructions"))
    return page.title, page.content, revisions, assistant


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("[data-testid=console]").screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_a_spoken_request_changes_only_the_scratch_preview(
    daphne_server, asking_browser, admin_page
):
    tango = Page.objects.get(slug="mundo-tango")
    before = saved(tango)
    page = admin_page(asking_browser, f"/admin/editor/page/{tango.pk}/change/", PAGE_PERMS)
    # Changed on the form, not saved.
    page.fill("textarea[name=assistant-0-instructions]", "Answer like a tango teacher.")
    console = page.get_by_test_id("console")
    preview = console.get_by_test_id("scratch-canvas")
    heading = preview.locator("[data-block-id=heading]")
    expect(heading).to_have_text("Mundo Tango")
    console.get_by_test_id("button-start-voice-chat").click()
    expect(console.get_by_test_id("text-voice-status")).to_have_text("Live Voice Chat")

    expect(heading).to_have_css("color", BLUE, timeout=90_000)
    expect(console.get_by_test_id("message-user").first).to_contain_text(
        re.compile("heading blue", re.I)
    )
    expect(
        console.get_by_test_id("message-assistant").filter(has_text="The heading is blue now")
    ).to_be_visible()
    # The trial as the conversation page shows it: what was said, the tool call, the timing.
    record = console.get_by_test_id("console-record")
    expect(record.get_by_test_id("trial-tool-calls")).to_contain_text("update_style")
    expect(record.get_by_test_id("trial-dialogue")).to_contain_text("The heading is blue now")
    expect(record.locator(".mrblue-latency-chart .mrblue-turn")).not_to_have_count(0)
    page.locator("[data-testid=console]").scroll_into_view_if_needed()
    screenshot(page, "docs-console")  # the admin documentation's (tests/support/docs_images.py)

    console.get_by_test_id("button-stop-voice-chat").click()
    expect(console.get_by_test_id("text-log-status")).to_have_text("Conversation saved")
    assert saved(tango) == before  # the live page, its revisions and its settings
    trial = Conversation.objects.get()
    assert trial.trial and trial.page_id == tango.pk
    assert trial.session["instructions"].endswith("Answer like a tango teacher.")
    assert trial.log.filter(type="tool_call", payload__name="update_style").exists()
    # The form was never saved: reloading shows the saved (empty) instructions again.
    page.reload()
    expect(page.locator("textarea[name=assistant-0-instructions]")).to_have_value("")
    expect(page.get_by_test_id("scratch-canvas").locator("[data-block-id=heading]")).to_have_css(
        "color", "rgb(27, 31, 36)"
    )


def test_a_typed_request_tries_an_unsaved_profile(daphne_server, asking_browser, admin_page):
    tango = Page.objects.get(slug="mundo-tango")
    profile = AssistantProfile.objects.get()
    before = saved(tango)
    page = admin_page(
        asking_browser,
        f"/admin/mrblue/assistantprofile/{profile.pk}/change/",
        (*PROFILE_PERMS, "editor.view_page"),
    )
    page.select_option("select[name=voice]", "echo")  # not saved
    console = page.get_by_test_id("console")
    expect(console.get_by_test_id("select-scratch-page")).to_have_value(str(tango.pk))
    heading = console.get_by_test_id("scratch-canvas").locator("[data-block-id=heading]")
    expect(heading).to_have_text("Mundo Tango")
    console.get_by_test_id("toggle-text-only").check()
    console.get_by_test_id("button-start-voice-chat").click()
    expect(console.get_by_test_id("text-voice-status")).to_have_text("Live Text Chat")
    console.get_by_test_id("input-message").fill("Make the heading red.")
    console.get_by_test_id("input-message").press("Enter")
    expect(heading).to_have_css("color", RED)
    expect(console.get_by_test_id("message-assistant").last).to_contain_text("red")
    record = console.get_by_test_id("console-record")
    expect(record.get_by_test_id("trial-tool-calls")).to_contain_text('"color": "red"')
    screenshot(page, "admin-console-profile")

    # The preview's own Undo and Redo: the scratch copy's history.
    console.get_by_test_id("button-scratch-undo").click()
    expect(heading).not_to_have_css("color", RED)
    console.get_by_test_id("button-scratch-redo").click()
    expect(heading).to_have_css("color", RED)
    console.get_by_test_id("button-scratch-reset").click()
    expect(heading).not_to_have_css("color", RED)
    console.get_by_test_id("button-scratch-undo").click()
    expect(console.get_by_test_id("text-scratch-message")).to_have_text("There is nothing to undo.")

    console.get_by_test_id("button-stop-voice-chat").click()
    expect(console.get_by_test_id("text-log-status")).to_have_text("Conversation saved")
    assert saved(tango) == before
    profile.refresh_from_db()
    assert profile.voice != "echo"
    trial = Conversation.objects.get()
    assert trial.trial and trial.profile == profile
    assert trial.session["audio"]["output"]["voice"] == "echo"


def test_settings_that_would_not_save_are_explained_in_the_console(
    daphne_server, asking_browser, admin_page
):
    tango = Page.objects.get(slug="mundo-tango")
    page = admin_page(asking_browser, f"/admin/editor/page/{tango.pk}/change/", PAGE_PERMS)
    page.fill("textarea[name=assistant-0-instructions]", "Hello {% if %}")
    console = page.get_by_test_id("console")
    console.get_by_test_id("toggle-text-only").check()
    console.get_by_test_id("button-start-voice-chat").click()
    expect(console.get_by_test_id("text-voice-error")).to_contain_text(
        "These settings would not save"
    )
    expect(console.get_by_test_id("text-voice-error")).to_contain_text("Template error")
    expect(console.get_by_test_id("text-voice-status")).to_have_text("Ready to help")
    assert not Conversation.objects.exists()


def test_no_console_for_staff_who_may_only_view_the_page(daphne_server, asking_browser, admin_page):
    tango = Page.objects.get(slug="mundo-tango")
    page = admin_page(
        asking_browser, f"/admin/editor/page/{tango.pk}/change/", ("editor.view_page",)
    )
    expect(page.locator("#content h2").first).to_be_visible()  # the (read-only) page is there
    expect(page.get_by_test_id("console")).to_have_count(0)
    expect(page.get_by_test_id("link-try-it")).to_have_count(0)
