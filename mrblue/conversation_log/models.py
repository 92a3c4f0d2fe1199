"""The conversation log's tables: each conversation, the messages its panel sent (kept as
sent, exactly once), the transcript they add up to, and each turn's timings. Their app is
`mrblue` (they are imported by `mrblue.models`)."""

from django.conf import settings
from django.db import models


class Conversation(models.Model):
    """One voice conversation: who, on which page, with which provider and session object."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mrblue_conversations"
    )
    page = models.ForeignKey(
        "editor.Page", null=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    page_title = models.CharField(max_length=200, help_text="As it was when the call started.")
    provider = models.CharField(max_length=20)
    model = models.CharField(max_length=100)
    session = models.JSONField(help_text="The exact session object sent to the provider.")
    profile = models.ForeignKey(
        "mrblue.AssistantProfile",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
        help_text="The profile its session was built from.",
    )
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    log_messages = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="How many log messages it holds (kept by the transcript log).",
    )
    trial = models.BooleanField(
        "admin trial",
        default=False,
        help_text='Held in the admin\'s console ("Try it here") with the settings on a change '
        "form, saved or not, on a scratch copy of the page: not an editor's conversation.",
    )

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.user} on {self.page_title} ({self.started_at:%Y-%m-%d %H:%M})"

    @classmethod
    def latest_for(cls, page, user, limit: int = 5):
        """The user's latest conversations on a page, with their transcripts (not the trials
        they held in the admin's console)."""
        return (
            cls.objects.filter(page=page, user=user, trial=False)
            .prefetch_related("transcript")
            .order_by("-started_at")[:limit]
        )

    @property
    def transcript_ws(self) -> str:
        """Where the browser sends this conversation's transcript."""
        return f"/ws/mrblue/conversations/{self.pk}/"


class LogMessage(models.Model):
    """Every message of a conversation's log, once per `seq`: the receipt that makes replays
    harmless, and the record of usage, tool calls, metrics and the end of the call."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="log")
    seq = models.PositiveBigIntegerField()
    type = models.CharField(max_length=20)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="mrblue_log_once")
        ]

    def __str__(self):
        return f"#{self.seq} {self.type}"


class TranscriptEntry(models.Model):
    """One message of the conversation as finally said (the latest `seq` for its item wins)."""

    class Role(models.TextChoices):
        USER = "user", "You"
        ASSISTANT = "assistant", "Mr. Blue"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="transcript"
    )
    item_id = models.CharField(max_length=64)
    role = models.CharField(max_length=10, choices=Role.choices)
    text = models.TextField()
    final = models.BooleanField(default=False)
    interrupted = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0, help_text="Place in the conversation.")
    seq = models.PositiveBigIntegerField(help_text="The message this text came from.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "item_id"], name="mrblue_item_once")
        ]
        verbose_name_plural = "transcript"

    def __str__(self):
        return f"{self.get_role_display()}: {self.text[:60]}"


class TurnTiming(models.Model):
    """One answered turn's latencies, in ms after the end of speech, as each stage was reached:
    the speech detected as ended, the transcript, the first answer, the first audio. From the
    built-in engine's `response.metadata`, or measured by the panel (OpenAI); a stage not
    measured is empty."""

    class Source(models.TextChoices):
        ENGINE = "engine", "built-in engine"
        PANEL = "panel", "measured by the panel"

    STAGES = ("speech_stopped", "transcript", "first_output", "first_audio")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="turn_timings"
    )
    seq = models.PositiveBigIntegerField(help_text="The log message it came from.")
    response_id = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    speech_stopped_ms = models.PositiveIntegerField(null=True, blank=True)
    transcript_ms = models.PositiveIntegerField(null=True, blank=True)
    first_output_ms = models.PositiveIntegerField(null=True, blank=True)
    first_audio_ms = models.PositiveIntegerField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="mrblue_timing_once")
        ]

    def __str__(self):
        return f"#{self.seq}: first audio after {self.first_audio_ms} ms"

    def stages(self) -> dict[str, int]:
        """The measured stages, in order, as ms after the end of speech."""
        values = ((name, getattr(self, f"{name}_ms")) for name in self.STAGES)
        return {name: value for name, value in values if value is not None}
