"""App config of the visual editor."""

from django.apps import AppConfig


class EditorConfig(AppConfig):
    """Pages, revisions and the editor canvas."""

    name = "editor"
    label = "editor"
    verbose_name = "Visual editor"
    default_auto_field = "django.db.models.BigAutoField"
