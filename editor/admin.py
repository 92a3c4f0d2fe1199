"""Admin screens for pages and their revisions."""

from django.contrib import admin, messages

from editor.models import Page, PageRevision
from mrblue.admin_preview import page_session_preview
from mrblue.instructions import HELP_TEXT as INSTRUCTIONS_HELP


class PageRevisionInline(admin.TabularInline):
    """The page's latest revisions, read-only."""

    model = PageRevision
    fields = ("created_at", "author", "kind", "note", "call_id")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    ordering = ("-created_at", "-id")


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    """Pages, with Mr. Blue's per-page settings and the session object they produce."""

    list_display = ("title", "slug", "assistant_profile", "updated_at")
    list_filter = ("assistant_profile",)
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("session_preview", "updated_at")
    fieldsets = (
        (None, {"fields": ("title", "slug", "content")}),
        (
            "Mr. Blue",
            {
                "fields": ("assistant_profile", "assistant_instructions"),
                "description": f"Instructions: {INSTRUCTIONS_HELP}",
            },
        ),
        ("What Mr. Blue will be told", {"fields": ("session_preview", "updated_at")}),
    )
    inlines = [PageRevisionInline]

    @admin.display(description="Session object (user name and selection left empty)")
    def session_preview(self, obj):
        """The GA session object this page produces, as saved."""
        if obj is None or obj.pk is None:
            return "Save the page to see its session object."
        return page_session_preview(obj)

    def save_model(self, request, obj, form, change):
        """Record the admin user as the revision's author."""
        obj.save(author=request.user, note="admin")


@admin.register(PageRevision)
class PageRevisionAdmin(admin.ModelAdmin):
    """Every saved version of every page; any of them can be restored."""

    list_display = ("page", "created_at", "author", "kind", "note", "call_id")
    list_filter = ("page", "kind")
    search_fields = ("page__title", "note")
    readonly_fields = (
        "page",
        "title",
        "content",
        "author",
        "kind",
        "note",
        "call_id",
        "content_before",
        "undone_at",
        "redoable",
        "created_at",
    )
    actions = ["restore_revisions"]

    def has_add_permission(self, request):
        """Revisions are made by saving pages, never by hand."""
        return False

    @admin.action(description="Restore the selected revision")
    def restore_revisions(self, request, queryset):
        """Make the selected revision its page's content again."""
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one revision.", messages.ERROR)
            return
        revision = queryset.get()
        revision.restore(author=request.user)
        self.message_user(request, f"Restored {revision.page} to revision {revision.pk}.")
