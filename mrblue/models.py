"""The assistant's settings, managed in the Django admin: profiles of instructions and voice,
and the page's own (the conversation log's tables are imported at the end)."""

from django.core.exceptions import ValidationError
from django.db import models, transaction

from mrblue.app_settings import app_settings
from mrblue.engine.protocol.spec import DEFAULT_VOICE, LIMITS, SERVER_VAD_DEFAULTS, VOICES
from mrblue.instructions import validate_template

DEFAULT_INSTRUCTIONS = (
    "You are Mr. Blue, a friendly assistant inside a visual web editor. "
    'The user is editing the page "{{ page.title }}" ({{ page.path }}).'
    "{% if selected %} The selected element is {{ selected }}.{% endif %} "
    "Answer briefly, in speech-friendly sentences, and use your tools to change the page "
    "when asked. Before a tool call that changes the page, first say in a few words what you "
    'are about to do (for example: "Sure, making the heading blue."), so the user is not left '
    "in silence; if a tool reports an error, say that the change did not happen."
)


def _default_model():
    return app_settings.DEFAULT_MODEL


class AssistantProfile(models.Model):
    """How Mr. Blue is told, sounds and takes turns: instructions, voice, voice activity."""

    class TurnDetection(models.TextChoices):
        SERVER_VAD = "server_vad", "Server VAD (silence based)"
        SEMANTIC_VAD = "semantic_vad", "Semantic VAD (meaning based)"
        NONE = "none", "None (push-to-talk)"

    class Eagerness(models.TextChoices):
        LOW = "low", "Low (waits longer)"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High (answers sooner)"
        AUTO = "auto", "Auto"

    class NoiseReduction(models.TextChoices):
        OFF = "off", "Off"
        NEAR_FIELD = "near_field", "Near field (headset)"
        FAR_FIELD = "far_field", "Far field (laptop, room)"

    name = models.CharField(max_length=100, unique=True)
    is_default = models.BooleanField(
        default=False, help_text="Used by every page that names no profile. Exactly one is."
    )
    instructions = models.TextField(
        default=DEFAULT_INSTRUCTIONS,
        help_text="Template: {{ page.title }}, {{ page.path }}, {{ selected }}, {{ user.name }}.",
    )
    model = models.CharField(max_length=100, default=_default_model)
    voice = models.CharField(max_length=20, choices=[(v, v) for v in VOICES], default=DEFAULT_VOICE)
    speed = models.FloatField(default=1.0, help_text="0.25 to 1.5; 1.0 is normal.")

    turn_detection = models.CharField(
        max_length=20, choices=TurnDetection.choices, default=TurnDetection.SERVER_VAD
    )
    vad_threshold = models.FloatField(
        default=SERVER_VAD_DEFAULTS["threshold"], help_text="Server VAD: 0 to 1."
    )
    vad_prefix_padding_ms = models.PositiveIntegerField(
        default=SERVER_VAD_DEFAULTS["prefix_padding_ms"]
    )
    vad_silence_duration_ms = models.PositiveIntegerField(
        default=SERVER_VAD_DEFAULTS["silence_duration_ms"]
    )
    vad_idle_timeout_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text="Server VAD: 5000 to 30000, or empty for none."
    )
    vad_create_response = models.BooleanField(default=True)
    vad_interrupt_response = models.BooleanField(default=True)
    vad_eagerness = models.CharField(
        max_length=10, choices=Eagerness.choices, default=Eagerness.AUTO
    )

    transcription_model = models.CharField(
        max_length=100,
        default="gpt-4o-mini-transcribe",
        blank=True,
        help_text="Model that writes down what the user says; empty turns transcripts off.",
    )
    transcription_language = models.CharField(
        max_length=8, blank=True, help_text="ISO-639-1 code such as 'en', or empty to detect."
    )
    transcription_prompt = models.TextField(
        blank=True,
        max_length=500,
        help_text="Words that prime recognition (names, jargon); the page's own words follow.",
    )
    noise_reduction = models.CharField(
        max_length=12, choices=NoiseReduction.choices, default=NoiseReduction.NEAR_FIELD
    )
    max_output_tokens = models.PositiveIntegerField(
        null=True, blank=True, help_text="1 to 4096, or empty for unlimited."
    )
    tools_enabled = models.BooleanField(
        default=True, help_text="Offer the page-editing tools to Mr. Blue."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="mrblue_one_default_profile",
            )
        ]

    def __str__(self):
        return f"{self.name} (default)" if self.is_default else self.name

    def save(self, *args, **kwargs):
        """Keep exactly one default: the first profile, or the one just marked default."""
        with transaction.atomic():
            others = type(self).objects.exclude(pk=self.pk)
            if not others.filter(is_default=True).exists():
                self.is_default = True
            elif self.is_default:
                others.filter(is_default=True).update(is_default=False)
            super().save(*args, **kwargs)

    def validate_constraints(self, exclude=None):
        """Skip the one-default constraint: save() moves the flag from the old default."""
        super().validate_constraints(exclude={*(exclude or ()), "is_default"})

    # Ranges as the Realtime API documents them; (field, low, high).
    RANGES = (
        ("speed", *LIMITS["speed"]),
        ("vad_threshold", *LIMITS["threshold"]),
        ("vad_prefix_padding_ms", *LIMITS["prefix_padding_ms"]),
        ("vad_silence_duration_ms", *LIMITS["silence_duration_ms"]),
        ("vad_idle_timeout_ms", *LIMITS["idle_timeout_ms"]),
        ("max_output_tokens", *LIMITS["max_output_tokens"]),
    )

    def clean(self):
        """Refuse values the Realtime API would reject, with a message per field."""
        errors = {}
        for field, low, high in self.RANGES:
            value = getattr(self, field)
            if value is not None and not low <= value <= high:
                errors[field] = f"Must be between {low} and {high} (got {value})."
        if self.voice not in VOICES:
            errors["voice"] = f"Unknown voice {self.voice!r}; realtime voices: {', '.join(VOICES)}."
        if not (self.model or "").strip():
            errors["model"] = "A realtime model is required."
        lang = self.transcription_language
        if lang and not (len(lang) == 2 and lang.isalpha() and lang.islower()):
            errors["transcription_language"] = "Use a two-letter ISO-639-1 code such as 'en'."
        if self.pk and not self.is_default:
            was_default = type(self).objects.filter(pk=self.pk, is_default=True).exists()
            if was_default:
                errors["is_default"] = "Make another profile the default instead."
        try:
            validate_template(self.instructions)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)

    @classmethod
    def get_default(cls) -> "AssistantProfile":
        """The default profile, made with the built-in defaults if none exists yet."""
        profile = cls.objects.filter(is_default=True).first()
        if profile is None:
            profile = cls.objects.first() or cls(name="Mr. Blue")
            profile.is_default = True
            profile.save()
        return profile


