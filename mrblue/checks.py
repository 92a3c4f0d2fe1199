"""Startup checks: a misconfigured provider fails at start, not at the first call."""

from django.core.checks import Error, register

from mrblue.app_settings import app_settings

PROVIDERS = ("openai", "local")


@register("mrblue")
def provider_check(app_configs=None, **kwargs):
    """`openai` needs a key; the provider must be one we know."""
    provider = app_settings.REALTIME_PROVIDER
    if provider not in PROVIDERS:
        return [
            Error(
                f"MRBLUE_REALTIME_PROVIDER is {provider!r}; use 'openai' or 'local'.",
                id="mrblue.E001",
            )
        ]
    if provider == "openai" and not app_settings.OPENAI_API_KEY:
        return [
            Error(
                "MRBLUE_REALTIME_PROVIDER is 'openai' but OPENAI_API_KEY is not set.",
                hint="Set OPENAI_API_KEY, or MRBLUE_REALTIME_PROVIDER=local for the "
                "built-in engine.",
                id="mrblue.E002",
            )
        ]
    return []
