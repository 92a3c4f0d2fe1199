// The editor page: its canvas (canvas.js), the tabs of the side panel, Undo/Redo and the
// revision list, and `post` to the page's editor API. Other modules (the voice panel, the page
// tools) use the exported functions and listen for "editor:selection" on document.

import { Canvas } from "./canvas.js";

const root = document.querySelector(".editor");
const slug = root?.dataset.pageSlug;
/** The page's canvas (null outside the editor page, e.g. in the admin). */
export const canvas = root
  ? new Canvas(root.querySelector("[data-role='canvas']"),
               JSON.parse(document.getElementById("page-blocks")?.textContent || "[]"),
               { label: root.querySelector("[data-role='selected']") })
  : null;

/** The page's blocks as the canvas shows them. */
export function currentBlocks() {
  return canvas.blocks;
}

/** The id of the selected block, or null. */
export function selectedBlockId() {
  return canvas.selectedBlockId();
}

/** Select the block with this id (null clears the selection) and announce it. */
export function selectBlock(blockId) {
  return canvas.select(blockId);
}

/** Redraw the canvas from `newBlocks`, keeping the selection if its block survives. */
export function renderCanvas(newBlocks) {
  canvas.render(newBlocks);
}

/** Redraw the History tab's list of revisions. */
export function renderRevisions(revisions) {
  const list = document.querySelector("[data-role='revisions']");
  list.replaceChildren(...revisions.map((revision) => {
    const item = document.createElement("li");
    const when = new Date(revision.created_at).toLocaleTimeString();
    const text = document.createElement("span");
    text.textContent = `${when} · ${revision.author}${revision.note ? ` · ${revision.note}` : ""}` +
      (revision.undone ? " (undone)" : "");
    const restore = document.createElement("button");
    restore.type = "button";
    restore.className = "link";
    restore.textContent = "Restore";
    restore.dataset.testid = `button-restore-${revision.id}`;
    restore.addEventListener("click", () => post(`revisions/${revision.id}/restore/`, {}));
    item.append(text, " ", restore);
    return item;
  }));
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/** POST to this page's editor API; redraws the page on success; returns the JSON answer
 * (`{ok: true, ...}`, or `{error: {code, message}}`). */
export async function post(path, body) {
  let data;
  try {
    const answer = await fetch(`/editor/${slug}/${path}`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    });
    data = await answer.json();
  } catch {
    const message = "The change could not be saved: the server did not answer.";
    data = { error: { code: "no_answer", message } };
  }
  if (data.ok) {
    renderCanvas(data.blocks);
    renderRevisions(data.revisions);
  }
  showEditorMessage(data.ok ? "" : data.error.message);
  return data;
}

function showEditorMessage(text) {
  const box = document.querySelector("[data-role='editor-message']");
  box.textContent = text;
  box.hidden = !text;
}

function setupHistory() {
  document.querySelector("[data-role='undo']")
    .addEventListener("click", () => post("tools/", { name: "undo", arguments: {} }));
  document.querySelector("[data-role='redo']")
    .addEventListener("click", () => post("tools/", { name: "redo", arguments: {} }));
}

/** Show the tab panel named `name` and mark its tab selected. */
export function showTab(name) {
  document.querySelectorAll("[role='tab']").forEach((tab) => {
    tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
  });
  document.querySelectorAll(".tab-panel").forEach((panel) => {
    panel.hidden = panel.dataset.panel !== name;
  });
}

function setupTabs() {
  document.querySelectorAll("[role='tab']").forEach((tab) => {
    tab.addEventListener("click", () => showTab(tab.dataset.tab));
  });
}

if (canvas) {
  setupHistory();
  setupTabs();
  renderRevisions(JSON.parse(document.getElementById("page-revisions").textContent));
}
