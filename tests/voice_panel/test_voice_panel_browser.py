"""The voice panel in the editor, in headless Chromium against a live Daphne and the engine."""

import contextlib
import re

import pytest
from playwright.sync_api import expect

from tests.support.audio_fixtures import silence, spoken, utterance, write_wav
from tests.support.browser import close_settled, launch, log_in, playwright_session
from tests.support.live import ROOT, serving

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
ARTIFACTS = ROOT / "test-artifacts"
LONG_QUESTION = "What can you do?"


@contextlib.contextmanager
def hearing(playwright, tmp_path_factory, name, pcm):
    """Chromium whose fake microphone plays `pcm` (made here, looped by Chromium)."""
    path = tmp_path_factory.mktemp("audio") / name
    write_wav(path, pcm)
    browser = launch(playwright, f"--use-file-for-fake-audio-capture={path}")
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="module")
def playwright():
    with playwright_session() as session:
        yield session


@pytest.fixture(scope="module")
def greeting_browser(playwright, tmp_path_factory):
    """Chromium whose microphone says hello, then stays quiet for a while."""
    pcm = utterance("Hello Mister Blue.", 1.0, 12.0)
    with hearing(playwright, tmp_path_factory, "hello.wav", pcm) as browser:
        yield browser


@pytest.fixture(scope="module")
def interrupting_browser(playwright, tmp_path_factory):
    """Chromium whose microphone asks a question, then talks over the answer."""
    pcm = (
        silence(1.0) + spoken(LONG_QUESTION) + silence(2.2) + spoken("Wait, stop.") + silence(12.0)
    )
    with hearing(playwright, tmp_path_factory, "interrupt.wav", pcm) as browser:
        yield browser


@pytest.fixture(scope="module")
def late_greeting_browser(playwright, tmp_path_factory):
    """Chromium whose microphone waits three seconds, says hello, then stays quiet."""
    pcm = utterance("Hello Mister Blue.", 3.0, 12.0)
    with hearing(playwright, tmp_path_factory, "late-hello.wav", pcm) as browser:
        yield browser


@pytest.fixture(scope="module")
def pausing_browser(playwright, tmp_path_factory):
    """Chromium whose microphone says a sentence with a pause at its comma, then is quiet."""
    pcm = utterance("Make the heading blue, then add a button that says Sign up.", 1.0, 12.0)
    with hearing(playwright, tmp_path_factory, "pause.wav", pcm) as browser:
        yield browser


@pytest.fixture(scope="module")
def denying_browser(playwright):
    """Chromium that refuses the microphone (no fake consent)."""
    browser = launch(playwright, exclude=("--use-fake-ui-for-media-stream",))
    yield browser
    browser.close()


@pytest.fixture
def editor_page(daphne_server, make_user, make_page):
    """Returns a function opening the Mundo Tango editor, logged in, on the AI tab."""
    make_page(
        "mundo-tango",
        "Mundo Tango",
        blocks=[
            {"id": "heading", "type": "heading", "text": "Mundo Tango", "style": {}},
            {"id": "cta", "type": "button", "text": "Join a class", "style": {}},
        ],
    )
    make_user("editor", perms=("editor.change_page", "editor.view_page"))
    contexts = []

    def open_editor(browser, width=1280, server=daphne_server):
        context = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        log_in(page, server.url, "editor")
        page.goto(f"{server.url}/editor/mundo-tango/")
        page.get_by_test_id("tab-ai").click()
        return page

    yield open_editor
    for context in contexts:
        close_settled(context)


