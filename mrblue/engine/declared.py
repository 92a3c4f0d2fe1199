"""Declared settings: each setting written once (name, default, type, meaning, group).

A tuple of `Setting`s is the single source for three things:

- `read_environment` turns environment strings into typed values, for Django's settings module
  (which must import the declarations before Django is configured: nothing here reads
  `django.conf.settings` at import time);
- `DeclaredSettings` gives code typed access to them through Django's settings, so tests can
  change a value with `override_settings`;
- the documentation (`.env.example`, `mrblue/docs/settings.md`) is generated from the same tuple.

A cast turns an environment string into a value; when it returns None the default applies.
"""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

# A default is a value, or a function of the other settings (`get(name)` reads one).
Default = Any | Callable[[Callable[[str], Any]], Any]


@dataclass(frozen=True)
class Cast:
    """How a setting's value is written in the environment, both ways."""

    parse: Callable[[str], Any]
    format: Callable[[Any], str]


def _boolean(raw: str) -> bool:
    # django-environ's reading, kept: a number is true unless 0, else one of these words.
    try:
        return int(raw) != 0
    except ValueError:
        return raw.strip().lower() in ("true", "on", "ok", "y", "yes", "1")


def _json(raw: str) -> Any:
    return json.loads(raw) if raw.strip() else None


TEXT = Cast(str, str)
OPTIONAL_TEXT = Cast(lambda raw: raw or None, str)  # empty means the default
URL = Cast(lambda raw: raw.rstrip("/"), str)
BOOLEAN = Cast(_boolean, lambda value: "1" if value else "0")
INTEGER = Cast(int, str)
NUMBER = Cast(float, lambda value: f"{value:g}")
WORDS = Cast(
    lambda raw: [word.strip() for word in raw.split(",") if word.strip()],
    lambda value: ",".join(value),
)
PAIRS = Cast(
    lambda raw: {
        name.strip(): value.strip()
        for name, value in (item.split("=", 1) for item in raw.split(",") if "=" in item)
    },
    lambda value: ",".join(f"{name}={path}" for name, path in value.items()),
)
JSON = Cast(_json, json.dumps)


@dataclass(frozen=True)
class Setting:
    """One setting: its environment (and Django settings) name, default, cast and meaning.

    `shown` describes the default in the settings page when it is computed or too long to print;
    `check` validates a parsed value (raise ValueError with the reason).
    """

    name: str
    default: Default
    cast: Cast
    doc: str
    group: str
    shown: str | None = None
    check: Callable[[Any], None] | None = None

    @property
    def attribute(self) -> str:
        """The name code reads it by: `MRBLUE_` dropped (`app_settings.ENGINE_BRAIN`)."""
        return self.name.removeprefix("MRBLUE_")

    @property
    def computed(self) -> bool:
        """Whether the default depends on other settings (or is made at run time)."""
        return callable(self.default)

    def default_value(self, get: Callable[[str], Any]) -> Any:
        """The default, computed from the other settings when it depends on them."""
        return self.default(get) if self.computed else self.default

    def parse(self, raw: str) -> Any:
        """The typed value of an environment string; a clear error names the setting."""
        try:
            value = self.cast.parse(raw)
            if value is not None and self.check is not None:
                self.check(value)
        except ValueError as error:
            raise ImproperlyConfigured(f"{self.name} is not valid: {error}") from None
        return value

    def value(self, raw: Any, get: Callable[[str], Any]) -> Any:
        """The value of a raw setting: strings are parsed, None is the default, typed values
        (as tests set them) are kept."""
        if isinstance(raw, str):
            raw = self.parse(raw)
        return self.default_value(get) if raw is None else raw


def read_environment(
    declarations: Iterable[Setting], read: Callable[[str], str | None]
) -> dict[str, Any]:
    """Every declared setting's value, from `read(name)` (the environment string or None).

    Declarations are read in order, so a computed default may use the ones before it.
    """
    values: dict[str, Any] = {}
    for setting in declarations:
        values[setting.name] = setting.value(read(setting.name), values.__getitem__)
    return values


class DeclaredSettings:
    """Typed access to declared settings, read from Django's settings at each access.

    `obj.ENGINE_BRAIN` reads `settings.MRBLUE_ENGINE_BRAIN`, so `override_settings` works; a
    setting Django's settings lack takes its declared default.
    """

    def __init__(self, declarations: Iterable[Setting]):
        self._declarations = {setting.attribute: setting for setting in declarations}

    def __getattr__(self, attribute: str) -> Any:
        setting = self._declarations.get(attribute)
        if setting is None:
            raise AttributeError(f"no declared setting {attribute!r}")
        from django.conf import settings

        return setting.value(getattr(settings, setting.name, None), self._by_name)

    def _by_name(self, name: str) -> Any:
        return getattr(self, name.removeprefix("MRBLUE_"))

    def __dir__(self) -> list[str]:
        return sorted(self._declarations)
