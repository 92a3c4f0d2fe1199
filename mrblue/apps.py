"""App config of the assistant."""

from django.apps import AppConfig


class MrBlueConfig(AppConfig):
    """The assistant: profiles, session objects, providers, the built-in engine."""

    name = "mrblue"
    label = "mrblue"
    verbose_name = "Mr. Blue"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        """Register the startup checks."""
        from mrblue import checks  # noqa: F401
