"""Reading a voice call's events (each with `_t`, its arrival in the page, ms) into turns,
the same way for every voice row: a turn runs from its `speech_stopped` to the next
`speech_started`; its answer is the response created from its transcript within that time;
"end of speech" is the `speech_stopped` arrival less the silence the turn waited (the
answer's `metadata.mrblue_speech_stopped_ms`)."""

COMPLETED = "conversation.item.input_audio_transcription.completed"


def _first(events, test):
    return next((e for e in events if test(e)), None)


def turn_span(events: list[dict], stop: dict) -> tuple[float, float]:
    """(from, to): from the turn's `speech_stopped` arriving to the next speech's start (or
    for ever)."""
    starts = (e["_t"] for e in events if e["type"] == "input_audio_buffer.speech_started")
    return stop["_t"], min((t for t in starts if t > stop["_t"]), default=float("inf"))


def transcript_of(events: list[dict], stop: dict) -> dict | None:
    """The `completed` transcription event of the turn `stop` ended, if any."""
    return _first(events, lambda e: e["type"] == COMPLETED and e["item_id"] == stop["item_id"])


def answer_of(events: list[dict], stop: dict) -> dict | None:
    """The completed `response.done` answering the turn that `stop` ended, if its answer
    began from that turn's transcript before the next speech (else the turn is left out:
    a slow machine may answer so late that the looping microphone's next request cuts it)."""
    completed = transcript_of(events, stop)
    if completed is None:
        return None
    created = _first(
        events, lambda e: e["type"] == "response.created" and e["_t"] >= completed["_t"]
    )
    if created is None or created["_t"] > turn_span(events, stop)[1]:
        return None
    return _first(
        events,
        lambda e: e["type"] == "response.done" and e["response"]["id"] == created["response"]["id"],
    )


def waited_ms(done: dict | None) -> int | None:
    """The silence (ms) the turn waited before it ended, from its answer's metadata."""
    metadata = ((done or {}).get("response") or {}).get("metadata") or {}
    waited = metadata.get("mrblue_speech_stopped_ms")
    return int(waited) if waited is not None else None


def after_speech_ms(times: list[float], span: tuple[float, float], waited: int) -> int | None:
    """The first of `times` within the turn's `span`, in ms after the end of speech (None:
    none there)."""
    within = [t for t in times if span[0] < t < span[1]]
    return round(within[0] - span[0]) + waited if within else None
