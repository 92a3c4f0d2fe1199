"""Instruction templates: admins write them with Django template syntax, Mr. Blue reads text.

Available variables: `page.title`, `page.path`, `page.slug`, `selected` (a short description of
the selected element, empty when none) and `user.name`.

Templates run in a sandbox: an engine of their own with no loaders, no `{% load %}`, and only
the tags and filters instructions need (`ALLOWED_TAGS`, `ALLOWED_FILTERS`), so nothing can read
files (`{% include %}`), dump internals (`{% debug %}`) or fail at render time in a way the
admin did not see when saving. Output is plain text: no HTML escaping.

The variables are text fields, not Python objects: `{{ page.items }}` finds no dict method to
call. A render is bounded: a template and what it renders are at most
`MAX_INSTRUCTIONS_CHARS`, and its loops run at most `MAX_LOOP_PASSES` times in all, so nested
loops over long text cannot take the server's time. Saving renders the template with the
longest page, selection and user name there can be, so what saves also renders at every mint.
"""

import logging

from django.core.exceptions import ValidationError
from django.template import Context, Engine, Library, Node, NodeList, defaultfilters, defaulttags
from django.template.base import FilterExpression, Variable

logger = logging.getLogger("mrblue.instructions")

MAX_INSTRUCTIONS_CHARS = 32 * 1024
MAX_LOOP_PASSES = 1000
# All passes of all loops render at most this much (an inner loop's text counts again in its
# outer loop's pass).
MAX_LOOP_OUTPUT_CHARS = 4 * MAX_INSTRUCTIONS_CHARS


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
    + f". At most {MAX_INSTRUCTIONS_CHARS} characters, written and rendered."
)


class InstructionsError(Exception):
    """A stored instruction template could not be rendered (it was saved before validation
    was this strict, or changed behind the admin's back)."""


class TooCostly(Exception):
    """A template would render too much text, or loop too often."""


class _Fields:
    """A template variable with text fields and nothing else: not a dict, so no method
    (`items`, `keys`, ...) can be looked up, and `{{ page }}` alone shows nothing."""

    __slots__ = ("_fields",)

    def __init__(self, **fields: str):
        self._fields = fields

    def __getitem__(self, name: str) -> str:
        return self._fields[name]

    def __iter__(self):
        return iter(())

    def __str__(self) -> str:
        return ""


def _charge(context, passes: int = 0, chars: int = 0) -> None:
    """Count loop work against this render's budget; TooCostly once it is spent."""
    spent = context.render_context.setdefault("mrblue_budget", {"passes": 0, "chars": 0})
    spent["passes"] += passes
    spent["chars"] += chars
    if spent["passes"] > MAX_LOOP_PASSES:
        raise TooCostly(f"its loops would run more than {MAX_LOOP_PASSES} times.")
    if spent["chars"] > MAX_LOOP_OUTPUT_CHARS:
        raise TooCostly(f"its loops would render more than {MAX_LOOP_OUTPUT_CHARS} characters.")


class _ChargedPass(Node):
    """The body of a `{% for %}`, charging each pass to the render's budget."""

    child_nodelists = ("nodelist",)

    def __init__(self, nodelist: NodeList):
        self.nodelist = nodelist

    def render(self, context):
        """Render one pass of the loop."""
        _charge(context, passes=1)
        output = self.nodelist.render(context)
        _charge(context, chars=len(output))
        return output


def _bounded_for(parser, token):
    """`{% for %}` whose passes are charged to the render's budget."""
    node = defaulttags.do_for(parser, token)
    node.nodelist_loop = NodeList([_ChargedPass(node.nodelist_loop)])
    return node


def _bounded_join(value, arg, autoescape=True):
    """`join`, refusing before it builds text over the limit (a long separator, many items)."""
    try:
        size = len(value) * len(str(arg))
    except TypeError:
        size = 0
    if size > MAX_INSTRUCTIONS_CHARS:
        raise TooCostly(f"'join' would render more than {MAX_INSTRUCTIONS_CHARS} characters.")
    return defaultfilters.join(value, arg, autoescape=autoescape)


def _library() -> Library:
    library = Library()
    for name in ALLOWED_TAGS:
        library.tag(name, defaulttags.register.tags[name])
    library.tag("for", _bounded_for)
    for name in ALLOWED_FILTERS:
        library.filter(name, defaultfilters.register.filters[name])
    library.filter("join", _bounded_join, is_safe=True, needs_autoescape=True)
    return library


