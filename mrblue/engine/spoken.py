"""How an assistant message's audio lines up with its words, so a barge-in can cut the
transcript to what was heard.

The brain's words reach the transcript as soon as they are written, well before they are
spoken (synthesis goes clause by clause behind them). So the words heard are not a share of
the transcript: they are the clauses whose audio was played, and part of the one playing.
"""

from dataclasses import dataclass, field


@dataclass
class SpokenAudio:
    """One assistant message's audio: how much was produced, and after each clause spoken
    the audio's length and the transcript characters it covers."""

    audio_ms: float = 0.0
    marks: list[tuple[float, int]] = field(default_factory=lambda: [(0.0, 0)])
    pending_chars: int = 0  # the clause being synthesized now (0: none)
    aligned: bool = False  # whether any clause was announced (else the audio covers it all)

    def add_audio(self, ms: float) -> None:
        """More audio was produced."""
        self.audio_ms += ms

    def clause_started(self, chars: int) -> None:
        """A clause of `chars` characters (and the space after it) goes to synthesis."""
        self.pending_chars = chars + 1
        self.aligned = True

    def clause_spoken(self) -> None:
        """All of the clause's audio has been produced."""
        self.marks.append((self.audio_ms, self.marks[-1][1] + self.pending_chars))
        self.pending_chars = 0

    def heard_chars(self, end_ms: float, transcript_chars: int) -> int:
        """How many characters of the transcript the first `end_ms` of audio said."""
        points = list(self.marks)
        if not self.aligned:
            points.append((self.audio_ms, transcript_chars))
        elif self.pending_chars and self.audio_ms > points[-1][0]:
            points.append((self.audio_ms, points[-1][1] + self.pending_chars))
        heard = points[-1][1] if end_ms >= points[-1][0] else 0
        for (start_ms, start), (stop_ms, stop) in zip(points, points[1:], strict=False):
            if start_ms <= end_ms < stop_ms:
                heard = start + round((stop - start) * (end_ms - start_ms) / (stop_ms - start_ms))
                break
        return min(heard, transcript_chars)

    def cut(self, end_ms: float, chars: int) -> None:
        """The message was truncated to `end_ms` of audio saying `chars` characters."""
        self.audio_ms = end_ms
        self.marks = [(0.0, 0), (end_ms, chars)]
        self.pending_chars = 0
        self.aligned = True


def heard_words(transcript: str, chars: int) -> str:
    """The first `chars` characters of `transcript`, without a half-heard last word."""
    heard = transcript[:chars]
    if chars < len(transcript) and not transcript[chars].isspace():
        heard = heard.rsplit(" ", 1)[0] if " " in heard else ""
    return heard.rstrip()
