// Unit tests of the transcript log's durable outbox, with an in-memory localStorage and a
// scripted WebSocket standing in for the browser's.
// Run with: node --test tests/js/
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

class MemoryStorage {
  constructor() { this.items = new Map(); }
  getItem(key) { return this.items.has(key) ? this.items.get(key) : null; }
  setItem(key, value) { this.items.set(key, String(value)); }
  removeItem(key) { this.items.delete(key); }
  keys() { return [...this.items.keys()]; }
}

/** A WebSocket the test opens and answers by hand; `sent` holds what the log sent. */
class ScriptedSocket {
  static OPEN = 1;
  static made = [];
  constructor(url) {
    this.url = String(url);
    this.readyState = 0;
    this.sent = [];
    ScriptedSocket.made.push(this);
  }
  send(text) { this.sent.push(JSON.parse(text)); }
  close() { this.readyState = 3; }
  open() { this.readyState = ScriptedSocket.OPEN; this.onopen(); }
  reply(message) { this.onmessage({ data: JSON.stringify(message) }); }
  seqs() { return this.sent.map((message) => message.seq); }
}

let storage;
beforeEach(() => {
  storage = new MemoryStorage();
  ScriptedSocket.made = [];
  globalThis.localStorage = new Proxy(storage, {
    ownKeys: () => storage.keys(),
    getOwnPropertyDescriptor: () => ({ enumerable: true, configurable: true }),
  });
  globalThis.WebSocket = ScriptedSocket;
  globalThis.window = { location: { href: "http://127.0.0.1:8000/editor/home/" } };
});

const { TranscriptLog } = await import("../../static/mrblue/transcript-log.js");

const said = (id, text, extra = {}) =>
  ({ id, role: "user", text, final: true, interrupted: false, ...extra });

test("messages wait in the outbox until acknowledged, across a reload", () => {
  const statuses = [];
  const log = new TranscriptLog(7, "/ws/mrblue/conversations/7/", (saved) => statuses.push(saved));
  const socket = ScriptedSocket.made[0];
  assert.equal(socket.url, "ws://127.0.0.1:8000/ws/mrblue/conversations/7/");
  log.transcript(said("item_1", "Hello"), 0);
  log.push({ type: "end" });
  socket.open();
  assert.deepEqual(socket.seqs(), [0, 1]);
  socket.reply({ type: "ack", seq: 0 });
  assert.equal(statuses.at(-1), false);
  log.stop(); // the page goes away before the last ack

  const [resumed] = TranscriptLog.resumeAll(() => {});
  const again = ScriptedSocket.made[1];
  again.open();
  assert.deepEqual(again.seqs(), [1]);
  again.reply({ type: "ack", seq: 1 });
  assert.equal(resumed.closed, true);
  assert.deepEqual(storage.keys(), []);
});

test("only final or interrupted words are logged, each change once", () => {
  const log = new TranscriptLog(8, "/ws/mrblue/conversations/8/");
  const socket = ScriptedSocket.made[0];
  socket.open();
  log.transcript(said("item_1", "Hel", { final: false }), 0);
  log.transcript(said("item_1", "Hello"), 0);
  log.transcript(said("item_1", "Hello"), 0);
  log.transcript(said("item_2", "Hi! I'm", { role: "assistant", final: false, interrupted: true }), 1);
  assert.deepEqual(socket.sent.map((m) => [m.item_id, m.text, m.index]),
                   [["item_1", "Hello", 0], ["item_2", "Hi! I'm", 1]]);
});

