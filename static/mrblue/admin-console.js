// "Try it here" on the admin's change forms of a page and of a profile: the editor's voice
// panel (voice-panel.js, call.js...) talking to Mr. Blue with the settings on the form, saved
// or not, on a scratch copy of a page (scratch-page.js) drawn in a small preview (canvas.js).
// The server's part is mrblue/admin/console.py; nothing here writes to a page: an edit is made
// by the console's tools endpoint on the blocks it is sent, and stored nowhere.

import { Canvas } from "../editor/canvas.js";
import { pageTools } from "../editor/page-tools.js";
import { ScratchPage } from "../editor/scratch-page.js";
import { NETWORK } from "./call.js";
import { ApiError, post } from "./session.js";
import { VoicePanel } from "./voice-panel.js";

const REFRESH_MS = 300; // the trial's record is redrawn this long after the log is saved

/** The change form's fields as they are now, as [name, value] pairs (files left out). */
function formFields(formId) {
  const form = document.getElementById(formId);
  return form ? [...new FormData(form)].filter(([, value]) => typeof value === "string") : [];
}

class Console {
  constructor(root, config) {
    this.root = root;
    this.config = config;
    this.part = (role) => root.querySelector(`[data-role="${role}"]`);
    this.pageId = null; // the page tried on (the profile's console)
    this.trialId = null; // the conversation the latest call is logged in
    this.refreshTimer = null;
    this.canvas = new Canvas(this.part("scratch-canvas"), [],
                             { label: this.part("scratch-selected") });
    this.scratch = new ScratchPage({
      blocks: [],
      apply: (blocks, name, args, callId) => this.apply(blocks, name, args, callId),
      onChange: (blocks) => this.canvas.render(blocks),
    });
    const panel = new VoicePanel(this.part("voice-panel"), {
      page: null,
      tools: pageTools(this.canvas, (name, args, callId) => this.scratch.change(name, args, callId)),
      network: {
        ...NETWORK,
        mintSession: (page, selected, conversation) => this.mint(selected, conversation),
        instructionsFor: (page, selected) => this.instructions(selected),
      },
      onLogStatus: (saved) => saved && this.refreshRecord(),
      onSaved: () => this.refreshRecord(),
    });
    this.call = panel.call;
    this.bind();
  }

  bind() {
    this.part("scratch-undo").addEventListener("click", () => this.byHand("undo"));
    this.part("scratch-redo").addEventListener("click", () => this.byHand("redo"));
    this.part("scratch-reset").addEventListener("click", () => this.start());
    this.part("scratch-page")?.addEventListener("change", () => {
      this.call.end(); // a call is about one page
      this.start();
    });
  }

  /** A fresh scratch copy: of this page, or of the page chosen to try the profile on. */
  async start() {
    this.say("");
    if (this.config.kind === "page") {
      this.scratch.reset(this.config.blocks);
      return;
    }
    const choice = this.part("scratch-page").value;
    if (!choice) return;
    try {
      const page = await this.get(`${this.config.urls.pages}${choice}/`);
      this.pageId = page.id;
      this.scratch.reset(page.blocks);
    } catch (error) {
      this.say(error.message);
    }
  }

  /** Undo or Redo pressed in the preview: the scratch copy's own history. */
  async byHand(name) {
    const answer = await this.scratch.change(name, {});
    this.say(answer.ok ? "" : answer.error);
  }

  say(text) {
    const box = this.part("scratch-message");
    box.textContent = text;
    box.hidden = !text;
  }

  /** What every request of the console carries: the form as it is now, the scratch copy. */
  body(extra) {
    return { form: formFields(this.config.form), blocks: this.scratch.blocks,
             page: this.pageId ?? undefined, ...extra };
  }

  async mint(selected, conversation) {
    const secret = await post(this.config.urls.session,
      this.body({ selected: selected || undefined, conversation: conversation ?? undefined }));
    this.trialId = secret.conversation_id;
    return secret;
  }

  async instructions(selected) {
    const answer = await post(this.config.urls.instructions,
                              this.body({ selected: selected || undefined }));
    return answer.instructions;
  }

  /** One edit of the scratch copy, made by the server's page operations (nothing stored). */
  async apply(blocks, name, args, callId) {
    try {
      return await post(this.config.urls.tools, { blocks, name, arguments: args, call_id: callId },
                        {});
    } catch (error) {
      if (error instanceof ApiError) return { ok: false, error: error.message };
      throw error;
    }
  }

  async get(url) {
    const answer = await fetch(url, { credentials: "same-origin" });
    const data = await answer.json().catch(() => ({}));
    if (!answer.ok) throw new Error(data.error?.message || "The server could not answer.");
    return data;
  }

  /** Redraw the trial's dialogue, tool calls and timings, soon (the log saves in bursts). */
  refreshRecord() {
    if (this.trialId === null) return;
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(async () => {
      try {
        const record = await this.get(`${this.config.urls.conversations}${this.trialId}/`);
        const box = this.part("console-record");
        box.innerHTML = record.html;
        box.dataset.conversation = String(this.trialId);
      } catch {
        // the next saved log message tries again
      }
    }, REFRESH_MS);
  }
}

const root = document.querySelector("[data-role='console']");
if (root) {
  const config = JSON.parse(document.getElementById("mrblue-console-config").textContent);
  const console_ = new Console(root, config);
  console_.start();
  // The call, for the browser tests (as in the editor).
  window.mrblueVoice = console_.call;
  window.mrblueConsole = console_;
}
