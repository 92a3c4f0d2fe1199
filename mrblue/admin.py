"""Admin screens for Mr. Blue's assistant profiles."""

from django.contrib import admin

from mrblue.admin_preview import session_preview_html
from mrblue.models import AssistantProfile, Conversation


@admin.register(AssistantProfile)
class AssistantProfileAdmin(admin.ModelAdmin):
    """Profiles: instructions, voice and turn-taking, with a preview of the session object."""

    list_display = ("name", "is_default", "model", "voice", "turn_detection", "tools_enabled")
    list_filter = ("turn_detection", "voice", "is_default")
    search_fields = ("name", "instructions")
    readonly_fields = ("session_preview", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "is_default", "model", "instructions", "tools_enabled")}),
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
        from editor.models import Page
        from mrblue.session import build_session

        if obj is None or obj.pk is None:
            return "Save the profile to see its session object."
        example = Page(slug="example", title="Example page", assistant_profile=obj)
        return session_preview_html(build_session(example))

    def has_delete_permission(self, request, obj=None):
        """The default profile cannot be deleted: make another one the default first."""
        if obj is not None and obj.is_default:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    """Voice conversations: who talked, on which page, with which provider."""

    list_display = ("started_at", "user", "page_title", "provider", "model")
    list_filter = ("provider", "model")
    search_fields = ("user__username", "page_title")
    readonly_fields = (
        "user",
        "page",
        "page_title",
        "provider",
        "model",
        "session",
        "started_at",
        "ended_at",
    )

    def has_add_permission(self, request):
        """Conversations are made by starting a call, never by hand."""
        return False