class PageAssistant(models.Model):
    """Mr. Blue on one page: the profile it uses and instructions of its own.

    A page without one uses the default profile and adds no instructions (`for_page`).
    """

    page = models.OneToOneField("editor.Page", on_delete=models.CASCADE, related_name="assistant")
    profile = models.ForeignKey(
        AssistantProfile,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="page_assistants",
        verbose_name="assistant profile",
        help_text="Leave empty to use the default profile.",
    )
    instructions = models.TextField(
        blank=True,
        verbose_name="assistant instructions",
        help_text="Added to the profile's instructions for this page only (template syntax).",
    )

    class Meta:
        verbose_name = verbose_name_plural = "Mr. Blue on this page"

    def __str__(self):
        return f"Mr. Blue on {self.page}"

    def clean(self):
        """Refuse an instruction template that does not parse."""
        validate_template(self.instructions)

    @classmethod
    def for_page(cls, page) -> "PageAssistant":
        """The page's settings, or (unsaved) the defaults when the page has none."""
        try:
            return page.assistant
        except cls.DoesNotExist:
            return cls()

    def profile_or_default(self) -> AssistantProfile:
        """The profile this page uses: its own, or the default."""
        return self.profile or AssistantProfile.get_default()


# The conversation log's tables, defined with the log.
from mrblue.conversation_log.models import (  # noqa: E402, F401
    Conversation,
    LogMessage,
    TranscriptEntry,
    TurnTiming,
)
