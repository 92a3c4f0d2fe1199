// Mr. Blue's page tools, run in the editor when the model calls them: describe and select
// here, every change through the server (which checks permission, validates the arguments
// against the tool's schema and records a revision). The output goes back to the model.

import { currentBlocks, post, selectBlock, selectedBlockId } from "./editor.js";

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

function blockName(blockId) {
  const block = currentBlocks().find((b) => b.id === blockId);
  return block ? `the ${block.type}` : "a block";
}

function parse(call) {
  try {
    const value = JSON.parse(call.arguments || "{}");
    return value && typeof value === "object" && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/** What Mr. Blue is doing, in words, while a call runs. */
export function describeCall(call) {
  const args = parse(call) || {};
  return (DOING[call.name] || (() => "Working on the page…"))(args, blockName);
}

/** Run one function call; always resolves to the output for the model (never throws). */
export async function runCall(call) {
  const args = parse(call);
  if (args === null) return { ok: false, error: "The arguments are not a JSON object." };
  if (call.name === "describe_page") {
    return { blocks: currentBlocks(), selected: selectedBlockId() };
  }
  if (call.name === "select_block") {
    return selectBlock(args.block_id) ? { ok: true }
      : { ok: false, error: `There is no block with id ${JSON.stringify(args.block_id)}.` };
  }
  const answer = await post("tools/", { name: call.name, arguments: args, call_id: call.callId });
  return answer.ok ? { ok: true, result: answer.result } : { ok: false, error: answer.error.message };
}
