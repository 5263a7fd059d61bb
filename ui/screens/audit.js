// @ts-check
/**
 * The Audit log tab: filters (time range, action, actor, resource), the count (labelled "≈" when estimated),
 * the events paged on the keyset cursor as the user scrolls, an event's detail with its metadata as formatted
 * JSON, and the export of what the filters select. Columns the login may not read show as "masked", named in a
 * line above the grid.
 */
import * as api from "../api.js";
import { copyButton, copyValueButton } from "../elements/copy-button.js";
import { eventAsCsv, eventAsJson } from "../evidence.js";
import { h, replace, select, uid } from "../dom.js";
import { auditFilterFromForm, emptyAuditForm, RANGES } from "../filters.js";
import { formatEstimate, formatJson, formatTime, localZone, timeTitle } from "../format.js";
import { isStale } from "../guard.js";
import { jsonView } from "../json-view.js";
import { cell, maskedBy, maskedLabel, maskedNote, updateMaskedNote } from "../masked.js";
import { pagedTable } from "../paged.js";
import { nextSort, sortHeaders } from "../sort.js";
import { openExport } from "./export.js";

/** @typedef {import("./tenant.js").TabCtx} TabCtx */
/** @typedef {import("../api.js").AuditEvent} AuditEvent */
/** @typedef {import("../api.js").AuditFilter} AuditFilter */
/** @typedef {import("../filters.js").AuditForm} AuditForm */

/**
 * @param {HTMLElement} panel
 * @param {TabCtx} ctx
 */
