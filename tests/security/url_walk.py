"""Every URL pattern the project serves, each with a concrete path that resolves to it."""

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern

_ROUTE_PART = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^)]*)\)")


@dataclass
class Endpoint:
    """One URL pattern: its dotted name (or route), a path that reaches it, and its view."""

    name: str
    path: str
    view: object


def walk(urlconf=None):
    """Yield (pattern parts, URLPattern) for every pattern, descending into includes."""

    def descend(patterns, parts):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from descend(entry.url_patterns, (*parts, entry))
            else:
                yield (*parts, entry), entry

    yield from descend(get_resolver(urlconf).url_patterns, ())


def endpoints(values: dict, urlconf=None) -> list[Endpoint]:
    """Every pattern with a path built from `values` (argument name → value); raise if a
    pattern cannot be reached, so a new URL never escapes the checks built on this."""
    found = []
    for parts, pattern in walk(urlconf):
        path = "/" + "".join(_fill(part, pattern, values) for part in parts)
        match = resolve(path, urlconf)
        if match.func is not pattern.callback:
            raise AssertionError(f"{path} (built for {pattern!r}) resolves to {match.func!r}")
        name = ":".join(
            p.namespace for p in parts[:-1] if isinstance(p, URLResolver) and p.namespace
        )
        label = f"{name}:{pattern.name}" if name and pattern.name else pattern.name
        found.append(Endpoint(label or str(pattern.pattern), path, pattern.callback))
    return found


def _fill(part, pattern: URLPattern, values: dict) -> str:
    kind = part.pattern
    if isinstance(kind, RoutePattern):
        return _ROUTE_PART.sub(lambda m: _value(m["name"], pattern, values), str(kind))
    if isinstance(kind, RegexPattern):
        regex = str(kind).lstrip("^").removesuffix("$").removesuffix(r"\Z")
        return _REGEX_GROUP.sub(lambda m: _regex_value(m, pattern, values), regex)
    raise AssertionError(f"unknown pattern type {kind!r}")


def _value(name: str, pattern: URLPattern, values: dict) -> str:
    model_admin = getattr(pattern.callback, "model_admin", None)
    if name == "object_id" and model_admin is not None:
        obj = model_admin.model._default_manager.first()
        if obj is None:
            raise AssertionError(f"make a {model_admin.model.__name__} for {pattern!r}")
        return str(obj.pk)
    if name not in values:
        raise AssertionError(f"give a value for <{name}> (in {pattern!r})")
    return str(values[name])


def _regex_value(match, pattern: URLPattern, values: dict) -> str:
    value = _value(match["name"], pattern, values)
    if not re.fullmatch(match["body"], value):
        raise AssertionError(f"{value!r} does not match {match['body']!r} in {pattern!r}")
    return value
