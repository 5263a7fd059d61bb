// @ts-check
/**
 * A table that pages on a keyset cursor: the first page on `reload`, the next ones when the user scrolls near
 * the end (IntersectionObserver on a sentinel), presses "Load more", or arrows past the last rows. Each
 * request takes a guard token in the table's lane, so a reload supersedes pages still in flight and nothing
 * arrives for a tenant the user has left. Rows are built by the caller with DOM APIs only. `setOrder` sorts the
 * rows loaded so far on the page (for a column the server cannot order by); pages loaded later join that order.
 */
import { announce, h, replace } from "./dom.js";
import { errorBox } from "./errors.js";
import { formatCount } from "./format.js";
import { isStale } from "./guard.js";
import { nearEnd, nextIndex } from "./keynav.js";

/** @typedef {import("./guard.js").Guard} Guard */

/**
 * @template T
 * @typedef {object} PagedOptions
 * @property {Guard} guard
 * @property {string} lane                  the guard lane of this table's requests
 * @property {(after: string | null) => Promise<import("./api.js").Page<T> & import("./api.js").Masked>} fetch
 * @property {(item: T, index: number) => HTMLTableRowElement} row
 * @property {HTMLTableElement} table       with a <thead>; rows go in its <tbody>
 * @property {string} noun                  "member", "event": for the status line
 * @property {() => string} emptyText       what an empty result says (depends on the filters)
 * @property {string} testid                prefix of the status / more test ids
 * @property {(item: T) => void} [activate] Enter or click on a row
 * @property {() => void} [reconnect]
 * @property {(count: number, more: boolean) => string} [statusText]
 * @property {(page: import("./api.js").Page<T> & import("./api.js").Masked, first: boolean) => void} [onPage]  each page, before its rows are built
 * @property {(error: unknown) => boolean} [intercept]  true: the caller handled the failure (no error box)
 */

/**
 * @template T
 * @param {PagedOptions<T>} o
 */
