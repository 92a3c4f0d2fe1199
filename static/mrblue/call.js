// A call with Mr. Blue, without the DOM: start, connect, go live, end; reconnect when
// dropped; log the conversation; run the page tools the model calls; push-to-talk. The view
// (voice-panel.js) renders what the call reports through its callbacks and forwards the
// person's actions; the network is reached through `network`, which tests replace.

import { Conversation } from "./conversation.js";
import { ApiError, instructionsFor, mintSession } from "./session.js";
import { TranscriptLog } from "./transcript-log.js";
import { connectWebRTC, connectWebSocket, openMicrophone, TransportError, websocketUrl }
  from "./transport.js";

export const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];
export const MIN_TALK_MS = 300; // a shorter press is a slip, not a turn
const DROPPED = ["failed", "closed", "disconnected"];
const LOST = "The connection to Mr. Blue was lost. Start the chat again when you're back online.";
const NOT_STARTED = "Start the chat first, then type your message.";

/** What the call uses of the outside world; tests pass fakes of the same shape. */
export const NETWORK = {
  mintSession, instructionsFor, openMicrophone, connectWebRTC, connectWebSocket, websocketUrl,
  TranscriptLog,
};

/** The view's callbacks; each is optional. */
const SILENT_VIEW = {
  onChange: (shown) => {}, // what is shown changed: `shown` is `call.shown`
  onError: (text) => {}, // an error in words ("" clears it)
  onToolStatus: (text) => {}, // what a running page tool does ("" when done)
  onLogStatus: (saved, problem) => {}, // the log is saved or still sending; what it dropped
  onMicrophone: (stream) => {}, // the microphone opened (a MediaStream) or closed (null)
  onSaved: () => {}, // the call that just ended is stored: its listing can be reloaded
};

// What the panel can time itself (OpenAI sends no timings): the event that marks each stage.
const TIMED_STAGES = {
  "conversation.item.input_audio_transcription.completed": "transcript",
  "response.output_audio_transcript.delta": "first_output",
  "response.output_text.delta": "first_output",
  "output_audio_buffer.started": "first_audio", // WebRTC
  "response.output_audio.delta": "first_audio", // WebSocket
};
const ENGINE_STAGES = ["speech_stopped", "transcript", "first_output", "first_audio"];
// The engine's decisions that ask the person to confirm a guess (`mrblue_decision.outcome`).
const GUESSED = ["ask", "read_back"];

/** The built-in engine's turn timings from `response.metadata` (`mrblue_<stage>_ms`, as
 * strings), as whole milliseconds; the stages it did not send are left out. */
export function engineStages(metadata) {
  const stages = {};
  for (const stage of ENGINE_STAGES) {
    const value = Number(metadata?.[`mrblue_${stage}_ms`]);
    if (Number.isInteger(value) && value >= 0) stages[stage] = value;
  }
  return stages;
}

/** How the built-in engine's brain read the request a `response.done` answers
 * (`response.metadata.mrblue_decision`, JSON), or null. */
export function engineDecision(event) {
  if (event.type !== "response.done") return null;
  const text = event.response?.metadata?.mrblue_decision;
  if (typeof text !== "string") return null;
  try {
    const decision = JSON.parse(text);
    return decision && typeof decision === "object" && !Array.isArray(decision) ? decision : null;
  } catch {
    return null;
  }
}

export class Call {
  /**
   * `page`: the page's slug; `tools`: the editor's page tools (`describeCall`, `runCall`);
   * `audioOutput`: the element WebRTC plays Mr. Blue's voice in; `view`: the callbacks above;
   * `network` and `now` (milliseconds) stand in for the outside world in tests.
   */
  constructor({ page, tools, audioOutput = null, view = {}, network = NETWORK,
                now = () => performance.now() }) {
    this.page = page;
    this.tools = tools;
    this.audioOutput = audioOutput;
    this.view = { ...SILENT_VIEW, ...view };
    this.network = network;
    this.now = now;
    this.state = "idle"; // idle, connecting, live, reconnecting
    this.textOnly = false;
    this.selected = null;
    this.conversation = new Conversation();
    this.transport = null;
    this.microphone = null;
    this.log = null; // the transcript log of the current provider session
    this.logId = null; // ...and its conversation id
    this.shownErrors = 0; // conversation errors already reported
    this.pendingResponse = false; // a response.create waiting for the current response to end
    this.guess = null; // what the engine's brain guessed it heard, asking to confirm: { sentence }
    this.turnStarted = null; // when the person stopped speaking (for time-to-answer)
    this.turn = null; // this turn's stages as the panel measured them: { start, stages }
    this.talkingSince = null; // push-to-talk: when the button was pressed
    this.historyStale = false; // a call ended: report it once it is saved
    this.retryTimer = null;
  }

