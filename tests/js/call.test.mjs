// Unit tests of the call controller: scripted fakes for the session API, the transports and
// the transcript log; mocked timers for the reconnect backoff; a hand-moved clock.
// Run with: node --test tests/js/
import assert from "node:assert/strict";
import { afterEach, beforeEach, mock, test } from "node:test";

import { BACKOFF_MS, Call } from "../../static/mrblue/call.js";
import { TransportError } from "../../static/mrblue/transport.js";

/** A connection the test drives: `sent` holds what the call sent, `receive` plays an event. */
class FakeTransport {
  constructor(kind, options) {
    this.kind = kind;
    this.options = options;
    this.sent = [];
    this.closed = false;
  }
  send(event) { this.sent.push(event); }
  close() { this.closed = true; }
  receive(...events) { events.forEach((event) => this.options.onEvent(event)); }
  drop() { this.options.onStateChange("closed"); }
  types() { return this.sent.map((event) => event.type); }
}

/** The transcript log's outbox, as the call sees it: what was pushed, in order. Like the
 * real one, it logs a message's words once they are final (or cut off), once per change. */
class FakeLog {
  static made = [];
  constructor(conversationId, path, onStatus) {
    this.conversationId = conversationId;
    this.path = path;
    this.onStatus = onStatus;
    this.entries = [];
    this.logged = new Map();
    FakeLog.made.push(this);
  }
  push(message) { this.entries.push(message); }
  transcript(message, index) {
    const state = `${message.text}|${message.final}|${message.interrupted}`;
    if (!(message.final || message.interrupted) || this.logged.get(message.id) === state) return;
    this.logged.set(message.id, state);
    this.entries.push({ type: "transcript", id: message.id, text: message.text, index });
  }
  types() { return this.entries.map((entry) => entry.type); }
  static resumeAll() { return []; }
}

class FakeTrack {
  constructor() { this.enabled = true; this.stopped = false; }
  stop() { this.stopped = true; }
}

class FakeMicrophone {
  constructor() { this.track = new FakeTrack(); }
  getTracks() { return [this.track]; }
  getAudioTracks() { return [this.track]; }
}

/**
 * The network: `outcomes` scripts what each connection attempt does ("ok" when empty,
 * "expired" for a refused secret, "fail" for an unreachable provider). Like our server, each
 * mint starts a new conversation (7, 8, ...) unless it continues one (`continues: false`: the
 * server refuses to, as for an ended conversation).
 */
function fakeNetwork(outcomes = [], { continues = true } = {}) {
  let conversations = 6;
  const network = {
    minted: [],
    transports: [],
    microphones: [],
    async mintSession(page, selected, conversation = null) {
      network.minted.push({ page, selected, conversation });
      const id = conversation !== null && continues ? conversation : (conversations += 1);
      return { value: `secret-${network.minted.length}`, calls_url: "/v1/realtime/calls",
               model: "mr-blue", conversation_id: id, transcript_ws: `/ws/log/${id}/` };
    },
    async instructionsFor(page, selected) { return `instructions for ${selected}`; },
    async openMicrophone() {
      const microphone = new FakeMicrophone();
      network.microphones.push(microphone);
      return microphone;
    },
    connectWebRTC: (options) => network.connect("webrtc", options),
    connectWebSocket: (options) => network.connect("websocket", options),
    websocketUrl: (callsUrl, model) => `ws:${callsUrl}?model=${model}`,
    TranscriptLog: FakeLog,
    async connect(kind, options) {
      const outcome = outcomes.shift() || "ok";
      if (outcome === "expired") throw new TransportError("secret_expired", "expired");
      if (outcome === "fail") throw new TransportError("connection_failed", "unreachable");
      const transport = new FakeTransport(kind, options);
      network.transports.push(transport);
      return transport;
    },
  };
  return network;
}

/** A view that records what it was told. */
function recordingView() {
  const view = { shown: null, errors: [], toolStatus: [], microphone: [], saved: 0 };
  return Object.assign(view, {
    onChange: (shown) => { view.shown = shown; },
    onError: (text) => view.errors.push(text),
    onToolStatus: (text) => view.toolStatus.push(text),
    onMicrophone: (stream) => view.microphone.push(stream),
    onSaved: () => { view.saved += 1; },
  });
}

