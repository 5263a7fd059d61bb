// @ts-check
/**
 * <copy-button for="ID">: copies the text of the element with that id (or its own `value` attribute) to the
 * clipboard. Modeled on github/clipboard-copy-element: behaviour driven by attributes, a custom event as its
 * public API (`copy-button:copied`, bubbling, with `detail.text`; `copy-button:failed` when no clipboard is
 * available, after selecting the text so Ctrl+C works), and `define` kept apart from the class.
 */

/**
 * Writes text to the clipboard: the async Clipboard API, else the legacy copy command on a temporary node.
 * @param {string} text
 * @returns {Promise<boolean>}
 */
export async function writeText(text) {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Denied (e.g. not focused): try the legacy path.
  }
  const node = document.createElement("textarea");
  node.value = text;
  node.setAttribute("readonly", "");
  node.className = "offscreen";
  document.body.append(node);
  node.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  node.remove();
  return ok;
}

export class CopyButton extends HTMLElement {
  connectedCallback() {
    if (!this.hasAttribute("tabindex")) this.tabIndex = 0;
    if (!this.hasAttribute("role")) this.setAttribute("role", "button");
    if (!this.textContent) this.textContent = "Copy";
    this.addEventListener("click", this.#onClick);
    this.addEventListener("keydown", this.#onKey);
  }

  disconnectedCallback() {
    this.removeEventListener("click", this.#onClick);
    this.removeEventListener("keydown", this.#onKey);
  }

  /** The text this button copies. */
  get text() {
    const id = this.getAttribute("for");
    if (id) {
      const target = this.ownerDocument.getElementById(id);
      if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) return target.value;
      return target?.textContent ?? "";
    }
    return this.getAttribute("value") ?? "";
  }

  #onClick = () => void this.copy();

  /** @param {KeyboardEvent} e */
  #onKey = (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      void this.copy();
    }
  };

  async copy() {
    const text = this.text;
    const ok = await writeText(text);
    if (ok) {
      this.dispatchEvent(new CustomEvent("copy-button:copied", { bubbles: true, detail: { text } }));
      this.#flash("Copied");
      return;
    }
    const id = this.getAttribute("for");
    const target = id ? this.ownerDocument.getElementById(id) : null;
    if (target) {
      const range = document.createRange();
      range.selectNodeContents(target);
      const sel = window.getSelection();
      sel?.removeAllRanges();
      sel?.addRange(range);
    }
    this.dispatchEvent(new CustomEvent("copy-button:failed", { bubbles: true, detail: { text } }));
    this.#flash("Selected — press Ctrl+C");
  }

  /** @param {string} label */
  #flash(label) {
    const original = this.dataset.label ?? this.textContent ?? "Copy";
    this.dataset.label = original;
    this.textContent = label;
    setTimeout(() => {
      this.textContent = original;
    }, 1500);
  }
}

/**
 * A copy button for the element with id `forId` (the element must be registered with `define`).
 * @param {string} forId
 * @param {string} [label]  its accessible name, when "Copy" alone would be ambiguous
 */
export function copyButton(forId, label) {
  const el = document.createElement("copy-button");
  el.setAttribute("for", forId);
  el.setAttribute("data-testid", "copy-button");
  if (label) el.setAttribute("aria-label", label);
  return el;
}

/**
 * A copy button with its own text to copy and its own caption ("Copy event id"): for values not on screen as
 * one element (a row as JSON or CSV).
 * @param {string} text
 * @param {string} caption
 * @param {string} [testid]
 */
export function copyValueButton(text, caption, testid) {
  const el = document.createElement("copy-button");
  el.setAttribute("value", text);
  el.setAttribute("data-testid", testid ?? "copy-value");
  el.textContent = caption;
  return el;
}

/** Registers the element (once). */
export function define(name = "copy-button") {
  if (!customElements.get(name)) customElements.define(name, CopyButton);
}
