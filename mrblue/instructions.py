"""Instruction templates: admins write them with Django template syntax, Mr. Blue reads text.

Available variables: `page.title`, `page.path`, `page.slug`, `selected` (a short description of
the selected element, empty when none) and `user.name`.
"""

from django.core.exceptions import ValidationError
from django.template import Context, Engine, TemplateSyntaxError

# Plain text goes to the model: no HTML escaping, and no template loaders (no {% include %}).
_ENGINE = Engine(autoescape=False, libraries={}, builtins=["django.template.defaultfilters"])


def validate_template(source: str, field: str = "instructions") -> None:
    """Raise ValidationError (on `field`) if `source` is not a valid template."""
    try:
        _ENGINE.from_string(source or "")
    except TemplateSyntaxError as exc:
        raise ValidationError({field: f"Template error: {exc}"}) from None


def render_instructions(source: str, *, page, user=None, selected: str = "") -> str:
    """Render an instruction template for a page, a user and the selected element."""
    context = {
        "page": {"title": page.title, "path": page.path, "slug": page.slug},
        "selected": selected or "",
        "user": {"name": _user_name(user)},
    }
    return _ENGINE.from_string(source or "").render(Context(context, autoescape=False)).strip()


def _user_name(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return user.get_full_name() or user.get_username()
