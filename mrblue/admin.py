"""Admin screens for Mr. Blue: profiles, conversations, and Mr. Blue's part of the page screen."""

from django.contrib import admin
from django.db.models import Count, Prefetch, Q
from django.utils.html import format_html, format_html_join

from editor.admin import PageAdmin as EditorPageAdmin
from editor.models import Page
from mrblue import admin_workers  # noqa: F401  (registers the engine workers' page)
from mrblue.admin_preview import session_preview_html
from mrblue.costs import SOURCE_NOTE, conversation_usage, estimated_cost, usage_totals
from mrblue.instructions import HELP_TEXT as INSTRUCTIONS_HELP
from mrblue.models import (
    AssistantProfile,
    Conversation,
    LogMessage,
    PageAssistant,
    TranscriptEntry,
)


@admin.register(AssistantProfile)
class AssistantProfileAdmin(admin.ModelAdmin):
    """Profiles: instructions, voice and turn-taking, with a preview of the session object."""

    list_display = ("name", "is_default", "model", "voice", "turn_detection", "tools_enabled")
    list_filter = ("turn_detection", "voice", "is_default")
    search_fields = ("name", "instructions")
    readonly_fields = ("session_preview", "updated_at")
    fieldsets = (
        (
            None,
            {
                "fields": ("name", "is_default", "model", "instructions", "tools_enabled"),
                "description": f"Instructions: {INSTRUCTIONS_HELP}",
            },
        ),
        ("Voice", {"fields": ("voice", "speed", "max_output_tokens")}),
        (
            "Turn detection",
            {
                "fields": (
                    "turn_detection",
                    "vad_threshold",
                    "vad_prefix_padding_ms",
                    "vad_silence_duration_ms",
                    "vad_idle_timeout_ms",
                    "vad_eagerness",
                    "vad_create_response",
                    "vad_interrupt_response",
                ),
                "description": "Threshold, padding, silence and idle timeout apply to server "
                "VAD; eagerness to semantic VAD; none means push-to-talk.",
            },
        ),
        (
            "Listening",
            {"fields": ("transcription_model", "transcription_language", "noise_reduction")},
        ),
        ("What Mr. Blue will be told", {"fields": ("session_preview", "updated_at")}),
    )

    @admin.display(description="Session object (for an example page)")
    def session_preview(self, obj):
        """The GA session object this profile produces for an example page."""
        if obj is None or obj.pk is None:
            return "Save the profile to see its session object."
        return session_preview_html(Page(slug="example", title="Example page"), profile=obj)

    def has_delete_permission(self, request, obj=None):
        """The default profile cannot be deleted: make another one the default first."""
        if obj is not None and obj.is_default:
            return False
        return super().has_delete_permission(request, obj)


class PageAssistantInline(admin.StackedInline):
    """The page's profile and instructions of its own (none saved: the defaults)."""

    model = PageAssistant
    fields = ("profile", "instructions")
    extra = max_num = 1
    can_delete = False
    verbose_name_plural = "Mr. Blue on this page"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        """Say next to the instructions which template tags and filters they may use."""
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "instructions":
            field.help_text = f"{field.help_text} {INSTRUCTIONS_HELP}"
        return field


admin.site.unregister(Page)


@admin.register(Page)
class PageAdmin(EditorPageAdmin):
    """The editor's page screen, with Mr. Blue's per-page settings and the session object
    they produce."""

    list_display = ("title", "slug", "assistant_profile", "updated_at")
    list_filter = ("assistant__profile",)
    list_select_related = ("assistant__profile",)
    readonly_fields = (*EditorPageAdmin.readonly_fields, "session_preview")
    fieldsets = (
        *EditorPageAdmin.fieldsets,
        ("What Mr. Blue will be told", {"fields": ("session_preview",)}),
    )
    inlines = [PageAssistantInline, *EditorPageAdmin.inlines]

    @admin.display(description="Assistant profile", ordering="assistant__profile__name")
    def assistant_profile(self, obj):
        """The page's own profile; empty for the default."""
        return PageAssistant.for_page(obj).profile

    @admin.display(description="Session object (user name and selection left empty)")
    def session_preview(self, obj):
        """The GA session object this page produces, as saved."""
        if obj is None or obj.pk is None:
            return "Save the page to see its session object."
        # From the database: a form sent back with errors holds unsaved (maybe invalid) values.
        saved = Page.objects.select_related("assistant__profile").get(pk=obj.pk)
        return session_preview_html(saved)


