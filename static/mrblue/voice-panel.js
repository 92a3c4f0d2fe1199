// The voice panel, in the editor's AI tab and in the admin's console ("Try it here"): shows
// what the call (call.js) reports — its status, both sides as live text, the microphone level,
// Mr. Blue speaking — and forwards what the person does to it. The panel finds its elements by
// their `data-role` (templates/mrblue/voice_panel.html draws them).

import { describeCall, runCall } from "../editor/page-tools.js";
import { Call, NETWORK } from "./call.js";

const STATUS = {
  idle: "Ready to help",
  connecting: "Connecting…",
  live: "Live Voice Chat",
  liveText: "Live Text Chat",
  reconnecting: "Reconnecting…",
};

export class VoicePanel {
  /**
   * `page`: the page's slug (what the call mints for); `tools`: the page tools the call runs
   * (the editor's by default); `network`: the call's outside world (`NETWORK` by default; the
   * admin's console mints from its own endpoints); `onLogStatus(saved, problem)`: also told
   * how the conversation's log is doing; `onSaved()`: the call that ended is stored.
   */
  constructor(root, { page, tools = { describeCall, runCall }, network = NETWORK,
                      onLogStatus = () => {}, onSaved = refreshConversations }) {
    this.root = root;
    this.part = (role) => root.querySelector(`[data-role="${role}"]`);
    this.meter = null;
    this.call = new Call({
      page,
      tools,
      network,
      audioOutput: this.part("remote-audio"),
      view: {
        onChange: (shown) => this.render(shown),
        onError: (text) => this.show("error", text),
        onToolStatus: (text) => this.show("tool-status", text),
        onLogStatus: (saved, problem) => {
          this.show("log-status", (saved ? "Conversation saved" : "Saving conversation…")
            + (problem ? ` (${problem})` : ""));
          onLogStatus(saved, problem);
        },
        onMicrophone: (stream) => this.meterOn(stream),
        onSaved,
      },
    });
    this.bind();
    this.render(this.call.shown);
    this.call.resumeLogs();
  }

  bind() {
    const call = this.call;
    this.part("start").addEventListener("click",
      () => call.start({ textOnly: this.part("text-only").checked }));
    this.part("end").addEventListener("click", () => call.end());
    this.part("mute").addEventListener("click", () => call.toggleMute());
    this.part("stop-speaking").addEventListener("click", () => call.stopSpeaking());
    this.part("guess-yes").addEventListener("click", () => call.answerGuess(true));
    this.part("guess-no").addEventListener("click", () => call.answerGuess(false));
    this.bindPushToTalk(this.part("push-to-talk"));
    this.part("message-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = this.part("message-input");
      if (input.value.trim()) call.sendText(input.value.trim());
      input.value = "";
    });
    document.addEventListener("editor:selection",
      (event) => call.select(event.detail ? event.detail.blockId : null));
    window.addEventListener("pagehide", () => call.end());
  }

  /** Hold the button (pointer, Space or Enter) to talk; let go to send the turn. */
  bindPushToTalk(button) {
    const isTalkKey = (event) => event.key === " " || event.key === "Enter";
    button.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      this.call.startTalking();
    });
    for (const type of ["pointerup", "pointerleave", "pointercancel", "blur"]) {
      button.addEventListener(type, () => this.call.stopTalking());
    }
    button.addEventListener("keydown", (event) => {
      if (!isTalkKey(event)) return;
      event.preventDefault();
      if (!event.repeat) this.call.startTalking();
    });
    button.addEventListener("keyup", (event) => {
      if (isTalkKey(event)) this.call.stopTalking();
    });
  }

  /** Show `text` in the element of `role`, hidden when empty. */
  show(role, text) {
    const element = this.part(role);
    element.textContent = text;
    element.hidden = !text;
  }

  /** Show the microphone's level while it is open. */
  meterOn(stream) {
    if (this.meter) this.meter.stop();
    this.meter = stream ? levelMeter(stream, (level) => this.showLevel(level)) : null;
  }

  showLevel(level) {
    this.part("meter").style.width = `${Math.min(100, Math.round(level * 400))}%`;
  }

  render(shown) {
    const live = shown.state === "live";
    const busy = shown.state !== "idle";
    const textChat = live && shown.kind === "websocket";
    this.part("status").textContent = textChat ? STATUS.liveText : STATUS[shown.state];
    this.root.dataset.state = shown.state;
    this.part("start").hidden = busy;
    this.part("end").hidden = !busy;
    this.part("text-only").disabled = busy;
    const mute = this.part("mute");
    mute.hidden = !live || !shown.microphone;
    mute.setAttribute("aria-pressed", String(shown.muted));
    mute.textContent = shown.muted ? "Unmute" : "Mute";
    const talk = this.part("push-to-talk");
    talk.hidden = !shown.pushToTalk;
    talk.setAttribute("aria-pressed", String(shown.talking));
    talk.textContent = shown.talking ? "Release to send" : "Hold to talk";
    this.part("listening").hidden = !shown.listening;
    this.part("speaking").hidden = !shown.speaking;
    this.part("stop-speaking").hidden = !shown.canStopSpeaking;
    this.part("message-input").disabled = !live;
    this.part("send").disabled = !live;
    this.renderMessages(shown.messages);
    this.part("guess").hidden = !shown.guess;
    this.part("guess-text").textContent = shown.guess ? `Did you mean: ${shown.guess.sentence}?` : "";
  }

  renderMessages(messages) {
    const list = this.part("messages");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.replaceChildren(...messages.map((message) => {
      const li = document.createElement("li");
      // The person's words while they are still forming (partial transcripts), until the
      // final transcript replaces them.
      const forming = message.role === "user" && !message.final;
      li.className = `message message-${message.role}${forming ? " message-forming" : ""}`;
      li.dataset.final = String(message.final);
      li.dataset.testid = `message-${message.role}`; // for the browser tests only
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

/** Reload the list of this page's conversations (the last call is stored). */
async function refreshConversations() {
  const list = document.querySelector("[data-role='conversations']");
  if (!list) return;
  // Offline or logged out (redirected to the login page), the next page load lists it.
  const answer = await fetch(list.dataset.url).catch(() => null);
  if (answer?.ok && !answer.redirected) list.innerHTML = await answer.text();
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

// The editor's panel names its page; the admin's console mounts its own (admin-console.js).
const root = document.querySelector("[data-role='voice-panel'][data-page]");
// The call, for the browser tests and the console.
if (root) window.mrblueVoice = new VoicePanel(root, { page: root.dataset.page }).call;
