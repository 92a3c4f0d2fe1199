// Unit tests of the admin console's scratch copy: edits go through `apply`, Undo and Redo keep
// a history of their own, and changes happen one at a time in the order they were asked.
// Run with: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { ScratchPage } from "../../static/editor/scratch-page.js";

const PAGE = [{ id: "h", type: "heading", text: "Hello", style: {} }];

/** An `apply` that sets the heading's text to the call's `text`, after `delay` ms. */
function settingText(calls, delay = () => 0) {
  return (blocks, name, args) => new Promise((resolve) => {
    calls.push({ blocks, name, args });
    setTimeout(() => {
      if (args.text === "refuse") resolve({ ok: false, error: "Not that." });
      else resolve({ ok: true, result: `says ${args.text}`,
                     blocks: [{ ...blocks[0], text: args.text }] });
    }, delay(args));
  });
}

function scratch(apply) {
  const shown = [];
  const page = new ScratchPage({ blocks: PAGE, apply, onChange: (blocks) => shown.push(blocks) });
  return { page, shown, text: () => page.blocks[0].text };
}

test("an edit changes the copy and is shown", async () => {
  const calls = [];
  const { page, shown, text } = scratch(settingText(calls));
  const answer = await page.change("update_text", { text: "Hi" }, "call_1");
  assert.deepEqual(answer, { ok: true, result: "says Hi" });
  assert.equal(text(), "Hi");
  assert.deepEqual(calls[0].blocks, PAGE);
  assert.deepEqual(shown.map((blocks) => blocks[0].text), ["Hello", "Hi"]);
});

test("a refused edit changes nothing and says why", async () => {
  const { page, text } = scratch(settingText([]));
  assert.deepEqual(await page.change("update_text", { text: "refuse" }),
                   { ok: false, error: "Not that." });
  assert.equal(text(), "Hello");
  assert.deepEqual(await page.change("undo", {}), { ok: false, error: "There is nothing to undo." });
});

test("undo and redo walk the copy's own history; a new edit ends the redo history", async () => {
  const { page, text } = scratch(settingText([]));
  await page.change("update_text", { text: "One" });
  await page.change("update_text", { text: "Two" });
  assert.deepEqual(await page.change("undo", {}), { ok: true, result: "undid: update_text: says Two" });
  assert.equal(text(), "One");
  await page.change("undo", {});
  assert.equal(text(), "Hello");
  assert.deepEqual(await page.change("redo", {}), { ok: true, result: "redid: update_text: says One" });
  assert.equal(text(), "One");
  await page.change("update_text", { text: "Three" });
  assert.deepEqual(await page.change("redo", {}), { ok: false, error: "There is nothing to redo." });
  await page.change("undo", {});
  assert.equal(text(), "One");
});

test("changes asked together are made one after the other, in order", async () => {
  const calls = [];
  // The first edit takes longer than the second: the second must still see its result.
  const { page, text } = scratch(settingText(calls, (args) => (args.text === "A" ? 30 : 0)));
  const first = page.change("update_text", { text: "A" });
  const second = page.change("update_text", { text: "B" });
  const undo = page.change("undo", {});
  await Promise.all([first, second, undo]);
  assert.equal(calls[1].blocks[0].text, "A");
  assert.equal(text(), "A");
});

test("starting over forgets the history", async () => {
  const { page, text } = scratch(settingText([]));
  await page.change("update_text", { text: "One" });
  page.reset(PAGE);
  assert.equal(text(), "Hello");
  assert.deepEqual(await page.change("undo", {}), { ok: false, error: "There is nothing to undo." });
});