def start_text_chat(page):
    """Start a text-only call (over the WebSocket) in the open editor's panel."""
    page.get_by_test_id("toggle-text-only").check()
    page.get_by_test_id("button-start-voice-chat").click()
    expect(page.get_by_test_id("text-voice-status")).to_have_text("Live Text Chat")


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def remote_level(page):
    """Start measuring the remote audio's peak level in the page."""
    page.evaluate("""() => {
      window.remotePeak = 0;
      const audio = document.querySelector("[data-testid=audio-remote]");
      const ctx = new AudioContext();
      const analyser = ctx.createAnalyser();
      ctx.createMediaStreamSource(audio.srcObject).connect(analyser);
      const buffer = new Float32Array(analyser.fftSize);
      setInterval(() => {
        analyser.getFloatTimeDomainData(buffer);
        for (const v of buffer) window.remotePeak = Math.max(window.remotePeak, Math.abs(v));
      }, 20);
    }""")


def test_a_voice_conversation_in_the_editor(daphne_server, greeting_browser, editor_page):
    page = editor_page(greeting_browser)
    status = page.get_by_test_id("text-voice-status")
    expect(status).to_have_text("Ready to help")
    screenshot(page, "voice-panel-idle")
    page.get_by_test_id("button-start-voice-chat").click()
    expect(status).to_have_text("Live Voice Chat")
    expect(page.get_by_test_id("indicator-listening")).to_be_visible()
    expect(page.get_by_test_id("indicator-listening")).to_contain_text("Listening…")
    remote_level(page)
    you = page.get_by_test_id("message-user").first
    expect(you).to_contain_text("You")
    expect(you).to_contain_text(re.compile("hello", re.I))
    answer = page.get_by_test_id("message-assistant").first
    expect(answer).to_contain_text("Mr. Blue")
    expect(answer.locator("p")).not_to_be_empty()  # its words (they depend on what was heard)
    page.wait_for_function("window.remotePeak > 0.05")  # the answer was heard
    screenshot(page, "voice-panel-live")

    page.get_by_test_id("input-message").fill("What can you do?")
    page.get_by_test_id("button-send-message").click()
    expect(page.get_by_test_id("message-user").filter(has_text="What can you do?")).to_be_visible()
    expect(
        page.get_by_test_id("message-assistant").filter(has_text="add, move or delete blocks")
    ).to_be_visible()

    call_id = page.evaluate("window.mrblueVoice.transport.callId")
    page.get_by_test_id("button-stop-voice-chat").click()
    expect(status).to_have_text("Ready to help")
    expect(page.get_by_test_id("button-start-voice-chat")).to_be_visible()
    assert page.evaluate("window.mrblueVoice.transport") is None
    assert page.evaluate("window.mrblueVoice.microphone") is None
    daphne_server.wait_for_output(f"call {call_id} closed")
    expect(page.get_by_test_id("text-log-status")).to_have_text("Conversation saved")
    # The call is listed at once, without a reload.
    expect(page.get_by_test_id("list-conversations")).to_contain_text("What can you do?")
    show_in_admin(greeting_browser, daphne_server)


def test_the_panel_shows_the_words_forming_then_the_final_transcript(
    daphne_server, pausing_browser, editor_page, make_profile
):
    # The comma's pause (~450 ms over WebRTC, near the default 500 ms that ends a turn) must
    # not end the turn here: this test is about the words shown while it lasts.
    make_profile(name="Patient", vad_silence_duration_ms=900, is_default=True)
    page = editor_page(pausing_browser)
    page.evaluate("""() => {
      window.forming = [];
      new MutationObserver(() => {
        for (const li of document.querySelectorAll("[data-testid=message-user]")) {
          if (li.dataset.final === "false") window.forming.push(li.querySelector("p").textContent);
        }
      }).observe(document.body, { childList: true, subtree: true, characterData: true });
    }""")
    page.get_by_test_id("button-start-voice-chat").click()
    # The microphone says it twice (Chromium loops the file): the first time the speech
    # models may still be loading, and a pause's recognition that has not started by the
    # end of the turn is dropped, so only the second is sure to show partial words.
    you = page.get_by_test_id("message-user")
    expect(you.nth(1)).to_have_attribute("data-final", "true", timeout=90_000)
    for said in (you.nth(0), you.nth(1)):
        expect(said).to_contain_text(re.compile("heading blue.*sign up", re.I))
        assert "message-forming" not in (said.get_attribute("class") or "")
    forming = page.evaluate("window.forming")
    # The first half was shown, in the forming style, before the whole sentence was known.
    partial = [text for text in forming if re.search("heading blue", text, re.I)]
    assert partial and not re.search("sign up", partial[0], re.I), forming


