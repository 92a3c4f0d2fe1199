"""Admin screens for Mr. Blue: profiles, conversations, and Mr. Blue's part of the page screen.

The change forms of profiles and pages lead with what an admin sets (`admin_layout`); their
parts live in modules of their own: the readable session preview (`admin_preview`), the voice
samples (`admin_voice`), what editors ask on a page (`admin_insight`), the workers' page
(`admin_workers`).
"""

from django.contrib import admin
from django.db.models import Count, Max, OuterRef, Prefetch, Q, Subquery
from django.template.loader import render_to_string
from django.urls import path
from django.utils.html import format_html, format_html_join

from editor.admin import PageAdmin as EditorPageAdmin
from editor.models import Page
from mrblue import admin_workers  # noqa: F401  (registers the engine workers' page)
from mrblue.admin_console import PageConsoleMixin, ProfileConsoleMixin
from mrblue.admin_insight import OutcomeFilter, conversations_url, page_insight_html
from mrblue.admin_layout import BELOW, Section, SettingsFirst
from mrblue.admin_preview import session_preview_html
from mrblue.admin_voice import URL_NAME, VoiceSampleSelect, may_hear_samples, sample_url
from mrblue.admin_voice import voice_sample as voice_sample_view
from mrblue.costs import BUILT_IN, SOURCE_NOTE, charge, conversation_usage, usage_totals
from mrblue.insight import first_words
from mrblue.instructions import HELP_TEXT as INSTRUCTIONS_HELP
from mrblue.latency import SLOW_TURN_MS, chart, medians
from mrblue.models import (
    AssistantProfile,
    Conversation,
    LogMessage,
    PageAssistant,
    TranscriptEntry,
    TurnTiming,
)

PROVIDER_NAMES = {BUILT_IN: "built-in engine", "openai": "OpenAI"}
PREVIEW = "What Mr. Blue will be told"
# The profile page's median: over this many of its latest conversations.
RECENT_CONVERSATIONS = 20
SOURCES = {
    TurnTiming.Source.ENGINE: "the built-in engine (ms after the end of speech)",
    TurnTiming.Source.PANEL: "the panel (ms after the provider's speech_stopped)",
}


def _preview_section(html: str) -> Section:
    return Section(PREVIEW, html, "preview", collapsed=True)


def _sample_url(request) -> str | None:
    return sample_url() if may_hear_samples(request.user) else None


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
            html = session_preview_html(example, profile=obj, sample_url=_sample_url(request))
        return [_preview_section(html)]

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
            return [_preview_section("Save the page to see what Mr. Blue is told.")]
        # From the database: a form sent back with errors holds unsaved (maybe invalid) values.
        saved = Page.objects.select_related("assistant__profile").get(pk=obj.pk)
        preview = session_preview_html(saved, sample_url=_sample_url(request))
        return [
            _preview_section(preview),
            Section("What editors ask here", page_insight_html(saved), "insight"),
        ]


class TranscriptInline(admin.TabularInline):
    """The conversation as said, in its own order."""

    model = TranscriptEntry
    fields = ("position", "role", "text", "final", "interrupted", "item_id")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


class SlowTurnFilter(admin.SimpleListFilter):
    """Conversations with at least one turn whose answer (first audio, else first output)
    began this late after the end of speech."""

    title = "slow turns"
    parameter_name = "slow_turn_ms"

    def lookups(self, request, model_admin):
        """The thresholds offered."""
        return [(str(ms), f"a turn of {ms / 1000:g} s or more") for ms in SLOW_TURN_MS]

    def queryset(self, request, queryset):
        """Keep the conversations with such a turn (none for a value not offered)."""
        if self.value() is None:
            return queryset
        if self.value() not in {str(ms) for ms in SLOW_TURN_MS}:
            return queryset.none()
        ms = int(self.value())
        audio = Q(turn_timings__first_audio_ms__gte=ms)
        text = Q(turn_timings__first_audio_ms__isnull=True, turn_timings__first_output_ms__gte=ms)
        return queryset.filter(audio | text).distinct()


