// The editor canvas: click (or Enter) selects a block; tabs switch the side panel.
// Other modules (the voice panel) listen for the "editor:selection" event on document.

const SELECTED = "is-selected";

function describe(block) {
  const type = block.dataset.blockType;
  const text = (block.innerText || "").trim().replace(/\s+/g, " ");
  const short = text.length > 40 ? `${text.slice(0, 37)}...` : text;
  return short ? `${type} "${short}"` : type;
}

/** Select a block element (or clear the selection with null) and announce it. */
export function selectBlock(block) {
  document.querySelectorAll(`.block.${SELECTED}`).forEach((el) => el.classList.remove(SELECTED));
  const label = document.querySelector("[data-testid='text-selected']");
  if (block) {
    block.classList.add(SELECTED);
    label.textContent = `Selected: ${describe(block)}`;
  } else {
    label.textContent = "Nothing selected";
  }
  const detail = block ? { blockId: block.dataset.blockId, description: describe(block) } : null;
  document.dispatchEvent(new CustomEvent("editor:selection", { detail }));
}

function setupCanvas(canvas) {
  canvas.addEventListener("click", (event) => {
    const block = event.target.closest(".block");
    if (block) event.preventDefault();
    selectBlock(block);
  });
  canvas.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.classList.contains("block")) {
      selectBlock(event.target);
    }
    if (event.key === "Escape") selectBlock(null);
  });
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

const canvas = document.querySelector("[data-testid='canvas']");
if (canvas) {
  setupCanvas(canvas);
  setupTabs();
}