  /** What the view shows, as plain values. */
  get shown() {
    const live = this.state === "live";
    const kind = this.transport?.kind ?? null;
    const { assistantSpeaking, responding } = this.conversation;
    const track = this.microphone?.getAudioTracks()[0];
    const muted = track ? !track.enabled : false;
    const microphone = Boolean(this.microphone);
    const pushToTalk = live && kind === "webrtc" && this.conversation.pushToTalk;
    const talking = this.talkingSince !== null;
    const speaking = live && (assistantSpeaking || (kind === "websocket" && responding));
    return {
      state: this.state,
      kind,
      microphone,
      muted,
      pushToTalk,
      talking,
      listening: live && microphone && !muted && (pushToTalk ? talking : true),
      speaking,
      canStopSpeaking: live && (speaking || responding),
      messages: this.conversation.list().filter((m) => m.text || !m.final),
      guess: live ? this.guess : null,
    };
  }

  // --- the call ------------------------------------------------------------------------

  /** Start a call: voice over WebRTC, or `textOnly` over a WebSocket. */
  async start({ textOnly = false } = {}) {
    if (this.state !== "idle") return;
    this.textOnly = textOnly;
    this.view.onError("");
    this.setState("connecting");
    try {
      await this.connect();
      this.setState("live");
    } catch (error) {
      this.teardown();
      this.setState("idle");
      this.view.onError(error.message);
    }
  }

  async connect() {
    if (!this.textOnly && !this.microphone) {
      this.microphone = await this.network.openMicrophone();
      this.view.onMicrophone(this.microphone);
    }
    // A reconnect continues the conversation being logged: the new session's words join the
    // same log, and what is replayed to it is not logged again in a new conversation.
    const continued = this.state === "reconnecting" ? this.logId : null;
    for (let attempt = 0; ; attempt += 1) {
      const secret = await this.network.mintSession(this.page, this.selected, continued);
      try {
        this.transport = await this.open(secret);
      } catch (error) {
        // The secret expired before we used it: mint a fresh one, once, without a word.
        const expired = error instanceof TransportError && error.code === "secret_expired";
        if (expired && attempt === 0) continue;
        throw error;
      }
      this.startLog(secret);
      if (this.state === "reconnecting") {
        // A new provider session knows nothing yet: tell it what was said.
        this.conversation.replayEvents().forEach((event) => this.transport.send(event));
      }
      if (this.transport.kind === "websocket") {
        this.transport.send({ type: "session.update",
                              session: { type: "realtime", output_modalities: ["text"] } });
      }
      return;
    }
  }

  open(secret) {
    const handlers = {
      onEvent: (event) => this.onEvent(event),
      onStateChange: (state) => this.onConnectionState(state),
    };
    if (this.textOnly) {
      const url = this.network.websocketUrl(secret.calls_url, secret.model);
      return this.network.connectWebSocket({ secret: secret.value, url, ...handlers });
    }
    return this.network.connectWebRTC({ secret: secret.value, callsUrl: secret.calls_url,
                                        microphone: this.microphone,
                                        audioElement: this.audioOutput, ...handlers });
  }

  /** Hang up (the conversation stays on screen and is logged to its end). */
  end() {
    if (this.state === "idle") return;
    this.historyStale = true;
    this.endLog();
    this.teardown();
    this.setState("idle");
  }

  teardown() {
    const transport = this.transport;
    this.transport = null;
    if (transport) transport.close();
    if (this.microphone) {
      this.microphone.getTracks().forEach((track) => track.stop());
      this.view.onMicrophone(null);
    }
    this.microphone = null;
    this.conversation.assistantSpeaking = false;
    this.conversation.responding = false;
    this.talkingSince = null;
    clearTimeout(this.retryTimer);
  }

  // --- reconnecting ----------------------------------------------------------------------

