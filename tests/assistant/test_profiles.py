"""Assistant profile validation and the one-default rule."""

import pytest
from django.core.exceptions import ValidationError

from mrblue.models import AssistantProfile

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("speed", 0.2),
        ("speed", 1.6),
        ("vad_threshold", -0.1),
        ("vad_threshold", 1.01),
        ("vad_prefix_padding_ms", 10_001),
        ("vad_silence_duration_ms", 20_000),
        ("vad_idle_timeout_ms", 4_999),
        ("vad_idle_timeout_ms", 30_001),
        ("max_output_tokens", 0),
        ("max_output_tokens", 4097),
        ("voice", "nova"),
        ("voice", "fable"),
        ("voice", "onyx"),
        ("turn_detection", "push_to_talk"),
        ("vad_eagerness", "eager"),
        ("noise_reduction", "loud"),
        ("transcription_language", "english"),
        ("model", ""),
        ("instructions", "Hello {% if %}"),
    ],
)
def test_bad_values_are_refused_with_a_message_on_the_field(field, value):
    profile = AssistantProfile(name="Bad", **{field: value})
    with pytest.raises(ValidationError) as caught:
        profile.full_clean()
    assert field in caught.value.message_dict
    assert caught.value.message_dict[field][0]


def test_edge_values_are_accepted():
    profile = AssistantProfile(
        name="Edges",
        speed=1.5,
        vad_threshold=1.0,
        vad_idle_timeout_ms=5_000,
        max_output_tokens=4096,
        voice="cedar",
        transcription_language="es",
    )
    profile.full_clean()


def test_unknown_voice_message_lists_the_realtime_voices():
    with pytest.raises(ValidationError) as caught:
        AssistantProfile(name="x", voice="nova").full_clean()
    assert any("marin" in message for message in caught.value.message_dict["voice"])


def test_first_profile_becomes_default_and_a_new_default_replaces_the_old(make_profile):
    first = make_profile(name="First")
    assert first.is_default
    second = make_profile(name="Second", is_default=True)
    first.refresh_from_db()
    assert second.is_default and not first.is_default
    assert AssistantProfile.objects.filter(is_default=True).count() == 1


def test_the_default_cannot_be_unset_directly(make_profile):
    default = make_profile(name="Only")
    default.is_default = False
    with pytest.raises(ValidationError) as caught:
        default.full_clean()
    assert "is_default" in caught.value.message_dict


def test_get_default_promotes_a_profile_when_the_default_was_deleted(make_profile):
    first = make_profile(name="First")
    second = make_profile(name="Second")
    AssistantProfile.objects.filter(pk=first.pk).delete()
    assert AssistantProfile.get_default() == second
    second.refresh_from_db()
    assert second.is_default


def test_get_default_creates_one_when_there_is_none():
    profile = AssistantProfile.get_default()
    assert profile.is_default
    assert AssistantProfile.objects.count() == 1


def test_a_pages_own_instructions_must_be_a_valid_template(make_page):
    from mrblue.models import PageAssistant

    assistant = PageAssistant(page=make_page(), instructions="Hello {% if %}")
    with pytest.raises(ValidationError) as caught:
        assistant.full_clean()
    assert "Template error" in caught.value.message_dict["instructions"][0]


@pytest.mark.parametrize(
    "source",
    [
        '{% include "x" %}',  # passed validation, then failed every mint
        "{% debug %}",  # dumped Python modules into the instructions
        "{% load static %}{% static 'x' %}",
        '{% extends "base.html" %}',
        "{% csrf_token %}",
        "{{ page|pprint }}",
        "{{ page.title|date:'Y' }}",
    ],
)
def test_templates_may_use_only_the_allowed_tags_and_filters(source):
    with pytest.raises(ValidationError) as caught:
        AssistantProfile(name="Bad", instructions=source).full_clean()
    assert "Template error" in caught.value.message_dict["instructions"][0]


def test_the_allowed_tags_and_filters_render_plain_text(make_page):
    from mrblue.instructions import render_instructions

    source = (
        "{% comment %}not said{% endcomment %}"
        "{% if selected %}Selected: {{ selected|upper }}.{% else %}Nothing selected.{% endif %}"
        " {% with name=user.name|default:'friend' %}Hi {{ name|title }}.{% endwith %}"
        " {{ page.title|truncatewords:1|lower }}"
        " {% for letter in page.slug %}{{ letter|upper }}{% endfor %}"
        " {% firstof user.name page.slug %} <{{ page.path }}> {{ page.title|length }}"
    )
    AssistantProfile(name="Good", instructions=source).full_clean()
    text = render_instructions(source, page=make_page("a-b", "Tea & Cake"), selected="")
    assert text == "Nothing selected. Hi Friend. tea … A-B a-b </a-b/> 10"
