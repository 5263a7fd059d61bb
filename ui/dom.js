// @ts-check
/**
 * DOM helpers. `h` builds elements from properties and children; text always goes in as text nodes, so user
 * data (tenant names like `<img onerror=…>`, `=HYPERLINK(…)`) is never parsed as markup. No module of the UI
 * hands a string to the HTML parser (tests/sources.test.js checks the sources).
 */

/** @typedef {Node | string | number | null | undefined | false} Child */
/** @typedef {Child | Child[] | Child[][]} Children */

/** Properties set as DOM properties rather than attributes. */
const PROPS = new Set(["value", "checked", "disabled", "hidden", "selected", "indeterminate", "readOnly", "required"]);

/**
 * Creates an element. Props: `class`, `testid` (data-testid), `on` (event listeners), DOM properties (value,
 * checked, disabled, hidden, ...), anything else as an attribute (`aria-*`, `role`, `for`, `type`, ...);
 * `true` sets an empty attribute, `false` / null / undefined sets nothing.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown> | null} [props]
 * @param {...Children} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") el.className = String(v);
      else if (k === "testid") el.setAttribute("data-testid", String(v));
      else if (k === "on") {
        for (const [ev, fn] of Object.entries(/** @type {Record<string, EventListener>} */ (v))) el.addEventListener(ev, fn);
      } else if (PROPS.has(k)) /** @type {any} */ (el)[k] = v;
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

/**
 * Appends children (text as text nodes).
 * @param {Element | DocumentFragment} parent
 * @param {Children[]} children
 */
export function append(parent, children) {
  for (const c of /** @type {Child[]} */ (children.flat(Infinity))) {
    if (c === null || c === undefined || c === false) continue;
    parent.append(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

/**
 * Replaces an element's children.
 * @param {Element} el
 * @param {...Children} children
 */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/**
 * The element with this id, of the expected type; throws if the page is not what the code expects.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
export function byId(id, type) {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`the page has no ${type.name} #${id}`);
  return el;
}

/**
 * A function that runs `fn` once calls stop for `ms` (search as you type).
 * @template {unknown[]} A
 * @param {(...args: A) => void} fn
 * @param {number} ms
 * @returns {((...args: A) => void) & { cancel(): void, flush(): void }}
 */
export function debounce(fn, ms) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @type {A | null} */
  let pending = null;
  const d = (/** @type {A} */ ...args) => {
    pending = args;
    clearTimeout(timer);
    timer = setTimeout(() => {
      const a = pending;
      pending = null;
      if (a) fn(...a);
    }, ms);
  };
  d.cancel = () => {
    clearTimeout(timer);
    pending = null;
  };
  d.flush = () => {
    clearTimeout(timer);
    const a = pending;
    pending = null;
    if (a) fn(...a);
  };
  return d;
}

let idSeq = 0;
/** @param {string} prefix a unique element id */
export function uid(prefix) {
  idSeq += 1;
  return `${prefix}-${idSeq}`;
}

/**
 * Says something to screen readers through the page's polite live region (#status).
 * @param {string} text
 */
export function announce(text) {
  const el = document.getElementById("status");
  if (!el) return;
  // Re-setting the same text would not be announced again: clear first.
  el.textContent = "";
  requestAnimationFrame(() => {
    el.textContent = text;
  });
}

/**
 * A labelled form field: <div class="field"><label for=…>label</label> control hint?</div>.
 * @param {string} label
 * @param {HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement} control  must have an id
 * @param {string} [hint]
 */
export function field(label, control, hint) {
  const hintEl = hint ? h("small", { class: "hint", id: `${control.id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hintEl);
}

/**
 * A select with options [value, label].
 * @param {Record<string, unknown>} props
 * @param {[string, string][]} options
 * @param {string} [selected]
 */
export function select(props, options, selected) {
  return h("select", props, options.map(([v, l]) => h("option", { value: v, selected: v === selected }, l)));
}

/**
 * A native calendar (`<input type="datetime-local">`) beside a text field that keeps typed ISO text
 * ("2026-11-20 14:30"): picking fills the field; typing a date (and time) moves the calendar. Call `sync()`
 * after setting the field from code. The calendar stays out of the Tab order: the field is the keyboard's.
 * @param {HTMLInputElement} input
 * @param {string} label  its accessible name
 * @param {string} testid
 * @returns {HTMLInputElement & { sync(): void }}
 */
export function calendarPicker(input, label, testid) {
  const picker = /** @type {HTMLInputElement & { sync(): void }} */ (
    h("input", { type: "datetime-local", step: "60", class: "picker", tabindex: "-1", "aria-label": label, title: "Pick on a calendar", testid })
  );
  picker.addEventListener("input", () => {
    if (!picker.value) return;
    input.value = picker.value.replace("T", " ").slice(0, 16);
    input.removeAttribute("aria-invalid");
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });
  picker.sync = () => {
    const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}))?/.exec(input.value.trim());
    picker.value = m ? `${m[1]}T${m[2] ?? "00:00"}` : "";
  };
  input.addEventListener("input", () => picker.sync());
  picker.sync();
  return picker;
}
