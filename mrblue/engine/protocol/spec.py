"""The OpenAI Realtime GA protocol's vocabulary, in one place: what the app and the engine share.

Voices, audio formats, turn-detection defaults and the ranges the API documents for its
numbers. The engine imports nothing from the rest of the project; the app takes these names
from here, so each fact is written once.
"""

VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar")
DEFAULT_VOICE = "marin"

# Audio: pcm16 mono at 24 kHz, or G.711 (µ-law, A-law) at 8 kHz, one byte a sample.
PROTOCOL_RATE = 24_000
PCM_FORMAT = {"type": "audio/pcm", "rate": PROTOCOL_RATE}
PCM_BYTES_PER_MS = PROTOCOL_RATE * 2 // 1000  # 24 kHz mono pcm16
BYTES_PER_MS = {"audio/pcm": PCM_BYTES_PER_MS, "audio/pcmu": 8, "audio/pcma": 8}
FORMATS = tuple(BYTES_PER_MS)

# Turn detection (`audio.input.turn_detection`); None instead of an object means push-to-talk.
SERVER_VAD_DEFAULTS = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 500,
    "idle_timeout_ms": None,
    "create_response": True,
    "interrupt_response": True,
}
SEMANTIC_VAD_DEFAULTS = {
    "type": "semantic_vad",
    "eagerness": "auto",
    "create_response": True,
    "interrupt_response": True,
}
EAGERNESS = ("low", "medium", "high", "auto")
NOISE_REDUCTION = ("near_field", "far_field")

# Ranges the API documents, (low, high) inclusive, by the protocol's name of the number.
LIMITS = {
    "speed": (0.25, 1.5),
    "threshold": (0.0, 1.0),
    "prefix_padding_ms": (0, 10_000),
    "silence_duration_ms": (0, 10_000),
    "idle_timeout_ms": (5_000, 30_000),
    "max_output_tokens": (1, 4096),
    "expires_after.seconds": (10, 7200),  # a client secret's lifetime
    "retention_ratio": (0.0, 1.0),  # truncation: the share of the context kept
    "post_instructions": (1, 32_000),  # truncation: tokens after the instructions, at most
}
