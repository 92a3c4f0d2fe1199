"""Builds the exact Realtime GA `session` object Mr. Blue is started with, for one page.

This is the single place that turns admin settings (the profile, and the page's own settings
in `PageAssistant`) into what the provider receives; the token view, the admin preview and the
engine all use it.
"""

from editor.blocks import describe_block
from editor.tools import editor_tools
from mrblue.commands_brain.page_words import transcription_prompt
from mrblue.engine.protocol.spec import PCM_FORMAT
from mrblue.instructions import render_instructions
from mrblue.models import AssistantProfile, PageAssistant


def profile_for(page) -> AssistantProfile:
    """The profile a page uses: its own, or the default."""
    return PageAssistant.for_page(page).profile_or_default()


def describe_selected(page, selected) -> str:
    """Turn the client's selection (a block id or a short description) into words."""
    if not selected:
        return ""
    if isinstance(selected, str):
        for block in page.content or []:
            if block.get("id") == selected:
                return f"{describe_block(block)} (id {selected})"
        return selected[:200]
    return ""


def build_instructions(page, user=None, selected=None, profile=None) -> str:
    """The profile's instructions plus the page's own, rendered for this page and selection
    (InstructionsError if a stored template cannot be rendered)."""
    assistant = PageAssistant.for_page(page)
    profile = profile or assistant.profile_or_default()
    selected_text = describe_selected(page, selected)
    parts = [
        (profile.instructions, f"profile {profile.name!r}"),
        (assistant.instructions, f"page {page.slug!r}"),
    ]
    rendered = (
        render_instructions(part, page=page, user=user, selected=selected_text, origin=origin)
        for part, origin in parts
        if part
    )
    return "\n\n".join(text for text in rendered if text)


def build_turn_detection(profile: AssistantProfile) -> dict | None:
    """The `audio.input.turn_detection` object, or None for push-to-talk."""
    kind = profile.turn_detection
    if kind == AssistantProfile.TurnDetection.SERVER_VAD:
        result = {
            "type": "server_vad",
            "threshold": profile.vad_threshold,
            "prefix_padding_ms": profile.vad_prefix_padding_ms,
            "silence_duration_ms": profile.vad_silence_duration_ms,
            "create_response": profile.vad_create_response,
            "interrupt_response": profile.vad_interrupt_response,
        }
        if profile.vad_idle_timeout_ms:
            result["idle_timeout_ms"] = profile.vad_idle_timeout_ms
        return result
    if kind == AssistantProfile.TurnDetection.SEMANTIC_VAD:
        return {
            "type": "semantic_vad",
            "eagerness": profile.vad_eagerness,
            "create_response": profile.vad_create_response,
            "interrupt_response": profile.vad_interrupt_response,
        }
    return None


def build_session(page, user=None, selected=None, profile=None) -> dict:
    """The GA session object for `page`, as `user` sees it, with `selected` in context
    (with `profile` instead of the page's own, e.g. to preview a profile)."""
    profile = profile or profile_for(page)
    transcription = None
    if profile.transcription_model:
        transcription = {"model": profile.transcription_model}
        if profile.transcription_language:
            transcription["language"] = profile.transcription_language
        transcription["prompt"] = transcription_prompt(
            page.content or [], profile.transcription_prompt
        )
    noise = profile.noise_reduction
    return {
        "type": "realtime",
        "model": profile.model,
        "instructions": build_instructions(page, user, selected, profile),
        "output_modalities": ["audio"],
        "audio": {
            "input": {
                "format": dict(PCM_FORMAT),
                "transcription": transcription,
                "noise_reduction": None if noise == "off" else {"type": noise},
                "turn_detection": build_turn_detection(profile),
            },
            "output": {
                "format": dict(PCM_FORMAT),
                "voice": profile.voice,
                "speed": profile.speed,
            },
        },
        "tools": editor_tools() if profile.tools_enabled else [],
        "tool_choice": "auto",
        "max_output_tokens": profile.max_output_tokens or "inf",
    }
