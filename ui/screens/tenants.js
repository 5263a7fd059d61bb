// @ts-check
/**
 * The tenants screen: search as you type (debounced), sort, and a dense table to pick a tenant from, with the
 * keyboard (arrows, Page Up/Down, Home/End, Enter) or the mouse. Pages load on the keyset cursor as the user
 * scrolls (or presses "Load more"). The stats columns (members, audit events in 30 days, last activity) are
 * read after each page is shown, each tenant in its own scope, so typing never waits for them; they fill in by
 * tenant id, so a late answer can only ever land on its own tenant's row. Blocked, with an explanation, until a
 * bypass banner is acknowledged.
 */
import * as api from "../api.js";
import { readsAllowed } from "../actions.js";
import { announce, debounce, h, replace, select, uid } from "../dom.js";
import { errorBox } from "../errors.js";
import { formatAgo, formatCount, formatDate, formatEstimate, formatTime } from "../format.js";
import { isStale } from "../guard.js";
import { keepActive, nearEnd, nextIndex } from "../keynav.js";
import { consentBadge } from "./consent.js";

/** @typedef {import("../actions.js").Ctx} Ctx */
/** @typedef {import("../api.js").TenantRow} TenantRow */
/** @typedef {import("../api.js").TenantSort} TenantSort */
/** @typedef {import("../api.js").TenantStatsRow} TenantStatsRow */

const PAGE_SIZE = 50;
const SORTS = /** @type {[TenantSort, string][]} */ ([
  ["name", "Name"],
  ["slug", "Slug"],
  ["created_at", "Newest first"],
]);

/**
 * @param {HTMLElement} root
 * @param {Ctx} ctx
 */
