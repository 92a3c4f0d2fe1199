"""Mr. Blue's own settings, in one place, each with its documented default.

Values come from Django settings (which read them from the environment, see
`mrblue/settings.py` and `.env.example`); code reads them as `app_settings.NAME`, so tests can
change them with `override_settings`.
"""

import secrets
from functools import cached_property

from django.conf import settings

DEFAULT_PRICES = {
    "gpt-realtime": {"audio": (32.0, 0.40, 64.0), "text": (4.0, 0.40, 16.0)},
    "gpt-realtime-2": {"audio": (32.0, 0.40, 64.0), "text": (4.0, 0.40, 24.0)},
    "gpt-realtime-2.1-mini": {"audio": (10.0, 0.30, 20.0), "text": (0.60, 0.06, 2.40)},
}


class AppSettings:
    """Typed access to the `MRBLUE_*` / `OPENAI_*` settings with their defaults."""

    def _get(self, name, default):
        value = getattr(settings, name, None)
        return default if value is None else value

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

    @property
    def ENGINE_BRAIN(self) -> str:
        """The built-in engine's brain: `commands`, `openai_compatible` or a dotted path."""
        return self._get("MRBLUE_ENGINE_BRAIN", "commands")

    @property
    def BRAIN_URL(self) -> str:
        """Root of the chat-completions server the `openai_compatible` brain uses."""
        return self._get("MRBLUE_BRAIN_URL", "http://127.0.0.1:11434/v1")

    @property
    def BRAIN_MODEL(self) -> str:
        """Model name sent to that server."""
        return self._get("MRBLUE_BRAIN_MODEL", "llama3.2")

    @property
    def BRAIN_API_KEY(self) -> str:
        """Key for that server, if it needs one."""
        return self._get("MRBLUE_BRAIN_API_KEY", "")

    @property
    def BRAIN_TIMEOUT(self) -> float:
        """Seconds to wait for that server (connect at most 5)."""
        return float(self._get("MRBLUE_BRAIN_TIMEOUT", 30.0))

    @property
    def ENGINE_MAX_SESSIONS(self) -> int:
        """Concurrent engine sessions this process accepts; more are refused."""
        return int(self._get("MRBLUE_ENGINE_MAX_SESSIONS", 20))

    @property
    def ENGINE_SESSION_SECONDS(self) -> int:
        """How long one engine session may last (OpenAI: 60 minutes)."""
        return int(self._get("MRBLUE_ENGINE_SESSION_SECONDS", 3600))

    @property
    def ENGINE_MAX_MESSAGE_BYTES(self) -> int:
        """Largest client event accepted (OpenAI: 15 MiB, for audio appends)."""
        return int(self._get("MRBLUE_ENGINE_MAX_MESSAGE_BYTES", 15 * 1024 * 1024))

    @property
    def ENGINE_SECRET_DEFAULT_SECONDS(self) -> int:
        """Lifetime of a client secret when the request names none (10 minutes)."""
        return int(self._get("MRBLUE_ENGINE_SECRET_SECONDS", 600))

    @property
    def SECRET_SECONDS(self) -> int:
        """Lifetime of the client secrets minted for browsers (10 to 7200; default 60)."""
        return int(self._get("MRBLUE_SECRET_SECONDS", 60))

    @property
    def PROVIDER_CONNECT_TIMEOUT(self) -> float:
        """Seconds to wait for a connection to the provider."""
        return float(self._get("MRBLUE_PROVIDER_CONNECT_TIMEOUT", 5.0))

    @property
    def PROVIDER_READ_TIMEOUT(self) -> float:
        """Seconds to wait for the provider's answer."""
        return float(self._get("MRBLUE_PROVIDER_READ_TIMEOUT", 10.0))

    @property
    def MINT_RATE_PER_MINUTE(self) -> int:
        """Client secrets one user may mint per minute."""
        return int(self._get("MRBLUE_MINT_RATE_PER_MINUTE", 10))

    @property
    def STT_MODEL(self) -> str:
        """faster-whisper model name or path; empty = the offline `tiny.en` from a package."""
        return self._get("MRBLUE_STT_MODEL", "")

    @property
    def STT_PROMPT(self) -> str:
        """Words that prime recognition when the session gives no transcription prompt."""
        return self._get(
            "MRBLUE_STT_PROMPT",
            "Mr. Blue, edit the page: make the heading blue, add a button that says Sign up, "
            "undo, redo, delete the paragraph.",
        )

    @property
    def TTS_VOICES(self) -> dict[str, str]:
        """Realtime voice → piper model path, as `marin=/p/a.onnx,*=/p/default.onnx`."""
        raw = self._get("MRBLUE_TTS_VOICES", "")
        if isinstance(raw, dict):
            return raw
        pairs = (item.split("=", 1) for item in raw.split(",") if "=" in item)
        return {name.strip(): path.strip() for name, path in pairs}

    @property
    def WEBRTC_HOSTS(self) -> list[str]:
        """Host addresses offered in WebRTC answers; empty = every address of this machine."""
        raw = self._get("MRBLUE_WEBRTC_HOSTS", "")
        return [h.strip() for h in raw.split(",") if h.strip()] if isinstance(raw, str) else raw

    @property
    def ICE_SERVERS(self) -> list[str]:
        """STUN/TURN URLs for WebRTC (`stun:host:port,...`); empty = none (no outside help)."""
        raw = self._get("MRBLUE_ICE_SERVERS", "")
        return [u.strip() for u in raw.split(",") if u.strip()] if isinstance(raw, str) else raw

    @property
    def WEBRTC_CONNECT_TIMEOUT(self) -> float:
        """Seconds a WebRTC call may take to connect before it is dropped."""
        return float(self._get("MRBLUE_WEBRTC_CONNECT_TIMEOUT", 20.0))

    @property
    def LOG_MESSAGES_PER_10S(self) -> int:
        """Transcript-log messages one connection may send per 10 seconds."""
        return int(self._get("MRBLUE_LOG_MESSAGES_PER_10S", 500))

    @property
    def PRICES(self) -> dict:
        """USD per 1M tokens per model: audio/text × input/cached/output (published rates)."""
        return self._get("MRBLUE_PRICES", None) or DEFAULT_PRICES

    @property
    def LOG_CONNECTIONS_PER_USER(self) -> int:
        """Transcript-log WebSockets one user may hold open at once (per web process)."""
        return int(self._get("MRBLUE_LOG_CONNECTIONS_PER_USER", 8))

    @property
    def LOG_MESSAGES_PER_CONVERSATION(self) -> int:
        """Log messages stored per conversation; beyond, `conversation_full`."""
        return int(self._get("MRBLUE_LOG_MESSAGES_PER_CONVERSATION", 10_000))

    @property
    def TOOL_CALLS_PER_MINUTE(self) -> int:
        """Page-tool calls (and Undo/Redo presses) one user may make per minute."""
        return int(self._get("MRBLUE_TOOL_CALLS_PER_MINUTE", 60))


app_settings = AppSettings()
