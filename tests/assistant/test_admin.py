"""The Django admin: screens render, settings can be changed, editors stay out."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from editor.models import Page
from mrblue.models import (
    AssistantProfile,
    Conversation,
    LogMessage,
    PageAssistant,
    TranscriptEntry,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for(client, make_user):
    client.force_login(make_user("root", superuser=True))
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/mrblue/assistantprofile/",
        "/admin/mrblue/assistantprofile/add/",
        "/admin/editor/page/",
        "/admin/editor/page/add/",
        "/admin/editor/pagerevision/",
    ],
)
def test_admin_screens_render_for_a_superuser(admin_client_for, make_page, url):
    make_page()
    assert admin_client_for.get(url).status_code == 200


def test_change_screens_show_the_session_object(admin_client_for, make_page, make_profile):
    profile = make_profile(name="Main", voice="sage")
    page = make_page()
    PageAssistant.objects.create(page=page, profile=profile)
    body = admin_client_for.get(f"/admin/mrblue/assistantprofile/{profile.pk}/change/")
    assert body.status_code == 200
    assert b"mrblue-session-preview" in body.content and b"&quot;sage&quot;" in body.content
    body = admin_client_for.get(f"/admin/editor/page/{page.pk}/change/")
    assert b"mrblue-session-preview" in body.content and b"server_vad" in body.content


def _profile_form(profile, **changes):
    data = {
        "name": profile.name,
        "is_default": "on",
        "model": profile.model,
        "instructions": profile.instructions,
        "tools_enabled": "on",
        "voice": profile.voice,
        "speed": profile.speed,
        "max_output_tokens": "",
        "turn_detection": profile.turn_detection,
        "vad_threshold": profile.vad_threshold,
        "vad_prefix_padding_ms": profile.vad_prefix_padding_ms,
        "vad_silence_duration_ms": profile.vad_silence_duration_ms,
        "vad_idle_timeout_ms": "",
        "vad_eagerness": profile.vad_eagerness,
        "vad_create_response": "on",
        "vad_interrupt_response": "on",
        "transcription_model": profile.transcription_model,
        "transcription_language": "",
        "noise_reduction": profile.noise_reduction,
    }
    data.update(changes)
    return data


def test_admin_changes_voice_and_vad(admin_client_for, make_profile):
    profile = make_profile(name="Main")
    url = f"/admin/mrblue/assistantprofile/{profile.pk}/change/"
    form = _profile_form(profile, voice="echo", vad_threshold="0.7", vad_silence_duration_ms="800")
    response = admin_client_for.post(url, form)
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.voice, profile.vad_threshold, profile.vad_silence_duration_ms) == (
        "echo",
        0.7,
        800,
    )


def test_admin_refuses_out_of_range_values_with_a_message(admin_client_for, make_profile):
    profile = make_profile(name="Main")
    url = f"/admin/mrblue/assistantprofile/{profile.pk}/change/"
    response = admin_client_for.post(url, _profile_form(profile, vad_threshold="3", voice="nova"))
    assert response.status_code == 200
    assert b"Must be between 0.0 and 1.0" in response.content
    assert b"nova is not one of the available choices" in response.content
    profile.refresh_from_db()
    assert profile.vad_threshold == 0.5


def _page_inlines(profile="", instructions="", existing=None):
    """The page screen's inline forms: Mr. Blue's settings (one form) and no revisions."""
    return {
        "assistant-TOTAL_FORMS": "1",
        "assistant-INITIAL_FORMS": "0" if existing is None else "1",
        "assistant-0-id": "" if existing is None else str(existing.pk),
        "assistant-0-profile": profile,
        "assistant-0-instructions": instructions,
        "revisions-TOTAL_FORMS": "0",
        "revisions-INITIAL_FORMS": "0",
    }


def _page_form(page, **inlines):
    return {
        "title": page.title,
        "slug": page.slug,
        "content": json.dumps(page.content),
        **_page_inlines(**inlines),
    }


def test_admin_sets_a_pages_profile_and_instructions(admin_client_for, make_page, make_profile):
    make_profile(name="Main")
    calm = make_profile(name="Calm")
    page = make_page()
    url = f"/admin/editor/page/{page.pk}/change/"
    response = admin_client_for.post(url, _page_form(page, instructions="Be brief."))
    assert response.status_code == 302, response.content[:2000]
    assert (page.assistant.profile, page.assistant.instructions) == (None, "Be brief.")
    form = _page_form(page, profile=str(calm.pk), existing=page.assistant)
    assert admin_client_for.post(url, form).status_code == 302
    assistant = PageAssistant.objects.get()
    assert (assistant.profile, assistant.instructions) == (calm, "")
    listing = admin_client_for.get(f"/admin/editor/page/?assistant__profile__id__exact={calm.pk}")
    assert '<td class="field-assistant_profile">Calm</td>' in listing.content.decode()


def test_admin_keeps_a_page_without_settings_on_the_defaults(admin_client_for, make_page):
    page = make_page()
    response = admin_client_for.post(f"/admin/editor/page/{page.pk}/change/", _page_form(page))
    assert response.status_code == 302
    assert not PageAssistant.objects.exists()


def test_admin_refuses_a_bad_page_instruction_template(admin_client_for, make_page):
    page = make_page()
    form = _page_form(page, instructions="Hi {% if %}")
    response = admin_client_for.post(f"/admin/editor/page/{page.pk}/change/", form)
    assert response.status_code == 200 and b"Template error" in response.content
    assert not PageAssistant.objects.exists()


def test_admin_saves_a_page_with_a_revision_by_its_author(admin_client_for, make_page):
    page = make_page()
    url = f"/admin/editor/page/{page.pk}/change/"
    content = '[{"id": "h1", "type": "heading", "text": "Changed", "style": {"color": "red"}}]'
    data = {
        "title": "Home",
        "slug": "home",
        "content": content,
        **_page_inlines(),
    }
    response = admin_client_for.post(url, data)
    assert response.status_code == 302, response.content[:2000]
    page.refresh_from_db()
    assert page.content[0]["style"]["color"] == "#e53935"
    latest = page.revisions.first()
    assert latest.author.username == "root" and latest.content == page.content


def test_admin_refuses_bad_page_content(admin_client_for, make_page):
    page = make_page()
    data = {
        "title": "Home",
        "slug": "home",
        "content": '[{"id": "x", "type": "video"}]',
        **_page_inlines(),
    }
    response = admin_client_for.post(f"/admin/editor/page/{page.pk}/change/", data)
    assert response.status_code == 200 and b"type must be one of" in response.content
    assert Page.objects.get().content[0]["text"] == "Hello"


def test_default_profile_cannot_be_deleted_in_the_admin(admin_client_for, make_profile):
    profile = make_profile(name="Main")
    response = admin_client_for.get(f"/admin/mrblue/assistantprofile/{profile.pk}/delete/")
    assert response.status_code == 403
    assert AssistantProfile.objects.filter(pk=profile.pk).exists()


def test_restore_a_revision_from_the_admin(admin_client_for, make_page):
    page = make_page()
    first = page.revisions.get()
    page.content = [{"id": "x", "type": "paragraph", "text": "new", "style": {}}]
    page.save()
    response = admin_client_for.post(
        "/admin/editor/pagerevision/",
        {"action": "restore_revisions", "_selected_action": [first.pk]},
    )
    assert response.status_code == 302
    page.refresh_from_db()
    assert page.content[0]["text"] == "Hello"
    assert page.revisions.count() == 3


def test_an_editor_cannot_reach_the_admin(client, editor_user):
    client.force_login(editor_user)
    response = client.get("/admin/mrblue/assistantprofile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def add_conversation(user, page, said="Make the heading blue", provider="local"):
    """A conversation with two turns and two responses' usage (one resent), as logged."""
    conversation = Conversation.objects.create(
        user=user,
        page=page,
        page_title=page.title,
        provider=provider,
        model="gpt-realtime",
        session={},
    )
    for seq, (role, text) in enumerate(
        [("user", said), ("assistant", "Done."), ("user", "Thanks")]
    ):
        TranscriptEntry.objects.create(
            conversation=conversation,
            item_id=f"item_{seq}",
            role=role,
            text=text,
            final=True,
            seq=seq,
            position=seq,
        )
    usage = {
        "input_token_details": {"audio_tokens": 1000},
        "output_token_details": {"text_tokens": 500},
    }
    for seq, response_id in [(10, "resp_1"), (11, "resp_1"), (12, "resp_2")]:
        LogMessage.objects.create(
            conversation=conversation,
            seq=seq,
            type="usage",
            payload={"response_id": response_id, "usage": usage},
        )
    return conversation


