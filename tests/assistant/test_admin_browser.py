"""The admin as the place to shape Mr. Blue, in headless Chromium against a live Daphne: a voice
sample plays, the preview reads as text with its JSON collapsed, the conversation list filters
by page and outcome, a built-in engine conversation shows no charge, a page shows how editors
use Mr. Blue there, the editor's list says what each conversation was; only staff with the
right permission get in. Each page changed is saved to `test-artifacts/` as a screenshot."""

import base64
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from mrblue.models import Conversation, PageAssistant
from tests.conftest import make_superuser
from tests.support.audio_fixtures import read_wav
from tests.support.conversations import hold
from tests.support.live import ROOT

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
ARTIFACTS = ROOT / "test-artifacts"
BLOCKS = [
    {"id": "h1", "type": "heading", "text": "Mundo Tango", "style": {}},
    {
        "id": "p1",
        "type": "paragraph",
        "text": "Classes every Tuesday in Buenos Aires.",
        "style": {},
    },
    {"id": "cta", "type": "button", "text": "Join a class", "style": {}},
]
USAGE = {
    "input_token_details": {"audio_tokens": 420, "text_tokens": 180},
    "output_token_details": {"audio_tokens": 160, "text_tokens": 40},
}


def screenshot(page, name, full_page=True):
    """Save what the browser shows, for people to look at (`test-artifacts/<name>.png`)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def docs_shot(page, name, top, bottom, pad=10):
    """Save the part of the page from the top of `top` to the bottom of `bottom` (locators)
    as `test-artifacts/docs-<name>.png`, for the admin's documentation
    (`python -m tests.support.docs_images` makes the small PNGs it shows)."""
    first, last = top.bounding_box(), bottom.bounding_box()
    scroll = page.evaluate("[window.scrollX, window.scrollY]")
    left = min(first["x"], last["x"]) - pad
    right = max(first["x"] + first["width"], last["x"] + last["width"]) + pad
    clip = {
        "x": max(0, left + scroll[0]),
        "y": max(0, first["y"] + scroll[1] - pad),
        "width": right - left,
        "height": last["y"] + last["height"] - first["y"] + 2 * pad,
    }
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"docs-{name}.png"), clip=clip, full_page=True)


@pytest.fixture
def site(make_user, make_page, make_profile):
    """The Mundo Tango page with a profile of its own, conversations four editors had there,
    an admin, and a staff member who may only look."""
    page = make_page("mundo-tango", "Mundo Tango", blocks=BLOCKS)
    profile = make_profile(
        name="Friendly",
        voice="cedar",
        instructions=(
            "You are Mr. Blue, a friendly assistant inside a visual web editor. "
            'The user is editing the page "{{ page.title }}" ({{ page.path }}).'
            "{% if selected %} The selected element is {{ selected }}.{% endif %} "
            "Answer briefly, in speech-friendly sentences."
        ),
    )
    PageAssistant.objects.create(
        page=page, profile=profile, instructions="Speak of classes, never of prices."
    )
    editors = [
        make_user(name, perms=("editor.change_page", "editor.view_page"))
        for name in ("ana", "ben", "carla", "dev")
    ]
    blue = ("update_style", {"block_id": "h1", "color": "blue"})
    bigger = ("update_style", {"block_id": "p1", "font_size": 20})
    button = ("insert_block", {"type": "button", "text": "Sign up", "position": "end"})
    talks = [
        (
            editors[0],
            [
                ("Make the heading blue", "Done: the heading is blue.", blue),
                ("Undo that", "Undone.", ("undo", {})),
            ],
            (820, 1040),
        ),
        (
            editors[1],
            [
                ("Make the heading blue", "Done.", blue),
                ("Add a button that says Sign up", "Added a button: Sign up.", button),
            ],
            (640, 910),
        ),
        (
            editors[2],
            [
                (
                    "Dance for me",
                    "Sorry, I can't help with that offline. I can edit "
                    "this page: change text, colours and sizes, add or move blocks.",
                )
            ],
            (700,),
        ),
        (
            editors[3],
            [
                ("Change the colour", "Which one: the heading, the paragraph or the button?"),
                ("The paragraph", "Which colour should the paragraph be?"),
            ],
            (760, 690),
        ),
        (editors[0], [("make the text bigger", "The paragraph is bigger now.", bigger)], (880,)),
        (
            editors[2],
            [("Hello Mister Blue", "Hi! I'm Mr. Blue. Tell me what to change on this page.")],
            (590,),
        ),
    ]
    conversations = [
        hold(user, page, *turns, timings=timings, usage=USAGE) for user, turns, timings in talks
    ]
    for minutes_ago, conversation in enumerate(reversed(conversations)):
        ended = conversation.ended_at - timedelta(minutes=7 * minutes_ago)
        Conversation.objects.filter(pk=conversation.pk).update(
            started_at=ended - timedelta(seconds=35 + 20 * len(conversation.transcript.all())),
            ended_at=ended,
        )
    other = make_page("about", "About us")
    hold(editors[1], other, ("Sing a song", "I can't do singing here."), usage=USAGE)
    make_superuser("admin")
    make_user(
        "viewer",
        perms=("mrblue.view_assistantprofile", "mrblue.view_conversation", "editor.view_page"),
        staff=True,
    )
    return {"page": page, "profile": profile, "conversations": conversations, "editor": editors[0]}


@pytest.fixture
def admin_page(browser, daphne_server):
    """Returns a function opening a browser page logged in to the admin as `username`."""
    contexts = []

    def open_as(username, width=1280):
        context = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(f"{daphne_server.url}/admin/login/?next=/admin/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "pw-12345!")
        page.click("input[type=submit]")
        page.wait_for_url(f"{daphne_server.url}/admin/")
        return page

    yield open_as
    for context in contexts:
        context.close()


def test_the_voice_sample_plays_the_voice_and_speed_on_the_form(admin_page, site, daphne_server):
    page = admin_page("admin")
    page.goto(f"{daphne_server.url}/admin/mrblue/assistantprofile/{site['profile'].pk}/change/")
    expect(page.get_by_test_id("text-voice-note")).to_contain_text("sound the same")
    page.select_option("#id_voice", "ash")  # not saved: the sample is of the form's values
    page.fill("#id_speed", "1.25")
    with page.expect_response(lambda r: r.url.endswith("/voice-sample/")) as answer:
        page.get_by_test_id("button-voice-sample").first.click()
    response = answer.value
    assert response.status == 200 and response.headers["content-type"] == "audio/wav"
    assert response.request.post_data_json == {"voice": "ash", "speed": 1.25}
    box = page.locator("[data-role=voice-sample]").first
    expect(box).to_have_attribute("data-state", "playing")
    # What the audio element holds: the WAV as sent, and as the browser decodes it; it plays.
    heard = page.evaluate("""async () => {
      const audio = document.querySelector("[data-testid=audio-voice-sample]");
      const bytes = await (await fetch(audio.src)).arrayBuffer();
      let binary = "";
      for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
      const decoded = await new AudioContext().decodeAudioData(bytes);
      const samples = decoded.getChannelData(0);
      let peak = 0;
      for (const s of samples) peak = Math.max(peak, Math.abs(s));
      await new Promise((resolve) => setTimeout(resolve, 300));
      return {wav: btoa(binary), seconds: decoded.duration, peak,
              playedTo: audio.currentTime, paused: audio.paused};
    }""")
    wav = base64.b64decode(heard["wav"])
    assert len(wav) == int(response.headers["content-length"])
    _, seconds, peak = read_wav(wav)
    assert 2.5 < seconds < 12 and peak > 0.1
    assert heard["seconds"] == pytest.approx(seconds, abs=0.05) and heard["peak"] > 0.1
    assert heard["playedTo"] > 0 and not heard["paused"]
    expect(page.get_by_test_id("text-voice-sample-status").first).to_have_text("ash, 1.25×")
    screenshot(page, "admin-profile-form")
    voice = page.locator("fieldset", has=page.locator("#id_voice"))
    docs_shot(page, "profile-voice", page.locator("#content > h1"), voice)


def test_the_preview_shows_instructions_as_text_with_the_json_collapsed(
    admin_page, site, daphne_server
):
    page = admin_page("admin")
    page.goto(f"{daphne_server.url}/admin/editor/page/{site['page'].pk}/change/")
    instructions = page.get_by_test_id("preview-instructions")
    expect(instructions).to_be_hidden()  # the preview starts collapsed
    screenshot(page, "admin-page-form")
    preview = page.get_by_test_id("section-preview")
    docs_shot(page, "page-form", page.locator("#content > h1"), preview)
    page.get_by_test_id("section-preview-toggle").locator("summary").first.click()
    expect(instructions).to_be_visible()
    expect(instructions).to_contain_text('The user is editing the page "Mundo Tango"')
    expect(instructions).to_contain_text("Speak of classes, never of prices.")
    expect(page.get_by_test_id("preview-turn-taking")).to_contain_text("after 500 ms of silence")
    expect(page.get_by_test_id("preview-tools")).to_contain_text("insert_block")
    json_text = page.locator(".mrblue-session-preview")
    expect(json_text).to_be_hidden()
    screenshot(page, "admin-page-preview")
    docs_shot(page, "page-preview", preview, preview)
    page.get_by_test_id("preview-json").locator("summary").click()
    expect(json_text).to_be_visible()
    expect(json_text).to_contain_text('"voice": "cedar"')


def test_the_page_shows_what_editors_ask_there(admin_page, site, daphne_server):
    page = admin_page("admin")
    page.goto(f"{daphne_server.url}/admin/editor/page/{site['page'].pk}/change/")
    insight = page.get_by_test_id("page-insight")

    def stat(name):
        return insight.get_by_test_id(f"stat-{name}").locator(".mrblue-stat-value")

    expect(stat("conversations")).to_have_text("6")
    expect(stat("requests")).to_have_text("9")
    expect(stat("median-latency")).to_have_text("760 ms")  # of 9 turns
    expect(stat("refused")).to_have_text("1")
    expect(stat("asked")).to_have_text("2")
    expect(stat("undone")).to_have_text("1")
    expect(insight.get_by_test_id("list-frequent").locator("tr").first.locator("td")).to_have_text(
        ["“Make the heading blue”", "2×"]
    )
    section = page.get_by_test_id("section-insight")
    docs_shot(page, "page-insight", section, section)
    insight.get_by_test_id("stat-refused").click()  # the conversations behind the number
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("carla")


def test_the_conversation_list_filters_by_page_and_outcome(admin_page, site, daphne_server):
    page = admin_page("admin", width=1440)
    page.evaluate("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
    page.goto(f"{daphne_server.url}/admin/mrblue/conversation/")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(7)
    page.locator("#changelist-filter").get_by_role("link", name="Mundo Tango").click()
    expect(rows).to_have_count(6)
    outcome = page.locator("#changelist-filter").get_by_role("link", name="Mr. Blue asked back")
    outcome.click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("dev")
    assert f"page__id__exact={site['page'].pk}" in page.url and "outcome=asked" in page.url
    page.locator("#changelist-filter").get_by_role("link", name="changed the page").click()
    expect(rows).to_have_count(3)  # ana's two (one undone) and ben's
    screenshot(page, "admin-conversations")
    docs_shot(page, "conversations", page.locator("#content > h1"), page.locator("#changelist"))


def test_a_built_in_conversation_shows_no_charge(admin_page, site, daphne_server):
    page = admin_page("admin")
    conversation = site["conversations"][1]
    page.goto(f"{daphne_server.url}/admin/mrblue/conversation/{conversation.pk}/change/")
    cost = page.locator(".field-cost .readonly")
    expect(cost).to_contain_text("no charge")
    expect(cost).to_contain_text("built-in engine")
    expect(cost).to_contain_text("at OpenAI's rates")
    assert "$" not in cost.inner_text().split("(")[0]  # no price before the comparison
    screenshot(page, "admin-conversation")
    summary = page.locator("fieldset", has=page.locator(".field-cost"))
    docs_shot(page, "conversation", page.locator("#content > h1"), summary)


def test_the_editors_list_says_what_each_conversation_was(browser, site, daphne_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{daphne_server.url}/accounts/login/")
    page.fill("input[name=username]", "ana")
    page.fill("input[name=password]", "pw-12345!")
    page.click("[data-testid=button-login]")
    page.wait_for_url(f"{daphne_server.url}/editor/")
    page.goto(f"{daphne_server.url}/editor/mundo-tango/")
    page.get_by_test_id("tab-ai").click()
    listing = page.get_by_test_id("list-conversations")
    expect(listing.get_by_test_id("conversation-first-words")).to_have_text(
        ["“make the text bigger”", "“Make the heading blue”"]
    )
    facts = listing.get_by_test_id("conversation-facts")
    expect(facts.nth(0)).to_contain_text("1 turn · 1 edit")
    expect(facts.nth(1)).to_contain_text("2 turns · 1 edit (1 undone)")
    screenshot(page, "editor-conversations", full_page=False)
    panel = page.locator(".side-panel")
    docs_shot(page, "editor-conversations", panel, panel)
    context.close()


def test_only_staff_with_the_permission_may_hear_samples_and_anonymous_get_the_login(
    browser, admin_page, site, daphne_server
):
    anonymous = browser.new_context().new_page()
    anonymous.goto(f"{daphne_server.url}/admin/editor/page/{site['page'].pk}/change/")
    assert anonymous.url.startswith(f"{daphne_server.url}/admin/login/")
    anonymous.context.close()
    page = admin_page("viewer")
    page.goto(f"{daphne_server.url}/admin/mrblue/assistantprofile/{site['profile'].pk}/change/")
    expect(page.locator("#content-main")).to_contain_text("cedar")
    expect(page.get_by_test_id("button-voice-sample")).to_have_count(0)
    status = page.evaluate("""async () => {
      const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
      const answer = await fetch("/admin/mrblue/assistantprofile/voice-sample/", {
        method: "POST", headers: {"Content-Type": "application/json", "X-CSRFToken": token},
        body: JSON.stringify({voice: "marin", speed: 1})});
      return [answer.status, (await answer.json()).error.code];
    }""")
    assert status == [403, "forbidden"]
