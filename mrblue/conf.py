"""Mr. Blue's own settings, in one place, each with its documented default.

Values come from Django settings (which read them from the environment, see
`mrblue/settings.py` and `.env.example`); code reads them as `app_settings.NAME`, so tests can
change them with `override_settings`.
"""

import secrets
from functools import cached_property

from django.conf import settings

VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar")


class AppSettings:
    """Typed access to the `MRBLUE_*` / `OPENAI_*` settings with their defaults."""

    def _get(self, name, default):
        return getattr(settings, name, default)

    @property
    def OPENAI_API_KEY(self) -> str:
        """OpenAI's server-side key; empty means OpenAI is not configured."""
        return self._get("OPENAI_API_KEY", "")

    @property
    def OPENAI_BASE_URL(self) -> str:
        """OpenAI's API root, as the official SDK names it."""
        return self._get("OPENAI_BASE_URL", "https://api.openai.com/v1").rstrip("/")

    @property
    def REALTIME_PROVIDER(self) -> str:
        """`openai` or `local` (the built-in engine); default `openai` when a key is set."""
        return self._get("MRBLUE_REALTIME_PROVIDER", "openai" if self.OPENAI_API_KEY else "local")

    @cached_property
    def _generated_engine_key(self) -> str:
        return "sk-mrblue-" + secrets.token_urlsafe(32)

    @property
    def ENGINE_API_KEY(self) -> str:
        """The built-in engine's server-side key; a random one per process when unset."""
        return self._get("MRBLUE_ENGINE_API_KEY", "") or self._generated_engine_key

    @property
    def DEFAULT_MODEL(self) -> str:
        """The realtime model a new assistant profile starts with."""
        return self._get("MRBLUE_DEFAULT_MODEL", "gpt-realtime")

    @property
    def DEMO_PASSWORD(self) -> str:
        """Password `demo_data` gives the demo users; empty means generate one."""
        return self._get("MRBLUE_DEMO_PASSWORD", "")


app_settings = AppSettings()
