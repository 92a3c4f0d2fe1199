"""App config of the built-in engine: its tables (client secrets, worker records)."""

from django.apps import AppConfig


class EngineConfig(AppConfig):
    """The built-in realtime engine, as a Django app of its own (it imports none of the others)."""

    name = "mrblue.engine"
    label = "engine"
    verbose_name = "Built-in engine"
    default_auto_field = "django.db.models.BigAutoField"
