"""Django settings for Mr. Blue, read from the environment (and `.env` when present).

Every variable is declared once, with its default and meaning, in `mrblue/app_settings.py` (the
engine's in `mrblue/engine/engine_settings.py`); `.env.example` and the settings page's table
(`mrblue/docs/settings.md`) are generated from those declarations. The defaults run on one
machine with nothing else installed: SQLite in WAL mode, the in-memory channel layer and the
database cache.
"""

import contextlib
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from mrblue.app_settings import APP_SETTINGS, BASE_DIR, DATA_DIR, ENGINE_SETTINGS, SETTINGS
from mrblue.bootstrap import TRANSPORT_MARGIN_BYTES
from mrblue.engine.declared import read_environment

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# django-environ reads the raw strings (it keeps its `$NAME` references); the declarations
# give them their types and defaults.
_values = read_environment(SETTINGS, lambda name: env.str(name, default=None))

DEBUG = _values["DEBUG"]
SECRET_KEY = _values["SECRET_KEY"]
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = _values["ALLOWED_HOSTS"]
CSRF_TRUSTED_ORIGINS = _values["CSRF_TRUSTED_ORIGINS"]

# An engine worker is internal: only the web processes (gateways) call it, at its own URL over
# the private network, with a key on every call (the engine key, or a live client secret), and
# browsers reach it only with media (UDP). So the public site's host and TLS rules are not its
# own: it answers at the host of `MRBLUE_ENGINE_WORKER_URL`, over that URL's scheme, and sends
# no HTTPS redirect or HSTS (see the production hardening below).
ENGINE_ROLE = _values["MRBLUE_ENGINE_ROLE"]
IS_ENGINE_WORKER = ENGINE_ROLE == "worker"


def _url_host(url: str) -> str:
    """The host of `url` as Django's ALLOWED_HOSTS names it (an IPv6 address in brackets)."""
    host = urlsplit(url).hostname or ""
    return f"[{host}]" if ":" in host else host


if IS_ENGINE_WORKER:
    ALLOWED_HOSTS = [_url_host(_values["MRBLUE_ENGINE_WORKER_URL"])]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "mrblue.engine.apps.EngineConfig",
    "mrblue.apps.MrBlueConfig",
    "editor.apps.EditorConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads a body: an oversized one to a JSON endpoint is a JSON 413.
    "mrblue.project.body_limit.BodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# An engine worker serves only the engine's endpoints (see mrblue/engine/workers/worker.py).
ROOT_URLCONF = "mrblue.engine.urls" if IS_ENGINE_WORKER else "mrblue.project.urls"
ASGI_APPLICATION = "mrblue.project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": environ.Env.db_url_config(_values["DATABASE_URL"])}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run while one writer writes; IMMEDIATE avoids "database is locked"
    # when two async handlers upgrade a read transaction to a write at once.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    if DATABASES["default"]["NAME"] == str(DATA_DIR / "db.sqlite3"):
        # The default's directory (unwritable here means SQLite says so, when first used).
        with contextlib.suppress(OSError):
            DATA_DIR.mkdir(mode=0o700, exist_ok=True)
    # A file, not :memory:, so a live server in another thread sees the test data.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test-db.sqlite3")}
else:
    # Keep connections open between requests in production (e.g. DB_CONN_MAX_AGE=60); 0 opens
    # one per request, which the test suite's many threads need.
    DATABASES["default"]["CONN_MAX_AGE"] = _values["DB_CONN_MAX_AGE"]
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channels -------------------------------------------------------------------------------
REDIS_URL = _values["REDIS_URL"]
if REDIS_URL:
    REDIS_READ_TIMEOUT = 30  # seconds
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 reads with a 5 s socket timeout by default, no longer than
            # channels-redis' blocking receive (BZPOPMIN, 5 s): an idle consumer would die with
            # "Timeout reading" (redis/redis-py#4091, django/channels_redis#422). A read timeout
            # well above the block keeps idle sockets alive and still notices a dead server.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": REDIS_READ_TIMEOUT}]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# The cache, shared by every web process: Redis when configured, else a table in the database
# (created by migration mrblue 0010). The rate limits count in Redis too, or without it in a
# table of their own that the database cache's culling never touches (`mrblue.shared.rate_counts`).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "mrblue.project.cache.RedisCache",
            "LOCATION": REDIS_URL,
            # The cache sends no blocking command, so redis-py 8's 5 s read timeout (the trap
            # of the channel layer above) never meets an idle wait here; it is set explicitly
            # because older redis-py waits forever, and a request must not hang on a dead Redis.
            "OPTIONS": {"socket_timeout": 5, "socket_connect_timeout": 5},
            "KEY_PREFIX": _values["CACHE_KEY_PREFIX"],
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "mrblue.project.cache.SharedDatabaseCache",
            "LOCATION": "mrblue_cache",
            "KEY_PREFIX": _values["CACHE_KEY_PREFIX"],
        }
    }

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "editor:page_list"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation, static files ------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

# --- Production hardening (DEBUG=0; the site's, not an internal engine worker's) --------------
if not DEBUG and not IS_ENGINE_WORKER:
    SESSION_COOKIE_SECURE = _values["SESSION_COOKIE_SECURE"]
    CSRF_COOKIE_SECURE = _values["CSRF_COOKIE_SECURE"]
    SECURE_SSL_REDIRECT = _values["SECURE_SSL_REDIRECT"]
    SECURE_HSTS_SECONDS = _values["SECURE_HSTS_SECONDS"]
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _values["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    SECURE_HSTS_PRELOAD = _values["SECURE_HSTS_PRELOAD"]
    if _values["BEHIND_TLS_PROXY"]:
        # The proxy terminates TLS and says so in this header.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "mrblue.api.csrf_failure"

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = _values["LOG_LEVEL"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "mrblue": {"level": LOG_LEVEL},
        "editor": {"level": LOG_LEVEL},
        "daphne.server": {"level": "INFO"},
    },
}

# --- Mr. Blue -------------------------------------------------------------------------------
# Typed values under their own names (`MRBLUE_ENGINE_BRAIN`, ...); code reads them through
# `mrblue.app_settings.app_settings` and `mrblue.engine.engine_settings.engine_settings`.
globals().update({s.name: _values[s.name] for s in APP_SETTINGS + ENGINE_SETTINGS})

# `manage.py runserver` (Daphne's) takes the WebSocket limits `serve` gives Daphne: a margin
# above the engine's own, which answers a larger event with an `error` event.
DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE = DAPHNE_WEBSOCKET_MAX_FRAME_SIZE = (
    _values["MRBLUE_ENGINE_MAX_MESSAGE_BYTES"] + TRANSPORT_MARGIN_BYTES
)
