"""Whisper on a window the size of the speech, not its 30 s one: which frames to encode, and
when not to trust what came of it.

faster-whisper pads every input's log-mel features with zeros to Whisper's 30 s window, and
the encoder's cost grows with its input, so a two-second request paid for thirty seconds
(the voice benchmark prints Whisper's time on both windows). Whisper was trained on whole
windows, though: on a short one, tiny.en now and then says a short request twice ("Delete the
paragraph. Delete the paragraph.") or runs on repeating it. Such a transcript (one that
repeats itself, or outgrows what the audio could hold) is heard again with the whole window.
"""

import re

FRAMES_PER_SECOND = 100  # Whisper's log-mel features: one frame per 10 ms
WHOLE_WINDOW = 3000  # the 30 s every input is padded to
TOKENS_PER_SECOND = 8


def encoder_frames(features, after_s: float):
    """`features` (`[..., mels, frames]`) cut to the speech and `after_s` of silence after it,
    in whole seconds, at most the whole window (all of it when `after_s` is 0). The padding
    is exact zeros, so what is left is the same speech followed by a shorter silence."""
    if after_s <= 0:
        return features
    spoken = features.any(axis=-2).nonzero()[-1]
    speech_end = int(spoken[-1]) + 1 if len(spoken) else 0
    wanted = speech_end + round(after_s * FRAMES_PER_SECOND)
    whole_seconds = -(-wanted // FRAMES_PER_SECOND) * FRAMES_PER_SECOND
    return features[..., : min(whole_seconds, WHOLE_WINDOW)]


def most_tokens(seconds: float) -> int:
    """The most tokens a short window's transcript of `seconds` of audio may take: fast
    speech is ~4 tokens a second, punctuation included; a transcript that needs more is a
    runaway (and is heard again with the whole window)."""
    return int(seconds * TOKENS_PER_SECOND) + 8


def trusted(text: str, tokens: int, seconds: float) -> bool:
    """Whether a short window's transcript (`tokens` long) of `seconds` of audio can stand."""
    return tokens < most_tokens(seconds) and not repeats_itself(text)


def repeats_itself(text: str) -> bool:
    """Whether `text` says some words twice in a row ("undo undo"; one word, three times):
    how a short window's failures look. People rarely do it, and then the cost is only a
    second hearing with the whole window."""
    words = re.sub(r"[^\w\s']", " ", text.casefold()).split()
    for size in range(1, len(words) // 2 + 1):
        times = 2 if size > 1 else 3
        for start in range(len(words) - times * size + 1):
            phrase = words[start : start + size]
            if words[start : start + times * size] == phrase * times:
                return True
    return False