export function pagedTable(o) {
  /** @type {T[]} the rows in the server's order */
  let items = [];
  /** @type {((a: T, b: T) => number) | null} a page-side order over the loaded rows, or null for the server's */
  let order = null;
  /** @type {T[]} the rows as shown: `items`, or `items` sorted by `order` */
  let shown = [];
  const arrange = () => {
    // Array.prototype.sort is stable: rows that tie keep the server's order.
    shown = order ? items.slice().sort(order) : items;
  };
  /** @type {string | null} */
  let cursor = null;
  let loading = false;
  let active = -1;

  const tbody = h("tbody");
  o.table.append(tbody);
  o.table.tabIndex = 0;
  const status = h("div", { class: "list-status", testid: `${o.testid}-status`, "aria-live": "polite" });
  const more = h("button", { type: "button", class: "load-more", testid: `${o.testid}-more`, hidden: true, on: { click: () => void loadMore() } }, "Load more");
  const sentinel = h("div", { class: "sentinel", "aria-hidden": "true" });
  const scroller = h("div", { class: "table-scroll" }, o.table, sentinel, more);
  const el = h("div", { class: "paged" }, status, scroller);

  const observer =
    typeof IntersectionObserver === "function"
      ? new IntersectionObserver((entries) => {
          if (entries.some((e) => e.isIntersecting) && cursor && !loading) void loadMore();
        }, { root: scroller, rootMargin: "200px" })
      : null;
  observer?.observe(sentinel);

  o.table.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && active >= 0 && o.activate) {
      e.preventDefault();
      o.activate(shown[active]);
      return;
    }
    const next = nextIndex(e.key, active, shown.length);
    if (next === null) return;
    e.preventDefault();
    setActive(next);
    if (nearEnd(next, shown.length, cursor !== null) && !loading) void loadMore();
  });

  /** @param {number} i */
  function setActive(i) {
    active = i;
    const trs = tbody.rows;
    for (let j = 0; j < trs.length; j += 1) {
      trs[j].classList.toggle("active", j === i);
      trs[j].setAttribute("aria-selected", String(j === i));
    }
    const tr = trs[i];
    if (tr) {
      if (!tr.id) tr.id = `${o.testid}-row-${i}`;
      o.table.setAttribute("aria-activedescendant", tr.id);
      tr.scrollIntoView({ block: "nearest" });
    } else {
      o.table.removeAttribute("aria-activedescendant");
    }
  }

  /** @param {T} item */
  function build(item) {
    const tr = o.row(item, items.indexOf(item));
    tr.setAttribute("aria-selected", "false");
    if (o.activate) {
      tr.addEventListener("click", () => {
        setActive(shown.indexOf(item));
        o.activate?.(item);
      });
    }
    return tr;
  }

  /** Shows the rows in `shown` order, keeping the active row on the same item. */
  function renderRows() {
    const current = active >= 0 ? shown[active] : undefined;
    arrange();
    replace(tbody, shown.map(build));
    active = current === undefined ? -1 : shown.indexOf(current);
    if (active >= 0) setActive(active);
  }

  function renderStatus() {
    if (!items.length) {
      replace(status, h("p", { class: "empty", testid: `${o.testid}-empty` }, o.emptyText()));
      return;
    }
    const text = o.statusText
      ? o.statusText(items.length, cursor !== null)
      : `${formatCount(items.length)}${cursor ? "+" : ""} ${o.noun}${items.length === 1 && !cursor ? "" : "s"}${cursor ? " · scroll for more" : ""}`;
    replace(status, h("p", null, text));
  }

  async function reload() {
    const tok = o.guard.token(o.lane);
    loading = true;
    scroller.setAttribute("aria-busy", "true");
    more.hidden = true;
    replace(status, h("p", { class: "muted loading" }, "Loading…"));
    try {
      const page = await o.guard.keep(tok, o.fetch(null));
      o.onPage?.(page, true);
      items = page.items;
      cursor = page.next_cursor;
      active = -1;
      arrange();
      replace(tbody, shown.map(build));
      renderStatus();
      announce(items.length ? `${items.length}${cursor ? " or more" : ""} ${o.noun}s.` : o.emptyText());
    } catch (e) {
      if (isStale(e)) return;
      items = [];
      shown = [];
      cursor = null;
      replace(tbody);
      if (o.intercept?.(e)) return;
      replace(status, errorBox(e, { retry: () => void reload(), reconnect: o.reconnect }));
    } finally {
      if (o.guard.isCurrent(tok)) {
        loading = false;
        scroller.removeAttribute("aria-busy");
        more.hidden = !cursor;
      }
    }
  }

  async function loadMore() {
    if (!cursor || loading) return;
    const tok = o.guard.token(o.lane);
    loading = true;
    more.disabled = true;
    more.textContent = "Loading…";
    try {
      const page = await o.guard.keep(tok, o.fetch(cursor));
      o.onPage?.(page, false);
      items = items.concat(page.items);
      cursor = page.next_cursor;
      if (order) renderRows();
      else {
        arrange();
        tbody.append(...page.items.map(build));
      }
      renderStatus();
    } catch (e) {
      if (isStale(e) || o.intercept?.(e)) return;
      replace(status, errorBox(e, { retry: () => void loadMore(), reconnect: o.reconnect }));
    } finally {
      if (o.guard.isCurrent(tok)) {
        loading = false;
        more.disabled = false;
        more.textContent = "Load more";
        more.hidden = !cursor;
      }
    }
  }

  return {
    el,
    reload,
    loadMore,
    /** The rows loaded, as shown (in the page-side order when one is set). */
    get items() {
      return shown;
    },
    /**
     * Orders the loaded rows on the page (null: the server's order again), without asking the server.
     * @param {((a: T, b: T) => number) | null} compare
     */
    setOrder(compare) {
      order = compare;
      renderRows();
      if (items.length) renderStatus();
    },
    destroy() {
      observer?.disconnect();
      o.guard.abandon(o.lane);
    },
  };
}