def show_in_admin(browser, server):
    """The conversation just held is in the admin: both sides, in order, with its usage."""
    from mrblue.models import Conversation
    from tests.conftest import make_superuser

    make_superuser("root")
    conversation = Conversation.objects.latest("started_at")
    assert conversation.ended_at is not None
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server.url}/admin/login/")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", "pw-12345!")
    page.click("input[type=submit]")
    page.goto(f"{server.url}/admin/mrblue/conversation/{conversation.pk}/change/")
    dialogue = page.locator(".field-dialogue").inner_text()
    hello = dialogue.lower().index("you: hello")
    greeting = dialogue.index("Mr. Blue: ", hello)
    asked = dialogue.index("You: What can you do?")
    assert hello < greeting < asked
    tokens = int(page.locator(".field-tokens .readonly").inner_text())
    assert tokens > 0
    screenshot(page, "admin-conversation")
    close_settled(context)


def test_talking_over_mr_blue_cuts_the_answer(daphne_server, interrupting_browser, editor_page):
    page = editor_page(interrupting_browser)
    page.get_by_test_id("button-start-voice-chat").click()
    expect(page.get_by_test_id("text-voice-status")).to_have_text("Live Voice Chat")
    cut = page.locator("[data-testid=message-assistant][data-interrupted=true]").first
    expect(cut).to_contain_text("(interrupted)")
    # The words shown stop where the interruption cut the audio, also when it fell between
    # clauses (the brain's words are all written before the second clause is synthesized).
    full = "I can change text, colours, backgrounds, sizes and alignment"
    expect(cut).not_to_contain_text(full + ", add, move or delete blocks, and undo or redo.")
    page.get_by_test_id("button-stop-voice-chat").click()


def record_loudest_level(page):
    """Record, in the page, the highest level the microphone meter shows from now on; returns
    the expression that reads it (in percent).

    The meter shows the peak of each 50 ms of sound, so during speech it jumps between a few
    percent and 100% from one reading to the next; polling it (as `expect` does, every 500 ms
    or slower on a busy machine) can land on the low readings all through a one-second
    utterance. Every change is seen here, so the loud ones are not missed."""
    page.evaluate("""() => {
      window.loudestLevel = 0;
      const meter = document.querySelector("[data-testid=meter-level]");
      new MutationObserver(() => {
        window.loudestLevel = Math.max(window.loudestLevel, parseInt(meter.style.width, 10) || 0);
      }).observe(meter, { attributes: true, attributeFilter: ["style"] });
    }""")
    return "window.loudestLevel"


def test_push_to_talk(daphne_server, late_greeting_browser, editor_page, make_profile):
    make_profile(name="Push to talk", turn_detection="none", is_default=True)
    page = editor_page(late_greeting_browser)
    page.get_by_test_id("button-start-voice-chat").click()
    expect(page.get_by_test_id("text-voice-status")).to_have_text("Live Voice Chat")
    talk = page.get_by_test_id("button-push-to-talk")
    expect(talk).to_have_text("Hold to talk")
    expect(page.get_by_test_id("indicator-listening")).to_be_hidden()
    talk.hover()
    page.mouse.down()
    expect(talk).to_have_attribute("aria-pressed", "true")
    loudest = record_loudest_level(page)
    expect(talk).to_have_text("Release to send")
    expect(page.get_by_test_id("indicator-listening")).to_be_visible()
    page.wait_for_function(f"{loudest} >= 50")  # speech, heard while the button is held
    expect(page.get_by_test_id("meter-level")).to_have_attribute("style", "width: 0%;")  # quiet
    page.mouse.up()
    expect(talk).to_have_attribute("aria-pressed", "false")
    you = page.get_by_test_id("message-user").first
    expect(you).to_contain_text(re.compile("hello", re.I))
    expect(page.get_by_test_id("message-assistant").first.locator("p")).not_to_be_empty()
    screenshot(page, "voice-panel-push-to-talk")


