"""Who may use the engine: the server-side engine key, or a live `ek_` client secret."""

import hmac
from dataclasses import dataclass

from mrblue.engine.engine_settings import engine_settings
from mrblue.engine.models import EngineClientSecret
from mrblue.engine.protocol import session_config
from mrblue.engine.protocol.events import new_id


def bearer_token(headers: dict) -> str | None:
    """The token of an `Authorization: Bearer ...` header, if any."""
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


# Browsers cannot set headers on a WebSocket: OpenAI takes the key as this subprotocol's suffix.
KEY_PROTOCOL = "openai-insecure-api-key."


def socket_key(scope: dict) -> tuple[dict, list[str], str | None]:
    """A WebSocket's headers (lower-cased names), its subprotocols, and the key it carries:
    `Authorization: Bearer <key>`, else the `openai-insecure-api-key.<key>` subprotocol."""
    headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
    protocols = scope.get("subprotocols") or []
    offered = (p[len(KEY_PROTOCOL) :] for p in protocols if p.startswith(KEY_PROTOCOL))
    return headers, protocols, bearer_token(headers) or next(offered, None)


def is_engine_key(token: str | None) -> bool:
    """Whether `token` is the engine's server-side key (compared in constant time)."""
    if not token:
        return False
    return hmac.compare_digest(token.encode(), engine_settings.ENGINE_API_KEY.encode())


@dataclass
class Access:
    """What a key opens: a session config, and what its place counts against (the secret's
    hash and owner; None for the engine key, which the server alone holds)."""

    config: dict
    secret: str | None = None
    owner: str | None = None


def session_for_key(token: str | None, model: str | None = None) -> Access | None:
    """What a key opens: the default session for the engine key, a secret's own for a live
    `ek_`; None for anything else."""
    if is_engine_key(token):
        return Access(session_config.default_session(model or engine_settings.DEFAULT_MODEL))
    if token and token.startswith("ek_"):
        row = EngineClientSecret.live(token)
        if row is not None:
            return Access({**row.session, "id": new_id("sess")}, row.key_hash, row.owner or None)
    return None
