// Conversation state from Realtime (GA) server events: no DOM, no network, so it is tested
// under `node --test` with recorded event sequences.
//
// Messages are kept in the conversation's own item order (`previous_item_id`), not arrival
// order, so a user transcript that arrives late still sits above the answer it caused.

const MAX_REPLAYED = 40;
const ERROR_WORDS = {
  session_expired: "The conversation reached its time limit. Start a new one to keep talking.",
  invalid_api_key: "The connection to Mr. Blue expired. Start the chat again.",
  session_limit_reached: "Mr. Blue is talking to too many people right now. Try again in a minute.",
};

/** Plain words for an `error` event or a failed response. */
export function errorWords(error) {
  if (!error) return "Something went wrong.";
  return ERROR_WORDS[error.code] || error.message || "Something went wrong.";
}

function messageText(item) {
  return (item.content || [])
    .map((part) => part.text || part.transcript || "")
    .join(" ")
    .trim();
}

export class Conversation {
  constructor() {
    this.order = []; // item ids, in conversation order
    this.messages = new Map(); // id -> {id, role, text, final, interrupted}
    this.toolCalls = []; // completed function calls waiting to be run
    this.errors = [];
    this.userSpeaking = false;
    this.assistantSpeaking = false;
    this.responding = false;
    this.turnDetection = undefined; // the session's, once known; null means push-to-talk
  }

  /** The person says when a turn ends (no voice activity detection in the session). */
  get pushToTalk() {
    return this.turnDetection === null;
  }

  /** Messages in conversation order. */
  list() {
    return this.order.map((id) => this.messages.get(id)).filter(Boolean);
  }

  /** Place an item after `previousId`: first when null, last when unknown. */
  place(id, previousId) {
    if (this.order.includes(id)) return;
    const at = previousId ? this.order.indexOf(previousId) : -1;
    if (previousId === null) this.order.unshift(id);
    else if (at >= 0) this.order.splice(at + 1, 0, id);
    else this.order.push(id);
  }

  message(id, role) {
    if (!this.messages.has(id)) {
      this.messages.set(id, { id, role, text: "", final: false, interrupted: false });
      this.place(id, undefined);
    }
    return this.messages.get(id);
  }

  /** The call ended: words still arriving are final as they stand, and an answer cut off by
   * hanging up was interrupted. Returns the messages this changed, in conversation order. */
  endCall() {
    const changed = this.list().filter((message) => message.text && !message.final);
    for (const message of changed) {
      message.text = message.text.trim();
      message.final = true;
      if (message.role === "assistant") message.interrupted = true;
    }
    this.userSpeaking = false;
    this.assistantSpeaking = false;
    this.responding = false;
    return changed;
  }

  /** `conversation.item.create` events that give a new session (after a reconnect) what was
   * said so far, as text, under the same item ids (so nothing shows twice): the last `max`
   * messages. */
  replayEvents(max = MAX_REPLAYED) {
    const said = this.list().filter((message) => message.text).slice(-max);
    return said.map((message) => ({
      type: "conversation.item.create",
      item: {
        id: message.id,
        type: "message",
        role: message.role,
        content: [{ type: message.role === "user" ? "input_text" : "output_text",
                    text: message.text }],
      },
    }));
  }

  /** Apply one server event; returns true if what is shown changed. */
  handle(event) {
    const handler = HANDLERS[event.type];
    return handler ? handler(this, event) !== false : false;
  }
}

function itemAdded(conversation, event) {
  const item = event.item || {};
  if (item.type !== "message" || !["user", "assistant"].includes(item.role)) return false;
  const known = conversation.messages.get(item.id);
  if (!known) {
    conversation.messages.set(item.id, {
      id: item.id, role: item.role, text: "", final: false, interrupted: false, placed: true,
    });
    conversation.place(item.id, event.previous_item_id);
  } else if (!known.placed && event.previous_item_id !== undefined) {
    // It was created early by a delta: move it to where the conversation says it belongs.
    // (A placed one stays put, e.g. when a new session echoes what was replayed to it.)
    conversation.order.splice(conversation.order.indexOf(item.id), 1);
    conversation.place(item.id, event.previous_item_id);
    known.placed = true;
  }
  const message = conversation.messages.get(item.id);
  const text = messageText(item);
  if (text && !message.final) message.text = text;
  if (event.type === "conversation.item.done" && text) message.final = true;
  if (item.status === "incomplete") message.interrupted = true;
  return true;
}

function appendText(role) {
  return (conversation, event) => {
    const message = conversation.message(event.item_id, role);
    if (message.final) return false;
    message.text += event.delta || "";
    return true;
  };
}

function finalText(role, field) {
  return (conversation, event) => {
    const message = conversation.message(event.item_id, role);
    message.text = event[field] ?? message.text;
    message.final = true;
    return true;
  };
}

function responseDone(conversation, event) {
  const response = event.response || {};
  conversation.responding = false;
  if (response.status === "cancelled" || response.status === "incomplete") {
    for (const item of response.output || []) {
      const message = conversation.messages.get(item.id);
      if (message) message.interrupted = true;
    }
  }
  if (response.status === "failed") {
    conversation.errors.push(errorWords(response.status_details?.error));
  }
  return true;
}

function truncated(conversation, event) {
  const message = conversation.messages.get(event.item_id);
  if (!message) return false;
  message.interrupted = true;
  return true;
}

function retrieved(conversation, event) {
  const message = conversation.messages.get(event.item?.id);
  if (!message) return false;
  const text = messageText(event.item);
  // What was actually heard; OpenAI deletes the transcript of a truncated item instead, and
  // then the words received stay, marked interrupted.
  if (message.interrupted && text) message.text = text;
  return true;
}

function sessionConfig(conversation, event) {
  const input = event.session?.audio?.input;
  if (!input || !("turn_detection" in input)) return false;
  conversation.turnDetection = input.turn_detection;
  return true;
}

const HANDLERS = {
  "session.created": sessionConfig,
  "session.updated": sessionConfig,
  "conversation.item.added": itemAdded,
  "conversation.item.done": itemAdded,
  "conversation.item.retrieved": retrieved,
  "conversation.item.deleted": (c, e) => {
    c.messages.delete(e.item_id);
    c.order = c.order.filter((id) => id !== e.item_id);
  },
  "conversation.item.input_audio_transcription.delta": appendText("user"),
  "conversation.item.input_audio_transcription.completed": finalText("user", "transcript"),
  "response.output_audio_transcript.delta": appendText("assistant"),
  "response.output_audio_transcript.done": finalText("assistant", "transcript"),
  "response.output_text.delta": appendText("assistant"),
  "response.output_text.done": finalText("assistant", "text"),
  "conversation.item.truncated": truncated,
  "response.created": (c) => {
    c.responding = true;
  },
  "response.done": responseDone,
  "response.function_call_arguments.done": (c, e) => {
    c.toolCalls.push({ callId: e.call_id, name: e.name, arguments: e.arguments });
  },
  "input_audio_buffer.speech_started": (c) => {
    c.userSpeaking = true;
  },
  "input_audio_buffer.speech_stopped": (c) => {
    c.userSpeaking = false;
  },
  "output_audio_buffer.started": (c) => {
    c.assistantSpeaking = true;
  },
  "output_audio_buffer.stopped": (c) => {
    c.assistantSpeaking = false;
  },
  "output_audio_buffer.cleared": (c) => {
    c.assistantSpeaking = false;
  },
  error: (c, e) => {
    c.errors.push(errorWords(e.error));
  },
};
