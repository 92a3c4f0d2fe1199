"""Realtime providers: who mints the short-lived client secret a browser connects with.

Both speak the same HTTP contract (`POST {base}/realtime/client_secrets`), so one client
serves both: OpenAI over the internet, or the built-in engine in-process through httpx's ASGI
transport. Failures become `ProviderError`s with the answer our API gives for them.
"""

import functools
import logging
from dataclasses import dataclass

import httpx

from mrblue.app_settings import app_settings
from mrblue.shared.errors import HttpError

logger = logging.getLogger("mrblue.providers")
USER_AT_LIMIT = "user_session_limit"  # the built-in engine's code for one user's session limit


@dataclass
class MintedSecret:
    """What the browser needs to connect."""

    value: str
    expires_at: int
    model: str
    calls_url: str


class ProviderError(HttpError):
    """A provider failure, with the HTTP status and code our API answers with."""


class SecretsProvider:
    """Mints client secrets from a `/realtime/client_secrets` endpoint."""

    name = ""
    names_owner = False  # whether the endpoint takes the engine's `mrblue_owner` extension

    def __init__(self, base_url: str, api_key: str, calls_url: str, transport=None):
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.calls_url = calls_url
        self.transport = transport

    async def mint(self, session: dict, owner: str | None = None) -> MintedSecret:
        """Ask for a secret for `session`, minted for `owner` (an opaque tag of the user, which
        the built-in engine bounds live sessions by); raise ProviderError on any failure."""
        body = {
            "expires_after": {"anchor": "created_at", "seconds": app_settings.SECRET_SECONDS},
            "session": session,
        }
        if owner and self.names_owner:
            body["mrblue_owner"] = owner
        timeout = httpx.Timeout(
            app_settings.PROVIDER_READ_TIMEOUT, connect=app_settings.PROVIDER_CONNECT_TIMEOUT
        )
        headers = {"Authorization": f"Bearer {self._api_key}", "User-Agent": "mrblue/0.1"}
        try:
            async with httpx.AsyncClient(transport=self.transport, timeout=timeout) as client:
                answer = await client.post(
                    f"{self.base_url}/realtime/client_secrets", json=body, headers=headers
                )
        except httpx.TimeoutException:
            raise self._fail(
                504, "provider_timeout", "The realtime provider did not answer in time.", None
            ) from None
        except httpx.HTTPError as exc:
            raise self._fail(
                502,
                "provider_unreachable",
                f"The realtime provider could not be reached ({type(exc).__name__}).",
                None,
            ) from None
        return self._read(answer, session)

    def _read(self, answer: httpx.Response, session: dict) -> MintedSecret:
        request_id = answer.headers.get("x-request-id")
        status = answer.status_code
        if status in (401, 403):
            raise self._fail(
                502,
                "provider_auth",
                "The realtime provider refused our credentials.",
                request_id,
                status,
            )
        if status == 429 and error_code(answer) == USER_AT_LIMIT:
            # The built-in engine: this user holds their limit of sessions. Not the provider
            # being busy: the user can do something about it (end a call, close a tab).
            raise self._fail(
                429,
                USER_AT_LIMIT,
                "You already have as many voice sessions as you may; end one (close another "
                "tab or call) first.",
                request_id,
                status,
            )
        if status == 429:
            retry = retry_after(answer.headers.get("retry-after"))
            raise self._fail(
                503,
                "provider_rate_limited",
                "The realtime provider is busy; try again shortly.",
                request_id,
                status,
                retry,
            )
        if status == 503 and error_code(answer) == "engine_busy":
            raise self._fail(
                503,
                "engine_busy",
                "Mr. Blue is busy with other calls right now.",
                request_id,
                status,
                retry_after(answer.headers.get("retry-after")),
            )
        if status >= 500:
            raise self._fail(
                502, "provider_error", "The realtime provider failed.", request_id, status
            )
        if status != 200:
            raise self._fail(
                502,
                "provider_rejected",
                "The realtime provider rejected the "
                "session settings; an admin should check this page's profile.",
                request_id,
                status,
            )
        try:
            value, expires_at, model = _secret_fields(answer.json())
        except (ValueError, KeyError, TypeError):
            raise self._fail(
                502,
                "provider_bad_response",
                "The realtime provider sent an answer we could not read.",
                request_id,
                status,
            ) from None
        return MintedSecret(value, expires_at, model or session["model"], self.calls_url)

    def _fail(self, status, code, message, request_id, provider_status=None, retry=None):
        # Logged once, here; never the key, never the provider's body.
        logger.warning(
            "%s provider failed: %s (provider status %s, request id %s)",
            self.name,
            code,
            provider_status,
            request_id or "none",
        )
        return ProviderError(status, code, message, retry)


def _secret_fields(data) -> tuple[str, int, str | None]:
    """`value`, `expires_at` and the session's model from a client-secrets answer; TypeError
    (or KeyError) when the answer is not in the documented shape."""
    value, expires_at = data["value"], data["expires_at"]
    if not isinstance(value, str) or not value or not isinstance(expires_at, int):
        raise TypeError
    session = data.get("session") or {}
    if not isinstance(session, dict):
        raise TypeError
    model = session.get("model")
    if model is not None and not isinstance(model, str):
        raise TypeError
    return value, expires_at, model


def error_code(answer: httpx.Response) -> str | None:
    """The `error.code` of an OpenAI-shaped error answer, if it has one."""
    try:
        return answer.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def retry_after(value) -> int:
    """Seconds from a `Retry-After` header (at least 1; 5 when absent or not a number)."""
    try:
        return max(1, int(float(value)))
    except (TypeError, ValueError):
        return 5


class OpenAIProvider(SecretsProvider):
    """OpenAI's Realtime API (GA)."""

    name = "openai"

    def __init__(self):
        base = app_settings.OPENAI_BASE_URL
        super().__init__(base, app_settings.OPENAI_API_KEY, f"{base}/realtime/calls")


class LocalProvider(SecretsProvider):
    """The built-in engine, reached in-process (no network hop, same HTTP contract).

    `engine_url` is this server's own `/v1` as the browser reached it, so the in-process
    request carries a host and scheme our own checks (ALLOWED_HOSTS, HTTPS redirect) accept.
    """

    name = "local"
    names_owner = True

    def __init__(self, engine_url: str):
        transport = httpx.ASGITransport(app=django_app())
        super().__init__(
            engine_url,
            app_settings.ENGINE_API_KEY,
            f"{engine_url.rstrip('/')}/realtime/calls",
            transport,
        )


@functools.cache
def django_app():
    """This process's Django as an ASGI app, for in-process requests to the engine's URLs."""
    # One handler for the process: `get_asgi_application()` would set Django up (and its
    # logging) again on every mint.
    from django.core.handlers.asgi import ASGIHandler

    return ASGIHandler()


def get_provider(engine_url: str) -> SecretsProvider:
    """The configured provider (`MRBLUE_REALTIME_PROVIDER`); `engine_url` is our own `/v1`."""
    if app_settings.REALTIME_PROVIDER == "openai":
        return OpenAIProvider()
    return LocalProvider(engine_url)
