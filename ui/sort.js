// @ts-check
/**
 * Sortable column headers: a button in each <th>, `aria-sort` on the sorted one, and the rule for the next
 * order (the same column again reverses it; another column starts in its natural direction).
 */
import { h } from "./dom.js";

/**
 * @template {string} K
 * @typedef {{ key: K, descending: boolean }} SortState
 */

/**
 * The order after clicking `key`'s header.
 * @template {string} K
 * @param {SortState<K>} current
 * @param {K} key
 * @param {K[]} [descFirst]  columns whose first click sorts descending (dates: the newest first)
 * @returns {SortState<K>}
 */
export function nextSort(current, key, descFirst = []) {
  if (current.key === key) return { key, descending: !current.descending };
  return { key, descending: descFirst.includes(key) };
}

/**
 * Header cells for the sortable columns; `update(state)` marks the sorted one.
 * @template {string} K
 * @param {[string, K | null, string?][]} columns  label, sort key (null: not sortable), extra class
 * @param {(key: K) => void} onSort
 * @param {string} testidPrefix
 */
export function sortHeaders(columns, onSort, testidPrefix) {
  /** @type {Map<K, HTMLTableCellElement>} */
  const cells = new Map();
  const ths = columns.map(([label, key, cls]) => {
    if (key === null) return h("th", { scope: "col", class: cls ?? "" }, label);
    const th = /** @type {HTMLTableCellElement} */ (
      h(
        "th",
        { scope: "col", class: cls ?? "", "aria-sort": "none" },
        h("button", { type: "button", class: "sort", testid: `${testidPrefix}-${key}`, on: { click: () => onSort(key) } }, label),
      )
    );
    cells.set(key, th);
    return th;
  });
  return {
    ths,
    /** @param {SortState<K>} s */
    update(s) {
      for (const [k, th] of cells) {
        const on = k === s.key;
        // The arrow is the stylesheet's, from aria-sort.
        th.setAttribute("aria-sort", on ? (s.descending ? "descending" : "ascending") : "none");
      }
    },
  };
}
