"""The speech services a call's voice path uses: recognition, synthesis, the end-of-turn model.

A connection is given its services, so another recognizer or synthesizer (a server, a model on
a GPU) plugs in without touching the voice path, as Pipecat's and LiveKit Agents' services do.
The built-in engine's are local models, loaded once per process: `speech` (faster-whisper and
piper) and `end_of_turn` (Smart Turn).
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from mrblue.engine.voice import end_of_turn, speech


@dataclass(frozen=True)
class SpeechServices:
    """What the voice path calls for speech; the signatures are `speech`'s and `end_of_turn`'s.

    - `transcribe(pcm16k, language, prompt, hotwords, *, session, priority, started)`: text.
    - `hear_interjection(pcm16k, language, *, session)`: (text, mean log-probability) of a
      short sound heard while Mr. Blue speaks.
    - `synthesize(text, voice, speed, session)`: 24 kHz pcm16 of the whole text;
      `synthesize_stream(...)`: the same, a piece at a time; `can_speak()`: synthesis is here.
    - `judge_turn(pcm16k, *, session)`: the probability that the person's turn is complete;
      `can_judge_turns()`: a model for it is here (else turns end after a fixed silence).
    - `warm_up()`: load the models in the background, before they are first needed.
    """

    transcribe: Callable[..., Awaitable[str]]
    hear_interjection: Callable[..., Awaitable[tuple[str, float]]]
    synthesize: Callable[..., Awaitable[bytes]]
    synthesize_stream: Callable[..., AsyncIterator[bytes]]
    can_speak: Callable[[], bool]
    judge_turn: Callable[..., Awaitable[float]]
    can_judge_turns: Callable[[], bool]
    warm_up: Callable[[], None]


def local_services() -> SpeechServices:
    """The engine's own models. Looked up in their modules at each call, so a process that
    replaces one there (a test's recorder) replaces it for every connection."""
    return SpeechServices(
        transcribe=lambda *args, **kwargs: speech.transcribe(*args, **kwargs),
        hear_interjection=lambda *args, **kwargs: speech.hear_interjection(*args, **kwargs),
        synthesize=lambda *args, **kwargs: speech.synthesize(*args, **kwargs),
        synthesize_stream=lambda *args, **kwargs: speech.synthesize_stream(*args, **kwargs),
        can_speak=lambda: speech.tts_available(),
        judge_turn=lambda *args, **kwargs: end_of_turn.completion_async(*args, **kwargs),
        can_judge_turns=lambda: end_of_turn.available(),
        warm_up=lambda: speech.warm_up(),  # the end-of-turn model too
    )