export function mount(root, ctx) {
  const { store, actions } = ctx;
  const session = store.state.session;
  if (!session) return { unmount() {} };
  if (!readsAllowed(session)) {
    replace(
      root,
      h(
        "section",
        { class: "empty-state blocked", testid: "tenants-blocked" },
        h("h1", null, "Tenant data is hidden"),
        h("p", null, "Row-level security does not apply to this login. Read the red banner above: tenant data stays hidden until you acknowledge it, or connect with another login."),
      ),
    );
    return { unmount() {} };
  }
  const profileId = session.profile_id;

  /** @type {TenantRow[]} */
  let rows = [];
  /** @type {string | null} */
  let cursor = null;
  let active = -1;
  let loading = false;
  /** @type {TenantSort} */
  let sort = "name";
  let query = "";
  let gone = false;

  const searchId = uid("tenant-search");
  const gridId = uid("tenant-grid");
  const search = h("input", {
    id: searchId, type: "search", autocomplete: "off", spellcheck: "false", testid: "tenant-search",
    placeholder: "Name, slug or id", role: "combobox", "aria-controls": gridId, "aria-expanded": "true",
    "aria-autocomplete": "list", "aria-haspopup": "grid",
  });
  const sortSel = select({ id: uid("tenant-sort"), testid: "tenant-sort" }, SORTS, sort);
  const tbody = h("tbody");
  const headers = {
    name: sortHeader("Name", "name"),
    slug: sortHeader("Slug", "slug"),
    created_at: sortHeader("Created", "created_at"),
  };
  const table = h(
    "table",
    { id: gridId, class: "data tenants", role: "grid", "aria-label": "Tenants", "aria-readonly": "true", tabindex: "-1", testid: "tenant-table" },
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        headers.name,
        headers.slug,
        h("th", { scope: "col" }, "Plan"),
        h("th", { scope: "col" }, "Status"),
        h("th", { scope: "col", class: "num" }, "Members"),
        h("th", { scope: "col", class: "num", title: "Audit events in the last 30 days" }, "Events (30 d)"),
        h("th", { scope: "col", class: "num" }, "Last activity"),
        headers.created_at,
      ),
    ),
    tbody,
  );
  const status = h("p", { class: "list-status", testid: "tenants-status", "aria-live": "polite" });
  const more = h("button", { type: "button", class: "load-more", testid: "tenants-more", hidden: true, on: { click: () => void loadMore() } }, "Load more");
  const sentinel = h("div", { class: "sentinel", "aria-hidden": "true" });
  const scroller = h("div", { class: "table-scroll" }, table, sentinel, more);
  replace(
    root,
    h(
      "section",
      { class: "tenants-screen", "aria-labelledby": "tenants-title" },
      h(
        "div",
        { class: "screen-head" },
        h("h1", { id: "tenants-title" }, "Tenants"),
        h(
          "div",
          { class: "toolbar" },
          h("div", { class: "field inline grow" }, h("label", { for: searchId }, "Search"), search),
          h("div", { class: "field inline" }, h("label", { for: sortSel.id }, "Sort"), sortSel),
        ),
      ),
      status,
      scroller,
    ),
  );

  const observer =
    typeof IntersectionObserver === "function"
      ? new IntersectionObserver((entries) => {
          if (entries.some((e) => e.isIntersecting) && cursor && !loading) void loadMore();
        }, { root: scroller, rootMargin: "200px" })
      : null;
  observer?.observe(sentinel);

  const searchLater = debounce(() => void reload(), 200);
  search.addEventListener("input", () => {
    query = search.value;
    searchLater();
  });
  search.addEventListener("keydown", onKey);
  table.addEventListener("keydown", onKey);
  sortSel.addEventListener("change", () => setSort(/** @type {TenantSort} */ (sortSel.value)));

  /**
   * @param {string} label
   * @param {TenantSort} key
   */
  function sortHeader(label, key) {
    return h(
      "th",
      { scope: "col", "aria-sort": key === sort ? "ascending" : "none" },
      h("button", { type: "button", class: "sort", testid: `sort-${key}`, on: { click: () => setSort(key) } }, label),
    );
  }

  /** @param {TenantSort} s */
  function setSort(s) {
    sort = s;
    sortSel.value = s;
    for (const [k, th] of Object.entries(headers)) {
      th.setAttribute("aria-sort", k === s ? (s === "created_at" ? "descending" : "ascending") : "none");
    }
    void reload();
  }

  /** @param {KeyboardEvent} e */
  function onKey(e) {
    if (e.key === "Enter") {
      if (active >= 0 && rows[active]) {
        e.preventDefault();
        searchLater.cancel();
        void actions.openTenant(rows[active]);
      } else if (e.target === search) {
        e.preventDefault();
        searchLater.flush();
      }
      return;
    }
    const next = nextIndex(e.key, active, rows.length);
    if (next === null) return;
    // Home/End belong to the text in the search box.
    if ((e.key === "Home" || e.key === "End") && e.target === search) return;
    e.preventDefault();
    setActive(next);
    if (nearEnd(next, rows.length, cursor !== null) && !loading) void loadMore();
  }

  /** @param {number} i */
  function setActive(i) {
    active = i;
    const trs = tbody.querySelectorAll("tr[data-tenant-id]");
    trs.forEach((tr, j) => {
      tr.setAttribute("aria-selected", String(j === i));
      tr.classList.toggle("active", j === i);
    });
    const tr = trs[i];
    if (tr) {
      search.setAttribute("aria-activedescendant", tr.id);
      table.setAttribute("aria-activedescendant", tr.id);
      tr.scrollIntoView({ block: "nearest" });
    } else {
      search.removeAttribute("aria-activedescendant");
      table.removeAttribute("aria-activedescendant");
    }
  }

  /** @param {TenantRow} t */
  function rowView(t) {
    return h(
      "tr",
      {
        id: `tenant-row-${t.id}`, role: "row", "aria-selected": "false", testid: "tenant-row",
        "data-tenant-id": t.id, "data-tenant-slug": t.slug,
        on: { click: () => void actions.openTenant(t) },
      },
      h("td", { class: "name" }, t.name, t.consent_required && consentBadge()),
      h("td", { class: "mono" }, t.slug),
      h("td", null, t.plan ?? "—"),
      h("td", null, t.status ? h("span", { class: `pill ${t.status === "active" ? "ok" : "warn"}` }, t.status) : "—"),
      h("td", { class: "num list-stat pending", "data-stat": "members" }, "…"),
      h("td", { class: "num list-stat pending", "data-stat": "events" }, "…"),
      h("td", { class: "num list-stat pending", "data-stat": "last" }, "…"),
      h("td", { class: "num", title: t.created_at ?? "" }, formatDate(t.created_at)),
    );
  }

  /**
   * Reads and fills the stats of `items` (rows already shown). Filled by tenant id into rows still on screen.
   * @param {TenantRow[]} items
   */
  async function loadStats(items) {
    if (!items.length) return;
    /** @type {TenantStatsRow[]} */
    let got = [];
    let failed = null;
    try {
      got = await api.tenantsStats(profileId, items.map((t) => t.id));
    } catch (e) {
      failed = e;
    }
    if (gone) return;
    const byId = new Map(got.map((r) => [r.tenant_id, r.stats]));
    for (const t of items) {
      const tr = document.getElementById(`tenant-row-${t.id}`);
      if (!tr || !tbody.contains(tr)) continue;
      const st = byId.get(t.id);
      const cell = (/** @type {string} */ k) => /** @type {HTMLElement} */ (tr.querySelector(`[data-stat="${k}"]`));
      for (const k of ["members", "events", "last"]) cell(k).classList.remove("pending");
      if (!st) {
        const why = failed
          ? `Stats could not be read: ${/** @type {any} */ (failed)?.message ?? failed}`
          : t.consent_required
            ? "This tenant requires its own approval before its numbers are read: open it to request access"
            : store.state.session?.access_reason === "required"
            ? "Open this tenant with a reason to see its numbers (they are its data)"
            : "No stats";
        for (const k of ["members", "events", "last"]) {
          cell(k).textContent = "—";
          cell(k).title = why;
        }
        continue;
      }
      cell("members").textContent = formatCount(st.members);
      cell("events").textContent = formatEstimate(st.audit_events_30d);
      if (st.audit_events_30d.is_estimate) cell("events").title = "Estimated from planner statistics";
      cell("last").textContent = formatAgo(st.last_activity, Date.now());
      cell("last").title = st.last_activity ? formatTime(st.last_activity) : "No audit events";
    }
  }

  async function reload() {
    const tok = store.guard.token("tenants");
    const activeId = rows[active]?.id ?? null;
    loading = true;
    scroller.setAttribute("aria-busy", "true");
    status.textContent = query.trim() ? `Searching for “${query.trim()}”…` : "Loading tenants…";
    try {
      const page = await store.guard.keep(tok, api.tenantsSearch(profileId, { search: query.trim() || undefined, sort, limit: PAGE_SIZE }));
      rows = page.items;
      cursor = page.next_cursor;
      replace(tbody, rows.map(rowView));
      setActive(keepActive(rows.map((r) => r.id), activeId));
      renderStatus();
      void loadStats(page.items);
    } catch (e) {
      if (isStale(e)) return;
      rows = [];
      cursor = null;
      replace(tbody);
      replace(status, errorBox(e, { retry: () => void reload(), reconnect: () => void actions.reconnect() }));
    } finally {
      if (store.guard.isCurrent(tok)) {
        loading = false;
        scroller.removeAttribute("aria-busy");
        more.hidden = !cursor;
      }
    }
  }

  async function loadMore() {
    if (!cursor || loading) return;
    const tok = store.guard.token("tenants");
    loading = true;
    more.disabled = true;
    more.textContent = "Loading…";
    try {
      const page = await store.guard.keep(tok, api.tenantsSearch(profileId, { search: query.trim() || undefined, sort, after: cursor, limit: PAGE_SIZE }));
      rows = rows.concat(page.items);
      cursor = page.next_cursor;
      tbody.append(...page.items.map(rowView));
      setActive(active);
      renderStatus();
      void loadStats(page.items);
    } catch (e) {
      if (isStale(e)) return;
      replace(status, errorBox(e, { retry: () => void loadMore() }));
    } finally {
      if (store.guard.isCurrent(tok)) {
        loading = false;
        more.disabled = false;
        more.textContent = "Load more";
        more.hidden = !cursor;
      }
    }
  }

  function renderStatus() {
    const q = query.trim();
    if (!rows.length) {
      replace(
        status,
        h("span", { class: "empty", testid: "tenants-empty" }, q ? `No tenant matches “${q}”. Search by name, slug or id.` : "This database has no tenants yet."),
      );
      announce(q ? `No tenant matches ${q}.` : "No tenants.");
      return;
    }
    const n = `${formatCount(rows.length)}${cursor ? "+" : ""} tenant${rows.length === 1 && !cursor ? "" : "s"}`;
    status.textContent = q ? `${n} matching “${q}” · ↑↓ to choose, Enter to open` : `${n} · ↑↓ to choose, Enter to open`;
    announce(q ? `${n} matching ${q}.` : `${n}.`);
  }

  void reload();
  search.focus();

  return {
    unmount() {
      gone = true;
      searchLater.cancel();
      observer?.disconnect();
      store.guard.abandon("tenants");
    },
  };
}

