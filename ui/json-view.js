// @ts-check
/**
 * A JSON viewer for event metadata: objects and arrays fold (native <details>, so the keyboard and screen
 * readers know them), long strings wrap instead of running off the panel, every value is text (never markup),
 * and the whole value can be copied as formatted JSON. Deep levels start folded so the top of the metadata is
 * what shows first.
 */
import { h } from "./dom.js";

/** Levels below this start folded. */
const OPEN_DEPTH = 2;

/**
 * A one-line summary of a folded object or array: `{ 3 keys }`, `[ 2 items ]`.
 * @param {unknown} v
 */
export function summarize(v) {
  if (Array.isArray(v)) return `[ ${v.length} item${v.length === 1 ? "" : "s"} ]`;
  if (v && typeof v === "object") {
    const n = Object.keys(v).length;
    return `{ ${n} key${n === 1 ? "" : "s"} }`;
  }
  return JSON.stringify(v) ?? "null";
}

/**
 * The viewer for `value`.
 * @param {unknown} value
 * @returns {HTMLElement}
 */
export function jsonView(value) {
  return h("div", { class: "json-view", testid: "json-view" }, node(value, 0, null));
}

/**
 * @param {unknown} v
 * @param {number} depth
 * @param {string | null} key
 * @returns {HTMLElement}
 */
function node(v, depth, key) {
  const label = key === null ? null : h("span", { class: "json-key" }, `${JSON.stringify(key)}: `);
  if (v !== null && typeof v === "object") {
    /** @type {[string, unknown][]} */
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v);
    if (entries.length === 0) return h("div", { class: "json-line" }, label, h("span", { class: "json-punct" }, Array.isArray(v) ? "[]" : "{}"));
    const details = h(
      "details",
      { class: "json-node", open: depth < OPEN_DEPTH },
      h("summary", null, label, h("span", { class: "json-punct" }, summarize(v))),
      h(
        "div",
        { class: "json-children" },
        entries.map(([k, x]) => node(x, depth + 1, Array.isArray(v) ? null : /** @type {string} */ (k))),
      ),
    );
    return details;
  }
  const kind = v === null ? "null" : typeof v;
  return h("div", { class: "json-line" }, label, h("span", { class: `json-${kind}` }, JSON.stringify(v) ?? "null"));
}
