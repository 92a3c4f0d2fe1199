"""Instruction templates: admins write them with Django template syntax, Mr. Blue reads text.

Available variables: `page.title`, `page.path`, `page.slug`, `selected` (a short description of
the selected element, empty when none) and `user.name`.

Templates run in a sandbox: an engine of their own with no loaders, no `{% load %}`, and only
the tags and filters instructions need (`ALLOWED_TAGS`, `ALLOWED_FILTERS`), so nothing can read
files (`{% include %}`), dump internals (`{% debug %}`) or fail at render time in a way the
admin did not see when saving. Output is plain text: no HTML escaping.
"""

import logging

from django.core.exceptions import ValidationError
from django.template import Context, Engine, Library, defaultfilters, defaulttags

logger = logging.getLogger("mrblue.instructions")

ALLOWED_TAGS = ("if", "for", "with", "comment", "firstof", "now")
ALLOWED_FILTERS = (
    "default",
    "upper",
    "lower",
    "title",
    "capfirst",
    "length",
    "join",
    "first",
    "last",
    "truncatewords",
    "truncatechars",
    "yesno",
    "pluralize",
)
HELP_TEXT = (
    "Template: {{ page.title }}, {{ page.path }}, {{ page.slug }}, {{ selected }}, "
    "{{ user.name }}. Tags: "
    + ", ".join(ALLOWED_TAGS)
    + ". Filters: "
    + ", ".join(ALLOWED_FILTERS)
    + "."
)


class InstructionsError(Exception):
    """A stored instruction template could not be rendered (it was saved before validation
    was this strict, or changed behind the admin's back)."""


def _library() -> Library:
    library = Library()
    for name in ALLOWED_TAGS:
        library.tag(name, defaulttags.register.tags[name])
    for name in ALLOWED_FILTERS:
        library.filter(name, defaultfilters.register.filters[name])
    return library


def _sandbox() -> Engine:
    engine = Engine(autoescape=False, libraries={}, loaders=[], string_if_invalid="")
    # Engine() always adds Django's default tags and filters; replace them with the allow-list.
    engine.template_builtins = [_library()]
    return engine


_ENGINE = _sandbox()
_SAMPLE = {
    "page": {"title": "Example page", "path": "/example/", "slug": "example"},
    "selected": 'heading "Welcome" (id h1)',
    "user": {"name": "Alex Example"},
}


def validate_template(source: str, field: str = "instructions") -> None:
    """Raise ValidationError (on `field`) if `source` does not compile and render against a
    sample page, selection and user."""
    try:
        _render(source, _SAMPLE)
    except Exception as exc:  # noqa: BLE001  (any failure here is the admin's to fix)
        raise ValidationError({field: f"Template error: {exc} {HELP_TEXT}"}) from None


def render_instructions(
    source: str, *, page, user=None, selected: str = "", origin: str = "instructions"
) -> str:
    """Render an instruction template for a page, a user and the selected element; raise
    InstructionsError (naming `origin`, e.g. "profile 'Main'") if it cannot be rendered."""
    context = {
        "page": {"title": page.title, "path": page.path, "slug": page.slug},
        "selected": selected or "",
        "user": {"name": _user_name(user)},
    }
    try:
        return _render(source, context)
    except Exception as exc:  # noqa: BLE001
        logger.warning("the instructions of %s cannot be rendered: %r", origin, exc)
        raise InstructionsError(
            f"The instructions of {origin} cannot be rendered; an admin should fix them."
        ) from None


def _render(source: str, context: dict) -> str:
    template = _ENGINE.from_string(source or "")
    return template.render(Context(context, autoescape=False)).strip()


def _user_name(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return user.get_full_name() or user.get_username()
