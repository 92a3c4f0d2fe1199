"""Voice turns for one connection: audio in → turn detection → transcript → response,
with barge-in, idle timeouts and per-turn timings.

It belongs to an `EngineConnection` and works through it (sending events, starting and
cancelling responses); the decisions themselves come from the core and the `TurnDetector`.
"""

import asyncio
import logging
import time

from mrblue.engine import speech
from mrblue.engine.audio import SPEECH_RATE, Resampler, ms_of
from mrblue.engine.hints import tool_hotwords
from mrblue.engine.items import audio_payload
from mrblue.engine.vad import PauseBegan, SpeechStarted, TurnDetector
from mrblue.engine.vocabulary import PROTOCOL_RATE

logger = logging.getLogger("mrblue.engine")
DETECTION_SLACK_MS = 200  # speech is confirmed a little after it starts: keep that too


class VoiceTurns:
    """Turn-taking for one connection."""

    def __init__(self, connection):
        self.connection = connection
        self.session = connection.session
        self._detector: TurnDetector | None = None
        self._detector_config: dict | None = None
        self._detecting = asyncio.Lock()  # one feed at a time: microphone and appends share it
        self._mic_24k = Resampler(PROTOCOL_RATE)  # WebRTC microphone → protocol rate
        self._mic_16k = Resampler(SPEECH_RATE)  # WebRTC microphone → detection rate
        self._appended_16k = Resampler(SPEECH_RATE)  # appended protocol audio → detection
        self._speech_item: str | None = None
        self._transcriptions: set[asyncio.Task] = set()
        # Recognition started at a pause: (where the speech paused, the running recognition).
        self._early: tuple[int, asyncio.Future] | None = None
        self._idle: asyncio.TimerHandle | None = None
        self._last_speech_end_ms = 0
        self.turn_timings: dict[str, float] = {}

    # --- audio in ---------------------------------------------------------------------------

    async def microphone_frame(self, frame) -> None:
        """A decoded frame from the WebRTC microphone track."""
        self.session.buffer_audio(self._mic_24k.frame(frame))
        await self._detect(self._mic_16k.frame(frame))

    async def audio_appended(self, pcm: bytes) -> None:
        """Audio a client appended over the protocol (24 kHz pcm16)."""
        if self.session.input_format != "audio/pcm":
            return  # G.711 input is buffered and committed, but not voice-detected here
        # One append may hold minutes of audio: resampled off the event loop, like detection.
        await self._detect(await asyncio.to_thread(self._appended_16k.pcm, pcm, PROTOCOL_RATE))

    async def _detect(self, pcm16k: bytes) -> None:
        settings = self.session.turn_detection()
        if settings is None:
            return  # push-to-talk: the client commits
        # The model runs on every 32 ms of audio (1-2 ms of CPU each): a client may append
        # faster than real time, so it runs in a thread, not on the server's event loop.
        async with self._detecting:
            detector = self._turn_detector(settings)
            events = await asyncio.to_thread(detector.feed, pcm16k)
        for event in events:
            if isinstance(event, SpeechStarted):
                await self._speech_started(event.audio_start_ms, settings)
            elif isinstance(event, PauseBegan):
                self._pause_began(event.audio_end_ms)
            else:
                await self._speech_stopped(event.audio_end_ms, settings)
        if not detector.speaking:
            self.session.trim_input_audio(
                settings.get("prefix_padding_ms", 300) + DETECTION_SLACK_MS
            )

    def _turn_detector(self, settings: dict) -> TurnDetector:
        if self._detector is None:
            self._detector = TurnDetector(settings)
        elif settings != self._detector_config:
            self._detector.configure(settings)
        self._detector_config = settings
        return self._detector

    async def _speech_started(self, audio_start_ms: int, settings: dict) -> None:
        self.cancel_idle_timer()
        step = self.session.speech_started(audio_start_ms)
        self._speech_item = step.item_id
        await self.connection.carry_out(step)
        if settings.get("interrupt_response", True):
            await self.clear_playout()
            await self.connection.cancel_response("turn_detected")

    def _pause_began(self, audio_end_ms: int) -> None:
        # Recognise what was said so far while the silence runs on: if the pause ends the
        # turn, its transcript is ready (almost) as soon as speech_stopped.
        self._drop_early()
        if self.session.input_format == "audio/pcm":
            recognition = asyncio.ensure_future(self._recognize(bytes(self.session.input_audio)))
            # A dropped recognition's failure is of no interest: mark it seen.
            recognition.add_done_callback(lambda done: done.cancelled() or done.exception())
            self._early = (audio_end_ms, recognition)

    def _drop_early(self) -> None:
        if self._early is not None:
            self._early[1].cancel()  # frees the recognition thread if it has not started
            self._early = None

    def _early_recognition(self, audio_end_ms: int) -> asyncio.Future | None:
        """The recognition started at the pause that turned out to end the turn, if any."""
        if self._early is None or self._early[0] != audio_end_ms:
            self._drop_early()
            return None
        recognition, self._early = self._early[1], None
        return recognition

    async def _speech_stopped(self, audio_end_ms: int, settings: dict) -> None:
        self._last_speech_end_ms = audio_end_ms
        now = time.monotonic()
        # Live audio arrives in real time: the speech ended as much earlier as the detector
        # has heard audio since.
        heard_since_s = (self._detector.elapsed_ms - audio_end_ms) / 1000
        self.turn_timings = {"speech_end": now - heard_since_s, "speech_stopped": now}
        step = self.session.speech_stopped(audio_end_ms, self._speech_item)
        await self.connection.carry_out(step)
        self.transcribe_later(
            step.committed_item,
            respond=settings.get("create_response", True),
            early=self._early_recognition(audio_end_ms),
        )

    # --- transcription ------------------------------------------------------------------------

    def transcribe_later(self, item: dict, respond: bool, early=None) -> None:
        """Transcribe a committed audio item in the background (or finish the recognition
        `early` started on the same speech), then maybe respond."""
        task = self.connection.background(self._transcribe(item, respond, early), "a transcript")
        self._transcriptions.add(task)
        task.add_done_callback(self._transcriptions.discard)

    async def _recognize(self, pcm24: bytes) -> str:
        config = self.session.transcription
        return await speech.transcribe(
            Resampler(SPEECH_RATE).pcm(pcm24, PROTOCOL_RATE),
            config.get("language"),
            config.get("prompt"),
            tool_hotwords(self.session.config.get("tools")),
        )

    async def _transcribe(self, item: dict, respond: bool, early=None) -> None:
        if self.session.input_format != "audio/pcm":
            await self._transcription_failed(
                item, "G.711 input is not transcribed by this engine; send audio/pcm."
            )
            return
        pcm24 = audio_payload(item)
        try:
            text = await (early or self._recognize(pcm24))
        except Exception:
            logger.exception("%s: transcription failed", self.connection.label)
            await self._transcription_failed(item, "Speech recognition failed.")
            return
        self.turn_timings["transcript"] = time.monotonic()
        seconds = ms_of(pcm24, PROTOCOL_RATE) / 1000  # the item's audio, trailing silence too
        await self.connection.carry_out(
            self.session.transcribed(item["id"], text, seconds, respond=respond)
        )

    async def _transcription_failed(self, item: dict, message: str) -> None:
        logger.warning("%s: no transcript for %s: %s", self.connection.label, item["id"], message)
        await self.connection.carry_out(self.session.transcription_failed(item["id"], message))

    async def transcriptions_done(self) -> None:
        """Wait until every committed audio item has its words."""
        current = asyncio.current_task()
        pending = [t for t in self._transcriptions if t is not current]
        if pending:
            await asyncio.wait(pending)

    # --- output, barge-in, idle ---------------------------------------------------------------

    async def clear_playout(self, asked: bool = False) -> None:
        """Stop the assistant's voice now and cut its item to what was heard (WebRTC); a
        client that `asked` (output_audio_buffer.clear) is answered even if nothing played."""
        playout = self.connection.playout
        if playout is None:
            return
        heard = playout.clear()
        if heard is None and not asked:
            return
        await self.connection.carry_out(self.session.output_cleared(*(heard or ())))

    def arm_idle_timer(self) -> None:
        """After Mr. Blue has spoken: prompt the person if they stay silent too long."""
        self.cancel_idle_timer()
        settings = self.session.turn_detection() or {}
        timeout = settings.get("idle_timeout_ms")
        if not timeout or self.connection.closed:
            return
        loop = asyncio.get_running_loop()
        self._idle = loop.call_later(
            timeout / 1000,
            lambda: self.connection.background(self._idle_timeout(), "the idle timeout"),
        )

    def cancel_idle_timer(self) -> None:
        """The person spoke or a response started: no idle prompt."""
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None

    async def _idle_timeout(self) -> None:
        if self.connection.closed:
            return
        elapsed = int(self._detector.elapsed_ms) if self._detector else self._last_speech_end_ms
        await self.connection.carry_out(
            self.session.timeout_triggered(self._last_speech_end_ms, elapsed)
        )

    # --- timings ------------------------------------------------------------------------------

    def timing_metadata(self) -> dict[str, str]:
        """This turn's latencies, in ms after the end of speech, for `response.done`
        metadata: speech_stopped, transcript, first_output, first_audio (synthesized), and
        over WebRTC first_frame (on the track; logged, as it comes after response.done)."""
        start = self.turn_timings.get("speech_end")
        if start is None:
            return {}
        return {
            f"mrblue_{name}_ms": str(round((t - start) * 1000))
            for name, t in self.turn_timings.items()
            if name != "speech_end"
        }

    def log_turn_timings(self) -> None:
        """One log line per spoken turn, with every stage's latency."""
        metadata = self.timing_metadata()
        if metadata:
            logger.info(
                "%s turn timings: %s",
                self.connection.label,
                " ".join(f"{k}={v}" for k, v in sorted(metadata.items())),
            )

    def shutdown(self) -> None:
        """Stop timers and background transcriptions."""
        self.cancel_idle_timer()
        self._drop_early()
        for task in list(self._transcriptions):
            task.cancel()
