"""Mr. Blue's part of the editor's page screen: the page's profile and instructions, what they
tell him, how editors use him there, and a console to try them."""

from django.contrib import admin
from django.db.models import Count, Q
from django.utils.html import format_html

from editor.admin import PageAdmin as EditorPageAdmin
from editor.models import Page
from mrblue.admin.console import PageConsoleMixin
from mrblue.admin.layout import BELOW, Section, SettingsFirst
from mrblue.admin.outcomes import conversations_url, page_insight_html
from mrblue.admin.preview import preview_section, sample_url_for, session_preview_html
from mrblue.instructions import HELP_TEXT as INSTRUCTIONS_HELP
from mrblue.models import (
    PageAssistant,
)


class PageAssistantInline(admin.StackedInline):
    """The page's profile and instructions of its own (none saved: the defaults)."""

    model = PageAssistant
    fields = ("profile", "instructions")
    extra = max_num = 1
    can_delete = False
    verbose_name_plural = "Mr. Blue on this page"
    template = "mrblue/admin/one_stacked.html"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        """Say next to the instructions which template tags and filters they may use."""
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "instructions":
            field.help_text = f"{field.help_text} {INSTRUCTIONS_HELP}"
        return field


admin.site.unregister(Page)


@admin.register(Page)
class PageAdmin(PageConsoleMixin, SettingsFirst, EditorPageAdmin):
    """The editor's page screen, led by Mr. Blue's settings for the page, then what they tell
    him (in words), how editors use him here, and the page's content; a console to try them."""

    list_display = ("title", "slug", "assistant_profile", "conversation_count", "updated_at")
    list_filter = ("assistant__profile",)
    list_select_related = ("assistant__profile",)
    fieldsets = (
        (None, {"fields": (("title", "slug"), "updated_at")}),
        (
            "Content",
            {
                "fields": ("content",),
                "classes": ("collapse", BELOW),
                "description": "The page's blocks as JSON; editors change them in the editor.",
            },
        ),
    )
    inlines = [PageAssistantInline, *EditorPageAdmin.inlines]
    settings_inlines = ("assistant",)

    def get_queryset(self, request):
        """Pages with how many conversations each had."""
        return (
            super()
            .get_queryset(request)
            .annotate(
                conversations_held=Count("conversations", filter=Q(conversations__trial=False))
            )
        )

    @admin.display(description="Assistant profile", ordering="assistant__profile__name")
    def assistant_profile(self, obj):
        """The page's own profile; empty for the default."""
        return PageAssistant.for_page(obj).profile

    @admin.display(description="Conversations", ordering="conversations_held")
    def conversation_count(self, obj):
        """How many conversations editors had with Mr. Blue here, linked to their list."""
        if not obj.conversations_held:
            return 0
        return format_html('<a href="{}">{}</a>', conversations_url(obj), obj.conversations_held)

    def sections(self, request, obj):
        """What Mr. Blue will be told here (collapsed) and how editors use him here."""
        if obj is None or obj.pk is None:
            return [preview_section("Save the page to see what Mr. Blue is told.")]
        # From the database: a form sent back with errors holds unsaved (maybe invalid) values.
        saved = Page.objects.select_related("assistant__profile").get(pk=obj.pk)
        preview = session_preview_html(saved, sample_url=sample_url_for(request))
        return [
            preview_section(preview),
            Section("What editors ask here", page_insight_html(saved), "insight"),
        ]
