"""Mr. Blue's change forms, settings first: what an admin sets (fieldsets, and the inlines
named in `settings_inlines`), then read-only sections made for people (`sections`: the session
preview, the page's insight), then the rest (fieldsets with the `mrblue-below` class, the other
inlines); below the form, the console that tries the settings (`mrblue/admin/console.py`).
"""

from dataclasses import dataclass

BELOW = "mrblue-below"  # the class of a fieldset shown after the sections


@dataclass(frozen=True)
class Section:
    """A read-only part of a change form: a heading, its HTML, and whether it starts closed."""

    title: str
    html: str
    name: str
    collapsed: bool = False
    description: str = ""


class SettingsFirst:
    """A ModelAdmin mixin: its change form in the settings-first order above."""

    change_form_template = "mrblue/admin/change_form.html"
    settings_inlines: tuple[str, ...] = ()  # formset prefixes shown with the settings

    def sections(self, request, obj) -> list[Section]:
        """The read-only sections shown after the settings (none by default)."""
        return []

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """The form, with the sections and which inlines go with the settings."""
        context.update(
            mrblue_settings_inlines=self.settings_inlines,
            mrblue_sections=self.sections(request, obj),
        )
        return super().render_change_form(request, context, add, change, form_url, obj)