def test_a_denied_microphone_is_explained(daphne_server, denying_browser, editor_page):
    page = editor_page(denying_browser)
    page.get_by_test_id("button-start-voice-chat").click()
    error = page.get_by_test_id("text-voice-error")
    expect(error).to_contain_text("microphone access was blocked")
    expect(page.get_by_test_id("text-voice-status")).to_have_text("Ready to help")
    assert page.evaluate("window.mrblueVoice.transport") is None
    screenshot(page, "voice-panel-error")


def test_a_failing_session_endpoint_is_explained(daphne_server, greeting_browser, editor_page):
    page = editor_page(greeting_browser)
    page.route(
        "**/api/realtime/session",
        lambda route: route.fulfill(
            status=503,
            content_type="application/json",
            headers={"Retry-After": "5"},
            body='{"error": {"code": "provider_rate_limited", "message": "busy"}}',
        ),
    )
    page.get_by_test_id("button-start-voice-chat").click()
    expect(page.get_by_test_id("text-voice-error")).to_contain_text("very busy right now")
    expect(page.get_by_test_id("text-voice-status")).to_have_text("Ready to help")
    assert page.evaluate("window.mrblueVoice.microphone") is None


@pytest.fixture(scope="module")
def full_server(django_db_setup, django_db_blocker):
    """A server whose engine takes no more calls."""
    with serving(django_db_blocker, {"MRBLUE_ENGINE_MAX_SESSIONS": "0"}) as server:
        yield server


def test_a_refused_call_is_explained(full_server, greeting_browser, editor_page):
    page = editor_page(greeting_browser, server=full_server)
    page.get_by_test_id("button-start-voice-chat").click()
    expect(page.get_by_test_id("text-voice-error")).to_contain_text("too many people")
    expect(page.get_by_test_id("text-voice-status")).to_have_text("Ready to help")
    assert page.evaluate("window.mrblueVoice.transport") is None


def test_text_only_mode_over_websocket(daphne_server, denying_browser, editor_page):
    page = editor_page(denying_browser, width=320)  # no microphone needed, and a phone width
    start_text_chat(page)
    assert page.evaluate("window.mrblueVoice.transport.kind") == "websocket"
    page.get_by_test_id("input-message").fill("hello")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("message-assistant").first).to_contain_text("Hi! I'm Mr. Blue")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 330, f"the page scrolls sideways at 320 px ({width} px)"
    page.get_by_test_id("button-stop-voice-chat").click()
    expect(page.get_by_test_id("text-voice-status")).to_have_text("Ready to help")


def test_a_dropped_call_reconnects_and_keeps_the_conversation(
    daphne_server, denying_browser, editor_page
):
    page = editor_page(denying_browser)
    start_text_chat(page)
    page.get_by_test_id("input-message").fill("hello")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("message-assistant").first).to_contain_text("Hi!")
    said = page.evaluate("window.mrblueVoice.conversation.list().map((m) => m.id)")
    page.evaluate("""() => {
      window.received = [];
      const panel = window.mrblueVoice;
      const onEvent = panel.onEvent.bind(panel);
      panel.onEvent = (event) => { window.received.push(event); onEvent(event); };
    }""")
    page.evaluate("window.mrblueVoice.transport.close()")  # the network drops
    expect(page.get_by_test_id("text-voice-status")).to_have_text("Reconnecting…")
    expect(page.get_by_test_id("text-voice-status")).to_have_text("Live Text Chat")
    expect(page.get_by_test_id("message-assistant").first).to_contain_text("Hi!")
    # The new session was told what was said, under the same ids, and nothing shows twice.
    page.wait_for_function(
        """(ids) => ids.every((id) => window.received.some(
             (e) => e.type === "conversation.item.added" && e.item.id === id))""",
        arg=said,
    )
    assert len(said) == 2
    expect(page.get_by_test_id("message-user")).to_have_count(1)
    expect(page.get_by_test_id("message-assistant")).to_have_count(1)