def _sandbox() -> Engine:
    engine = Engine(autoescape=False, libraries={}, loaders=[], string_if_invalid="")
    # Engine() always adds Django's default tags and filters; replace them with the allow-list.
    engine.template_builtins = [_library()]
    return engine


_ENGINE = _sandbox()
_SAMPLE = {
    "page": _Fields(title="Example page", path="/example/", slug="example"),
    "selected": 'heading "Welcome" (id h1)',
    "user": _Fields(name="Alex Example"),
}
# The longest values there can be: a title of 200 characters (Page.title), a slug of 50
# (a SlugField), a selection of 500 (the API's limit) described in words, a user's full name.
_LONGEST = {
    "page": _Fields(title="T" * 200, path="/" + "s" * 50 + "/", slug="s" * 50),
    "selected": 'paragraph "' + "w" * 57 + '..." (id ' + "i" * 500 + ")",
    "user": _Fields(name="N" * 150 + " " + "N" * 150),
}


# The lookups a variable may make: `page.title`, `user.name`, `forloop.counter`... Any other
# dotted lookup would reach Python (`{{ page.title.encode }}` calls a str method).
FIELDS = {
    "page": ("title", "path", "slug"),
    "user": ("name",),
    "forloop": ("counter", "counter0", "revcounter", "revcounter0", "first", "last"),
}


def _variables(node, depth: int = 0):
    """Every `Variable` a compiled node reads: in its filter expressions, its conditions and
    its filters' arguments (tags keep them in attributes of their own shapes)."""
    if depth > 8:
        return
    if isinstance(node, Variable):
        yield node
    elif isinstance(node, FilterExpression):
        yield from _variables(node.var, depth + 1)
        for _filter, args in node.filters:
            for _lookup, arg in args:
                yield from _variables(arg, depth + 1)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _variables(item, depth + 1)
    elif isinstance(node, dict):
        yield from _variables(list(node.values()), depth + 1)
    elif hasattr(node, "__dict__") and not isinstance(node, NodeList | type):
        for value in vars(node).values():
            if not isinstance(value, NodeList):  # nested nodes are visited on their own
                yield from _variables(value, depth + 1)


def _check_variables(template) -> None:
    """Refuse a dotted lookup outside `FIELDS` (names a loop or `with` binds have none)."""
    for node in template.nodelist.get_nodes_by_type(Node):
        for variable in _variables(node):
            lookups = variable.lookups or ()
            if len(lookups) > 2 or (
                len(lookups) == 2 and lookups[1] not in FIELDS.get(lookups[0], ())
            ):
                raise ValueError(f"Unknown variable {variable.var!r}.")


def validate_template(source: str, field: str = "instructions") -> None:
    """Raise ValidationError (on `field`) if `source` does not compile, reads a variable that
    is not one of the instructions' own, or does not render against a sample page, selection
    and user, and against the longest ones, within the limits."""
    try:
        _render(source, _SAMPLE)
        _render(source, _LONGEST)
    except TooCostly as exc:
        message = f"Template too large: {exc} (rendered for the longest page title and selection)"
        raise ValidationError({field: message}) from None
    except Exception as exc:  # noqa: BLE001  (any failure here is the admin's to fix)
        raise ValidationError({field: f"Template error: {exc} {HELP_TEXT}"}) from None


def render_instructions(
    source: str, *, page, user=None, selected: str = "", origin: str = "instructions"
) -> str:
    """Render an instruction template for a page, a user and the selected element; raise
    InstructionsError (naming `origin`, e.g. "profile 'Main'") if it cannot be rendered."""
    context = {
        "page": _Fields(title=str(page.title), path=str(page.path), slug=str(page.slug)),
        "selected": str(selected or ""),
        "user": _Fields(name=_user_name(user)),
    }
    try:
        return _render(source, context)
    except Exception as exc:  # noqa: BLE001
        logger.warning("the instructions of %s cannot be rendered: %r", origin, exc)
        raise InstructionsError(
            f"The instructions of {origin} cannot be rendered; an admin should fix them."
        ) from None


def _render(source: str, context: dict) -> str:
    source = source or ""
    if len(source) > MAX_INSTRUCTIONS_CHARS:
        raise TooCostly(f"the template is longer than {MAX_INSTRUCTIONS_CHARS} characters.")
    template = _ENGINE.from_string(source)
    _check_variables(template)
    text = template.render(Context(context, autoescape=False)).strip()
    if len(text) > MAX_INSTRUCTIONS_CHARS:
        raise TooCostly(
            f"the instructions would be longer than {MAX_INSTRUCTIONS_CHARS} characters."
        )
    return text


def _user_name(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return str(user.get_full_name() or user.get_username())
