"""Hearing a voice in the admin: the play button next to a profile's voice, and its endpoint.

`POST /admin/mrblue/assistantprofile/voice-sample/` `{"voice", "speed"}` answers the sample
sentence as WAV (`voice_samples`). Staff who may change profiles or pages only (anyone else on
the admin gets its login), CSRF-protected, and rate limited per user
(`MRBLUE_VOICE_SAMPLES_PER_MINUTE`): each sample is a synthesis on the engine, or a paid request.
"""

from asgiref.sync import sync_to_async
from django import forms
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from mrblue.admin.voice_samples import SampleError, current_voice_note, speak_sample
from mrblue.engine.protocol.spec import LIMITS, VOICES
from mrblue.shared.errors import json_error
from mrblue.shared.json_input import read_json_object
from mrblue.shared.rate_limits import RateLimiter, retry_after

SAMPLE_PERMISSIONS = ("mrblue.change_assistantprofile", "editor.change_page")
sample_limiter = RateLimiter("MRBLUE_VOICE_SAMPLES_PER_MINUTE")
MAX_BODY = 1024
URL_NAME = "mrblue_voice_sample"


def may_hear_samples(user) -> bool:
    """Staff who may change profiles or pages: those who choose a voice."""
    return (
        user.is_active
        and user.is_staff
        and any(user.has_perm(permission) for permission in SAMPLE_PERMISSIONS)
    )


def sample_url() -> str:
    """Where the play buttons ask for samples."""
    return reverse(f"admin:{URL_NAME}")


@never_cache
@require_POST
async def voice_sample(request):
    """The sample sentence in the posted voice and speed, as `audio/wav`; JSON errors."""
    user = await request.auser()
    if not (user.is_active and user.is_staff):
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not await sync_to_async(may_hear_samples)(user):
        return json_error(403, "forbidden", "You may not change profiles or pages.")
    try:
        voice, speed = read_sample_request(request.body)
    except ValueError as error:
        return json_error(400, "bad_request", str(error))
    wait = await sample_limiter.ahit(f"voice-sample:{user.pk}")
    if wait is not None:
        message = "Too many samples in a minute; wait a moment."
        return json_error(429, "rate_limited", message, retry_after(wait))
    try:
        audio = await speak_sample(voice, speed, request.build_absolute_uri("/v1"))
    except SampleError as error:
        return json_error(error.status, error.code, error.message, error.retry_after)
    return HttpResponse(audio, content_type="audio/wav")


def read_sample_request(raw: bytes) -> tuple[str, float]:
    """(voice, speed) of a sample request, or ValueError saying what to send."""
    if len(raw) > MAX_BODY:
        raise ValueError(f"The request body is larger than {MAX_BODY} bytes.")
    body = read_json_object(raw, '{"voice": "marin", "speed": 1.0}')
    voice, speed = body.get("voice"), body.get("speed", 1.0)
    if voice not in VOICES:
        raise ValueError(f'"voice" is one of {", ".join(VOICES)}.')
    low, high = LIMITS["speed"]
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not low <= speed <= high:
        raise ValueError(f'"speed" is a number from {low} to {high}.')
    return voice, float(speed)


class VoiceSampleSelect(forms.Select):
    """The voice's select, with a play button that speaks a sample in the voice chosen and the
    speed typed (saved or not), and what the choices sound like with this provider."""

    extras_template = "mrblue/admin/voice_select.html"

    def __init__(self, *args, playable: bool = True, speed_field: str = "id_speed", **kwargs):
        super().__init__(*args, **kwargs)
        self.playable = playable
        self.speed_field = speed_field

    @property
    def media(self):
        """The play button's script and the admin's styles."""
        return forms.Media(js=["mrblue/voice-sample.js"], css={"all": ["mrblue/admin.css"]})

    def render(self, name, value, attrs=None, renderer=None):
        """The select (by the form renderer), then the button and the note (by the site's
        templates, which the form renderer does not read)."""
        select = super().render(name, value, attrs, renderer)
        extras = {
            "sample_url": sample_url() if self.playable else None,
            "voice_field": (attrs or {}).get("id", f"id_{name}"),
            "speed_field": self.speed_field,
            "voice_note": current_voice_note(),
        }
        return select + render_to_string(self.extras_template, extras)
