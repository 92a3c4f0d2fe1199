"""Every setting of Mr. Blue, declared once: name, default, type, meaning.

`SETTINGS` is the whole list: Django's own (read by `mrblue/project/settings.py`), the app's
and the built-in engine's (declared in `mrblue/engine/engine_settings.py`). `.env.example` and
the settings page are generated from it (`python -m mrblue.project.settings_doc`). App code
reads values as `app_settings.NAME` (`MRBLUE_` dropped), so tests can change them with
`override_settings`; the app may read the engine's settings too (its key, the default model),
the engine never the app's.
"""

from pathlib import Path

from mrblue.engine.declared import (
    BOOLEAN,
    INTEGER,
    JSON,
    NUMBER,
    TEXT,
    URL,
    WORDS,
    DeclaredSettings,
    Setting,
)
from mrblue.engine.engine_settings import ENGINE_SETTINGS

BASE_DIR = Path(__file__).resolve().parent.parent
# The default SQLite database's directory: the processes' own (see mrblue/project/privileges.py).
DATA_DIR = BASE_DIR / "data"
# Where older installs made it; still used where it is (as root, `serve` moves it to DATA_DIR).
LEGACY_DATABASE = BASE_DIR / "db.sqlite3"
DEVELOPMENT_SECRET_KEY = "django-insecure-mrblue-development-key-never-use-in-production"


def default_database() -> Path:
    """The SQLite database used when `DATABASE_URL` is unset."""
    return LEGACY_DATABASE if LEGACY_DATABASE.exists() else DATA_DIR / "db.sqlite3"


DJANGO = "Django"
PRODUCTION = "Production (only read when DEBUG=0)"
STORAGE = "Storage"
PROVIDERS = "Realtime providers"
DEMO = "Demo"
CONVERSATIONS = "Conversations"
ADMIN = "Admin"

DJANGO_SETTINGS = (
    Setting("DEBUG", True, BOOLEAN, "`0` in production (then `SECRET_KEY` is required).", DJANGO),
    Setting(
        "SECRET_KEY",
        lambda get: DEVELOPMENT_SECRET_KEY if get("DEBUG") else "",
        TEXT,
        "Django's secret key; required when `DEBUG=0`, a fixed development key otherwise.",
        DJANGO,
        shown="development key",
    ),
    Setting(
        "ALLOWED_HOSTS",
        ["127.0.0.1", "localhost", "[::1]"],
        WORDS,
        "Host names served, comma-separated.",
        DJANGO,
    ),
    Setting(
        "CSRF_TRUSTED_ORIGINS",
        [],
        WORDS,
        "Origins trusted for forms, e.g. `https://mrblue.example.com` behind a proxy.",
        DJANGO,
    ),
    Setting(
        "LOG_LEVEL",
        "INFO",
        TEXT,
        "Level of the `mrblue` and `editor` loggers (`DEBUG` logs every engine event, without "
        "audio).",
        DJANGO,
    ),
    Setting("SESSION_COOKIE_SECURE", True, BOOLEAN, "Session cookie only over HTTPS.", PRODUCTION),
    Setting("CSRF_COOKIE_SECURE", True, BOOLEAN, "CSRF cookie only over HTTPS.", PRODUCTION),
    Setting("SECURE_SSL_REDIRECT", True, BOOLEAN, "Redirect HTTP to HTTPS.", PRODUCTION),
    Setting("SECURE_HSTS_SECONDS", 31536000, INTEGER, "HSTS lifetime (one year).", PRODUCTION),
    Setting(
        "SECURE_HSTS_INCLUDE_SUBDOMAINS", True, BOOLEAN, "HSTS for subdomains too.", PRODUCTION
    ),
    Setting("SECURE_HSTS_PRELOAD", True, BOOLEAN, "Allow HSTS preloading.", PRODUCTION),
    Setting(
        "BEHIND_TLS_PROXY",
        False,
        BOOLEAN,
        "`1` when a proxy terminates TLS and sets `X-Forwarded-Proto`.",
        PRODUCTION,
    ),
    Setting(
        "DATABASE_URL",
        lambda get: f"sqlite:///{default_database()}",
        TEXT,
        "Any Django database URL, e.g. `postgres://postgres@127.0.0.1:5432/mrblue`; unset = "
        "`data/db.sqlite3` in the project root (or `db.sqlite3` there, where an older install "
        "made it).",
        STORAGE,
        shown="`sqlite:///data/db.sqlite3` (WAL mode)",
    ),
    Setting(
        "DB_CONN_MAX_AGE",
        0,
        INTEGER,
        "Seconds to keep database connections (not SQLite); 60 in production.",
        STORAGE,
    ),
    Setting(
        "CACHE_KEY_PREFIX",
        "",
        TEXT,
        "A prefix of every key in the cache (the rate limits' counts), for installs that share "
        "one Redis.",
        STORAGE,
    ),
    Setting(
        "REDIS_URL",
        "",
        TEXT,
        "Redis for the channel layer and the rate limits, e.g. `redis://127.0.0.1:6379/0`; "
        "empty = the in-memory layer.",
        STORAGE,
        shown="empty (in-memory layer)",
    ),
)