test("a message refused for now is kept and resent after the delay the server asks", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const log = new TranscriptLog(9, "/ws/mrblue/conversations/9/");
  const socket = ScriptedSocket.made[0];
  socket.open();
  log.transcript(said("item_1", "Hello"), 0);
  log.transcript(said("item_2", "Again"), 1);
  socket.reply({ type: "ack", seq: 0 });
  socket.reply({ type: "error", seq: 1, code: "rate_limited", message: "later",
                 retry_after_ms: 20 });
  assert.deepEqual(log.box.pending.map((m) => m.seq), [1]);
  t.mock.timers.tick(19);
  assert.deepEqual(socket.seqs(), [0, 1]);
  t.mock.timers.tick(1);
  assert.deepEqual(socket.seqs(), [0, 1, 1]);
  socket.reply({ type: "ack", seq: 1 });
  assert.deepEqual(log.box.pending, []);
  log.stop();
});

test("a message refused for good is dropped rather than resent forever", () => {
  const log = new TranscriptLog(10, "/ws/mrblue/conversations/10/");
  const socket = ScriptedSocket.made[0];
  socket.open();
  log.push({ type: "metric", name: "Bad Name", value_ms: 5 });
  socket.reply({ type: "error", seq: 0, code: "invalid_value", message: "bad name" });
  assert.deepEqual(log.box.pending, []);
  log.stop();
});

test("a tool call's arguments and output are capped, marked, and seq comes first", async () => {
  const { fitForLog, MAX_TOOL_TEXT } = await import("../../static/mrblue/transcript-log.js");
  const log = new TranscriptLog(11, "/ws/mrblue/conversations/11/");
  const socket = ScriptedSocket.made[0];
  socket.open();
  const page = JSON.stringify({ blocks: "x".repeat(3_000_000) }); // describe_page, megabytes
  log.push({ type: "tool_call", call_id: "c1", name: "describe_page", arguments: "{}",
             output: page });
  const [sent] = socket.sent;
  assert.equal(Object.keys(sent)[0], "seq"); // the server can read it from a message's head
  assert.equal(sent.arguments, "{}");
  assert.ok(sent.output.length <= MAX_TOOL_TEXT && sent.output.endsWith("[truncated]"));
  assert.ok(sent.output.startsWith('{"blocks":"xxx'));
  assert.ok(JSON.stringify(log.box).length < 40_000); // the outbox stays small too
  // Never half a character: a cut through an emoji drops the whole emoji.
  const cut = fitForLog({ type: "tool_call", output: "😀".repeat(MAX_TOOL_TEXT) }).output;
  assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(cut));
  log.stop();
});

test("a message the server refused for good is dropped, with a warning and a note", (t) => {
  const warn = t.mock.method(console, "warn", () => {});
  const statuses = [];
  const log = new TranscriptLog(12, "/ws/mrblue/conversations/12/",
                                (saved, problem) => statuses.push([saved, problem]));
  const socket = ScriptedSocket.made[0];
  socket.open();
  log.push({ type: "end" });
  socket.reply({ type: "error", seq: 0, code: "too_large", message: "A message is at most …" });
  assert.deepEqual(log.box.pending, []);
  assert.equal(warn.mock.callCount(), 1);
  const [saved, problem] = statuses.at(-1);
  assert.equal(saved, true);
  assert.match(problem, /not saved/);
  log.stop();
});

test("an outbox saved before the cap is truncated on load, and its messages sent", () => {
  const huge = { type: "tool_call", call_id: "c1", name: "describe_page", arguments: "{}",
                 output: "y".repeat(2_000_000), seq: 0 };
  storage.setItem("mrblue-outbox-13", JSON.stringify({ path: "/ws/mrblue/conversations/13/",
                                                       nextSeq: 1, pending: [huge] }));
  const [resumed] = TranscriptLog.resumeAll(() => {});
  const socket = ScriptedSocket.made[0];
  socket.open();
  assert.equal(socket.sent[0].seq, 0);
  assert.ok(socket.sent[0].output.length <= 16 * 1024);
  assert.ok(storage.getItem("mrblue-outbox-13").length < 40_000);
  socket.reply({ type: "ack", seq: 0 });
  assert.deepEqual(resumed.box.pending, []);
  resumed.stop();
});
