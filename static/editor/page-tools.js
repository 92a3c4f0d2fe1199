// Mr. Blue's page tools, run in the browser when the model calls them: describe and select
// on a canvas (canvas.js), every change through `change`. In the editor a change goes to the
// server, which checks permission, validates the arguments against the tool's schema and
// records a revision; the admin's console changes a scratch copy (scratch-page.js) instead.
// The output goes back to the model.

import { canvas as editorCanvas, post } from "./editor.js";

const DOING = {
  describe_page: () => "Looking at the page…",
  select_block: (a, name) => `Selecting ${name(a.block_id)}…`,
  update_text: (a, name) => `Changing the text of ${name(a.block_id)}…`,
  update_style: (a, name) => {
    const what = a.color ? "colour" : a.background ? "background" : a.font_size ? "size" : "alignment";
    return `Changing the ${what} of ${name(a.block_id)}…`;
  },
  insert_block: (a) => `Adding a ${a.type || "block"}…`,
  delete_block: (a, name) => `Deleting ${name(a.block_id)}…`,
  move_block: (a, name) => `Moving ${name(a.block_id)}…`,
  undo: () => "Undoing the last change…",
  redo: () => "Redoing the change…",
};

function parse(call) {
  try {
    const value = JSON.parse(call.arguments || "{}");
    return value && typeof value === "object" && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * The page tools on `canvas`: `describeCall(call)` says what a call does, in words, while it
 * runs; `runCall(call)` runs it and always resolves to the output for the model (never
 * throws). `change(name, args, callId)` carries out a page-changing call (an edit, undo or
 * redo) and resolves to `{ok: true, result}` or `{ok: false, error: "<words>"}`.
 */
export function pageTools(canvas, change) {
  const blockName = (blockId) => {
    const block = canvas.blocks.find((b) => b.id === blockId);
    return block ? `the ${block.type}` : "a block";
  };
  return {
    describeCall(call) {
      const args = parse(call) || {};
      return (DOING[call.name] || (() => "Working on the page…"))(args, blockName);
    },
    async runCall(call) {
      const args = parse(call);
      if (args === null) return { ok: false, error: "The arguments are not a JSON object." };
      if (call.name === "describe_page") {
        return { blocks: canvas.blocks, selected: canvas.selectedBlockId() };
      }
      if (call.name === "select_block") {
        return canvas.select(args.block_id) ? { ok: true }
          : { ok: false, error: `There is no block with id ${JSON.stringify(args.block_id)}.` };
      }
      return change(call.name, args, call.callId);
    },
  };
}

/** A change to the editor's page, through its tools endpoint (which redraws the page). */
async function changeThePage(name, args, callId) {
  const answer = await post("tools/", { name, arguments: args, call_id: callId });
  return answer.ok ? { ok: true, result: answer.result } : { ok: false, error: answer.error.message };
}

const editorTools = editorCanvas ? pageTools(editorCanvas, changeThePage) : null;

/** The editor page's tools: what a call does, in words. */
export function describeCall(call) {
  return editorTools.describeCall(call);
}

/** The editor page's tools: run one function call (see `pageTools`). */
export function runCall(call) {
  return editorTools.runCall(call);
}