def test_conversation_list_shows_turns_tokens_and_cost_in_a_fixed_number_of_queries(
    admin_client_for, make_page, editor_user
):
    page = make_page()
    add_conversation(editor_user, page, provider="openai")
    url = "/admin/mrblue/conversation/"
    with CaptureQueriesContext(connection) as one:
        body = admin_client_for.get(url).content.decode()
    # 2 turns; 2 responses (a resent usage counts once) of 1000 audio tokens in and 500 text
    # tokens out each; gpt-realtime's default rates: 2 * (1000 * $32 + 500 * $16) / 1M.
    assert '<td class="field-turns">2</td>' in body
    assert '<td class="field-tokens">3000</td>' in body
    assert '<td class="field-cost">$0.0800</td>' in body
    for n in range(5):
        add_conversation(editor_user, page, said=f"Request {n}")
    with CaptureQueriesContext(connection) as six:
        assert admin_client_for.get(url).content.decode().count("field-turns") == 6
    assert len(six) == len(one)
    assert admin_client_for.get(f"{url}?q=Request+3").content.decode().count("field-turns") == 1


def test_a_built_in_engine_conversation_shows_no_charge_and_what_openai_would_charge(
    admin_client_for, make_page, editor_user
):
    conversation = add_conversation(editor_user, make_page(), provider="local")
    body = admin_client_for.get("/admin/mrblue/conversation/").content.decode()
    (cell,) = re.findall(r'<td class="field-cost">(.*?)</td>', body, re.S)
    assert cell.startswith("no charge") and "$0.0800 at OpenAI's rates" in cell
    assert "built-in engine" in cell
    detail = admin_client_for.get(f"/admin/mrblue/conversation/{conversation.pk}/change/").text
    assert "no charge" in detail and "$0.0800 at OpenAI's rates" in detail
    Conversation.objects.filter(pk=conversation.pk).update(model="a-model-without-prices")
    body = admin_client_for.get("/admin/mrblue/conversation/").content.decode()
    assert '<td class="field-cost">no charge (built-in engine)</td>' in body