/** Page tools whose call finishes when the test says so. */
function heldTools() {
  const tools = { calls: [], finish: null };
  tools.describeCall = (call) => `Changing the colour of ${JSON.parse(call.arguments).block_id}…`;
  tools.runCall = (call) => new Promise((resolve) => {
    tools.calls.push(call);
    tools.finish = resolve;
  });
  return tools;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

let clock;
function makeCall({ outcomes, tools = heldTools(), continues } = {}) {
  const network = fakeNetwork(outcomes, { continues });
  const view = recordingView();
  const call = new Call({ page: "mundo-tango", tools, audioOutput: "audio-element", view,
                          network, now: () => clock });
  return { call, network, view, tools };
}

const spoken = [
  { type: "conversation.item.added", previous_item_id: null,
    item: { id: "u1", type: "message", role: "user", status: "completed",
            content: [{ type: "input_text", text: "Make the heading blue." }] } },
  { type: "conversation.item.done", previous_item_id: null,
    item: { id: "u1", type: "message", role: "user", status: "completed",
            content: [{ type: "input_text", text: "Make the heading blue." }] } },
  { type: "response.created", response: { id: "r1" } },
  { type: "conversation.item.added", previous_item_id: "u1",
    item: { id: "a1", type: "message", role: "assistant", status: "in_progress", content: [] } },
  { type: "response.output_text.delta", item_id: "a1", delta: "Done" },
  { type: "response.output_text.done", item_id: "a1", text: "Done." },
  { type: "response.done", response: { id: "r1", status: "completed", output: [],
                                       usage: { total_tokens: 12 } } },
];

beforeEach(() => {
  clock = 0;
  FakeLog.made = [];
  mock.timers.enable({ apis: ["setTimeout"] });
});
afterEach(() => mock.timers.reset());

test("a voice call goes live, is logged, and ends", async () => {
  const { call, network, view } = makeCall();
  assert.equal(call.shown.state, "idle");
  await call.start();
  assert.equal(call.state, "live");
  assert.deepEqual(network.minted, [{ page: "mundo-tango", selected: null, conversation: null }]);
  const [transport] = network.transports;
  assert.equal(transport.kind, "webrtc");
  assert.equal(transport.options.secret, "secret-1");
  assert.equal(transport.options.callsUrl, "/v1/realtime/calls");
  assert.equal(transport.options.audioElement, "audio-element");
  assert.equal(transport.options.microphone, network.microphones[0]);
  assert.deepEqual(view.microphone, [network.microphones[0]]);
  assert.deepEqual(transport.sent, []); // a voice call needs no session.update
  assert.equal(view.shown.state, "live");
  assert.equal(view.shown.listening, true);
  const [log] = FakeLog.made;
  assert.equal(log.conversationId, 7);
  assert.equal(log.path, "/ws/log/7/");

  transport.receive(...spoken.slice(0, 5)); // the answer is on its way
  assert.deepEqual(view.shown.messages.map((m) => [m.id, m.text]),
                   [["u1", "Make the heading blue."], ["a1", "Done"]]);
  assert.equal(view.shown.canStopSpeaking, true);
  call.end();
  assert.equal(call.state, "idle");
  assert.equal(view.shown.state, "idle");
  assert.equal(transport.closed, true);
  assert.equal(call.transport, null);
  assert.equal(network.microphones[0].track.stopped, true);
  assert.deepEqual(view.microphone, [network.microphones[0], null]);
  // The words so far are logged as final, then the end.
  assert.deepEqual(log.entries, [
    { type: "transcript", id: "u1", text: "Make the heading blue.", index: 0 },
    { type: "transcript", id: "a1", text: "Done", index: 1 },
    { type: "end" },
  ]);
  log.onStatus(false);
  assert.equal(view.saved, 0); // not stored yet
  log.onStatus(true);
  assert.equal(view.saved, 1); // stored: the listing can be reloaded
  log.onStatus(true);
  assert.equal(view.saved, 1);
});

test("a text-only call asks for text answers, and logs usage and the time to answer", async () => {
  const { call, network, view } = makeCall();
  await call.start({ textOnly: true });
  const [transport] = network.transports;
  assert.equal(transport.kind, "websocket");
  assert.equal(transport.options.url, "ws:/v1/realtime/calls?model=mr-blue");
  assert.deepEqual(network.microphones, []);
  assert.deepEqual(transport.sent, [{ type: "session.update",
    session: { type: "realtime", output_modalities: ["text"] } }]);
  call.sendText("Make the heading blue.");
  assert.deepEqual(transport.types().slice(1), ["conversation.item.create", "response.create"]);
  assert.equal(transport.sent[1].item.content[0].text, "Make the heading blue.");
  transport.receive({ type: "input_audio_buffer.speech_stopped" });
  clock = 640;
  transport.receive(...spoken);
  assert.equal(view.shown.listening, false); // no microphone
  const [log] = FakeLog.made;
  assert.deepEqual(log.entries.filter((e) => e.type !== "transcript"), [
    { type: "metric", name: "time_to_answer", value_ms: 640 },
    { type: "usage", response_id: "r1", usage: { total_tokens: 12 } },
    { type: "timing", response_id: "r1", source: "panel", stages: { first_output: 640 } },
  ]);
});

test("a spoken turn logs the engine's timings once, else what the panel measured", async () => {
  const { call, network } = makeCall();
  await call.start({ textOnly: true });
  const [transport] = network.transports;
  const [log] = FakeLog.made;
  const timings = () => log.entries.filter((e) => e.type === "timing");
  const metadata = { mrblue_speech_stopped_ms: "500", mrblue_transcript_ms: "700",
                     mrblue_first_output_ms: "900", mrblue_first_audio_ms: "1300",
                     mrblue_first_frame_ms: "1350", other: "x" };
  transport.receive({ type: "input_audio_buffer.speech_stopped" },
                    { type: "response.done", response: { id: "r1", metadata } },
                    { type: "response.done", response: { id: "r2", metadata } }); // tool call's
  assert.deepEqual(timings(), [{ type: "timing", response_id: "r1", source: "engine",
    stages: { speech_stopped: 500, transcript: 700, first_output: 900, first_audio: 1300 } }]);
  clock = 100;
  transport.receive({ type: "input_audio_buffer.speech_stopped" });
  clock = 350;
  transport.receive({ type: "conversation.item.input_audio_transcription.completed" });
  clock = 600;
  transport.receive({ type: "response.output_audio_transcript.delta" });
  clock = 800;
  transport.receive({ type: "output_audio_buffer.started" },
                    { type: "response.output_audio.delta" },
                    { type: "response.done", response: { id: "r3" } });
  assert.deepEqual(timings()[1], { type: "timing", response_id: "r3", source: "panel",
    stages: { transcript: 250, first_output: 500, first_audio: 700 } });
  call.sendText("typed: no spoken turn, no timing");
  transport.receive({ type: "response.done", response: { id: "r4" } });
  assert.equal(timings().length, 2);
});

test("the engine's account of a guessed request is logged with its response", async () => {
  const { call, network } = makeCall();
  await call.start({ textOnly: true });
  const [transport] = network.transports;
  const [log] = FakeLog.made;
  const decision = { heard: "And you.", outcome: "ask", chosen: "undo",
                     candidates: [{ sentence: "undo", logprob: -9.7, closeness: 52 }] };
  transport.receive(
    { type: "response.done", response: { id: "r1" } },
    { type: "response.done", response: { id: "r2",
                                         metadata: { mrblue_decision: JSON.stringify(decision) } } },
    { type: "response.done", response: { id: "r3", metadata: { mrblue_decision: "{broken" } } },
  );
  assert.deepEqual(log.entries.filter((e) => e.type === "decision"),
                   [{ type: "decision", response_id: "r2", decision }]);
});

test("a guess to confirm is shown until answered; its buttons say yes or no", async () => {
  const { call, network, view } = makeCall();
  await call.start();
  const [transport] = network.transports;
  const asked = (id, outcome) => ({ type: "response.done", response: { id, metadata: {
    mrblue_decision: JSON.stringify({ heard: "Move the button above the first pair of glass.",
                                      outcome, chosen: "move the button above the first paragraph" }),
  } } });
  assert.equal(view.shown.guess, null);
  transport.receive(asked("r1", "ask"));
  assert.deepEqual(view.shown.guess, { sentence: "move the button above the first paragraph" });
  call.answerGuess(true);
  assert.equal(view.shown.guess, null);
  assert.deepEqual(transport.sent.slice(-2), [
    { type: "conversation.item.create", item: { type: "message", role: "user",
                                                content: [{ type: "input_text", text: "Yes." }] } },
    { type: "response.create" },
  ]);
  transport.receive(asked("r2", "read_back"));
  assert.ok(view.shown.guess);
  call.answerGuess(false);
  assert.equal(transport.sent.at(-2).item.content[0].text, "No.");
  transport.receive(asked("r3", "ask"), { type: "input_audio_buffer.speech_started" });
  assert.equal(view.shown.guess, null); // answered by voice
  transport.receive(asked("r4", "act"));
  assert.equal(view.shown.guess, null); // done at once: nothing to confirm
  const sent = transport.sent.length;
  call.answerGuess(true); // no guess shown: nothing to answer
  assert.equal(transport.sent.length, sent);
});

test("a dropped connection reconnects with backoff and replays what was said", async () => {
  const { call, network, view } = makeCall({ outcomes: ["ok", "fail"] });
  await call.start({ textOnly: true });
  const [first] = network.transports;
  first.receive(...spoken);
  first.drop();
  assert.equal(call.state, "reconnecting");
  assert.equal(view.shown.state, "reconnecting");
  assert.equal(first.closed, true);

  mock.timers.tick(BACKOFF_MS[0] - 1);
  await settle();
  assert.equal(network.minted.length, 1); // not yet
  mock.timers.tick(1);
  await settle();
  assert.equal(network.minted.length, 2); // tried, and the provider was unreachable
  assert.equal(call.state, "reconnecting");
  mock.timers.tick(BACKOFF_MS[1] - 1);
  await settle();
  assert.equal(network.minted.length, 2); // the second wait is longer
  mock.timers.tick(1);
  await settle();
  assert.equal(call.state, "live");
  const second = network.transports[1];
  // The new session is told what was said, under the same ids, before anything else.
  assert.deepEqual(second.sent.map((e) => [e.type, e.item?.id, e.item?.content[0].text]), [
    ["conversation.item.create", "u1", "Make the heading blue."],
    ["conversation.item.create", "a1", "Done."],
    ["session.update", undefined, undefined],
  ]);
  // The new session continues the conversation: the same log, and nothing logged twice.
  assert.deepEqual(network.minted.map((m) => m.conversation), [null, 7, 7]);
  assert.equal(FakeLog.made.length, 1);
  second.receive(...second.sent.slice(0, 2).map((create, index) => ({
    type: "conversation.item.added", previous_item_id: index ? "u1" : null,
    item: { ...create.item, status: "completed" } })));
  assert.deepEqual(FakeLog.made[0].types(), ["transcript", "transcript", "usage"]);
  assert.deepEqual(view.errors, [""]);
  call.end();
  call.start(); // a new call is a new conversation
  await settle();
  assert.equal(network.minted.at(-1).conversation, null);
});

test("a reconnect the server gives a new conversation ends the old one's log", async () => {
  const { call, network } = makeCall({ continues: false });
  await call.start({ textOnly: true });
  network.transports[0].receive(...spoken);
  network.transports[0].drop();
  mock.timers.tick(BACKOFF_MS[0]);
  await settle();
  assert.equal(call.state, "live");
  const [old, fresh] = FakeLog.made;
  assert.deepEqual([old.conversationId, fresh.conversationId], [7, 8]);
  assert.equal(old.types().at(-1), "end");
});

test("a connection that stays down is given up, in words", async () => {
  const outcomes = ["ok", ...BACKOFF_MS.map(() => "fail")];
  const { call, network, view } = makeCall({ outcomes });
  await call.start();
  network.transports[0].drop();
  for (const delay of BACKOFF_MS) {
    mock.timers.tick(delay);
    await settle();
  }
  assert.equal(call.state, "idle");
  assert.equal(network.minted.length, 1 + BACKOFF_MS.length);
  assert.match(view.errors.at(-1), /connection to Mr. Blue was lost/);
  assert.equal(network.microphones[0].track.stopped, true);
});

test("an expired secret is re-minted without a word", async () => {
  const { call, network, view } = makeCall({ outcomes: ["expired"] });
  await call.start();
  assert.equal(call.state, "live");
  assert.equal(network.minted.length, 2);
  assert.equal(network.transports[0].options.secret, "secret-2");
  assert.deepEqual(view.errors, [""]); // only the clearing at the start
});

test("a secret refused twice is an error, and the call is idle again", async () => {
  const { call, network, view } = makeCall({ outcomes: ["expired", "expired"] });
  await call.start();
  assert.equal(call.state, "idle");
  assert.equal(network.minted.length, 2);
  assert.deepEqual(view.errors, ["", "expired"]);
  assert.equal(network.microphones[0].track.stopped, true);
});

test("a tool call runs, says so, and its output is sent back, then response.create", async () => {
  const { call, network, view, tools } = makeCall();
  await call.start();
  const [transport] = network.transports;
  transport.receive(
    { type: "response.created", response: { id: "r1" } },
    { type: "response.function_call_arguments.done", call_id: "c1", name: "update_style",
      arguments: '{"block_id":"heading","color":"blue"}' },
  );
  assert.deepEqual(tools.calls.map((c) => c.callId), ["c1"]);
  assert.deepEqual(view.toolStatus, ["Changing the colour of heading…"]);
  tools.finish({ ok: true, result: { color: "blue" } });
  await settle();
  assert.deepEqual(view.toolStatus, ["Changing the colour of heading…", ""]);
  assert.deepEqual(transport.sent, [{ type: "conversation.item.create", item: {
    type: "function_call_output", call_id: "c1", output: '{"ok":true,"result":{"color":"blue"}}' } }]);
  // The response that called is still going: the next is asked for once it is done.
  transport.receive({ type: "response.done", response: { id: "r1", status: "completed" } });
  assert.deepEqual(transport.types(), ["conversation.item.create", "response.create"]);
  assert.deepEqual(FakeLog.made[0].entries, [{ type: "tool_call", call_id: "c1",
    name: "update_style", arguments: '{"block_id":"heading","color":"blue"}',
    output: '{"ok":true,"result":{"color":"blue"}}' }]);

  // A tool that finishes after its response ended asks for the next one at once.
  transport.receive({ type: "response.function_call_arguments.done", call_id: "c2",
                      name: "update_style", arguments: '{"block_id":"cta","color":"red"}' });
  tools.finish({ ok: true });
  await settle();
  assert.deepEqual(transport.types().slice(2), ["conversation.item.create", "response.create"]);
});

test("push-to-talk: pressing clears the buffer, letting go commits and asks for an answer",
  async () => {
    const { call, network, view } = makeCall();
    await call.start();
    const [transport] = network.transports;
    assert.equal(view.shown.pushToTalk, false);
    transport.receive({ type: "session.created",
                        session: { audio: { input: { turn_detection: null } } } });
    assert.equal(view.shown.pushToTalk, true);
    assert.equal(view.shown.listening, false); // nothing is heard until the button is held

    call.startTalking();
    assert.deepEqual(transport.types(), ["output_audio_buffer.clear", "input_audio_buffer.clear"]);
    assert.equal(view.shown.talking, true);
    assert.equal(view.shown.listening, true);
    call.startTalking(); // a repeated press changes nothing
    assert.equal(transport.sent.length, 2);
    clock = 800;
    call.stopTalking();
    assert.deepEqual(transport.types().slice(2), ["input_audio_buffer.commit", "response.create"]);
    assert.equal(view.shown.talking, false);
    assert.equal(view.shown.listening, false);

    call.startTalking();
    clock = 900; // a slip of the finger: the turn is thrown away
    call.stopTalking();
    assert.deepEqual(transport.types().slice(4),
                     ["output_audio_buffer.clear", "input_audio_buffer.clear", "input_audio_buffer.clear"]);
  });

test("muting, cutting Mr. Blue off, and a new selection", async () => {
  const { call, network, view } = makeCall();
  await call.start();
  const [transport] = network.transports;
  call.toggleMute();
  assert.equal(network.microphones[0].track.enabled, false);
  assert.equal(view.shown.muted, true);
  assert.equal(view.shown.listening, false);
  transport.receive({ type: "response.created", response: { id: "r1" } },
                    { type: "output_audio_buffer.started" });
  assert.equal(view.shown.speaking, true);
  call.stopSpeaking();
  assert.deepEqual(transport.types(), ["response.cancel", "output_audio_buffer.clear"]);
  await call.select("cta");
  assert.deepEqual(transport.sent.at(-1), { type: "session.update",
    session: { type: "realtime", instructions: "instructions for cta" } });
  call.end();
  await call.start();
  assert.deepEqual(network.minted.at(-1), { page: "mundo-tango", selected: "cta",
                                             conversation: null });
});

test("errors from the provider are reported once each, and typing before a call is explained",
  async () => {
    const { call, network, view } = makeCall();
    call.sendText("hello");
    assert.deepEqual(view.errors, ["Start the chat first, then type your message."]);
    await call.start();
    network.transports[0].receive({ type: "error", error: { code: "session_expired" } });
    network.transports[0].receive({ type: "rate_limits.updated" });
    assert.equal(view.errors.length, 3);
    assert.match(view.errors[2], /time limit/);
  });
