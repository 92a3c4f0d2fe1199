"""The profiles' admin: instructions, voice and turn-taking, what they tell Mr. Blue in words,
and a console to try them."""

from django.contrib import admin
from django.urls import path
from django.utils.html import format_html

from editor.models import Page
from mrblue.admin.console import ProfileConsoleMixin
from mrblue.admin.latency_chart import medians
from mrblue.admin.layout import SettingsFirst
from mrblue.admin.preview import preview_section, sample_url_for, session_preview_html
from mrblue.admin.voice_player import URL_NAME, VoiceSampleSelect, may_hear_samples
from mrblue.admin.voice_player import voice_sample as voice_sample_view
from mrblue.instructions import HELP_TEXT as INSTRUCTIONS_HELP
from mrblue.models import (
    AssistantProfile,
    Conversation,
    TurnTiming,
)

# The profile page's median: over this many of its latest conversations.
RECENT_CONVERSATIONS = 20


@admin.register(AssistantProfile)
class AssistantProfileAdmin(ProfileConsoleMixin, SettingsFirst, admin.ModelAdmin):
    """Profiles: instructions, voice (with a sample to hear) and turn-taking, then what they
    tell Mr. Blue, in words; a console to try them."""

    list_display = ("name", "is_default", "model", "voice", "turn_detection", "tools_enabled")
    list_filter = ("turn_detection", "voice", "is_default")
    search_fields = ("name", "instructions")
    readonly_fields = ("updated_at", "recent_latency")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("name", "is_default"),
                    "instructions",
                    "model",
                    "tools_enabled",
                    "updated_at",
                ),
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
                    "recent_latency",
                ),
                "description": "Threshold, padding, silence and idle timeout apply to server "
                "VAD; eagerness to semantic VAD; none means push-to-talk. The recent latency "
                "shows what the settings did to the conversations held with them.",
            },
        ),
        (
            "Listening",
            {
                "fields": (
                    "transcription_model",
                    "transcription_language",
                    "transcription_prompt",
                    "noise_reduction",
                )
            },
        ),
    )

    def get_urls(self):
        """The voice samples' endpoint, before the model's own URLs."""
        sample = path("voice-sample/", voice_sample_view, name=URL_NAME)
        return [sample, *super().get_urls()]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        """The voice, with a play button for those who may hear samples, and a note on which
        voices sound the same."""
        if db_field.name == "voice":
            kwargs["widget"] = VoiceSampleSelect(playable=may_hear_samples(request.user))
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def sections(self, request, obj):
        """The session this profile produces, for an example page, in words (collapsed)."""
        if obj is None or obj.pk is None:
            html = "Save the profile to see what it tells Mr. Blue."
        else:
            example = Page(slug="example", title="Example page")
            html = session_preview_html(example, profile=obj, sample_url=sample_url_for(request))
        return [preview_section(html)]

    @admin.display(description="Median turn latency")
    def recent_latency(self, obj):
        """The median turn of its latest conversations (admin trials left out): end of speech
        to first audio."""
        if obj is None or obj.pk is None:
            return "No conversations yet."
        recent = Conversation.objects.filter(profile=obj, trial=False).order_by("-started_at")
        ids = list(recent.values_list("pk", flat=True)[:RECENT_CONVERSATIONS])
        turns = [t.stages() for t in TurnTiming.objects.filter(conversation__in=ids)]
        median = medians(turns)
        if "answer" not in median:
            return "No timed turns in its conversations yet."
        stages = ", ".join(
            f"{name.replace('_', ' ')} {median[name]:.0f} ms"
            for name in ("speech_stopped", "transcript", "first_output")
            if name in median
        )
        return format_html(
            '<span class="mrblue-median-latency">{} ms</span> to the answer (first audio), '
            "median of {} turns in its latest {} conversations{}",
            f"{median['answer']:.0f}",
            len(turns),
            len(ids),
            f"; {stages}" if stages else "",
        )

    def has_delete_permission(self, request, obj=None):
        """The default profile cannot be deleted: make another one the default first."""
        if obj is not None and obj.is_default:
            return False
        return super().has_delete_permission(request, obj)
