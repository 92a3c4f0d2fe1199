// Unit tests of the voice panel's event handling, fed recorded Realtime (GA) sequences.
// Run with: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { Conversation, errorWords } from "../../static/mrblue/conversation.js";

const user = (id, previous, content = [{ type: "input_audio", transcript: null }]) => ({
  type: "conversation.item.added", previous_item_id: previous,
  item: { id, type: "message", role: "user", status: "completed", content },
});
const assistant = (id, previous) => ({
  type: "conversation.item.added", previous_item_id: previous,
  item: { id, type: "message", role: "assistant", status: "in_progress",
          content: [{ type: "output_audio", transcript: "" }] },
});
const play = (events) => {
  const conversation = new Conversation();
  events.forEach((event) => conversation.handle(event));
  return conversation;
};
const shown = (conversation) =>
  conversation.list().map((m) => `${m.role}:${m.text}${m.interrupted ? " (cut)" : ""}`);

test("a spoken turn over WebRTC, as OpenAI sends it", () => {
  const conversation = play([
    { type: "session.created", session: {} },
    { type: "input_audio_buffer.speech_started", item_id: "u1", audio_start_ms: 500 },
    { type: "input_audio_buffer.speech_stopped", item_id: "u1", audio_end_ms: 1800 },
    { type: "input_audio_buffer.committed", item_id: "u1", previous_item_id: null },
    user("u1", null),
    { type: "response.created", response: { id: "r1" } },
    assistant("a1", "u1"),
    { type: "response.output_audio_transcript.delta", item_id: "a1", delta: "Hi " },
    { type: "conversation.item.input_audio_transcription.delta", item_id: "u1", delta: "Hello" },
    { type: "conversation.item.input_audio_transcription.completed", item_id: "u1",
      transcript: "Hello there." },
    { type: "response.output_audio_transcript.delta", item_id: "a1", delta: "there!" },
    { type: "response.output_audio_transcript.done", item_id: "a1", transcript: "Hi there!" },
    { type: "response.done", response: { id: "r1", status: "completed", output: [] } },
  ]);
  assert.deepEqual(shown(conversation), ["user:Hello there.", "assistant:Hi there!"]);
  assert.equal(conversation.responding, false);
});

test("the person's words form while they speak, then the final transcript replaces them", () => {
  const conversation = new Conversation();
  const events = [
    { type: "input_audio_buffer.speech_started", item_id: "u1", audio_start_ms: 500 },
    { type: "conversation.item.input_audio_transcription.delta", item_id: "u1",
      delta: "Make the" },
    { type: "conversation.item.input_audio_transcription.delta", item_id: "u1",
      delta: " heading blew" },
  ];
  events.forEach((event) => conversation.handle(event));
  assert.deepEqual(shown(conversation), ["user:Make the heading blew"]);
  assert.equal(conversation.list()[0].final, false); // still forming
  [
    { type: "input_audio_buffer.speech_stopped", item_id: "u1", audio_end_ms: 1800 },
    user("u1", null),
    { type: "conversation.item.input_audio_transcription.completed", item_id: "u1",
      transcript: "Make the heading blue." },
    { type: "conversation.item.input_audio_transcription.delta", item_id: "u1",
      delta: " late" }, // a partial that arrives after the final changes nothing
  ].forEach((event) => conversation.handle(event));
  assert.deepEqual(shown(conversation), ["user:Make the heading blue."]);
  assert.equal(conversation.list()[0].final, true);
});

test("a user transcript that arrives after the answer still sits above it", () => {
  const conversation = play([
    { type: "response.output_audio_transcript.delta", item_id: "a1", delta: "Sure." },
    user("u1", null),
    assistant("a1", "u1"),
    { type: "conversation.item.input_audio_transcription.completed", item_id: "u1",
      transcript: "Can you help?" },
  ]);
  assert.deepEqual(shown(conversation), ["user:Can you help?", "assistant:Sure."]);
});

test("interleaved turns keep the conversation's order", () => {
  const conversation = play([
    user("u1", null),
    assistant("a1", "u1"),
    user("u2", "a1"),
    { type: "conversation.item.input_audio_transcription.completed", item_id: "u2",
      transcript: "second" },
    { type: "conversation.item.input_audio_transcription.completed", item_id: "u1",
      transcript: "first" },
    { type: "response.output_audio_transcript.done", item_id: "a1", transcript: "answer" },
  ]);
  assert.deepEqual(shown(conversation), ["user:first", "assistant:answer", "user:second"]);
});

