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
 * @param {Partial<Record<K, string>>} [titles]  a header's hover text (how that column sorts, when it matters)
 */
export function sortHeaders(columns, onSort, testidPrefix, titles = {}) {
  /** @type {Map<K, HTMLTableCellElement>} */
  const cells = new Map();
  const ths = columns.map(([label, key, cls]) => {
    if (key === null) return h("th", { scope: "col", class: cls ?? "" }, label);
    const th = /** @type {HTMLTableCellElement} */ (
      h(
        "th",
        { scope: "col", class: cls ?? "", "aria-sort": "none" },
        h("button", { type: "button", class: "sort", testid: `${testidPrefix}-${key}`, title: titles[key] ?? null, on: { click: () => onSort(key) } }, label),
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

/**
 * A comparison for ordering loaded rows on the page: by the text `get` reads, case-insensitively and with
 * numbers in their natural order ("res-9" before "res-10"); rows without a value (masked, none) go last either
 * way round.
 * @template T
 * @param {(row: T) => string | null | undefined} get
 * @param {boolean} descending
 * @returns {(a: T, b: T) => number}
 */
export function compareBy(get, descending) {
  const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });
  return (a, b) => {
    const x = get(a) ?? "";
    const y = get(b) ?? "";
    if (!x || !y) return x ? -1 : y ? 1 : 0;
    const r = collator.compare(x, y);
    return descending ? -r : r;
  };
}
