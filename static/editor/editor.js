// The editor canvas: blocks drawn from data, click (or Enter) selects one, tabs switch the side
// panel, Undo/Redo and the revision list. Other modules (the voice panel, the page tools) use
// the exported functions and listen for "editor:selection" on document.

const SELECTED = "is-selected";
const canvas = document.querySelector("[data-role='canvas']");
const slug = document.querySelector(".editor")?.dataset.pageSlug;
let blocks = JSON.parse(document.getElementById("page-blocks")?.textContent || "[]");

function describe(block) {
  const text = (block.text || block.alt || "").trim().replace(/\s+/g, " ");
  const short = text.length > 40 ? `${text.slice(0, 37)}...` : text;
  return short ? `${block.type} "${short}"` : block.type;
}

/** The page's blocks as the canvas shows them. */
export function currentBlocks() {
  return blocks;
}

/** The id of the selected block, or null. */
export function selectedBlockId() {
  return canvas?.querySelector(`.block.${SELECTED}`)?.dataset.blockId || null;
}

/** Select the block with this id (null clears the selection) and announce it. */
export function selectBlock(blockId) {
  canvas.querySelectorAll(`.block.${SELECTED}`).forEach((el) => el.classList.remove(SELECTED));
  const element = blockId ? canvas.querySelector(`[data-block-id="${CSS.escape(blockId)}"]`) : null;
  const block = blocks.find((b) => b.id === blockId);
  const label = document.querySelector("[data-role='selected']");
  if (element && block) {
    element.classList.add(SELECTED);
    label.textContent = `Selected: ${describe(block)}`;
  } else {
    label.textContent = "Nothing selected";
  }
  const detail = element && block ? { blockId, description: describe(block) } : null;
  document.dispatchEvent(new CustomEvent("editor:selection", { detail }));
  return Boolean(detail);
}

function blockElement(block) {
  const element = document.createElement("div");
  element.className = `block block-${block.type}`;
  element.dataset.blockId = block.id;
  element.dataset.blockType = block.type;
  element.dataset.testid = `block-${block.id}`;
  element.tabIndex = 0;
  const style = block.style || {};
  if (style.color) element.style.color = style.color;
  if (style.background) element.style.background = style.background;
  if (style.font_size) element.style.fontSize = `${style.font_size}px`;
  if (style.align) element.style.textAlign = style.align;
  let inner;
  if (block.type === "heading") inner = document.createElement("h1");
  else if (block.type === "paragraph") inner = document.createElement("p");
  else if (block.type === "button") {
    inner = document.createElement("button");
    inner.type = "button";
    inner.className = "page-button";
  } else {
    inner = document.createElement("img");
    inner.src = block.src;
    inner.alt = block.alt || "";
  }
  if (block.type !== "image") inner.textContent = block.text;
  element.append(inner);
  return element;
}

/** Redraw the canvas from `newBlocks`, keeping the selection if its block survives. */
export function renderCanvas(newBlocks) {
  const selected = selectedBlockId();
  blocks = newBlocks;
  canvas.replaceChildren(...blocks.map(blockElement));
  if (!blocks.length) canvas.innerHTML = '<p class="muted">This page is empty.</p>';
  if (selected && blocks.some((b) => b.id === selected)) selectBlock(selected);
  else if (selected) selectBlock(null);
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

function setupCanvas() {
  canvas.addEventListener("click", (event) => {
    const element = event.target.closest(".block");
    if (element) event.preventDefault();
    selectBlock(element ? element.dataset.blockId : null);
  });
  canvas.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.classList.contains("block")) {
      selectBlock(event.target.dataset.blockId);
    }
    if (event.key === "Escape") selectBlock(null);
  });
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
  setupCanvas();
  setupTabs();
  renderRevisions(JSON.parse(document.getElementById("page-revisions").textContent));
}
