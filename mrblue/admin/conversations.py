"""The conversations' admin: each one as said, its usage and cost, its turns' timings."""

from django.contrib import admin
from django.db.models import Count, Max, OuterRef, Prefetch, Q, Subquery
from django.template.loader import render_to_string
from django.utils.html import format_html, format_html_join

from mrblue.admin.latency_chart import SLOW_TURN_MS, chart
from mrblue.admin.outcomes import OutcomeFilter
from mrblue.conversation_log.costs import (
    BUILT_IN,
    SOURCE_NOTE,
    charge,
    conversation_usage,
    usage_totals,
)
from mrblue.insight import first_words
from mrblue.models import (
    Conversation,
    LogMessage,
    TranscriptEntry,
    TurnTiming,
)

PROVIDER_NAMES = {BUILT_IN: "built-in engine", "openai": "OpenAI"}
SOURCES = {
    TurnTiming.Source.ENGINE: "the built-in engine (ms after the end of speech)",
    TurnTiming.Source.PANEL: "the panel (ms after the provider's speech_stopped)",
}


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
