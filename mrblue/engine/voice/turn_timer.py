"""One turn's timings, from the end of the person's speech to the first audio they hear.

A `TurnTimer` is started when turn detection hears the speech stop, and each stage marks
itself as it happens: `recognition_start` and `transcript` (the voice path), `first_output`
(the brain), `first_audio` (synthesis) and over WebRTC `first_frame` (the outgoing track). The
marks are reported in ms after the end of speech, in `response.done`'s metadata (the panel
sends them on to the transcript log, and the admin draws them) and in one log line per turn.
"""

import logging
import time

logger = logging.getLogger("mrblue.engine")

STAGES = ("speech_stopped", "recognition_start", "transcript", "first_output", "first_audio")
STAGES_AFTER_DONE = ("first_frame",)  # over WebRTC the track plays after response.done


class TurnTimer:
    """The timings of the turn in progress (none until speech first stops)."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._marks: dict[str, float] = {}

    def start(self, heard_since_s: float, heard_at: float | None = None) -> None:
        """Speech stopped, as turn detection tells it `heard_since_s` of audio after the speech
        ended, audio that had all arrived by `heard_at` (on this clock; default now): live
        audio arrives in real time, so the speech ended that much earlier. Whatever the
        detection took since `heard_at` (an end-of-turn model's verdict) counts."""
        now = self._clock()
        arrived = now if heard_at is None else heard_at
        self._marks = {"speech_end": arrived - heard_since_s, "speech_stopped": now}

    def mark(self, stage: str, at: float | None = None, *, again: bool = False) -> None:
        """`stage` happened (now, or `at` on this clock); the first mark of a stage counts
        unless `again` (a transcript made twice is ready at the second)."""
        if stage not in STAGES and stage not in STAGES_AFTER_DONE:
            raise ValueError(f"Unknown turn stage {stage!r}.")
        if again or stage not in self._marks:
            self._marks[stage] = self._clock() if at is None else at

    def metadata(self) -> dict[str, str]:
        """The turn's stages in ms after the end of speech, as `response.done` metadata
        (`mrblue_<stage>_ms`); empty before any speech stopped (a typed request)."""
        start = self._marks.get("speech_end")
        if start is None:
            return {}
        return {
            f"mrblue_{stage}_ms": str(round((at - start) * 1000))
            for stage, at in self._marks.items()
            if stage != "speech_end"
        }

    def log(self, label: str) -> None:
        """One log line with every stage's latency so far."""
        metadata = self.metadata()
        if metadata:
            stages = " ".join(f"{k}={v}" for k, v in sorted(metadata.items()))
            logger.info("%s turn timings: %s", label, stages)