def _score(logprob) -> str:
    """A reading's score as shown: its log-probability, when it was scored."""
    return f"({logprob:.1f})" if isinstance(logprob, int | float) else ""


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    """Voice conversations: who talked, on which page, what was said, what it cost."""

    list_display = (
        "started_at",
        "user",
        "page_title",
        "first_request",
        "engine",
        "duration",
        "turns",
        "slowest_turn",
        "tokens",
        "cost",
    )
    list_filter = (
        OutcomeFilter,
        ("page", admin.RelatedOnlyFieldListFilter),
        SlowTurnFilter,
        "provider",
        "model",
        "trial",
        "started_at",
    )
    search_fields = ("user__username", "page_title", "transcript__text")
    summary = (
        "user",
        "page",
        "page_title",
        "provider_name",
        "model",
        "started_at",
        "ended_at",
        "duration",
        "tokens",
        "cost",
    )
    readonly_fields = (
        *summary,
        "latency",
        "dialogue",
        "tool_calls",
        "metrics",
        "decisions",
        "session",
    )
    fieldsets = (
        (None, {"fields": summary, "description": SOURCE_NOTE}),
        ("Turn latency", {"fields": ("latency",)}),
        ("What was said", {"fields": ("dialogue",)}),
        ("Tool calls and metrics", {"fields": ("tool_calls", "metrics")}),
        ("How Mr. Blue read what it heard", {"fields": ("decisions",)}),
        ("Session object sent", {"fields": ("session",), "classes": ("collapse",)}),
    )
    inlines = [TranscriptInline]
    change_list_template = "mrblue/admin/conversation_change_list.html"

    class Media:
        css = {"all": ["mrblue/admin.css"]}

    def get_queryset(self, request):
        """One row per conversation (a search over transcript text can match several entries),
        with what the columns show fetched in a fixed number of queries, however many rows."""
        usage_log = LogMessage.objects.filter(type="usage").order_by("seq")
        first_said = TranscriptEntry.objects.filter(
            conversation=OuterRef("pk"), role="user"
        ).order_by("position", "id")
        return (
            super()
            .get_queryset(request)
            .select_related("user")
            .annotate(
                user_turns=Count("transcript", filter=Q(transcript__role="user"), distinct=True),
                slowest_audio_ms=Max("turn_timings__first_audio_ms"),
                first_said=Subquery(first_said.values("text")[:1]),
            )
            .prefetch_related(Prefetch("log", queryset=usage_log, to_attr="usage_log"))
            .distinct()
        )

    def changelist_view(self, request, extra_context=None):
        """The list, with a note on where its tokens and costs come from."""
        return super().changelist_view(request, {**(extra_context or {}), "cost_note": SOURCE_NOTE})

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

    @admin.display(description="First request")
    def first_request(self, obj):
        """The first words the editor said or typed."""
        return f"“{first_words(obj.first_said)}”" if obj.first_said else "-"

    @admin.display(description="Provider", ordering="provider")
    def engine(self, obj):
        """Who answered, with which model."""
        return format_html("{}<br><small>{}</small>", self.provider_name(obj), obj.model)

    @admin.display(description="Provider")
    def provider_name(self, obj):
        """Who answered: the built-in engine, or OpenAI."""
        return PROVIDER_NAMES.get(obj.provider, obj.provider)

    @admin.display(description="Turns")
    def turns(self, obj):
        """How many times the person spoke or typed."""
        return obj.user_turns

    @admin.display(description="Slowest turn", ordering="slowest_audio_ms")
    def slowest_turn(self, obj):
        """The latest first audio of its turns, after the end of speech."""
        ms = obj.slowest_audio_ms
        return "-" if ms is None else f"{ms / 1000:.1f} s"

    @admin.display(description="Each turn")
    def latency(self, obj):
        """A stacked bar per turn: end of speech -> transcript -> first answer -> first audio."""
        timings = list(obj.turn_timings.all())
        sources = sorted({t.source for t in timings})
        context = {
            "chart": chart([t.stages() for t in timings]),
            "sources": " and ".join(SOURCES[s] for s in sources),
        }
        return render_to_string("mrblue/admin/turn_latency.html", context)

    def _totals(self, obj):
        return usage_totals(conversation_usage(obj.usage_log))

    @admin.display(description="Tokens")
    def tokens(self, obj):
        """All tokens of all responses."""
        return sum(self._totals(obj).values())

    @admin.display(description="Est. cost (USD)")
    def cost(self, obj):
        """Estimated from the price table in settings (`MRBLUE_PRICES`); none for the built-in
        engine, with what OpenAI would have charged for the same tokens."""
        found = charge(obj.provider, obj.model, self._totals(obj))
        if found.built_in:
            if found.openai_usd is None:
                return "no charge (built-in engine)"
            return format_html(
                'no charge <span class="mrblue-if-openai">(built-in engine; ${} at '
                "OpenAI's rates)</span>",
                f"{found.openai_usd:.4f}",
            )
        return "no price for this model" if found.usd is None else f"${found.usd:.4f}"

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

    @admin.display(description="Decisions")
    def decisions(self, obj):
        """Each request the built-in engine's brain had to guess at: what it heard, the
        readings it weighed with how well the audio supports each (log-probability, higher is
        better), the one it chose and what it did (acted, asked, read back, said what it
        heard; then confirmed or declined)."""
        parts = []
        for message in obj.log.filter(type="decision"):
            decision = message.payload.get("decision") or {}
            candidates = format_html_join(
                "",
                "<li><code>{}</code> {}</li>",
                (
                    (c.get("sentence", ""), _score(c.get("logprob")))
                    for c in decision.get("candidates") or []
                ),
            )
            parts.append(
                format_html(
                    "<div class='mrblue-decision'><p>Heard <q>{}</q> {} → <b>{}</b>{}</p>"
                    "<ul>{}</ul></div>",
                    decision.get("heard", ""),
                    _score(decision.get("heard_logprob")),
                    decision.get("outcome", ""),
                    format_html(": <q>{}</q>", decision["chosen"])
                    if decision.get("chosen")
                    else "",
                    candidates,
                )
            )
        return format_html_join("", "{}", ((part,) for part in parts)) or "None."

    @admin.display(description="Metrics")
    def metrics(self, obj):
        """Timings the browser measured, e.g. time to first audio."""
        rows = ((m.payload["name"], m.payload["value_ms"]) for m in obj.log.filter(type="metric"))
        return format_html_join("", "<p>{}: {} ms</p>", rows) or "None."