def test_change_pages_render_when_a_stored_template_cannot(
    admin_client_for, make_page, make_profile
):
    # Stored before templates were sandboxed (no validation on a queryset update).
    profile = make_profile(name="Main")
    page = make_page()
    PageAssistant.objects.create(page=page, profile=profile)
    AssistantProfile.objects.filter(pk=profile.pk).update(instructions='{% include "x" %}')
    for url in (
        f"/admin/mrblue/assistantprofile/{profile.pk}/change/",
        f"/admin/editor/page/{page.pk}/change/",
    ):
        response = admin_client_for.get(url)
        assert response.status_code == 200
        assert b"cannot be rendered" in response.content


def test_usage_stored_in_a_bad_shape_is_skipped_not_a_500(admin_client_for, make_page, editor_user):
    conversation = add_conversation(editor_user, make_page())
    forged = [
        {"response_id": "resp_x", "usage": {"input_token_details": "x"}},
        {"response_id": "resp_y", "usage": {"output_token_details": {"text_tokens": "9"}}},
        {"response_id": "resp_z", "usage": {"input_tokens": -5}},
        {"response_id": "resp_w", "usage": ["x"]},
        ["not", "an", "object"],
    ]
    for seq, payload in enumerate(forged, start=20):
        LogMessage.objects.create(conversation=conversation, seq=seq, type="usage", payload=payload)
    response = admin_client_for.get("/admin/mrblue/conversation/")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<td class="field-tokens">3000</td>' in body  # the good rows, as before
    assert "come from the browser" in body  # where the numbers come from, with OpenAI
    detail = admin_client_for.get(f"/admin/mrblue/conversation/{conversation.pk}/change/")
    assert detail.status_code == 200 and b"come from the browser" in detail.content