def record_sent(page):
    """Record every event the panel sends to the provider."""
    page.evaluate("""() => {
      window.sent = [];
      const transport = window.mrblueVoice.transport;
      const send = transport.send.bind(transport);
      transport.send = (event) => { window.sent.push(event); send(event); };
    }""")


def test_selecting_a_block_updates_the_instructions(daphne_server, denying_browser, editor_page):
    page = editor_page(denying_browser)
    start_text_chat(page)
    record_sent(page)
    page.locator("[data-block-id=cta]").click()
    page.wait_for_function("window.sent.some(e => e.type === 'session.update')")
    update = page.evaluate("window.sent.find(e => e.type === 'session.update')")
    assert update["session"]["type"] == "realtime"
    assert 'button "Join a class" (id cta)' in update["session"]["instructions"]


def test_an_expired_secret_is_reminted_without_a_word(daphne_server, greeting_browser, editor_page):
    page = editor_page(greeting_browser)
    refusals = []

    def first_call_expired(route):
        if not refusals:
            refusals.append(route.request.url)
            return route.fulfill(
                status=401,
                content_type="application/json",
                body='{"error": {"code": "invalid_api_key", "message": "x"}}',
            )
        return route.continue_()

    page.route("**/v1/realtime/calls", first_call_expired)
    page.get_by_test_id("button-start-voice-chat").click()
    expect(page.get_by_test_id("text-voice-status")).to_have_text("Live Voice Chat")
    expect(page.get_by_test_id("text-voice-error")).to_be_hidden()
    assert len(refusals) == 1
    page.get_by_test_id("button-mute").click()
    expect(page.get_by_test_id("button-mute")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("indicator-listening")).to_be_hidden()
    page.get_by_test_id("button-stop-voice-chat").click()


def test_the_log_survives_a_reload_while_the_server_is_unreachable(
    daphne_server, denying_browser, editor_page
):
    from mrblue.models import Conversation, LogMessage

    page = editor_page(denying_browser)
    page.route_web_socket("**/ws/mrblue/conversations/**", lambda ws: None)  # goes nowhere
    start_text_chat(page)
    page.get_by_test_id("input-message").fill("hello")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("message-assistant").first).to_contain_text("Hi!")
    page.get_by_test_id("button-stop-voice-chat").click()
    expect(page.get_by_test_id("text-log-status")).to_have_text("Saving conversation…")
    waiting = page.evaluate("""Object.keys(localStorage)
        .filter(k => k.startsWith("mrblue-outbox-"))
        .map(k => JSON.parse(localStorage.getItem(k)).pending.length)""")
    assert waiting and waiting[0] >= 3  # both transcripts and the end, at least
    conversation = Conversation.objects.latest("started_at")
    assert not LogMessage.objects.filter(conversation=conversation).exists()

    fresh = page.context.new_page()  # the same browser profile, the server reachable again
    fresh.goto(f"{daphne_server.url}/editor/mundo-tango/")
    fresh.get_by_test_id("tab-ai").click()
    expect(fresh.get_by_test_id("text-log-status")).to_have_text("Conversation saved")
    kinds = set(LogMessage.objects.filter(conversation=conversation).values_list("type", flat=True))
    assert {"transcript", "end"} <= kinds
    texts = list(conversation.transcript.values_list("role", "text"))
    assert texts[0] == ("user", "hello") and texts[1][0] == "assistant"
    assert (
        fresh.evaluate(
            "Object.keys(localStorage).filter(k => k.startsWith('mrblue-outbox-')).length"
        )
        == 0
    )
