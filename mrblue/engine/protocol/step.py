"""`Step`: what one call into the protocol core returns, the one result shape adapters handle."""

from dataclasses import dataclass, field

from mrblue.engine.protocol.responses import ResponseRequest


@dataclass
class Step:
    """The outcome of one call into the session: the one result shape adapters handle."""

    events: list[dict] = field(default_factory=list)  # server events to send, in order
    start_response: ResponseRequest | None = None  # run the brain on this
    cancelled_response: str | None = None  # stop this response's brain and playout
    appended_audio: bytes | None = None  # hand to voice detection
    committed_item: dict | None = None  # a user audio item to transcribe
    clear_output_audio: bool = False  # drop the queued output audio (WebRTC)
    item_id: str | None = None  # the item a detected speech will become
    input_audio_reset: bool = False  # the client emptied the input buffer (clear, commit)