DEFAULT_PRICES = {
    "gpt-realtime": {"audio": [32.0, 0.40, 64.0], "text": [4.0, 0.40, 16.0]},
    "gpt-realtime-2": {"audio": [32.0, 0.40, 64.0], "text": [4.0, 0.40, 24.0]},
    "gpt-realtime-2.1-mini": {"audio": [10.0, 0.30, 20.0], "text": [0.60, 0.06, 2.40]},
}


def check_prices(prices) -> None:
    """Prices are `{model: {"audio": [in, cached, out], "text": [in, cached, out]}}`."""
    if not isinstance(prices, dict):
        raise ValueError("expected a JSON object of models")
    for model, rates in prices.items():
        for kind in ("audio", "text"):
            three = rates.get(kind) if isinstance(rates, dict) else None
            numbers = isinstance(three, list) and all(
                isinstance(n, int | float) and not isinstance(n, bool) for n in three
            )
            if not numbers or len(three) != 3:
                raise ValueError(
                    f'{model}: "{kind}" must be three numbers: input, cached input, output'
                )


APP_SETTINGS = (
    Setting(
        "OPENAI_API_KEY",
        "",
        TEXT,
        "OpenAI's server-side key; never sent to a browser or logged. Empty = OpenAI is not "
        "configured.",
        PROVIDERS,
    ),
    Setting(
        "OPENAI_BASE_URL",
        "https://api.openai.com/v1",
        URL,
        "OpenAI's API root (the official SDK's name).",
        PROVIDERS,
    ),
    Setting(
        "MRBLUE_REALTIME_PROVIDER",
        lambda get: "openai" if get("OPENAI_API_KEY") else "local",
        TEXT,
        "Which realtime provider: `openai` or `local` (the built-in engine); unset = `openai` "
        "when `OPENAI_API_KEY` is set, else `local`.",
        PROVIDERS,
        shown="`openai` if a key is set, else `local`",
    ),
    Setting(
        "MRBLUE_SECRET_SECONDS",
        60,
        INTEGER,
        "Lifetime of the client secrets minted for browsers, in seconds (10 to 7200).",
        PROVIDERS,
    ),
    Setting(
        "MRBLUE_PROVIDER_CONNECT_TIMEOUT",
        5.0,
        NUMBER,
        "Seconds to wait for a connection to the provider, when asking it for a secret.",
        PROVIDERS,
    ),
    Setting(
        "MRBLUE_PROVIDER_READ_TIMEOUT",
        10.0,
        NUMBER,
        "Seconds to wait for the provider's answer.",
        PROVIDERS,
    ),
    Setting(
        "MRBLUE_MINT_RATE_PER_MINUTE",
        10,
        INTEGER,
        "Client secrets one user may mint per minute (then 429).",
        PROVIDERS,
    ),
    Setting(
        "MRBLUE_DEMO_PASSWORD",
        "",
        TEXT,
        "Password `demo_data` gives the demo users `admin` and `editor` when it makes them "
        "(later runs keep their passwords; `--reset-passwords` sets them again); empty = "
        "generated and printed once.",
        DEMO,
        shown="generated",
    ),
    Setting(
        "MRBLUE_LOG_MESSAGES_PER_10S",
        500,
        INTEGER,
        "Transcript-log messages one user may send per 10 s, over all their connections and "
        "web processes (then `rate_limited`, with `retry_after_ms`).",
        CONVERSATIONS,
    ),
    Setting(
        "MRBLUE_LOG_CONNECTIONS_PER_USER",
        8,
        INTEGER,
        "Transcript-log WebSockets one user may hold open at once (per web process); the next "
        "is refused (`too_many_connections`, close code 4429).",
        CONVERSATIONS,
    ),
    Setting(
        "MRBLUE_LOG_MESSAGES_PER_CONVERSATION",
        10_000,
        INTEGER,
        "Log messages stored per conversation; beyond, `conversation_full` with the `seq`.",
        CONVERSATIONS,
    ),
    Setting(
        "MRBLUE_TOOL_CALLS_PER_MINUTE",
        60,
        INTEGER,
        "Page-tool calls (Undo, Redo and restoring a revision included) one user may make per "
        "minute (then 429).",
        CONVERSATIONS,
    ),
    Setting(
        "MRBLUE_PRICES",
        DEFAULT_PRICES,
        JSON,
        "USD per 1M tokens per model, for the admin's cost estimate: JSON "
        '`{"model": {"audio": [input, cached, output], "text": [...]}}`.',
        CONVERSATIONS,
        shown="published rates",
        check=check_prices,
    ),
    Setting(
        "MRBLUE_VOICE_SAMPLES_PER_MINUTE",
        6,
        INTEGER,
        "Voice samples (the admin's play button) one user may have spoken per minute (then "
        "429): each is a synthesis on an engine worker, or a paid request to OpenAI.",
        ADMIN,
    ),
    Setting(
        "MRBLUE_VOICE_SAMPLE_MODEL",
        "gpt-4o-mini-tts",
        TEXT,
        "OpenAI's speech model that speaks the admin's voice samples (`/audio/speech`), when "
        "OpenAI is the provider.",
        ADMIN,
    ),
)

SETTINGS = DJANGO_SETTINGS + APP_SETTINGS + ENGINE_SETTINGS

app_settings = DeclaredSettings(APP_SETTINGS + ENGINE_SETTINGS)
