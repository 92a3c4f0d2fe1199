"""Admin screens for pages and their revisions."""

from django.contrib import admin, messages

from editor.models import Page, PageRevision


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
    """Pages and their revisions (other apps may extend this screen with their settings)."""

    list_display = ("title", "slug", "updated_at")
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("updated_at",)
    fieldsets = ((None, {"fields": ("title", "slug", "content", "updated_at")}),)
    inlines = [PageRevisionInline]

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
        "replaced",
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
