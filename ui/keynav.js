// @ts-check
/**
 * The keyboard model of a list (tenant rows, switcher results, audit rows): which item is active after a key.
 * Pure, so the same rules drive every list and node tests check them. The DOM side moves
 * `aria-activedescendant` / the `aria-selected` row to the index this returns.
 */

/** Rows a PageUp / PageDown moves. */
export const PAGE = 10;

/**
 * The active index after `key`, or null when the key is not a navigation key (let it through).
 * With no active item (-1), Down goes to the first and Up to the last.
 * @param {string} key     KeyboardEvent.key
 * @param {number} index   the active index, -1 for none
 * @param {number} count   how many items the list has
 * @returns {number | null}
 */
export function nextIndex(key, index, count) {
  if (count <= 0) return key === "ArrowDown" || key === "ArrowUp" || key === "Home" || key === "End" ? -1 : null;
  const last = count - 1;
  switch (key) {
    case "ArrowDown":
      return index < 0 ? 0 : Math.min(index + 1, last);
    case "ArrowUp":
      return index < 0 ? last : Math.max(index - 1, 0);
    case "PageDown":
      return index < 0 ? Math.min(PAGE - 1, last) : Math.min(index + PAGE, last);
    case "PageUp":
      return index < 0 ? 0 : Math.max(index - PAGE, 0);
    case "Home":
      return 0;
    case "End":
      return last;
    default:
      return null;
  }
}

/**
 * Whether moving to `index` should fetch the next page (the user reached the last rows and there are more).
 * @param {number} index
 * @param {number} count
 * @param {boolean} hasMore
 * @param {number} [margin]  how close to the end counts as the end
 */
export function nearEnd(index, count, hasMore, margin = 3) {
  return hasMore && count > 0 && index >= count - 1 - margin;
}

/**
 * The index to keep active after the list was replaced (a new search): the same id if still there, else the
 * first item, else none.
 * @param {string[]} ids
 * @param {string | null} activeId
 */
export function keepActive(ids, activeId) {
  if (activeId !== null) {
    const i = ids.indexOf(activeId);
    if (i >= 0) return i;
  }
  return ids.length ? 0 : -1;
}