class TranscriptInline(admin.TabularInline):
    """The conversation as said, in its own order."""

    model = TranscriptEntry
    fields = ("position", "role", "text", "final", "interrupted", "item_id")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    """Voice conversations: who talked, on which page, what was said, what it cost."""

    list_display = (
        "started_at",
        "user",
        "page_title",
        "provider",
        "model",
        "duration",
        "turns",
        "tokens",
        "cost",
    )
    list_filter = ("provider", "model", "started_at")
    search_fields = ("user__username", "page_title", "transcript__text")
    summary = (
        "user",
        "page",
        "page_title",
        "provider",
        "model",
        "started_at",
        "ended_at",
        "duration",
        "tokens",
        "cost",
    )
    readonly_fields = (*summary, "dialogue", "tool_calls", "metrics", "session")
    fieldsets = (
        (None, {"fields": summary, "description": SOURCE_NOTE}),
        ("What was said", {"fields": ("dialogue",)}),
        ("Tool calls and metrics", {"fields": ("tool_calls", "metrics")}),
        ("Session object sent", {"fields": ("session",), "classes": ("collapse",)}),
    )
    inlines = [TranscriptInline]

    def get_queryset(self, request):
        """One row per conversation (a search over transcript text can match several entries),
        with what the columns show fetched in a fixed number of queries, however many rows."""
        usage_log = LogMessage.objects.filter(type="usage").order_by("seq")
        return (
            super()
            .get_queryset(request)
            .select_related("user")
            .annotate(
                user_turns=Count("transcript", filter=Q(transcript__role="user"), distinct=True)
            )
            .prefetch_related(Prefetch("log", queryset=usage_log, to_attr="usage_log"))
            .distinct()
        )

    def changelist_view(self, request, extra_context=None):
        """The list, with a note on where its tokens and costs come from."""
        return super().changelist_view(request, {**(extra_context or {}), "subtitle": SOURCE_NOTE})

    def has_add_permission(self, request):
        """Conversations are made by starting a call, never by hand."""
        return False

    def has_change_permission(self, request, obj=None):
        """A record of what was said: viewed, never edited."""
        return False

    @admin.display(description="Duration")
    def duration(self, obj):
        """How long the call lasted (or has lasted so far)."""
        if obj.ended_at is None:
            return "ongoing or not ended"
        seconds = int((obj.ended_at - obj.started_at).total_seconds())
        return f"{seconds // 60}:{seconds % 60:02d}"

    @admin.display(description="Turns")
    def turns(self, obj):
        """How many times the person spoke or typed."""
        return obj.user_turns

    def _totals(self, obj):
        return usage_totals(conversation_usage(obj.usage_log))

    @admin.display(description="Tokens")
    def tokens(self, obj):
        """All tokens of all responses."""
        return sum(self._totals(obj).values())

    @admin.display(description="Est. cost (USD)")
    def cost(self, obj):
        """Estimated from the price table in settings (`MRBLUE_PRICES`)."""
        value = estimated_cost(obj.model, self._totals(obj))
        return "no price for this model" if value is None else f"${value:.4f}"

    @admin.display(description="Dialogue")
    def dialogue(self, obj):
        """The transcript as a dialogue."""
        lines = [
            format_html(
                "<p><strong>{}:</strong> {}{}</p>",
                entry.get_role_display(),
                entry.text,
                " (interrupted)" if entry.interrupted else "",
            )
            for entry in obj.transcript.all()
        ]
        return format_html_join("", "{}", ((line,) for line in lines)) or "Nothing yet."

    @admin.display(description="Tool calls")
    def tool_calls(self, obj):
        """Every function call Mr. Blue made, with its output."""
        rows = (
            (m.payload["name"], m.payload["arguments"], m.payload["output"])
            for m in obj.log.filter(type="tool_call")
        )
        return format_html_join("", "<p><code>{}({})</code> → <code>{}</code></p>", rows) or "None."

    @admin.display(description="Metrics")
    def metrics(self, obj):
        """Timings the browser measured, e.g. time to first audio."""
        rows = ((m.payload["name"], m.payload["value_ms"]) for m in obj.log.filter(type="metric"))
        return format_html_join("", "<p>{}: {} ms</p>", rows) or "None."
