"""Instruction templates: only text fields to show, and renders bounded in size and work."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from mrblue.instructions import (
    MAX_INSTRUCTIONS_CHARS,
    MAX_LOOP_PASSES,
    InstructionsError,
    render_instructions,
    validate_template,
)

pytestmark = pytest.mark.django_db


def refusal(source: str) -> str:
    """The admin's message for a template that does not save."""
    with pytest.raises(ValidationError) as caught:
        validate_template(source)
    return caught.value.message_dict["instructions"][0]


@pytest.mark.parametrize(
    "source",
    [
        "{{ page }}{{ user }}",  # showed the dicts' repr
        "{% for key in page %}{{ key }}{% endfor %}",
        "{{ page|length }}",
    ],
)
def test_the_variables_show_their_text_and_nothing_of_python(make_page, editor_user, source):
    validate_template(source)
    page = make_page("tea", "Tea")
    text = render_instructions(source + "|{{ page.title }}", page=page, user=editor_user)
    assert text in ("|Tea", "0|Tea")


@pytest.mark.parametrize(
    "source",
    [
        "{{ page.items }}",  # showed dict_items([('title', ...), ...])
        "{{ page.keys }}{{ user.items }}",
        "{{ page.title.encode }}",  # called a str method (bytes, or an error at mint)
        "{{ page.title.0 }}",
        "{{ page.nothing }}",
        "{% if selected.isdigit %}x{% endif %}",
        "{% with n=user.name.split %}{{ n }}{% endwith %}",
        "{{ page.title|default:user.name.lower }}",
        "{% for letter in page.slug %}{{ letter.upper }}{% endfor %}",
    ],
)
def test_only_the_instructions_own_variables_may_be_read(source):
    assert "Unknown variable" in refusal(source)


def test_a_stored_template_reading_python_is_refused_at_mint(make_page):
    with pytest.raises(InstructionsError):
        render_instructions("{{ page.title.encode }}", page=make_page())


@pytest.mark.parametrize(
    "source",
    ["{% lorem 100000 w %}", "{{ '1'|floatformat:'99999' }}", "{% cycle 'a' 'b' %}"],
)
def test_tags_and_filters_that_make_text_out_of_nothing_are_not_allowed(source):
    assert "Template error" in refusal(source)


def test_nested_loops_over_long_text_are_refused():
    loop = '{% for a in "' + "x" * 100 + '" %}'
    source = loop + loop + ".{% endfor %}{% endfor %}"
    message = refusal(source)
    assert "Template too large" in message and f"more than {MAX_LOOP_PASSES} times" in message


def test_loops_are_checked_for_the_longest_selection_there_can_be():
    source = "{% for a in selected %}{% for b in selected %}{% endfor %}{% endfor %}"
    # 26 x 26 passes for the short sample, but a selection can be described in ~580 characters.
    assert "more than 1000 times" in refusal(source)


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("x" * (MAX_INSTRUCTIONS_CHARS + 1), "the template is longer than"),
        ("{% for c in page.title %}" + "y" * 200 + "{% endfor %}", "would be longer than"),
        ("{{ selected|join:'" + "," * 2000 + "' }}", "'join' would render more than"),
        ("{% for c in page.title %}{% now '" + "r" * 1000 + "' %}{% endfor %}", "loops would"),
    ],
)
def test_what_would_render_too_much_is_refused(source, why):
    message = refusal(source)
    assert "Template too large" in message and why in message


def test_templates_within_the_limits_render_in_full(make_page):
    source = "{% for c in page.slug %}{{ c }}-{% endfor %}" + "z" * (MAX_INSTRUCTIONS_CHARS - 200)
    validate_template(source)
    text = render_instructions(source, page=make_page("ab", "AB"))
    assert text.startswith("a-b-zz") and len(text) == 4 + MAX_INSTRUCTIONS_CHARS - 200


def test_a_stored_template_over_the_limits_is_a_json_error_at_mint(editor_user, make_page):
    from mrblue.models import PageAssistant

    page = make_page("tea", "Tea")
    # Saved behind the admin's back (a queryset update skips validation).
    PageAssistant.objects.create(page=page, instructions="ok")
    loops = '{% for a in "' + "x" * 200 + '" %}{% for b in "' + "x" * 200 + '" %}{% endfor %}'
    PageAssistant.objects.filter(page=page).update(instructions=loops + "{% endfor %}")
    client = Client()
    client.force_login(editor_user)
    response = client.post(
        "/api/realtime/instructions", json.dumps({"page": "tea"}), content_type="application/json"
    )
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "instructions_invalid"