  onConnectionState(state) {
    if (this.state !== "live" || !DROPPED.includes(state)) return;
    this.reconnect(0);
  }

  /** Try again after `BACKOFF_MS[attempt]`; give up, in words, after the last. */
  reconnect(attempt) {
    if (this.transport) this.transport.close();
    this.transport = null;
    this.setState("reconnecting");
    if (attempt >= BACKOFF_MS.length) {
      this.teardown();
      this.setState("idle");
      this.view.onError(LOST);
      return;
    }
    this.retryTimer = setTimeout(async () => {
      if (this.state !== "reconnecting") return;
      try {
        await this.connect();
        this.setState("live");
      } catch {
        this.reconnect(attempt + 1);
      }
    }, BACKOFF_MS[attempt]);
  }

  // --- the transcript log ------------------------------------------------------------

  startLog(secret) {
    if (this.log && this.logId === secret.conversation_id) return;
    this.endLog(); // a new conversation: close the old one's log
    this.logId = secret.conversation_id;
    this.log = new this.network.TranscriptLog(secret.conversation_id, secret.transcript_ws,
                                              (saved, problem) => this.logStatus(saved, problem));
  }

  endLog() {
    if (!this.log) return;
    const messages = this.conversation.list();
    for (const message of this.conversation.endCall()) {
      this.log.transcript(message, messages.indexOf(message));
    }
    this.log.push({ type: "end" });
    this.log = null;
    this.logId = null;
  }

  /** Log what an event changed: the words (once final), usage, and the time to answer. */
  logEvent(event) {
    if (!this.log) return;
    this.conversation.list().forEach((message, index) => this.log.transcript(message, index));
    if (event.type === "response.done" && event.response?.usage) {
      this.log.push({ type: "usage", response_id: event.response.id || "",
                      usage: event.response.usage });
    }
    const decision = engineDecision(event);
    if (decision) {
      this.log.push({ type: "decision", response_id: event.response.id || "", decision });
    }
    if (event.type === "input_audio_buffer.speech_stopped") this.turnStarted = this.now();
    this.timeTurn(event);
    const answered = ["output_audio_buffer.started", "response.output_text.delta"];
    if (this.turnStarted !== null && answered.includes(event.type)) {
      this.log.push({ type: "metric", name: "time_to_answer",
                      value_ms: Math.round(this.now() - this.turnStarted) });
      this.turnStarted = null;
    }
  }

  /** Log each spoken turn's stages once, at its first response.done: the engine's own
   * (`response.metadata`, ms after the end of speech) or else the panel's, measured from
   * `speech_stopped` (or the push-to-talk commit). */
  timeTurn(event) {
    if (event.type === "input_audio_buffer.speech_stopped") this.turn = { start: this.now(), stages: {} };
    if (!this.turn) return;
    const stage = TIMED_STAGES[event.type];
    if (stage && !(stage in this.turn.stages)) {
      this.turn.stages[stage] = Math.round(this.now() - this.turn.start);
    }
    if (event.type !== "response.done") return;
    const engine = engineStages(event.response?.metadata);
    const stages = Object.keys(engine).length ? engine : this.turn.stages;
    if (Object.keys(stages).length) {
      this.log.push({ type: "timing", response_id: event.response?.id || "",
                      source: stages === engine ? "engine" : "panel", stages });
    }
    this.turn = null;
  }

  /** Resend what earlier conversations left unacknowledged (e.g. before a reload). */
  resumeLogs() {
    this.network.TranscriptLog.resumeAll((saved, problem) => this.logStatus(saved, problem));
  }

  logStatus(saved, problem) {
    this.view.onLogStatus(saved, problem);
    if (saved && this.state === "idle" && this.historyStale) {
      this.historyStale = false;
      this.view.onSaved();
    }
  }

  // --- talking ---------------------------------------------------------------------------

  onEvent(event) {
    this.conversation.handle(event);
    this.logEvent(event);
    this.noteGuess(event);
    if (event.type === "conversation.item.truncated") {
      // Ask what was actually heard, to show the answer cut where the person cut it.
      this.transport?.send({ type: "conversation.item.retrieve", item_id: event.item_id });
    }
    if (event.type === "response.function_call_arguments.done") {
      this.runTool(this.conversation.toolCalls.shift());
    }
    if (event.type === "response.done" && this.pendingResponse) {
      this.pendingResponse = false;
      this.transport?.send({ type: "response.create" });
    }
    this.changed();
  }

