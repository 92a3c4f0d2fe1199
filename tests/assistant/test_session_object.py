"""The GA session object built for a page: its shape and what the admin settings change."""

import pytest
from openai.types.realtime import RealtimeFunctionTool, RealtimeSessionCreateRequest
from pydantic import TypeAdapter

from mrblue.models import PageAssistant
from mrblue.session import build_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_assisted_page(make_page):
    """make_page, plus Mr. Blue's settings for the page: a profile and/or instructions."""

    def make(*args, profile=None, instructions="", **fields):
        page = make_page(*args, **fields)
        assistant = PageAssistant(page=page, profile=profile, instructions=instructions)
        assistant.full_clean()
        assistant.save()
        return page

    return make


def validate_ga(session):
    """Validate strictly against the official SDK's model of a GA session request."""
    RealtimeSessionCreateRequest.model_validate(session, strict=False)
    # The SDK model ignores unknown keys; make sure we send none.
    assert set(session) <= set(RealtimeSessionCreateRequest.model_fields)


def test_default_session_has_the_ga_shape(make_page):
    session = build_session(make_page())
    validate_ga(session)
    assert session["type"] == "realtime"
    assert session["model"] == "gpt-realtime"
    assert session["audio"]["output"]["voice"] == "marin"
    assert session["audio"]["input"]["turn_detection"] == {
        "type": "server_vad",
        "threshold": 0.5,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 500,
        "create_response": True,
        "interrupt_response": True,
    }
    transcription = session["audio"]["input"]["transcription"]
    assert transcription["model"] == "gpt-4o-mini-transcribe"
    # Recognition is primed with the editor's words and the page's own (issue 16).
    assert transcription["prompt"].startswith("Mr. Blue, edit the page")
    assert "Welcome here." in transcription["prompt"]
    assert session["audio"]["input"]["noise_reduction"] == {"type": "near_field"}
    assert session["max_output_tokens"] == "inf"
    assert "Home" in session["instructions"] and "/home/" in session["instructions"]


def test_tools_are_valid_function_tools_and_only_when_enabled(
    make_page, make_assisted_page, make_profile
):
    session = build_session(make_page())
    names = {tool["name"] for tool in session["tools"]}
    assert {"describe_page", "update_style", "insert_block", "undo", "redo"} <= names
    for tool in session["tools"]:
        TypeAdapter(RealtimeFunctionTool).validate_python(tool)
    quiet = make_profile(name="No tools", tools_enabled=False)
    assert build_session(make_assisted_page("other", profile=quiet))["tools"] == []


def test_page_profile_and_instructions_override_the_default(make_assisted_page, make_profile):
    make_profile(name="Default")
    custom = make_profile(
        name="Calm",
        voice="cedar",
        speed=0.9,
        turn_detection="semantic_vad",
        vad_eagerness="low",
        noise_reduction="far_field",
        transcription_language="es",
        max_output_tokens=300,
        instructions="Speak Spanish about {{ page.title }}.",
    )
    page = make_assisted_page(
        "tango", "Tango", profile=custom, instructions="Mention the {{ selected }} when useful."
    )
    session = build_session(page, selected="h1")
    validate_ga(session)
    assert session["audio"]["output"] == {
        "format": {"type": "audio/pcm", "rate": 24000},
        "voice": "cedar",
        "speed": 0.9,
    }
    assert session["audio"]["input"]["turn_detection"] == {
        "type": "semantic_vad",
        "eagerness": "low",
        "create_response": True,
        "interrupt_response": True,
    }
    assert session["audio"]["input"]["noise_reduction"] == {"type": "far_field"}
    assert session["audio"]["input"]["transcription"]["language"] == "es"
    assert session["max_output_tokens"] == 300
    assert session["instructions"] == (
        'Speak Spanish about Tango.\n\nMention the heading "Hello" (id h1) when useful.'
    )


def test_push_to_talk_and_idle_timeout(make_assisted_page, make_profile):
    ptt = make_profile(name="PTT", turn_detection="none", noise_reduction="off")
    session = build_session(make_assisted_page("a", profile=ptt))
    validate_ga(session)
    assert session["audio"]["input"]["turn_detection"] is None
    assert session["audio"]["input"]["noise_reduction"] is None
    idle = make_profile(name="Idle", vad_idle_timeout_ms=8000, transcription_model="")
    session = build_session(make_assisted_page("b", profile=idle))
    validate_ga(session)
    assert session["audio"]["input"]["turn_detection"]["idle_timeout_ms"] == 8000
    assert session["audio"]["input"]["transcription"] is None


def test_the_admins_transcription_prompt_comes_before_the_page(make_assisted_page, make_profile):
    profile = make_profile(name="Tango words", transcription_prompt="Ocho, cabeceo, milonga.")
    session = build_session(make_assisted_page("words", profile=profile))
    validate_ga(session)
    prompt = session["audio"]["input"]["transcription"]["prompt"]
    assert prompt.startswith("Ocho, cabeceo, milonga. ")
    assert "Mr. Blue, edit the page" not in prompt  # the admin's words replace the default


def test_instructions_know_the_user(make_assisted_page, make_user):
    page = make_assisted_page(instructions="Greet {{ user.name }}.")
    assert build_session(page, make_user("maria"))["instructions"].endswith("Greet maria.")


def test_instruction_text_is_not_html_escaped(make_page):
    page = make_page(title="Tom & Jerry's <Page>")
    assert "Tom & Jerry's <Page>" in build_session(page)["instructions"]
