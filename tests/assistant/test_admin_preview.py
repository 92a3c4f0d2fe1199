"""Settings first, previews for people: the page's and the profile's change forms lead with what
an admin sets, and show what Mr. Blue will be told in words, collapsed, with the JSON behind a
toggle of its own."""

import html
import re

import pytest

from mrblue.admin import session_words
from mrblue.models import PageAssistant
from mrblue.session import build_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for(client, make_user):
    client.force_login(make_user("root", superuser=True))
    return client


def preview_of(body: str) -> str:
    (section,) = re.findall(
        r'<fieldset[^>]*data-testid="section-preview".*?</fieldset>', body, re.S
    )
    return section


def test_the_page_form_leads_with_mr_blues_settings(admin_client_for, make_page, make_profile):
    page = make_page()
    PageAssistant.objects.create(page=page, profile=make_profile(name="Main"), instructions="Hi.")
    body = admin_client_for.get(f"/admin/editor/page/{page.pk}/change/").text
    order = [
        body.index('name="title"'),
        body.index('name="assistant-0-profile"'),
        body.index('name="assistant-0-instructions"'),
        body.index('data-testid="section-preview"'),
        body.index('data-testid="section-insight"'),
        body.index('name="content"'),
        body.index('id="revisions-group"'),
    ]
    assert order == sorted(order)
    content = re.search(
        r'<fieldset class="module aligned collapse mrblue-below".*?</fieldset>', body, re.S
    ).group(0)
    assert "<details>" in content and 'name="content"' in content  # the raw JSON, collapsed


def test_the_profile_form_leads_with_its_settings(admin_client_for, make_profile):
    profile = make_profile(name="Main")
    body = admin_client_for.get(f"/admin/mrblue/assistantprofile/{profile.pk}/change/").text
    order = [
        body.index('name="instructions"'),
        body.index('name="voice"'),
        body.index('name="turn_detection"'),
        body.index('name="transcription_model"'),
        body.index('data-testid="section-preview"'),
    ]
    assert order == sorted(order)


def test_the_preview_is_collapsed_and_reads_as_text(admin_client_for, make_page, make_profile):
    profile = make_profile(
        name="Main",
        instructions="Help {{ user.name }} edit {{ page.title }}.{% if selected %} "
        "Selected: {{ selected }}.{% endif %}",
        voice="sage",
        speed=1.2,
        vad_silence_duration_ms=650,
    )
    page = make_page()
    PageAssistant.objects.create(page=page, profile=profile, instructions="Be brief.")
    section = preview_of(admin_client_for.get(f"/admin/editor/page/{page.pk}/change/").text)
    assert '<details data-testid="section-preview-toggle">' in section  # closed: no `open`
    instructions = re.search(r'data-testid="preview-instructions">(.*?)</div>', section, re.S)
    assert html.unescape(instructions.group(1)) == (
        'Help Alex Example edit Home. Selected: heading "Hello" (id h1).\n\nBe brief.'
    )
    assert "sage, faster than normal (1.2×)" in section
    assert "Mr. Blue answers after 650 ms of silence (server VAD)." in section
    assert "written down by gpt-4o-mini-transcribe, detecting the language." in section
    assert "<code>update_style</code></th><td>Change how a block looks." in section
    # The JSON is there, behind a toggle of its own, closed.
    json_part = re.search(r'<details class="mrblue-session-json"[^>]*>.*?</details>', section, re.S)
    assert json_part and "<details open" not in section
    assert "&quot;voice&quot;: &quot;sage&quot;" in json_part.group(0)
    assert "&quot;voice&quot;" not in section.replace(json_part.group(0), "")


def test_the_profile_preview_is_filled_in_for_an_example_page(admin_client_for, make_profile):
    profile = make_profile(
        name="Calm",
        instructions="You edit {{ page.title }} at {{ page.path }}.",
        turn_detection="semantic_vad",
        vad_eagerness="low",
        tools_enabled=False,
    )
    body = admin_client_for.get(f"/admin/mrblue/assistantprofile/{profile.pk}/change/").text
    section = preview_of(body)
    assert "You edit Example page at /example/." in section
    assert "judged by what was said (semantic VAD); he waits longer" in section
    assert "None: Mr. Blue cannot change the page." in section


def test_an_add_form_says_what_saving_will_show(admin_client_for):
    body = admin_client_for.get("/admin/mrblue/assistantprofile/add/").text
    assert "Save the profile to see what it tells Mr. Blue." in preview_of(body)
    body = admin_client_for.get("/admin/editor/page/add/").text
    assert "Save the page to see what Mr. Blue is told." in preview_of(body)


def test_the_page_preview_has_a_play_button_for_its_voice(admin_client_for, make_page):
    page = make_page()
    section = preview_of(admin_client_for.get(f"/admin/editor/page/{page.pk}/change/").text)
    assert 'data-voice="marin"' in section and 'data-testid="button-voice-sample"' in section


# --- the words, from session objects ---------------------------------------------------------


def session_for(make_page, make_profile, **profile):
    profile = make_profile(**profile)
    return build_session(make_page(f"page-{profile.pk}"), profile=profile)


def test_turn_taking_in_words(make_page, make_profile):
    server = session_for(
        make_page, make_profile, vad_idle_timeout_ms=8000, vad_interrupt_response=False
    )
    assert session_words.turn_taking(server) == [
        "Mr. Blue answers after 500 ms of silence (server VAD).",
        "Sound above 0.5 on a scale of 0 to 1 counts as speech; the 300 ms before it are kept.",
        "After 8 s without speech, he speaks up again.",
        "Speaking over him does not interrupt him.",
    ]
    push = build_session(make_page("p2"), profile=make_profile(turn_detection="none"))
    assert session_words.turn_taking(push)[0].startswith("Push-to-talk")


def test_listening_and_answers_in_words(make_page, make_profile):
    session = session_for(
        make_page,
        make_profile,
        transcription_language="en",
        transcription_prompt="Mundo Tango",
        noise_reduction="off",
        max_output_tokens=300,
    )
    said = session_words.listening(session)
    assert said[0] == (
        "What the editor says is written down by gpt-4o-mini-transcribe, in the language 'en'."
    )
    assert said[1].startswith("Recognition is primed with: “Mundo Tango")
    assert said[2] == "No noise reduction."
    assert (
        session_words.answers(session)
        == "gpt-realtime, answering aloud, of at most 300 tokens each."
    )
    quiet = session_for(make_page, make_profile, transcription_model="", name="Quiet")
    assert "not written down" in session_words.listening(quiet)[0]
