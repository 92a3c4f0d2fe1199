"""What the words heard so far say about turn-taking (English; pure functions, no I/O).

Two questions the sound alone answers badly, read from the transcript recognition makes anyway:

- At a pause, has the sentence stopped midway? One that stops on "to", "a" or "um" has,
  however final its intonation: the end-of-turn model hears piper's "Change the title to," as
  complete (0.96). The words only ever keep a turn going, never end one: Whisper's punctuation
  at a pause is a guess ("make the heading blue," 64 ms into the silence) and it turns fillers
  into words ("Delete the, um," heard as "Delete the arm."). The peers read the transcript for
  this too (LiveKit's turn detector is a language model over it).
- While Mr. Blue speaks, is a short sound an interruption? "Stop." or "Wait." is; a cough, "mhm"
  or "yeah" is not (LiveKit Agents' `min_interruption_words` and their users' requests for
  filler and backchannel lists, livekit/agents#4450 and #6750).
"""

import re


def word_set(text: str) -> frozenset[str]:
    """The words of a whitespace-separated list."""
    return frozenset(text.split())


# Words a request does not end on: articles, "to" and conjunctions, possessives, the verbs of
# a quotation or a name still to come, and fillers. Not "on", "that" or "this": "Turn it on",
# "Undo that" end there.
CONTINUING = word_set(
    """a an the to of and or but because than with from for into onto my your our their its
    every says called named um uh er erm uhm"""
)
# Sounds and words people make while listening: not a request to stop.
BACKCHANNELS = word_set(
    """mhm mm mmm hmm hm m em uh um er erm ah aha oh ooh ahem huh uh-huh mm-hmm yeah yep yes ok
    okay right sure alright cool nice great wow"""
)
# What Whisper writes for a sound that is not speech, or makes up from one (its best-known
# hallucinations on noise and silence).
NOT_SPEECH = frozenset({"you", "thank you", "thanks", "bye", "thanks for watching"})


def words(text: str) -> list[str]:
    """The lowercase words of `text`, without punctuation (hyphens and apostrophes kept)."""
    return re.findall(r"[a-z]+(?:['-][a-z]+)*", text.lower())


def _spoken(text: str) -> str:
    # Whisper marks sounds it will not transcribe as "(coughs)", "[BLANK_AUDIO]", "*sighs*".
    return re.sub(r"\([^)]*\)|\[[^\]]*\]|\*[^*]*\*", " ", text).strip()


def unfinished(text: str | None) -> bool:
    """Whether the transcript so far stops midway: on a word a request does not end on."""
    said = words(_spoken(text or ""))
    return bool(said) and said[-1] in CONTINUING


# Words a second of speech can hold (people say about 3): more is Whisper making words up from
# a short sound (piper's "Mhm." of 0.25 s came back as "And make an end.").
WORDS_PER_SECOND = 5
# Whisper's mean log-probability (`speech.hear_interjection`) from which a short sound's words
# are taken as said: real ones measured -0.04 to -0.14, made-up ones -0.46 and below.
SURE_LOGPROB = -0.3


def interrupts(text: str | None, seconds: float, logprob: float = 0.0) -> bool:
    """Whether a short utterance (`seconds` of sound, heard with mean log-probability
    `logprob`) while Mr. Blue speaks asks it to stop: Whisper is sure of its words, they are
    no more than that much sound can hold, and one is neither a backchannel ("mhm", "yeah")
    nor something Whisper makes up from noise."""
    said = words(_spoken(text or ""))
    if not said or " ".join(said) in NOT_SPEECH or logprob < SURE_LOGPROB:
        return False
    if len(said) > 1 + seconds * WORDS_PER_SECOND:
        return False
    return any(word not in BACKCHANNELS for word in said)
