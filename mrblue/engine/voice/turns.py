"""Voice turns for one connection: audio in → turn detection → transcript → response,
with barge-in, idle timeouts and per-turn timings (`TurnTimer`).

It belongs to a connection and works through the narrow `VoiceOwner` interface (sending a
core's steps, cancelling a response, running background work); the decisions themselves come
from the core and the `TurnDetector`, the speech from the owner's `SpeechServices`.
"""

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from mrblue.engine.engine_settings import engine_settings
from mrblue.engine.protocol.core import RealtimeSession, Step
from mrblue.engine.protocol.items import audio_payload
from mrblue.engine.protocol.spec import PROTOCOL_RATE
from mrblue.engine.voice.audio import SPEECH_RATE, Resampler, ms_of
from mrblue.engine.voice.hints import tool_hotwords
from mrblue.engine.voice.partial_words import Words
from mrblue.engine.voice.playout import PlayoutQueue
from mrblue.engine.voice.scheduler import BACKGROUND, SUPERSEDED, URGENT, QueueFull
from mrblue.engine.voice.services import SpeechServices
from mrblue.engine.voice.turn_timer import TurnTimer
from mrblue.engine.voice.turn_words import interrupts, unfinished
from mrblue.engine.voice.vad import (
    PauseBegan,
    SpeechStarted,
    TurnCheck,
    TurnDetector,
    WordsCheck,
)

logger = logging.getLogger("mrblue.engine")
DETECTION_SLACK_MS = 200  # speech is confirmed a little after it starts: keep that too
DETECTION_SLICE = SPEECH_RATE * 2  # bytes: one second of 16 kHz audio per detection step
KEPT_SCORERS = 4  # the latest user audio items whose rescoring scorer a brain may use


@dataclass
class Hearing:
    """One recognition of an utterance so far: whose, up to where, and when it began."""

    item_id: str
    audio_end_ms: float
    task: asyncio.Future | None = None
    started: float | None = None  # time.monotonic() when the thread took it
    kept: dict = field(default_factory=dict)  # what recognition keeps of it (its scorer)

    def began(self) -> None:
        """Called on the recognition thread as the job starts."""
        self.started = time.monotonic()


class VoiceOwner(Protocol):
    """What the voice path needs of the connection that owns it, and nothing more: the
    session's core, the speech services, and a way to act on what the core decides."""

    session: RealtimeSession
    speech: SpeechServices
    label: str  # names the connection in log lines
    closed: bool
    playout: PlayoutQueue | None  # WebRTC's outgoing audio; None over WebSocket

    async def carry_out(self, step: Step) -> None:
        """Send a step's events and do what it says (start or stop a response)."""

    async def cancel_response(self, reason: str) -> None:
        """Stop the active response, if any (a barge-in)."""

    async def report_error(self, code: str, message: str) -> None:
        """Send the client an `error` event; the session goes on."""

    def background(self, coroutine, what: str) -> asyncio.Task:
        """Run `coroutine` as a task of the connection's, its failure logged as `what`."""