test("typed text and a text answer", () => {
  const conversation = play([
    user("t1", null, [{ type: "input_text", text: "make it blue" }]),
    assistant("a1", "t1"),
    { type: "response.output_text.delta", item_id: "a1", delta: "Done." },
    { type: "response.output_text.done", item_id: "a1", text: "Done." },
  ]);
  assert.deepEqual(shown(conversation), ["user:make it blue", "assistant:Done."]);
});

test("barge-in: a cancelled answer is marked and cut to what was heard", () => {
  const conversation = play([
    user("u1", null),
    assistant("a1", "u1"),
    { type: "output_audio_buffer.started", response_id: "r1" },
    { type: "response.output_audio_transcript.delta", item_id: "a1", delta: "One two three" },
    { type: "input_audio_buffer.speech_started", item_id: "u2", audio_start_ms: 4000 },
    { type: "output_audio_buffer.cleared", response_id: "r1" },
    { type: "response.done", response: { id: "r1", status: "cancelled",
      status_details: { type: "cancelled", reason: "turn_detected" },
      output: [{ id: "a1", type: "message" }] } },
    { type: "conversation.item.truncated", item_id: "a1", content_index: 0, audio_end_ms: 400 },
    { type: "conversation.item.retrieved", item: { id: "a1", type: "message",
      role: "assistant", content: [{ type: "output_audio", transcript: "One" }] } },
  ]);
  assert.deepEqual(shown(conversation), ["user:", "assistant:One (cut)"]);
  assert.equal(conversation.assistantSpeaking, false);
  assert.equal(conversation.userSpeaking, true);
});

test("barge-in with OpenAI, whose truncation deletes the transcript: the words stay", () => {
  const conversation = play([
    user("u1", null),
    assistant("a1", "u1"),
    { type: "response.output_audio_transcript.delta", item_id: "a1", delta: "One two three" },
    { type: "response.output_audio_transcript.done", item_id: "a1",
      transcript: "One two three" },
    { type: "conversation.item.truncated", item_id: "a1", content_index: 0, audio_end_ms: 400 },
    { type: "conversation.item.retrieved", item: { id: "a1", type: "message",
      role: "assistant", content: [{ type: "output_audio", transcript: null }] } },
  ]);
  assert.deepEqual(shown(conversation), ["user:", "assistant:One two three (cut)"]);
});

test("hanging up mid-answer keeps the words so far, marked interrupted", () => {
  const conversation = play([
    user("u1", null),
    { type: "conversation.item.input_audio_transcription.completed", item_id: "u1",
      transcript: "What can you do?" },
    { type: "response.created", response: { id: "r1" } },
    assistant("a1", "u1"),
    { type: "response.output_audio_transcript.delta", item_id: "a1", delta: "I can change " },
  ]);
  const changed = conversation.endCall();
  assert.deepEqual(changed.map((m) => m.id), ["a1"]);
  assert.deepEqual(shown(conversation), ["user:What can you do?", "assistant:I can change (cut)"]);
  assert.equal(conversation.list()[1].final, true);
  assert.equal(conversation.responding, false);
  assert.deepEqual(conversation.endCall(), []);
});

test("push-to-talk is known from the session the provider reports", () => {
  const conversation = new Conversation();
  assert.equal(conversation.pushToTalk, false); // not known yet
  const session = (turnDetection) => ({ type: "realtime",
    audio: { input: { turn_detection: turnDetection }, output: { voice: "marin" } } });
  conversation.handle({ type: "session.created", session: session(null) });
  assert.equal(conversation.pushToTalk, true);
  conversation.handle({ type: "session.updated", session: { type: "realtime", instructions: "x" } });
  assert.equal(conversation.pushToTalk, true); // an update that leaves audio alone
  conversation.handle({ type: "session.updated",
                        session: session({ type: "server_vad", threshold: 0.5 }) });
  assert.equal(conversation.pushToTalk, false);
});

