"""Django settings for Mr. Blue, read from the environment (and `.env` when present).

Every variable is documented, with its default, in `.env.example`. The defaults run on one
machine with nothing else installed: SQLite in WAL mode and the in-memory channel layer.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

_DEV_SECRET_KEY = "django-insecure-mrblue-development-key-never-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "mrblue.apps.MrBlueConfig",
    "editor.apps.EditorConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mrblue.urls"
ASGI_APPLICATION = "mrblue.asgi.application"

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
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run while one writer writes; IMMEDIATE avoids "database is locked"
    # when two async handlers upgrade a read transaction to a write at once.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not :memory:, so a live server in another thread sees the test data.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test-db.sqlite3")}
else:
    # Keep connections open between requests in production (e.g. DB_CONN_MAX_AGE=60); 0 opens
    # one per request, which the test suite's many threads need.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channels -------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Rate limits live in the cache: shared between processes when Redis is configured.
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
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

# --- Production hardening (DEBUG=0) ----------------------------------------------------------
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    if env.bool("BEHIND_TLS_PROXY", default=False):
        # The proxy terminates TLS and says so in this header.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "mrblue.api.csrf_failure"

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
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
# Read through `mrblue.conf.app_settings`, which documents each one and its default.
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="https://api.openai.com/v1")
MRBLUE_REALTIME_PROVIDER = env.str(
    "MRBLUE_REALTIME_PROVIDER", default="openai" if OPENAI_API_KEY else "local"
)
MRBLUE_ENGINE_API_KEY = env.str("MRBLUE_ENGINE_API_KEY", default="")
MRBLUE_DEMO_PASSWORD = env.str("MRBLUE_DEMO_PASSWORD", default="")
# Optional: unset (None) means the default documented in mrblue/conf.py.
for _name in (
    "MRBLUE_DEFAULT_MODEL",
    "MRBLUE_ENGINE_BRAIN",
    "MRBLUE_BRAIN_URL",
    "MRBLUE_BRAIN_MODEL",
    "MRBLUE_BRAIN_API_KEY",
    "MRBLUE_BRAIN_TIMEOUT",
    "MRBLUE_ENGINE_MAX_SESSIONS",
    "MRBLUE_ENGINE_SESSION_SECONDS",
    "MRBLUE_ENGINE_MAX_MESSAGE_BYTES",
    "MRBLUE_ENGINE_SECRET_SECONDS",
    "MRBLUE_SECRET_SECONDS",
    "MRBLUE_PROVIDER_CONNECT_TIMEOUT",
    "MRBLUE_PROVIDER_READ_TIMEOUT",
    "MRBLUE_MINT_RATE_PER_MINUTE",
    "MRBLUE_STT_MODEL",
    "MRBLUE_STT_PROMPT",
    "MRBLUE_TTS_VOICES",
    "MRBLUE_WEBRTC_HOSTS",
    "MRBLUE_ICE_SERVERS",
    "MRBLUE_WEBRTC_CONNECT_TIMEOUT",
    "MRBLUE_LOG_MESSAGES_PER_10S",
    "MRBLUE_LOG_CONNECTIONS_PER_USER",
    "MRBLUE_LOG_MESSAGES_PER_CONVERSATION",
    "MRBLUE_TOOL_CALLS_PER_MINUTE",
):
    globals()[_name] = env.str(_name, default=None)
