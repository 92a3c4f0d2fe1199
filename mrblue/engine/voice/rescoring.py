"""How well sentences fit what was said: Whisper's own decoder scores candidates against the audio.

A small Whisper mishears words it does not expect ("move the button to the volume"), but its
decoder still knows which of a few given sentences the audio supports best: forced through a
sentence's tokens (`ctranslate2.models.Whisper.align`), it gives each token's probability.
A brain that has a finite set of sensible readings (the page's commands) lets the audio choose
among them: constrained decoding, or n-best rescoring, as command-and-control recognizers do.

Scoring reuses the encoder output recognition already computed (the short window's: the
speech and a little silence), so a batch of candidates costs decoder passes only. The
recognizer hands a `Scorer` to the turn (`speech.transcribe(..., keep=...)`); a brain finds it
in `ResponseRequest.audio` by the user item's id, and a brain that ignores it works unchanged.
"""

import math
import threading
import time
from dataclasses import dataclass

import numpy as np

# Mel frames (10 ms) of silence kept after the speech: the decoder needs to hear it end,
# and every encoder frame more costs each candidate a little (two mel frames per encoder frame).
KEPT_AFTER_SPEECH = 50
MIN_PROBABILITY = 1e-9  # a token's floor, so one impossible token does not make -inf
MAX_CANDIDATES = 16  # scored in one call: the decoder's cost grows with the batch


@dataclass(frozen=True)
class Score:
    """How well `sentence` fits the audio: `logprob` is the sum of its tokens' log
    probabilities (as Whisper would write it: capitalised, with a full stop), `probabilities`
    each token's, and `pieces` each token's text (to find a part of the sentence)."""

    sentence: str
    logprob: float
    probabilities: tuple[float, ...]
    pieces: tuple[str, ...]

    def support(self, part: str) -> float:
        """How sure the audio is of `part` of the sentence (e.g. a new text): the geometric
        mean of the probabilities of the tokens that spell it (1.0 if it is not found)."""
        text = "".join(self.pieces)
        start = text.lower().find(part.lower().strip())
        if start < 0 or not part.strip():
            return 1.0
        end, at, logs = start + len(part.strip()), 0, []
        for piece, probability in zip(self.pieces, self.probabilities, strict=True):
            if at < end and at + len(piece) > start:
                logs.append(math.log(probability))
            at += len(piece)
        return math.exp(sum(logs) / len(logs)) if logs else 1.0


class Scorer:
    """Scores sentences against one utterance's encoded audio (a recognizer's `keep`)."""

    def __init__(self, whisper, tokenizer, encoded: np.ndarray, frames: int):
        """`whisper` is the ctranslate2 model, `tokenizer` faster-whisper's, `encoded` the
        encoder output ([1, encoder frames, width]) and `frames` the mel frames it stands for."""
        self._whisper = whisper
        self._tokenizer = tokenizer
        self._encoded = encoded
        self._frames = frames
        self._start = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        self._lock = threading.Lock()
        self.seconds = 0.0  # spent scoring so far (the benchmark's time per turn)
        self._cache: dict[str, Score] = {}

    @classmethod
    def of(cls, model, encoded, features, language: str | None) -> "Scorer":
        """A scorer of what faster-whisper `model` encoded (`encoded`, from `features`: the
        log-mel input of the window), cut to the speech and a little silence after it."""
        from faster_whisper.tokenizer import Tokenizer

        tokenizer = Tokenizer(
            model.hf_tokenizer,
            model.model.is_multilingual,
            task="transcribe",
            language=language or "en",
        )
        output = np.asarray(encoded)
        spoken = np.nonzero(np.asarray(features).any(axis=-2))[-1]
        speech_end = int(spoken[-1]) + 1 if len(spoken) else output.shape[1] * 2
        kept = min(output.shape[1], -(-(speech_end + KEPT_AFTER_SPEECH) // 2))
        return cls(model.model, tokenizer, np.ascontiguousarray(output[:, :kept]), kept * 2)

    def score(self, sentences: list[str]) -> list[Score]:
        """Each sentence's `Score`, in order (at most `MAX_CANDIDATES` new ones per call; the
        rest are scored in further calls)."""
        import ctranslate2

        new = [s for s in dict.fromkeys(sentences) if s not in self._cache]
        started = time.perf_counter()
        for first in range(0, len(new), MAX_CANDIDATES):
            batch = new[first : first + MAX_CANDIDATES]
            tokens = [self._tokenizer.encode(written(s)) for s in batch]
            kept = [(s, t) for s, t in zip(batch, tokens, strict=True) if t]
            if not kept:
                continue
            features = ctranslate2.StorageView.from_array(
                np.ascontiguousarray(np.repeat(self._encoded, len(kept), axis=0))
            )
            with self._lock:  # one batch at a time: the model's threads are the recognizer's
                results = self._whisper.align(
                    features,
                    self._start,
                    [t for _, t in kept],
                    [self._frames] * len(kept),
                )
            for (sentence, token_ids), result in zip(kept, results, strict=True):
                probabilities = tuple(
                    max(float(p), MIN_PROBABILITY) for p in result.text_token_probs
                )
                self._cache[sentence] = Score(
                    sentence,
                    sum(math.log(p) for p in probabilities),
                    probabilities,
                    tuple(self._tokenizer.decode([t]) for t in token_ids),
                )
        if new:
            self.seconds += time.perf_counter() - started
        return [
            self._cache.get(s) or Score(s, math.log(MIN_PROBABILITY), (), ()) for s in sentences
        ]


def written(sentence: str) -> str:
    """A sentence as Whisper writes one: a leading space, a capital, a final full stop."""
    text = " ".join(sentence.split())
    if not text:
        return ""
    if text[-1] not in ".?!":
        text += "."
    return " " + text[0].upper() + text[1:]
