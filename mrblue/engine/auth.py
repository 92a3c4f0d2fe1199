"""Who may use the engine: the server-side engine key, or a live `ek_` client secret."""

import hmac

from mrblue.engine import config as session_config
from mrblue.engine.conf import engine_settings
from mrblue.engine.events import new_id
from mrblue.engine.models import EngineClientSecret


def bearer_token(headers: dict) -> str | None:
    """The token of an `Authorization: Bearer ...` header, if any."""
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def is_engine_key(token: str | None) -> bool:
    """Whether `token` is the engine's server-side key (compared in constant time)."""
    return bool(token) and hmac.compare_digest(
        token.encode(), engine_settings.ENGINE_API_KEY.encode()
    )


def session_for_key(token: str | None, model: str | None = None) -> dict | None:
    """The session config a key opens: the default one for the engine key, a secret's own for
    a live `ek_`; None for anything else."""
    if is_engine_key(token):
        return session_config.default_session(model or engine_settings.DEFAULT_MODEL)
    if token and token.startswith("ek_"):
        stored = EngineClientSecret.live_session(token)
        if stored is not None:
            return {**stored, "id": new_id("sess")}
    return None
