"""How an assistant message's audio lines up with its words, so a barge-in can cut the
transcript to what was heard.

The brain's words reach the transcript as soon as they are written, well before they are
spoken (synthesis goes clause by clause behind them). So the words heard are not a share of
the transcript: they are the clauses whose audio was played, and part of the one playing.
Positions count letters (every character but whitespace), which the clauses and the
transcript agree on whatever spaces the cutting into clauses dropped.
"""

from dataclasses import dataclass, field


def letters(text: str) -> int:
    """How many characters of `text` are not whitespace."""
    return sum(not c.isspace() for c in text)


@dataclass
class SpokenAudio:
    """One assistant message's audio: how much was produced, and after each clause spoken
    the audio's length and the transcript letters it covers."""

    audio_ms: float = 0.0
    marks: list[tuple[float, int]] = field(default_factory=lambda: [(0.0, 0)])
    pending: int = 0  # letters of the clause being synthesized now (0: none)

    def add_audio(self, ms: float) -> None:
        """More audio was produced."""
        self.audio_ms += ms

    def clause_started(self, clause: str) -> None:
        """A clause of the transcript goes to synthesis."""
        self.pending = letters(clause)

    def clause_spoken(self) -> None:
        """All of the clause's audio has been produced."""
        self.marks.append((self.audio_ms, self.marks[-1][1] + self.pending))
        self.pending = 0

    def aligned(self) -> bool:
        """Whether any clause was announced (else the audio is taken to cover it all)."""
        return len(self.marks) > 1 or self.pending > 0

    def heard(self, end_ms: float, transcript: str) -> int:
        """How many letters of `transcript` the first `end_ms` of audio said."""
        total = letters(transcript)
        points = list(self.marks)
        if not self.aligned():
            points.append((self.audio_ms, total))
        elif self.pending and self.audio_ms > points[-1][0]:
            points.append((self.audio_ms, points[-1][1] + self.pending))
        said = points[-1][1] if end_ms >= points[-1][0] else 0
        for (start_ms, start), (stop_ms, stop) in zip(points, points[1:], strict=False):
            if start_ms <= end_ms < stop_ms:
                said = start + round((stop - start) * (end_ms - start_ms) / (stop_ms - start_ms))
                break
        return min(said, total)

    def cut(self, end_ms: float, said: int) -> None:
        """The message was truncated to `end_ms` of audio saying `said` letters."""
        self.audio_ms = end_ms
        self.marks = [(0.0, 0), (end_ms, said)]
        self.pending = 0


def heard_words(transcript: str, said: int) -> str:
    """The start of `transcript` that holds its first `said` letters, without a half-heard
    last word."""
    end, count = 0, 0
    while end < len(transcript) and count < said:
        count += not transcript[end].isspace()
        end += 1
    heard = transcript[:end]
    if end < len(transcript) and not transcript[end].isspace():
        heard = heard.rsplit(" ", 1)[0] if " " in heard else ""
    return heard.rstrip()