  /** Run a page tool the model called, say so meanwhile, and hand back its output. */
  async runTool(call) {
    this.view.onToolStatus(this.tools.describeCall(call));
    const output = JSON.stringify(await this.tools.runCall(call));
    this.view.onToolStatus("");
    this.log?.push({ type: "tool_call", call_id: call.callId, name: call.name,
                     arguments: call.arguments, output });
    if (!this.transport) return;
    this.transport.send({ type: "conversation.item.create",
                          item: { type: "function_call_output", call_id: call.callId, output } });
    // Only one response at a time: ask for the next once the one that called has ended.
    if (this.conversation.responding) this.pendingResponse = true;
    else this.transport.send({ type: "response.create" });
  }

  /** Show what the engine's brain asks to confirm ("Did you mean: ...?") until the person
   * answers it, by voice, typing, or the guess's buttons. */
  noteGuess(event) {
    const decision = engineDecision(event);
    if (decision) {
      const asked = GUESSED.includes(decision.outcome) && typeof decision.chosen === "string";
      this.guess = asked ? { sentence: decision.chosen } : null;
    } else if (event.type === "input_audio_buffer.speech_started") {
      this.guess = null;
    }
  }

  /** Answer the guess shown: yes does what it says, no leaves the page alone. */
  answerGuess(yes) {
    if (!this.guess) return;
    this.sendText(yes ? "Yes." : "No.");
  }

  /** Send a typed message (cutting off an answer in progress) and ask for the reply. */
  sendText(text) {
    if (!this.transport) {
      this.view.onError(NOT_STARTED);
      return;
    }
    if (this.guess) {
      this.guess = null; // answered
      this.changed();
    }
    if (this.conversation.responding) this.stopSpeaking();
    this.transport.send({ type: "conversation.item.create", item: {
      type: "message", role: "user", content: [{ type: "input_text", text }] } });
    this.transport.send({ type: "response.create" });
  }

  // Push-to-talk, as the Realtime API has it: the turn is what the microphone heard between
  // `input_audio_buffer.clear` and `input_audio_buffer.commit`.

  /** The talk button was pressed. */
  startTalking() {
    if (!this.transport || this.talkingSince !== null) return;
    this.talkingSince = this.now();
    this.stopSpeaking();
    this.transport.send({ type: "input_audio_buffer.clear" });
    this.changed();
  }

  /** The talk button was let go: send the turn, unless the press was a slip. */
  stopTalking() {
    if (this.talkingSince === null) return;
    const held = this.now() - this.talkingSince;
    this.talkingSince = null;
    if (this.transport && held >= MIN_TALK_MS) {
      this.transport.send({ type: "input_audio_buffer.commit" });
      this.transport.send({ type: "response.create" });
      this.turnStarted = this.now();
      this.turn = { start: this.turnStarted, stages: {} };
    } else {
      this.transport?.send({ type: "input_audio_buffer.clear" });
    }
    this.changed();
  }

  /** Cut Mr. Blue off: cancel the answer and, over WebRTC, drop the audio queued to play. */
  stopSpeaking() {
    if (!this.transport) return;
    if (this.conversation.responding) this.transport.send({ type: "response.cancel" });
    if (this.transport.kind === "webrtc") this.transport.send({ type: "output_audio_buffer.clear" });
  }

  toggleMute() {
    if (!this.microphone) return;
    const track = this.microphone.getAudioTracks()[0];
    track.enabled = !track.enabled;
    this.changed();
  }

  /** A block was selected (or none, `null`): give the live session instructions for it. */
  async select(blockId) {
    this.selected = blockId;
    if (!this.transport) return;
    try {
      const instructions = await this.network.instructionsFor(this.page, this.selected);
      this.transport?.send({ type: "session.update", session: { type: "realtime", instructions } });
    } catch (error) {
      if (error instanceof ApiError) this.view.onError(error.message);
    }
  }

  // --- reporting ---------------------------------------------------------------------------

  setState(state) {
    this.state = state;
    this.changed();
  }

  changed() {
    this.view.onChange(this.shown);
    while (this.shownErrors < this.conversation.errors.length) {
      this.view.onError(this.conversation.errors[this.shownErrors]);
      this.shownErrors += 1;
    }
  }
}