class VoiceTurns:
    """Turn-taking for one connection."""

    def __init__(self, connection: VoiceOwner):
        self.connection = connection
        self.session = connection.session
        self.speech = connection.speech
        self._detector: TurnDetector | None = None
        self._detector_config: dict | None = None
        self._detecting = asyncio.Lock()  # one feed at a time: microphone and appends share it
        self._mic_24k = Resampler(PROTOCOL_RATE)  # WebRTC microphone → protocol rate
        self._mic_16k = Resampler(SPEECH_RATE)  # WebRTC microphone → detection rate
        self._appended_16k = Resampler(SPEECH_RATE)  # appended protocol audio → detection
        self._speech_item: str | None = None
        self._transcriptions: set[asyncio.Task] = set()
        self._early: Hearing | None = None  # the recognition started at the latest pause
        self._hearings: set[asyncio.Future] = set()  # recognitions of utterances so far
        self._words = Words()  # the partial words sent for the utterance being spoken
        self._heard_from_ms = 0.0  # detector time of the latest recognition of it
        self._idle: asyncio.TimerHandle | None = None
        self._last_speech_end_ms = 0
        self._heard_clock: tuple[float, float] | None = None  # (monotonic, detector ms)
        self.timer = TurnTimer()  # the timings of the turn in progress
        # The latest end-of-turn verdicts: (probability, seconds it took), for logs and tests.
        self.judgements: deque[tuple[float, float]] = deque(maxlen=32)
        # item id -> rescoring.Scorer of the latest utterances: what a brain may ask how well
        # a sentence fits the audio (ResponseRequest.audio).
        self.scorers: dict[str, object] = {}

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
        # The model runs on every 32 ms of audio, and a client may append faster than real
        # time, so it runs in a thread, not on the server's event loop, a second at a time
        # (one large append does not hold the thread for minutes).
        for start in range(0, len(pcm16k), DETECTION_SLICE):
            await self._detect_slice(pcm16k[start : start + DETECTION_SLICE], settings)

    async def _detect_slice(self, pcm16k: bytes, settings: dict) -> None:
        async with self._detecting:
            detector = self._turn_detector(settings)
            detector.barge_in = self._assistant_speaking()
            events = await asyncio.to_thread(detector.feed, pcm16k)
            # When the audio heard so far had arrived: the end of speech is timed from it
            # (not from after the end-of-turn model's answer, which takes time of its own).
            self._heard_clock = (time.monotonic(), detector.elapsed_ms)
            # The detector asks at a pause (semantic_vad: is the turn complete?) and after a
            # short sound while Mr. Blue speaks (was it words?); it waits for the answer (in
            # audio time), then goes on with the audio fed meanwhile.
            while (check := detector.asking) is not None:
                if isinstance(check, WordsCheck):
                    events += detector.heard(await self._interrupting(check))
                else:
                    events += detector.judged(*await self._judge(check))
                events += await asyncio.to_thread(detector.feed, b"")
        for event in events:
            if isinstance(event, TurnCheck | WordsCheck):
                continue
            if isinstance(event, SpeechStarted):
                await self._speech_started(event.audio_start_ms, settings)
            elif isinstance(event, PauseBegan):
                self._pause_began(event.audio_end_ms)
            else:
                await self._speech_stopped(event.audio_end_ms, settings)
        self._partial_due()
        if not detector.speaking:
            # Keep a sound that may yet become a turn (a short "Stop." waits for its words).
            padding = settings.get("prefix_padding_ms", 300) + DETECTION_SLACK_MS
            self.session.trim_input_audio(padding + detector.held_ms)

    def _assistant_speaking(self) -> bool:
        """Mr. Blue is answering (or its voice still plays): a barge-in needs real speech."""
        playout = self.connection.playout
        return self.session.active_response_id is not None or bool(playout and playout.busy)

    async def _judge(self, check: TurnCheck) -> tuple[float | None, bool]:
        """Is the turn complete at this pause? The end-of-turn model's probability (None if it
        failed: the detector then falls back to a fixed silence), and whether the words heard
        up to the pause stop midway. Both are waited for: the answer needs that transcript
        anyway, so reading it costs the turn's answer no time."""
        started = time.monotonic()
        words = asyncio.ensure_future(self._words_at(check.audio_end_ms))
        try:
            probability = await self.speech.judge_turn(check.pcm16k, session=self.connection)
        except Exception:
            logger.exception("%s: the end-of-turn model failed", self.connection.label)
            probability = None
        stops_midway = unfinished(await words)
        if probability is not None:
            self.judgements.append((probability, time.monotonic() - started))
        logger.debug(
            "%s end of turn at %d ms: %s, words stop midway: %s",
            self.connection.label,
            check.audio_end_ms,
            probability,
            stops_midway,
        )
        return probability, stops_midway

    async def _words_at(self, audio_end_ms: int) -> str | None:
        """The transcript of the recognition started when this pause began, once it is done
        (None without one: no early recognition, or one for another pause)."""
        early = self._early
        if early is None or early.task is None or early.audio_end_ms != audio_end_ms:
            return None
        if early.item_id != self._speech_item:
            return None
        await asyncio.wait({early.task})  # not cancelled with us: the transcript still uses it
        if early.task.cancelled() or early.task.exception() is not None:
            return None
        return early.task.result()

    async def _interrupting(self, check: WordsCheck) -> bool:
        """Whether a short sound heard while Mr. Blue speaks was words asking it to stop
        (recognised now; a failed or refused recognition is no interruption)."""
        try:
            text, logprob = await self.speech.hear_interjection(
                check.pcm16k,
                self.session.transcription.get("language"),
                session=self.connection,
            )
        except QueueFull:
            return False  # too much speech waits already: not a question worth a queue
        except Exception:
            logger.exception("%s: recognising a short sound failed", self.connection.label)
            return False
        stops = interrupts(text, check.speech_ms / 1000, logprob)
        logger.debug(
            "%s: a short sound while speaking (%.2f): interrupts %s",
            self.connection.label,
            logprob,
            stops,
        )
        return stops

    def _turn_detector(self, settings: dict) -> TurnDetector:
        if self._detector is None:
            self._detector = TurnDetector(settings, judging=self.speech.can_judge_turns())
        elif settings != self._detector_config:
            self._detector.configure(settings)
        self._detector_config = settings
        return self._detector

    async def _speech_started(self, audio_start_ms: int, settings: dict) -> None:
        self.cancel_idle_timer()
        step = self.session.speech_started(audio_start_ms)
        assert step.item_id is not None  # the item the speech will become
        self._speech_item = step.item_id
        self._words.begin(step.item_id)
        self._drop_early()
        self._heard_from_ms = self._heard_ms
        await self.connection.carry_out(step)
        if settings.get("interrupt_response", True):
            await self.clear_playout()
            await self.connection.cancel_response("turn_detected")

    # --- recognition during the speech: early transcripts and partial words -----------------

    @property
    def _heard_ms(self) -> float:
        """How much audio turn detection has heard (none before the first)."""
        return self._detector.elapsed_ms if self._detector is not None else 0.0

    def _pause_began(self, audio_end_ms: int) -> None:
        # Recognise what was said so far at once, while the silence runs on: if the pause ends
        # the turn, its transcript is ready (almost) as soon as speech_stopped; if the person
        # goes on, it still shows their words forming.
        if self._overlap:
            self._hear_so_far(audio_end_ms, URGENT)

    def _partial_due(self) -> None:
        """Long speech without a pause: recognise it so far now and then (background work)."""
        every = engine_settings.STT_PARTIAL_MS
        detector = self._detector
        if not (self._overlap and every and detector is not None and detector.speaking):
            return
        if detector.elapsed_ms - self._heard_from_ms >= every:
            self._hear_so_far(detector.elapsed_ms, BACKGROUND)

    def _hear_so_far(self, audio_end_ms: float, priority: int) -> None:
        if self.session.input_format != "audio/pcm" or self._speech_item is None:
            return
        self._heard_from_ms = self._heard_ms
        if priority == URGENT:
            self._drop_early()  # a newer pause: the older one, if still waiting, is of no use
        hearing = Hearing(self._speech_item, audio_end_ms)
        hearing.task = asyncio.ensure_future(
            self._recognize_so_far(hearing, bytes(self.session.input_audio), priority)
        )
        # A dropped recognition's failure is of no interest: mark it seen.
        hearing.task.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._hearings.add(hearing.task)  # the loop keeps only a weak reference
        hearing.task.add_done_callback(self._hearings.discard)
        if priority == URGENT:
            self._early = hearing

    async def _recognize_so_far(self, hearing: "Hearing", pcm24: bytes, priority: int):
        text = await self._recognize(
            pcm24, priority=priority, started=hearing.began, keep=hearing.kept
        )
        if text is SUPERSEDED:
            return None
        delta = self._words.hypothesis(hearing.item_id, text, hearing.audio_end_ms)
        if delta:
            await self.connection.carry_out(self.session.partial_transcript(hearing.item_id, delta))
        return text

    def input_reset(self) -> None:
        """The client cleared or committed the input buffer: what was recognised of it so
        far is no one's transcript (the speech, if it goes on, is heard afresh)."""
        self._drop_early()
        self._heard_from_ms = self._heard_ms

    def _drop_early(self) -> None:
        if self._early is not None:
            if self._early.started is None and self._early.task is not None:
                self._early.task.cancel()  # not started: free the recognition thread
            self._early = None

    def _early_recognition(self, item_id: str, audio_end_ms: int) -> "Hearing | None":
        """The recognition started at the pause that turned out to end the turn, if any: of
        this utterance, up to where it ended (an earlier pause's would be a stale one)."""
        early, self._early = self._early, None
        if early is None or early.item_id != item_id or early.audio_end_ms != audio_end_ms:
            if early is not None and early.started is None and early.task is not None:
                early.task.cancel()
            return None
        return early

    async def _speech_stopped(self, audio_end_ms: int, settings: dict) -> None:
        assert self._speech_item is not None  # speech stops only after it started
        self._last_speech_end_ms = audio_end_ms
        # Live audio arrives in real time: the speech ended as much earlier than the audio
        # heard so far arrived as the detector has heard audio since.
        heard_at, heard_ms = self._heard_clock or (time.monotonic(), self._heard_ms)
        self.timer.start((heard_ms - audio_end_ms) / 1000, heard_at=heard_at)
        step = self.session.speech_stopped(audio_end_ms, self._speech_item)
        await self.connection.carry_out(step)
        assert step.committed_item is not None  # speech_stopped commits the speech
        self.transcribe_later(
            step.committed_item,
            respond=settings.get("create_response", True),
            early=self._early_recognition(self._speech_item, audio_end_ms),
        )

    # --- transcription ------------------------------------------------------------------------

    def transcribe_later(self, item: dict, respond: bool, early=None) -> None:
        """Transcribe a committed audio item in the background (or finish the recognition
        `early` started on the same speech), then maybe respond."""
        task = self.connection.background(self._transcribe(item, respond, early), "a transcript")
        self._transcriptions.add(task)
        task.add_done_callback(self._transcriptions.discard)

    @property
    def _overlap(self) -> bool:
        return engine_settings.STT_EARLY

    async def _recognize(self, pcm24: bytes, priority=URGENT, started=None, keep=None):
        config = self.session.transcription
        pcm16k = await asyncio.to_thread(Resampler(SPEECH_RATE).pcm, pcm24, PROTOCOL_RATE)
        return await self.speech.transcribe(
            pcm16k,
            config.get("language"),
            config.get("prompt"),
            tool_hotwords(self.session.config.get("tools")),
            session=self.connection,
            priority=priority,
            started=started,
            keep=keep,
        )

    async def _transcribe(self, item: dict, respond: bool, early=None) -> None:
        if self.session.input_format != "audio/pcm":
            await self._transcription_failed(
                item, "G.711 input is not transcribed by this engine; send audio/pcm."
            )
            return
        pcm24 = audio_payload(item)
        hearing = early or Hearing(item["id"], ms_of(pcm24, PROTOCOL_RATE))
        try:
            text = await early.task if early else None
            if text is None:  # no early recognition (or it was dropped): now, then
                text = await self._recognize(pcm24, started=hearing.began, keep=hearing.kept)
        except QueueFull as full:
            await self._transcription_failed(item, f"Too much speech waits: {full}.")
            await self.connection.report_error(
                "speech_queue_full",
                "This session has too much audio waiting for recognition; commit less often.",
            )
            return
        except Exception:
            logger.exception("%s: transcription failed", self.connection.label)
            await self._transcription_failed(item, "Speech recognition failed.")
            return
        self.timer.mark("transcript", again=True)
        self._keep_scorer(item["id"], hearing.kept.get("scorer"))
        if hearing.started is not None:
            self.timer.mark("recognition_start", at=hearing.started)
        seconds = ms_of(pcm24, PROTOCOL_RATE) / 1000  # the item's audio, trailing silence too
        _sent, delta = self._words.final(item["id"], text)
        await self.connection.carry_out(
            self.session.transcribed(item["id"], text, seconds, respond=respond, delta=delta)
        )

    def _keep_scorer(self, item_id: str, scorer) -> None:
        """Keep the scorer of an item's audio (only the latest few: each holds its encoding)."""
        if scorer is None:
            return
        self.scorers[item_id] = scorer
        for old in list(self.scorers)[:-KEPT_SCORERS]:
            del self.scorers[old]

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

    def shutdown(self) -> None:
        """Stop timers and background transcriptions."""
        self.cancel_idle_timer()
        self._early = None
        for task in [*self._transcriptions, *self._hearings]:
            task.cancel()