export function mount(panel, ctx) {
  const { store, profileId, tenant } = ctx;
  /** @type {AuditFilter} */
  let filter = {};

  const ids = {
    range: uid("audit-range"), since: uid("audit-since"), until: uid("audit-until"), action: uid("audit-action"),
    actor: uid("audit-actor"), resource_type: uid("audit-rtype"), resource_id: uid("audit-rid"),
  };
  const text = (/** @type {keyof typeof ids} */ k, /** @type {string} */ placeholder) =>
    h("input", { id: ids[k], type: "text", autocomplete: "off", spellcheck: "false", placeholder, testid: `audit-${k.replace("_", "-")}` });
  const f = {
    range: select({ id: ids.range, testid: "audit-range" }, RANGES.map((r) => [r.value, r.label]), "all"),
    since: h("input", { id: ids.since, type: "text", inputmode: "numeric", autocomplete: "off", spellcheck: "false", placeholder: "2026-11-20 14:30", testid: "audit-since" }),
    until: h("input", { id: ids.until, type: "text", inputmode: "numeric", autocomplete: "off", spellcheck: "false", placeholder: "2026-11-20 14:30", testid: "audit-until" }),
    action: text("action", "e.g. member.*"),
    actor: text("actor", "user id or email"),
    resource_type: text("resource_type", "e.g. project"),
    resource_id: text("resource_id", ""),
  };
  const custom = h(
    "div",
    { class: "custom-range", hidden: true },
    h("div", { class: "field" }, h("label", { for: ids.since }, `From (${localZone()})`), f.since),
    h("div", { class: "field" }, h("label", { for: ids.until }, `Until (${localZone()})`), f.until),
  );
  const problem = h("div", { class: "field-error", role: "alert" });
  const count = h("span", { class: "count", testid: "audit-count", "aria-live": "polite" });
  const exportBtn = h("button", { type: "button", testid: "export-open", on: { click: () => openExport(ctx, filter) } }, "Export…");
  const formId = uid("audit-filters");
  const form = h(
    "form",
    { id: formId, class: "filters", novalidate: true, "aria-label": "Audit log filters", testid: "audit-filters" },
    h("div", { class: "field" }, h("label", { for: ids.range }, "Time range"), f.range),
    custom,
    h("div", { class: "field" }, h("label", { for: ids.action }, "Action"), f.action),
    h("div", { class: "field" }, h("label", { for: ids.actor }, "Actor"), f.actor),
    h("div", { class: "field" }, h("label", { for: ids.resource_type }, "Resource type"), f.resource_type),
    h("div", { class: "field" }, h("label", { for: ids.resource_id }, "Resource id"), f.resource_id),
    h(
      "div",
      { class: "filter-actions" },
      h("button", { type: "submit", class: "primary", testid: "audit-apply" }, "Apply"),
      h("button", { type: "button", testid: "audit-clear", on: { click: () => clearFilters() } }, "Clear"),
    ),
  );
  f.range.addEventListener("change", () => {
    custom.hidden = f.range.value !== "custom";
    if (f.range.value !== "custom") form.requestSubmit();
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    apply();
  });

  // Newest first by default; the Time header turns it around (one walk of the time index either way).
  /** @type {import("../sort.js").SortState<"time">} */
  let order = { key: "time", descending: true };
  const headers = sortHeaders(
    /** @type {[string, "time" | null][]} */ ([
      [`Time (${localZone()})`, "time"], ["Actor", null], ["Action", null], ["Resource type", null], ["Resource id", null], ["IP", null],
    ]),
    (key) => {
      order = nextSort(order, key, ["time"]);
      headers.update(order);
      detail.hidden = true;
      void list.reload();
    },
    "audit-sort",
  );
  headers.update(order);
  const table = h(
    "table",
    { class: "data audit", "aria-label": `Audit log of ${tenant.name}`, testid: "audit-table" },
    h("thead", null, h("tr", null, headers.ths)),
  );
  const detail = h("aside", { class: "event-detail", testid: "event-detail", hidden: true, "aria-label": "Event detail", tabindex: "-1" });
  // Escape closes the detail (from the table or the detail itself) and gives the table the focus back.
  const closeOnEscape = (/** @type {KeyboardEvent} */ e) => {
    if (e.key === "Escape" && !detail.hidden) {
      e.preventDefault();
      e.stopPropagation();
      detail.hidden = true;
      table.focus();
    }
  };
  detail.addEventListener("keydown", closeOnEscape);
  table.addEventListener("keydown", closeOnEscape);
  /** @type {string[]} the columns this login may not read, as the last page said */
  let masked = [];
  const note = maskedNote("audit-masked-note");
  const list = pagedTable({
    guard: store.guard,
    lane: "audit",
    table,
    noun: "event",
    testid: "audit",
    fetch: (after) => api.auditPage(profileId, tenant.id, filter, { after, limit: 100, oldestFirst: !order.descending }),
    onPage: (page) => {
      masked = page.masked_columns ?? [];
      updateMaskedNote(note, masked);
    },
    row: (ev) =>
      h(
        "tr",
        { testid: "audit-row", "data-event-id": ev.id, "data-tenant-id": tenant.id },
        h("td", { class: "time", title: timeTitle(ev.occurred_at) }, formatTime(ev.occurred_at)),
        h("td", null, actorCell(ev)),
        h("td", { class: "mono" }, cell("action", ev.action, masked)),
        h("td", null, cell("resource_type", ev.resource_type, masked)),
        h("td", { class: "mono clip" }, cell("resource_id", ev.resource_id, masked)),
        h("td", { class: "mono" }, cell("ip", ev.ip, masked)),
      ),
    activate: (ev) => showDetail(ev),
    statusText: (n, more) => `Showing ${n}${more ? " · scroll or press End for more" : ""} · click a row or press Enter for its detail`,
    emptyText: () => (Object.keys(filter).length ? "No event matches these filters." : `${tenant.name} has no audit events.`),
    reconnect: () => void ctx.actions.reconnect(),
    intercept: ctx.consentLost,
  });

  replace(
    panel,
    form,
    problem,
    h("div", { class: "toolbar between" }, count, exportBtn),
    note,
    h("div", { class: "audit-body" }, list.el, detail),
  );

  /**
   * Who did it: the email, else the user id, else "masked" when what would name them is masked, else "—".
   * @param {AuditEvent} ev
   */
  function actorCell(ev) {
    if (ev.actor_email ?? ev.actor_id) return ev.actor_email ?? ev.actor_id;
    const by = maskedBy("actor_email", null, masked) ?? maskedBy("actor_id", null, masked);
    return by ? maskedLabel(by) : "—";
  }

  function clearFilters() {
    const empty = emptyAuditForm();
    f.range.value = empty.range;
    for (const k of /** @type {const} */ (["since", "until", "action", "actor", "resource_type", "resource_id"])) f[k].value = empty[k];
    custom.hidden = true;
    apply();
  }

  function apply() {
    /** @type {AuditForm} */
    const values = {
      range: f.range.value, since: f.since.value, until: f.until.value, action: f.action.value,
      actor: f.actor.value, resource_type: f.resource_type.value, resource_id: f.resource_id.value,
    };
    const r = auditFilterFromForm(values, Date.now());
    for (const el of Object.values(f)) el.removeAttribute("aria-invalid");
    if (!r.ok) {
      const lines = Object.entries(r.errors).map(([k, msg]) => {
        const el = f[/** @type {keyof typeof f} */ (k)];
        el?.setAttribute("aria-invalid", "true");
        return h("p", null, `${k.replace("_", " ")}: ${msg}`);
      });
      replace(problem, lines);
      return;
    }
    replace(problem);
    filter = r.filter;
    ctx.setFilter?.(filter);
    detail.hidden = true;
    void list.reload();
    void loadCount();
  }

  async function loadCount() {
    const tok = store.guard.token("audit-count");
    count.textContent = "Counting…";
    try {
      const c = await store.guard.keep(tok, api.auditCount(profileId, tenant.id, filter));
      count.textContent = `${formatEstimate(c)} event${c.value === 1 && !c.is_estimate ? "" : "s"}${c.is_estimate ? " (estimated)" : ""}`;
      count.title = c.is_estimate ? "Estimated from the database's statistics: an exact count would scan too many rows." : "";
    } catch (e) {
      if (isStale(e) || ctx.consentLost(e)) return;
      count.textContent = "Count unavailable";
      count.title = api.toApiError(e).message;
    }
  }

  /** @param {AuditEvent} ev */
  function showDetail(ev) {
    const json = formatJson(ev.metadata);
    const jsonId = uid("meta");
    replace(
      detail,
      h(
        "div",
        { class: "detail-head" },
        h("h3", null, cell("action", ev.action, masked)),
        h("button", { type: "button", class: "icon", "aria-label": "Close the event detail", testid: "event-close", on: { click: () => { detail.hidden = true; table.focus(); } } }, "×"),
      ),
      h(
        "div",
        { class: "copy-row", testid: "event-copy" },
        copyValueButton(ev.id, "Copy event id", "copy-event-id"),
        ev.actor_id && copyValueButton(ev.actor_id, "Copy actor id", "copy-actor-id"),
        copyValueButton(eventAsJson(ev), "Copy as JSON", "copy-event-json"),
        copyValueButton(eventAsCsv(ev), "Copy as CSV", "copy-event-csv"),
      ),
      // The metadata first, where it is in sight: a viewer that folds and wraps, and the JSON to copy.
      h("div", { class: "fix-head" }, h("span", null, "Metadata"), copyButton(jsonId, "Copy the metadata as JSON")),
      maskedBy("metadata", ev.metadata, masked) ? h("p", null, cell("metadata", ev.metadata, masked)) : jsonView(ev.metadata),
      h("pre", { id: jsonId, class: "json visually-hidden", testid: "event-metadata" }, json),
      h(
        "dl",
        { class: "props" },
        /** @type {[string, string, string | null][]} */ ([
          ["Time", "occurred_at", timeTitle(ev.occurred_at)],
          ["Event id", "id", ev.id],
          ["Actor", "actor_email", ev.actor_email],
          ["Actor id", "actor_id", ev.actor_id],
          ["Resource type", "resource_type", ev.resource_type],
          ["Resource id", "resource_id", ev.resource_id],
          ["IP", "ip", ev.ip],
          ["User agent", "user_agent", ev.user_agent],
        ]).map(([k, field, v]) => [
          h("dt", null, k),
          // Each value copies on its own ("copy a cell"), beside the row's JSON and CSV above; a masked one
          // shows why it is empty, and has nothing to copy.
          h(
            "dd",
            { class: "copyable" },
            h("span", null, cell(field, v, masked)),
            v !== null ? copyValueButton(v, "Copy", `copy-field-${k.toLowerCase().replaceAll(" ", "-")}`) : null,
          ),
        ]),
      ),
    );
    detail.hidden = false;
  }

  apply();
  return {
    unmount() {
      list.destroy();
      store.guard.abandon("audit-count");
    },
    focus() {
      f.action.focus();
    },
  };
}
