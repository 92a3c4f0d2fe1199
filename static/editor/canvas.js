// A page's blocks drawn from data: click (or Enter) selects a block, Escape clears the
// selection, and every selection is announced as "editor:selection" on document (the voice
// panel listens). The editor's canvas and the admin console's scratch preview are each one.

const SELECTED = "is-selected";

/** A block in a few words, e.g. `heading "Mundo Tango"`. */
export function describe(block) {
  const text = (block.text || block.alt || "").trim().replace(/\s+/g, " ");
  const short = text.length > 40 ? `${text.slice(0, 37)}...` : text;
  return short ? `${block.type} "${short}"` : block.type;
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

export class Canvas {
  /** `element` shows the blocks (as the server drew them, until `render`); `label`, if any,
   * says what is selected. */
  constructor(element, blocks, { label = null } = {}) {
    this.element = element;
    this.blocks = blocks;
    this.label = label;
    element.addEventListener("click", (event) => {
      const block = event.target.closest(".block");
      if (block) event.preventDefault();
      this.select(block ? block.dataset.blockId : null);
    });
    element.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && event.target.classList.contains("block")) {
        this.select(event.target.dataset.blockId);
      }
      if (event.key === "Escape") this.select(null);
    });
  }

  /** The id of the selected block, or null. */
  selectedBlockId() {
    return this.element.querySelector(`.block.${SELECTED}`)?.dataset.blockId || null;
  }

  /** Select the block with this id (null clears the selection) and announce it; true if
   * there is such a block. */
  select(blockId) {
    this.element.querySelectorAll(`.block.${SELECTED}`)
      .forEach((el) => el.classList.remove(SELECTED));
    const element = blockId
      ? this.element.querySelector(`[data-block-id="${CSS.escape(blockId)}"]`) : null;
    const block = this.blocks.find((b) => b.id === blockId);
    if (element && block) element.classList.add(SELECTED);
    if (this.label) {
      this.label.textContent = element && block ? `Selected: ${describe(block)}` : "Nothing selected";
    }
    const detail = element && block ? { blockId, description: describe(block) } : null;
    document.dispatchEvent(new CustomEvent("editor:selection", { detail }));
    return Boolean(detail);
  }

  /** Redraw from `blocks`, keeping the selection if its block survives. */
  render(blocks) {
    const selected = this.selectedBlockId();
    this.blocks = blocks;
    this.element.replaceChildren(...blocks.map(blockElement));
    if (!blocks.length) this.element.innerHTML = '<p class="muted">This page is empty.</p>';
    if (selected && blocks.some((b) => b.id === selected)) this.select(selected);
    else if (selected) this.select(null);
  }
}