test("after a reconnect, what was said is given to the new session under the same ids", () => {
  const conversation = play([
    user("u1", null),
    { type: "conversation.item.input_audio_transcription.completed", item_id: "u1",
      transcript: "Make the heading blue." },
    assistant("a1", "u1"),
    { type: "response.output_audio_transcript.done", item_id: "a1", transcript: "Done." },
    user("u2", "a1"), // nothing heard: not replayed
  ]);
  const replay = conversation.replayEvents();
  assert.deepEqual(replay.map((e) => [e.type, e.item.id, e.item.role, e.item.content[0]]), [
    ["conversation.item.create", "u1", "user", { type: "input_text", text: "Make the heading blue." }],
    ["conversation.item.create", "a1", "assistant", { type: "output_text", text: "Done." }],
  ]);
  assert.deepEqual(conversation.replayEvents(1).map((e) => e.item.id), ["a1"]);
  // The new session echoes them: the conversation on screen does not change.
  conversation.handle({ type: "conversation.item.added", previous_item_id: null,
                        item: { ...replay[0].item, status: "completed" } });
  conversation.handle({ type: "conversation.item.added", previous_item_id: "u1",
                        item: { ...replay[1].item, status: "completed" } });
  assert.deepEqual(shown(conversation), ["user:Make the heading blue.", "assistant:Done.", "user:"]);
  // Only the latest are replayed; the first of them, first in the new session, stays put.
  const [latest] = conversation.replayEvents(1);
  conversation.handle({ type: "conversation.item.added", previous_item_id: null,
                        item: { ...latest.item, status: "completed" } });
  assert.deepEqual(shown(conversation), ["user:Make the heading blue.", "assistant:Done.", "user:"]);
});

test("errors and failed responses are put in words", () => {
  const conversation = play([
    { type: "error", error: { type: "invalid_request_error", code: "session_expired",
                              message: "Your session hit the maximum duration of 60 minutes." } },
    { type: "response.done", response: { status: "failed", output: [],
      status_details: { type: "failed", error: { code: "brain_timeout",
                                                 message: "The brain did not answer." } } } },
  ]);
  assert.match(conversation.errors[0], /time limit/);
  assert.equal(conversation.errors[1], "The brain did not answer.");
  assert.equal(errorWords(undefined), "Something went wrong.");
});

test("function calls are queued for the page tools", () => {
  const conversation = play([
    { type: "response.function_call_arguments.done", call_id: "c1", name: "update_style",
      arguments: '{"block_id":"heading","color":"blue"}', item_id: "f1", output_index: 0,
      response_id: "r1" },
  ]);
  assert.deepEqual(conversation.toolCalls,
    [{ callId: "c1", name: "update_style", arguments: '{"block_id":"heading","color":"blue"}' }]);
});

test("unknown and irrelevant events change nothing", () => {
  const conversation = new Conversation();
  assert.equal(conversation.handle({ type: "rate_limits.updated" }), false);
  assert.equal(conversation.handle({ type: "conversation.item.added",
    item: { id: "f", type: "function_call" } }), false);
  assert.deepEqual(conversation.list(), []);
});

test("a recorded OpenAI tool-call sequence queues the call and shows no message", () => {
  const conversation = play([
    { type: "response.created", event_id: "e1", response: { id: "resp_1", status: "in_progress",
      output: [] } },
    { type: "response.output_item.added", event_id: "e2", response_id: "resp_1", output_index: 0,
      item: { id: "item_f", type: "function_call", status: "in_progress", name: "update_style",
              call_id: "call_x", arguments: "" } },
    { type: "conversation.item.added", event_id: "e3", previous_item_id: "u1",
      item: { id: "item_f", type: "function_call", status: "in_progress", name: "update_style",
              call_id: "call_x", arguments: "" } },
    { type: "response.function_call_arguments.delta", event_id: "e4", response_id: "resp_1",
      item_id: "item_f", output_index: 0, call_id: "call_x", delta: '{"block_id":"heading",' },
    { type: "response.function_call_arguments.delta", event_id: "e5", response_id: "resp_1",
      item_id: "item_f", output_index: 0, call_id: "call_x", delta: '"color":"blue"}' },
    { type: "response.function_call_arguments.done", event_id: "e6", response_id: "resp_1",
      item_id: "item_f", output_index: 0, call_id: "call_x", name: "update_style",
      arguments: '{"block_id":"heading","color":"blue"}' },
    { type: "response.output_item.done", event_id: "e7", response_id: "resp_1", output_index: 0,
      item: { id: "item_f", type: "function_call", status: "completed", name: "update_style",
              call_id: "call_x", arguments: '{"block_id":"heading","color":"blue"}' } },
    { type: "response.done", event_id: "e8", response: { id: "resp_1", status: "completed",
      output: [{ id: "item_f", type: "function_call" }] } },
  ]);
  assert.deepEqual(conversation.toolCalls, [{ callId: "call_x", name: "update_style",
    arguments: '{"block_id":"heading","color":"blue"}' }]);
  assert.deepEqual(conversation.list(), []);
  assert.equal(conversation.responding, false);
});
