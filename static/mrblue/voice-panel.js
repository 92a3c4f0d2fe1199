// The voice panel in the editor's AI tab: start and end the call, show both sides as live
// text, the microphone level and Mr. Blue speaking; type messages; reconnect when dropped.

import { describeCall, runCall } from "../editor/page-tools.js";
import { Conversation } from "./conversation.js";
import { ApiError, instructionsFor, mintSession } from "./session.js";
import { TranscriptLog } from "./transcript-log.js";
import { connectWebRTC, connectWebSocket, openMicrophone, TransportError, websocketUrl }
  from "./transport.js";

const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];
const MIN_TALK_MS = 300; // a shorter press is a slip, not a turn
const STATUS = {
  idle: "Ready to help",
  connecting: "Connecting…",
  live: "Live Voice Chat",
  liveText: "Live Text Chat",
  reconnecting: "Reconnecting…",
};

export class VoicePanel {
  constructor(root, { page }) {
    this.root = root;
    this.page = page;
    this.selected = null;
    this.state = "idle";
    this.conversation = new Conversation();
    this.transport = null;
    this.microphone = null;
    this.meter = null;
    this.shownErrors = 0;
    this.pendingResponse = false; // a response.create waiting for the current response to end
    this.log = null; // the transcript log of the current conversation
    this.turnStarted = null; // when the person stopped speaking (for time-to-answer)
    this.talkingSince = null; // push-to-talk: when the button was pressed
    this.historyStale = false; // a call ended: list it once it is saved
    this.el = (id) => root.querySelector(`[data-testid="${id}"]`);
    this.bind();
    this.render();
    // Resend what earlier conversations left unacknowledged (e.g. before a reload).
    this.resumed = TranscriptLog.resumeAll((...status) => this.showSaved(...status));
  }

