"""App config of the assistant."""

from django.apps import AppConfig


class MrBlueConfig(AppConfig):
    """The assistant: profiles, session objects, providers, the built-in engine."""

    name = "mrblue"
    label = "mrblue"
    verbose_name = "Mr. Blue"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        """Register the startup checks, and the app's brain with the built-in engine."""
        from mrblue import checks  # noqa: F401
        from mrblue.engine.brains import register_brain

        register_brain("commands", "mrblue.commands_brain.brain.CommandsBrain")
