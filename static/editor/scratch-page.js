// A scratch copy of a page, kept in the browser: the admin's console lets Mr. Blue change it
// instead of the page. Each edit is made by `apply` (in the console: the server's own page
// operations, which validate it and store nothing); Undo and Redo keep a history of their own
// that works as the editor's does (editor/history.py): undo takes back the latest edit not
// undone, redo makes the latest undone edit again, and a new edit ends the redo history.

export class ScratchPage {
  /**
   * `blocks`: the page as the copy starts; `apply(blocks, name, args, callId)` makes one edit
   * and resolves to `{ok: true, result, blocks}` or `{ok: false, error: "<words>"}`;
   * `onChange(blocks)` is told every new state of the copy.
   */
  constructor({ blocks, apply, onChange = () => {} }) {
    this.apply = apply;
    this.onChange = onChange;
    this.queue = Promise.resolve(); // one change at a time, in the order they were asked
    this.reset(blocks);
  }

  /** Start again from `blocks`, with no history. */
  reset(blocks) {
    this.blocks = blocks;
    this.done = []; // [{before, after, note}], oldest first
    this.undone = []; // undone edits, the latest last
    this.onChange(blocks);
  }

  /** Carry out a page-changing tool call on the copy (an edit, `undo` or `redo`); resolves
   * to `{ok: true, result}` or `{ok: false, error}`, the output the model gets. */
  change(name, args, callId = "") {
    const run = () => {
      if (name === "undo") return this.undo();
      if (name === "redo") return this.redo();
      return this.edit(name, args, callId);
    };
    const result = this.queue.then(run);
    this.queue = result.catch(() => {});
    return result;
  }

  async edit(name, args, callId) {
    const before = this.blocks;
    const answer = await this.apply(before, name, args, callId);
    if (!answer.ok) return { ok: false, error: answer.error };
    this.done.push({ before, after: answer.blocks, note: `${name}: ${answer.result}` });
    this.undone = [];
    this.show(answer.blocks);
    return { ok: true, result: answer.result };
  }

  undo() {
    const edit = this.done.pop();
    if (!edit) return { ok: false, error: "There is nothing to undo." };
    this.undone.push(edit);
    this.show(edit.before);
    return { ok: true, result: `undid: ${edit.note}` };
  }

  redo() {
    const edit = this.undone.pop();
    if (!edit) return { ok: false, error: "There is nothing to redo." };
    this.done.push(edit);
    this.show(edit.after);
    return { ok: true, result: `redid: ${edit.note}` };
  }

  show(blocks) {
    this.blocks = blocks;
    this.onChange(blocks);
  }
}