  bind() {
    this.el("button-start-voice-chat").addEventListener("click", () => this.start());
    this.el("button-stop-voice-chat").addEventListener("click", () => this.end());
    this.el("button-mute").addEventListener("click", () => this.toggleMute());
    this.el("button-stop-speaking").addEventListener("click", () => this.stopSpeaking());
    this.bindPushToTalk(this.el("button-push-to-talk"));
    this.el("form-message").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = this.el("input-message");
      if (input.value.trim()) this.sendText(input.value.trim());
      input.value = "";
    });
    document.addEventListener("editor:selection", (event) => this.select(event.detail));
    window.addEventListener("pagehide", () => this.end());
  }

  /** Hold the button (pointer, Space or Enter) to talk; let go to send the turn. */
  bindPushToTalk(button) {
    const isTalkKey = (event) => event.key === " " || event.key === "Enter";
    button.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      this.startTalking();
    });
    for (const type of ["pointerup", "pointerleave", "pointercancel", "blur"]) {
      button.addEventListener(type, () => this.stopTalking());
    }
    button.addEventListener("keydown", (event) => {
      if (!isTalkKey(event)) return;
      event.preventDefault();
      if (!event.repeat) this.startTalking();
    });
    button.addEventListener("keyup", (event) => {
      if (isTalkKey(event)) this.stopTalking();
    });
  }

  get textOnly() {
    return this.el("toggle-text-only").checked;
  }

  // --- the call ------------------------------------------------------------------------

  async start() {
    if (this.state !== "idle") return;
    this.showError("");
    this.setState("connecting");
    try {
      await this.connect();
      this.setState("live");
    } catch (error) {
      this.teardown();
      this.setState("idle");
      this.showError(error.message);
    }
  }

  async connect() {
    if (!this.textOnly && !this.microphone) {
      this.microphone = await openMicrophone();
      this.meter = levelMeter(this.microphone, (level) => this.showLevel(level));
    }
    let lastError;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const secret = await mintSession(this.page, this.selected);
      try {
        this.transport = await this.open(secret);
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
      } catch (error) {
        lastError = error;
        if (!(error instanceof TransportError) || error.code !== "secret_expired") throw error;
        // The secret expired before we used it: mint a fresh one, once, without a word.
      }
    }
    throw lastError;
  }

  open(secret) {
    const handlers = {
      onEvent: (event) => this.onEvent(event),
      onStateChange: (state) => this.onConnectionState(state),
    };
    if (this.textOnly) {
      return connectWebSocket({ secret: secret.value,
                                url: websocketUrl(secret.calls_url, secret.model), ...handlers });
    }
    return connectWebRTC({ secret: secret.value, callsUrl: secret.calls_url,
                           microphone: this.microphone,
                           audioElement: this.el("audio-remote"), ...handlers });
  }

  end() {
    if (this.state === "idle") return;
    this.historyStale = true;
    this.endLog();
    this.teardown();
    this.setState("idle");
  }

  // --- the transcript log ------------------------------------------------------------

  startLog(secret) {
    if (this.log && this.log.key.endsWith(`-${secret.conversation_id}`)) return;
    this.endLog(); // a reconnect starts a new provider session: close the old one's log
    this.log = new TranscriptLog(secret.conversation_id, secret.transcript_ws,
                                 (...status) => this.showSaved(...status));
    this.loggedUpTo = 0;
  }

  endLog() {
    if (!this.log) return;
    const messages = this.conversation.list();
    for (const message of this.conversation.endCall()) {
      this.log.transcript(message, messages.indexOf(message));
    }
    this.log.push({ type: "end" });
    this.log = null;
  }

  logEvent(event) {
    if (!this.log) return;
    this.conversation.list().forEach((message, index) => this.log.transcript(message, index));
    if (event.type === "response.done" && event.response?.usage) {
      this.log.push({ type: "usage", response_id: event.response.id || "",
                      usage: event.response.usage });
    }
    if (event.type === "input_audio_buffer.speech_stopped") this.turnStarted = performance.now();
    const answered = ["output_audio_buffer.started", "response.output_text.delta"];
    if (this.turnStarted !== null && answered.includes(event.type)) {
      this.log.push({ type: "metric", name: "time_to_answer",
                      value_ms: Math.round(performance.now() - this.turnStarted) });
      this.turnStarted = null;
    }
  }

  showSaved(saved, problem) {
    const status = this.el("text-log-status");
    status.textContent = (saved ? "Conversation saved" : "Saving conversation…")
      + (problem ? ` (${problem})` : "");
    status.hidden = false;
    if (saved && this.state === "idle" && this.historyStale) this.refreshHistory();
  }

  /** Reload the list of this page's conversations, once the last call is stored. */
  async refreshHistory() {
    this.historyStale = false;
    const list = document.querySelector("[data-testid='list-conversations']");
    if (!list) return;
    // Offline or logged out (redirected to the login page), the next page load lists it.
    const answer = await fetch(list.dataset.url).catch(() => null);
    if (answer?.ok && !answer.redirected) list.innerHTML = await answer.text();
  }

  teardown() {
    const transport = this.transport;
    this.transport = null;
    if (transport) transport.close();
    if (this.meter) this.meter.stop();
    this.meter = null;
    if (this.microphone) this.microphone.getTracks().forEach((track) => track.stop());
    this.microphone = null;
    this.conversation.assistantSpeaking = false;
    this.conversation.responding = false;
    this.talkingSince = null;
    clearTimeout(this.retryTimer);
  }

  onConnectionState(state) {
    if (this.state !== "live" || !["failed", "closed", "disconnected"].includes(state)) return;
    this.reconnect(0);
  }

  reconnect(attempt) {
    if (this.transport) this.transport.close();
    this.transport = null;
    this.setState("reconnecting");
    if (attempt >= BACKOFF_MS.length) {
      this.teardown();
      this.setState("idle");
      this.showError("The connection to Mr. Blue was lost. Start the chat again when you're back online.");
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

  // --- talking ---------------------------------------------------------------------------

  onEvent(event) {
    this.conversation.handle(event);
    this.logEvent(event);
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
    this.render();
  }

  /** Run a page tool the model called, say so meanwhile, and hand back its output. */
  async runTool(call) {
    this.showToolStatus(describeCall(call));
    const output = await runCall(call);
    this.showToolStatus("");
    this.log?.push({ type: "tool_call", call_id: call.callId, name: call.name,
                     arguments: call.arguments, output: JSON.stringify(output) });
    if (!this.transport) return;
    this.transport.send({ type: "conversation.item.create", item: {
      type: "function_call_output", call_id: call.callId, output: JSON.stringify(output) } });
    // Only one response at a time: ask for the next once the one that called has ended.
    if (this.conversation.responding) this.pendingResponse = true;
    else this.transport.send({ type: "response.create" });
  }

  showToolStatus(text) {
    const status = this.el("text-tool-status");
    status.textContent = text;
    status.hidden = !text;
  }

  sendText(text) {
    if (!this.transport) {
      this.showError("Start the chat first, then type your message.");
      return;
    }
    if (this.conversation.responding) this.stopSpeaking();
    this.transport.send({ type: "conversation.item.create", item: {
      type: "message", role: "user", content: [{ type: "input_text", text }] } });
    this.transport.send({ type: "response.create" });
  }

  // Push-to-talk, as the Realtime API has it: the turn is what the microphone heard between
  // `input_audio_buffer.clear` and `input_audio_buffer.commit`.
  startTalking() {
    if (!this.transport || this.talkingSince !== null) return;
    this.talkingSince = performance.now();
    this.stopSpeaking();
    this.transport.send({ type: "input_audio_buffer.clear" });
    this.render();
  }

  stopTalking() {
    if (this.talkingSince === null) return;
    const held = performance.now() - this.talkingSince;
    this.talkingSince = null;
    if (this.transport && held >= MIN_TALK_MS) {
      this.transport.send({ type: "input_audio_buffer.commit" });
      this.transport.send({ type: "response.create" });
      this.turnStarted = performance.now();
    } else {
      this.transport?.send({ type: "input_audio_buffer.clear" });
    }
    this.render();
  }

  stopSpeaking() {
    if (!this.transport) return;
    if (this.conversation.responding) this.transport.send({ type: "response.cancel" });
    if (this.transport.kind === "webrtc") this.transport.send({ type: "output_audio_buffer.clear" });
  }

  toggleMute() {
    if (!this.microphone) return;
    const track = this.microphone.getAudioTracks()[0];
    track.enabled = !track.enabled;
    this.render();
  }

  async select(detail) {
    this.selected = detail ? detail.blockId : null;
    if (!this.transport) return;
    try {
      const instructions = await instructionsFor(this.page, this.selected);
      this.transport?.send({ type: "session.update", session: { type: "realtime", instructions } });
    } catch (error) {
      if (error instanceof ApiError) this.showError(error.message);
    }
  }

  // --- showing it ----------------------------------------------------------------------

  setState(state) {
    this.state = state;
    this.render();
  }

  showError(text) {
    const box = this.el("text-voice-error");
    box.textContent = text;
    box.hidden = !text;
  }

  showLevel(level) {
    this.el("meter-level").style.width = `${Math.min(100, Math.round(level * 400))}%`;
  }

  render() {
    const live = this.state === "live";
    const busy = this.state !== "idle";
    let status = STATUS[this.state];
    if (live && this.transport?.kind === "websocket") status = STATUS.liveText;
    this.el("text-voice-status").textContent = status;
    this.root.dataset.state = this.state;
    this.el("button-start-voice-chat").hidden = busy;
    this.el("button-stop-voice-chat").hidden = !busy;
    this.el("toggle-text-only").disabled = busy;
    const track = this.microphone?.getAudioTracks()[0];
    const muted = track ? !track.enabled : false;
    this.el("button-mute").hidden = !live || !this.microphone;
    this.el("button-mute").setAttribute("aria-pressed", String(muted));
    this.el("button-mute").textContent = muted ? "Unmute" : "Mute";
    const pushToTalk = live && this.transport?.kind === "webrtc" && this.conversation.pushToTalk;
    const talking = this.talkingSince !== null;
    const talk = this.el("button-push-to-talk");
    talk.hidden = !pushToTalk;
    talk.setAttribute("aria-pressed", String(talking));
    talk.textContent = talking ? "Release to send" : "Hold to talk";
    const hearing = pushToTalk ? talking : true;
    this.el("indicator-listening").hidden = !live || !this.microphone || muted || !hearing;
    const speaking = this.conversation.assistantSpeaking ||
      (this.transport?.kind === "websocket" && this.conversation.responding);
    this.el("indicator-speaking").hidden = !live || !speaking;
    this.el("button-stop-speaking").hidden = !live || !(speaking || this.conversation.responding);
    this.el("input-message").disabled = !live;
    this.el("button-send-message").disabled = !live;
    this.renderMessages();
    while (this.shownErrors < this.conversation.errors.length) {
      this.showError(this.conversation.errors[this.shownErrors]);
      this.shownErrors += 1;
    }
  }

  renderMessages() {
    const list = this.el("list-messages");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    const messages = this.conversation.list().filter((m) => m.text || !m.final);
    list.replaceChildren(...messages.map((message) => {
      const li = document.createElement("li");
      li.className = `message message-${message.role}`;
      li.dataset.testid = `message-${message.role}`;
      li.dataset.itemId = message.id;
      li.dataset.interrupted = String(message.interrupted);
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = message.role === "user" ? "You" : "Mr. Blue";
      const text = document.createElement("p");
      text.textContent = message.text || "…";
      li.append(who, text);
      if (message.interrupted) {
        const mark = document.createElement("span");
        mark.className = "interrupted";
        mark.textContent = "(interrupted)";
        li.append(mark);
      }
      return li;
    }));
    if (atBottom) list.scrollTop = list.scrollHeight;
  }
}

/** Calls `report(level)` ~20 times a second with the stream's peak level (0..1). */
function levelMeter(stream, report) {
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  context.createMediaStreamSource(stream).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    let peak = 0;
    for (const value of samples) peak = Math.max(peak, Math.abs(value));
    report(peak);
  }, 50);
  return { stop: () => { clearInterval(timer); context.close(); } };
}

const root = document.querySelector("[data-testid='voice-panel']");
if (root) window.mrblueVoice = new VoicePanel(root, { page: root.dataset.page });
