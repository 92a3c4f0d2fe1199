"""Admin instruction templates: `validate_template`, then `render_instructions`, on random text
built from Django template syntax.

Property: validation refuses with a ValidationError, or the render succeeds; rendering never
raises, stays small, and never shows Python internals or settings.
"""

from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from hypothesis import example, given
from hypothesis import strategies as st

from mrblue.instructions import render_instructions, validate_template
from tests.fuzz.harness import drive, fuzz_settings, tally
from tests.fuzz.strategies import tricky_text
from tests.support.live import ENGINE_KEY

SURFACE = "instruction templates"
MAX_OUTPUT = 64 * 1024
LEAKS = ("<module", "<function", "<class", " object at 0x", "Traceback", "dict_items")

# What instructions need: the documented variables, conditions, loops, plain filters.
SAFE_PIECES = [
    "{{ page.title }}", "{{ page.path }}", "{{ page.slug }}", "{{ selected }}",
    "{{ user.name }}", "{{ page.title|upper }}", "{{ selected|default:'nothing' }}",
    "{{ page.title|truncatechars:5 }}", "{{ missing.deeply.nested }}", "{{ page.__class__ }}",
    "{% if selected %}", "{% elif user.name %}", "{% else %}", "{% endif %}",
    "{% for c in page.title %}", "{{ c }}", "{{ forloop.counter }}", "{% empty %}",
    "{% endfor %}", "{% with t=page.title %}", "{{ t }}", "{% endwith %}",
    "{% comment %}", "{% endcomment %}", "{# note #}", "{% spaceless %}", "{% endspaceless %}",
    "{% verbatim %}", "{% endverbatim %}", "{% filter lower %}", "{% endfilter %}",
    "{% autoescape off %}", "{% endautoescape %}", "{% templatetag openblock %}",
    "{{", "}}", "{%", "%}", "{#", "#}", "{{ }}", "{% %}", "|", ":", "'", '"', " ",
]  # fmt: skip
# Everything else Django's template language offers, which instructions do not need.
OTHER_PIECES = [
    "{% include 'x.html' %}", "{% extends 'base.html' %}", "{% load static %}",
    "{% load i18n %}", "{% debug %}", "{% url 'home' %}", "{% now 'Y' %}",
    "{% ssi '/etc/passwd' %}", "{% csrf_token %}", "{% lorem 3 w %}", "{% cycle 'a' 'b' %}",
    "{% firstof selected 'none' %}", "{% widthratio 1 0 100 %}", "{% block b %}",
    "{% endblock %}", "{% regroup page by title as z %}", "{% ifchanged %}",
    "{% endifchanged %}", "{% resetcycle %}", "{{ page.items }}", "{{ page|pprint }}",
    "{{ selected|join:page }}", "{{ page.title|timesince }}", "{{ page.title.encode }}",
    "{{ '1'|floatformat:'999' }}", "{{ page.title|date:'Y' }}", "{% static 'x' %}",
]  # fmt: skip


def templates(pieces: list[str]) -> st.SearchStrategy:
    return st.lists(st.sampled_from(pieces) | st.text(max_size=12), max_size=12).map("".join)


def leak_in(output: str) -> str | None:
    """What of Python's or the server's internals the output shows, if any."""
    secrets = (django_settings.SECRET_KEY, ENGINE_KEY)
    for marker in (*LEAKS, *secrets):
        if marker and marker in output:
            return marker
    return None


def check(record, template: str, title: str, selected: str) -> None:
    try:
        validate_template(template)
    except ValidationError:
        record.answered(error=True)
        return
    except Exception as exc:
        record.crash(template, f"validate_template raised {type(exc).__name__}: {exc}")
        return
    page = SimpleNamespace(title=title, path="/pages/fuzz/", slug="fuzz")
    try:
        output = render_instructions(template, page=page, selected=selected)
    except Exception as exc:
        record.crash(template, f"a valid template failed to render: {type(exc).__name__}: {exc}")
        return
    if len(output) > MAX_OUTPUT:
        record.wrong(template, f"{len(output)} characters of instructions")
    elif leak := leak_in(output):
        record.wrong(template, f"the instructions show {leak!r}: {output[:300]!r}")
    else:
        record.answered(error=False)
    record.check_logs(template)


@pytest.fixture
def engine_key(settings):
    settings.MRBLUE_ENGINE_API_KEY = ENGINE_KEY


def test_templates_from_the_tags_instructions_need(engine_key):
    record = tally(SURFACE + " (needed tags)")

    @fuzz_settings(ci_examples=300)
    @given(template=templates(SAFE_PIECES), title=tricky_text, selected=tricky_text)
    def fuzz(template, title, selected):
        check(record, template, title, selected)

    drive(record, fuzz)
    record.finish()


def test_templates_from_all_of_djangos_syntax(engine_key):
    record = tally(SURFACE)

    @fuzz_settings(ci_examples=300)
    @given(template=templates(SAFE_PIECES + OTHER_PIECES), title=tricky_text, selected=tricky_text)
    @example(template="{% include 'x.html' %}", title="T", selected="")
    @example(template="{% debug %}", title="T", selected="")
    def fuzz(template, title, selected):
        check(record, template, title, selected)

    drive(record, fuzz)
    record.finish()
