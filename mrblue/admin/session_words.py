"""A session object in words, for the admin's preview: what Mr. Blue will be told, how he
sounds, takes turns and listens, and which tools he has.

Pure: it reads the GA session object `session.build_session` makes (so what is described is
what is sent, not the settings it came from) and returns sentences.
"""

EAGERNESS = {
    "low": "waits longer before answering (eagerness low)",
    "medium": "answers at a natural pace (eagerness medium)",
    "high": "answers as soon as he can (eagerness high)",
    "auto": "answers at a natural pace (eagerness auto, like medium)",
}
NOISE = {
    "near_field": "Noise reduction for a headset or a microphone close to the mouth (near field).",
    "far_field": "Noise reduction for a laptop or room microphone (far field).",
}
MAX_PROMPT_SHOWN = 300  # characters of the recognition prompt shown


def voice(session: dict) -> str:
    """The voice and its speed: "marin, at normal speed"."""
    output = session["audio"]["output"]
    speed = float(output.get("speed") or 1.0)
    if speed == 1.0:
        pace = "at normal speed"
    else:
        pace = f"{'faster' if speed > 1 else 'slower'} than normal ({speed:g}×)"
    return f"{output['voice']}, {pace}"


def turn_taking(session: dict) -> list[str]:
    """How turns are taken, in sentences."""
    detection = session["audio"]["input"].get("turn_detection")
    if detection is None:
        return [
            "Push-to-talk: the editor holds a button (or Space) while speaking, and Mr. Blue "
            "answers on release."
        ]
    if detection["type"] == "semantic_vad":
        eagerness = EAGERNESS.get(detection.get("eagerness", "auto"), EAGERNESS["auto"])
        sentences = [
            "Mr. Blue answers when the editor seems to have finished, judged by what was said "
            f"(semantic VAD); he {eagerness}."
        ]
    else:
        sentences = [
            f"Mr. Blue answers after {detection['silence_duration_ms']} ms of silence "
            "(server VAD).",
            f"Sound above {detection['threshold']:g} on a scale of 0 to 1 counts as speech; "
            f"the {detection['prefix_padding_ms']} ms before it are kept.",
        ]
        if detection.get("idle_timeout_ms"):
            seconds = detection["idle_timeout_ms"] / 1000
            sentences.append(f"After {seconds:g} s without speech, he speaks up again.")
    if detection.get("create_response") is False:
        sentences.append("He does not answer by himself: each answer must be asked for.")
    if detection.get("interrupt_response") is False:
        sentences.append("Speaking over him does not interrupt him.")
    else:
        sentences.append("Speaking over him interrupts him.")
    return sentences


def listening(session: dict) -> list[str]:
    """How what the editor says is heard and written down, in sentences."""
    heard = session["audio"]["input"]
    transcription = heard.get("transcription")
    if not transcription:
        sentences = [
            "What the editor says is not written down: the transcript holds only Mr. Blue's side."
        ]
    else:
        language = transcription.get("language")
        sentences = [
            f"What the editor says is written down by {transcription['model']}, "
            + (f"in the language '{language}'." if language else "detecting the language.")
        ]
        prompt = transcription.get("prompt") or ""
        if prompt:
            shown = prompt if len(prompt) <= MAX_PROMPT_SHOWN else prompt[:MAX_PROMPT_SHOWN] + "…"
            sentences.append(f"Recognition is primed with: “{shown}”")
    noise = heard.get("noise_reduction")
    sentences.append(NOISE.get((noise or {}).get("type"), "No noise reduction."))
    return sentences


def answers(session: dict) -> str:
    """The model and how long its answers may be."""
    limit = session.get("max_output_tokens")
    length = "of any length" if limit in (None, "inf") else f"of at most {limit} tokens each"
    spoken = "aloud" if "audio" in session.get("output_modalities", ["audio"]) else "in text"
    return f"{session['model']}, answering {spoken}, {length}."


def tools(session: dict) -> list[tuple[str, str]]:
    """(name, description) of each tool offered."""
    return [(tool.get("name", "?"), tool.get("description", "")) for tool in session["tools"]]
