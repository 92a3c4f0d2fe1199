// Sends a conversation's log (transcripts, usage, tool calls, metrics, the end) to our server
// through a durable outbox: every message waits in localStorage until the server acknowledges
// its `seq`, and is resent after a reconnect or a page reload. The server stores each `seq`
// once, so resending is always safe.

const PREFIX = "mrblue-outbox-";
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000, 30000];
export const MAX_TOOL_TEXT = 16 * 1024; // a logged tool call's arguments and output, each
const MAX_TEXT = 20_000; // the server's limit for a transcript's text
const LIMITS = {
  tool_call: { arguments: MAX_TOOL_TEXT, output: MAX_TOOL_TEXT },
  transcript: { text: MAX_TEXT },
};
const TRUNCATED = " … [truncated]";

/** A log message cut to what the server stores: a tool call's arguments and output at 16 KiB
 * each (`describe_page`'s output can be megabytes), a transcript's text at the server's limit.
 * A cut string ends with "[truncated]"; nothing else changes. */
export function fitForLog(message) {
  const fitted = { ...message };
  for (const [field, max] of Object.entries(LIMITS[message.type] || {})) {
    const text = fitted[field];
    if (typeof text !== "string" || text.length <= max) continue;
    let kept = text.slice(0, max - TRUNCATED.length);
    if (/[\uD800-\uDBFF]$/.test(kept)) kept = kept.slice(0, -1); // never half a character
    fitted[field] = kept + TRUNCATED;
  }
  return fitted;
}

function load(key) {
  try {
    return JSON.parse(localStorage.getItem(key)) || null;
  } catch {
    return null;
  }
}

export class TranscriptLog {
  /** `path` is the conversation's `transcript_ws`; `onStatus(saved: boolean, problem?: string)`
   * reports (`problem`: the latest message the server refused, in words). */
  constructor(conversationId, path, onStatus = () => {}) {
    this.key = `${PREFIX}${conversationId}`;
    const saved = load(this.key);
    this.box = saved || { path, nextSeq: 0, pending: [] };
    // Outboxes saved before messages were capped may hold ones the server can never store.
    this.box.pending = this.box.pending.map((entry) => ({ seq: entry.seq, ...fitForLog(entry) }));
    this.problem = undefined;
    this.onStatus = onStatus;
    this.socket = null;
    this.attempt = 0;
    this.closed = false;
    this.lastSent = new Map(); // item id -> what was last logged for it
    this.persist();
    this.connect();
  }

  persist() {
    if (this.box.pending.length || !this.ended) localStorage.setItem(this.key, JSON.stringify(this.box));
    else localStorage.removeItem(this.key);
    this.onStatus(this.box.pending.length === 0, this.problem);
  }

  /** Queue a message (a `seq` is added) and send it when the socket is open. */
  push(message) {
    // `seq` first: the server can read it even from a message too large to parse.
    const entry = { seq: this.box.nextSeq, ...fitForLog(message) };
    this.box.nextSeq += 1;
    this.box.pending.push(entry);
    if (message.type === "end") this.ended = true;
    this.persist();
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(entry));
  }

  /** Log a message's text if it changed in a way worth keeping. */
  transcript(message, index) {
    const state = `${message.text}|${message.final}|${message.interrupted}`;
    if (!message.text || this.lastSent.get(message.id) === state) return;
    if (!message.final && !message.interrupted) return; // deltas: wait for the final words
    this.lastSent.set(message.id, state);
    this.push({ type: "transcript", item_id: message.id, role: message.role, text: message.text,
                final: message.final, interrupted: message.interrupted, index });
  }

  connect() {
    if (this.closed) return;
    const url = new URL(this.box.path, window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.flush();
    };
    socket.onmessage = (message) => this.receive(JSON.parse(message.data));
    socket.onclose = () => {
      if (this.socket !== socket || this.closed) return;
      this.socket = null;
      const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
      this.attempt += 1;
      this.retry = setTimeout(() => this.connect(), delay);
    };
  }

  /** Send everything not yet acknowledged (the server stores each `seq` once). */
  flush() {
    if (this.socket?.readyState !== WebSocket.OPEN) return;
    this.box.pending.forEach((entry) => this.socket.send(JSON.stringify(entry)));
  }

  receive(reply) {
    if (reply.type === "error" && reply.retry_after_ms !== undefined) {
      // Refused for now (too many at once): keep it, and resend what is pending later.
      clearTimeout(this.resend);
      this.resend = setTimeout(() => this.flush(), reply.retry_after_ms);
    } else if (reply.type === "ack") {
      this.box.pending = this.box.pending.filter((entry) => entry.seq !== reply.seq);
      this.persist();
      if (this.ended && !this.box.pending.length) this.stop();
    } else if (reply.type === "error" && reply.code === "forbidden") {
      this.stop(); // not ours to send: keep the outbox, nothing more to do here
    } else if (reply.type === "error" && reply.seq !== undefined) {
      this.dropRefused(reply);
    } else if (reply.type === "error") {
      console.warn(`Transcript log: ${reply.code}: ${reply.message}`);
    }
  }

  /** The server refused a message for good: drop it rather than resend it forever, and say so. */
  dropRefused(reply) {
    const entry = this.box.pending.find((pending) => pending.seq === reply.seq);
    if (!entry) return;
    console.warn(`Transcript log: a ${entry.type} message was refused and dropped `
                 + `(${reply.code}: ${reply.message}).`);
    this.problem = `A ${entry.type.replace("_", " ")} was not saved: ${reply.message}`;
    this.box.pending = this.box.pending.filter((pending) => pending !== entry);
    this.persist();
  }

  /** Stop sending (the outbox stays for the next page load if anything is unacknowledged). */
  stop() {
    this.closed = true;
    clearTimeout(this.retry);
    clearTimeout(this.resend);
    if (this.socket) this.socket.close();
    this.socket = null;
  }

  /** After a reload: resend what earlier conversations left unacknowledged. */
  static resumeAll(onStatus) {
    return Object.keys(localStorage)
      .filter((key) => key.startsWith(PREFIX))
      .map((key) => {
        const box = load(key);
        if (!box || !box.pending.length) {
          localStorage.removeItem(key);
          return null;
        }
        const log = new TranscriptLog(key.slice(PREFIX.length), box.path, onStatus);
        log.ended = box.pending.some((entry) => entry.type === "end");
        return log;
      })
      .filter(Boolean);
  }
}
