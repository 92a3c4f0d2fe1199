"""The input audio buffer: what a client appends (or the microphone brings) until a commit.

Its rules, with OpenAI's error codes: pcm16 comes in whole two-byte samples; the buffer holds at
most the session's limit of audio (appending more is an error; the live microphone, which never
stops, drops the oldest audio instead); a commit needs at least `MIN_COMMIT_MS` of audio.
"""

from mrblue.engine.protocol.events import ProtocolError
from mrblue.engine.protocol.spec import BYTES_PER_MS

MIN_COMMIT_MS = 100


class InputAudio(bytearray):
    """The buffered input audio, in the session's input format."""

    def duration_ms(self, input_format: str, extra_bytes: int = 0) -> float:
        """How much audio it holds (with `extra_bytes` more), in ms."""
        return (len(self) + extra_bytes) / BYTES_PER_MS[input_format]

    def append_checked(self, audio: bytes, input_format: str, limit_seconds: float) -> None:
        """Add a client's appended audio, or raise the protocol's error for it."""
        if input_format == "audio/pcm" and len(audio) % 2:
            # pcm16 is two bytes a sample: half a sample would shift every later one.
            raise ProtocolError(
                "invalid_value",
                f"Invalid 'audio': audio/pcm is 16-bit samples, 2 bytes each, but "
                f"{len(audio)} bytes were sent; append whole samples.",
                "audio",
            )
        if self.duration_ms(input_format, len(audio)) > limit_seconds * 1000:
            held = (
                f"{limit_seconds / 60:g} minutes"
                if limit_seconds >= 60
                else f"{limit_seconds} seconds"
            )
            raise ProtocolError(
                "input_audio_buffer_full",
                f"The input audio buffer holds at most {held}; commit or clear it.",
                "audio",
            )
        self.extend(audio)

    def check_commit(self, input_format: str) -> None:
        """Raise the protocol's error if there is too little audio to commit."""
        buffered_ms = self.duration_ms(input_format)
        if buffered_ms < MIN_COMMIT_MS:
            raise ProtocolError(
                "input_audio_buffer_commit_empty",
                f"Error committing input audio buffer: buffer too small. Expected at least "
                f"{MIN_COMMIT_MS}ms of audio, but buffer only has {buffered_ms:.2f}ms of audio.",
            )

    def take(self) -> bytes:
        """Everything buffered, emptying the buffer."""
        audio = bytes(self)
        self.clear()
        return audio

    def keep_last(self, keep_ms: float, input_format: str) -> None:
        """Keep only the last `keep_ms` of audio."""
        keep = int(keep_ms * BYTES_PER_MS[input_format]) & ~1
        if len(self) > keep:
            del self[: len(self) - keep]
