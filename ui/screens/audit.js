// @ts-check
/**
 * The Audit log tab: filters (time range with calendar presets in the zone shown, action, actor, resource), the
 * count (labelled "≈" when estimated), the events paged on the keyset cursor as the user scrolls, an event's
 * detail with its metadata as formatted JSON, and the export of what the filters select. The server orders
 * events by time only (`audit_page` takes `oldestFirst`, nothing else): the Actor, Action and Resource headers
 * order the rows loaded so far, on the page, and say so. A value in the grid filters by itself when clicked;
 * an event about a member leads to the Members tab. Columns the login may not read show as "masked", named in
 * a line above the grid.
 */
import * as api from "../api.js";
import { copyButton, copyValueButton } from "../elements/copy-button.js";
import { eventAsCsv, eventAsJson, eventMembers } from "../evidence.js";
import { announce, calendarPicker, h, replace, select, uid } from "../dom.js";
import { auditFilterFromForm, calendarRange, emptyAuditForm, RANGES, rangeExamples, rfc3339ToLocalInput } from "../filters.js";
import { formatEstimate, formatJson, formatTime, localZone, timeTitle } from "../format.js";
import { isStale } from "../guard.js";
import { jsonView } from "../json-view.js";
import { cell, maskedBy, maskedLabel, maskedNote, updateMaskedNote } from "../masked.js";
import { pagedTable } from "../paged.js";
import { compareBy, nextSort, sortHeaders } from "../sort.js";
import { openExport } from "./export.js";

/** @typedef {import("./tenant.js").TabCtx} TabCtx */
/** @typedef {import("../api.js").AuditEvent} AuditEvent */
/** @typedef {import("../api.js").AuditFilter} AuditFilter */
/** @typedef {import("../filters.js").AuditForm} AuditForm */
/** @typedef {"time" | "actor" | "action" | "resource_type" | "resource_id"} AuditSort */
/** @typedef {"actor" | "action" | "resource_type" | "resource"} FilterField */

/** What each page-side sort reads from an event. */
const SORT_VALUE = /** @type {Record<Exclude<AuditSort, "time">, (e: AuditEvent) => string | null>} */ ({
  actor: (e) => e.actor_email ?? e.actor_id,
  action: (e) => e.action,
  resource_type: (e) => (e.resource_type === null ? null : `${e.resource_type}\u0000${e.resource_id ?? ""}`),
  resource_id: (e) => e.resource_id,
});

const SORT_NAME = /** @type {Record<AuditSort, string>} */ ({
  time: "time", actor: "actor", action: "action", resource_type: "resource type", resource_id: "resource id",
});

/**
 * @param {HTMLElement} panel
 * @param {TabCtx} ctx
 */
export function mount(panel, ctx) {
  const { store, profileId, tenant } = ctx;
  /** @type {AuditFilter} */
  let filter = {};
  const zone = localZone();

  const ids = {
    range: uid("audit-range"), since: uid("audit-since"), until: uid("audit-until"), action: uid("audit-action"),
    actor: uid("audit-actor"), resource_type: uid("audit-rtype"), resource_id: uid("audit-rid"),
  };
  const text = (/** @type {keyof typeof ids} */ k, /** @type {string} */ placeholder) =>
    h("input", { id: ids[k], type: "text", autocomplete: "off", spellcheck: "false", placeholder, testid: `audit-${k.replace("_", "-")}` });
  // The custom range's examples are today's, never a fixed date.
  const examples = rangeExamples(Date.now(), zone);
  const f = {
    range: select({ id: ids.range, testid: "audit-range" }, RANGES.map((r) => [r.value, r.label]), "all"),
    since: h("input", { id: ids.since, type: "text", inputmode: "numeric", autocomplete: "off", spellcheck: "false", placeholder: examples.since, testid: "audit-since" }),
    until: h("input", { id: ids.until, type: "text", inputmode: "numeric", autocomplete: "off", spellcheck: "false", placeholder: examples.until, testid: "audit-until" }),
    action: text("action", "e.g. member.*"),
    actor: text("actor", "user id or email"),
    resource_type: text("resource_type", "e.g. project"),
    resource_id: text("resource_id", ""),
  };
  const sincePicker = calendarPicker(f.since, `From: pick on a calendar (${zone})`, "audit-since-picker");
  const untilPicker = calendarPicker(f.until, `Until: pick on a calendar (${zone})`, "audit-until-picker");
  const custom = h(
    "div",
    { class: "custom-range", hidden: true },
    h(
      "div",
      { class: "field" },
      h("label", { for: ids.since }, `From (${zone})`),
      h("div", { class: "date-pair" }, f.since, sincePicker),
    ),
    h(
      "div",
      { class: "field" },
      h("label", { for: ids.until }, `Until (${zone})`),
      h("div", { class: "date-pair" }, f.until, untilPicker),
    ),
  );
  // What a calendar preset covers, in the zone shown: "Last month" must not leave the user guessing whose month.
  const rangeHint = h("p", { class: "hint range-hint", testid: "audit-range-hint", hidden: true });
  const problem = h("div", { class: "field-error", role: "alert" });
  const count = h("span", { class: "count", testid: "audit-count", "aria-live": "polite" });
  const exportBtn = h("button", { type: "button", testid: "export-open", on: { click: () => openExport(ctx, filter, f.range.value) } }, "Export…");
  const formId = uid("audit-filters");
  const form = h(
    "form",
    { id: formId, class: "filters", novalidate: true, "aria-label": "Audit log filters", testid: "audit-filters" },
    h("div", { class: "field" }, h("label", { for: ids.range, title: `Days and months are ${zone}'s` }, "Time range"), f.range),
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
    if (f.range.value === "custom") rangeHint.hidden = true;
    if (f.range.value === "custom" && !f.since.value && !f.until.value) {
      // Start the custom range from the last filter's bounds, so a preset can be adjusted by hand.
      f.since.value = rfc3339ToLocalInput(filter.since);
      f.until.value = rfc3339ToLocalInput(filter.until);
      sincePicker.sync();
      untilPicker.sync();
    }
    if (f.range.value !== "custom") form.requestSubmit();
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    apply();
  });
  // A field's error goes when that field changes; the message when no field is marked any more.
  form.addEventListener("input", (e) => {
    const el = e.target;
    if (!(el instanceof HTMLElement) || el.getAttribute("aria-invalid") !== "true") return;
    el.removeAttribute("aria-invalid");
    if (!form.querySelector('[aria-invalid="true"]')) replace(problem);
  });

  // Newest first by default; the Time header turns it around on the server (one walk of the time index either
  // way). The other headers order the loaded rows here: the server has no other order.
  /** @type {import("../sort.js").SortState<AuditSort>} */
  let order = { key: "time", descending: true };
  let serverDescending = true;
  const pageOnly = "Sorts the rows loaded so far, here in the window: the server orders events by time only. Rows loaded later join this order.";
  const headers = sortHeaders(
    /** @type {[string, AuditSort | null, string?][]} */ ([
      [`Time (${zone})`, "time", "col-time"], ["Actor", "actor", "col-actor"], ["Action", "action", "col-action"],
      ["Resource type", "resource_type", "col-rtype"], ["Resource id", "resource_id", "col-rid"], ["IP", null, "col-ip"],
    ]),
    (key) => {
      order = nextSort(order, key, ["time"]);
      headers.update(order);
      if (order.key === "time") {
        list.setOrder(null);
        if (order.descending !== serverDescending) {
          serverDescending = order.descending;
          detail.hidden = true;
          void list.reload();
        }
      } else {
        list.setOrder(compareBy(SORT_VALUE[order.key], order.descending));
        announce(`Sorted the loaded rows by ${SORT_NAME[order.key]}, ${order.descending ? "descending" : "ascending"}.`);
      }
    },
    "audit-sort",
    {
      time: "Ordered by the server, over every matching event.",
      actor: pageOnly, action: pageOnly, resource_type: pageOnly, resource_id: pageOnly,
    },
  );
  headers.update(order);
  const table = h(
    "table",
    { class: "data audit", "aria-label": `Audit log of ${tenant.name}`, testid: "audit-table" },
    h("thead", null, h("tr", null, headers.ths)),
  );
  const detail = h("aside", { class: "event-detail", testid: "event-detail", hidden: true, "aria-label": "Event detail", tabindex: "-1" });
  /** @type {AuditEvent | null} the event whose detail is open */
  let selected = null;
  const closeDetail = () => {
    detail.hidden = true;
    selected = null;
    body.classList.remove("with-detail");
  };
  // Escape closes the detail (from the table or the detail itself) and gives the table the focus back.
  const closeOnEscape = (/** @type {KeyboardEvent} */ e) => {
    if (e.key === "Escape" && !detail.hidden) {
      e.preventDefault();
      e.stopPropagation();
      closeDetail();
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
    fetch: (after) => api.auditPage(profileId, tenant.id, filter, { after, limit: 100, oldestFirst: !serverDescending }),
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
        h("td", { class: "mono" }, filterable("action", ev.action, ev.action, "action")),
        h("td", null, filterable("resource_type", ev.resource_type, ev.resource_type, "resource type")),
        h("td", { class: "mono" }, resourceIdCell(ev)),
        h("td", { class: "mono", title: ev.ip ?? "" }, cell("ip", ev.ip, masked)),
      ),
    activate: (ev) => showDetail(ev),
    statusText: (n, more) =>
      `Showing ${n}${more ? " · scroll or press End for more" : ""}` +
      (order.key === "time" ? "" : ` · sorted by ${SORT_NAME[order.key]} among the rows loaded (the server orders by time)`) +
      " · click a row or press Enter for its detail, a value to filter by it",
    emptyText: () => (Object.keys(filter).length ? "No event matches these filters." : `${tenant.name} has no audit events.`),
    reconnect: () => void ctx.actions.reconnect(),
    intercept: ctx.consentLost,
  });

  const body = h("div", { class: "audit-body" }, list.el, detail);
  replace(panel, form, rangeHint, problem, h("div", { class: "toolbar between" }, count, exportBtn), note, body);
  ctx.provideAudit?.(() => ({ filter, selected: detail.hidden ? null : selected, rows: list.items, masked }));

  /**
   * A value that filters the grid by itself when its button is clicked (the button stays out of the Tab order:
   * the detail panel has the same filters for the keyboard); masked or empty values are shown as they are.
   * @param {FilterField} field
   * @param {string | null} value  what is shown
   * @param {string | null} by     what the filter takes
   * @param {string} label         the field in words
   */
  function filterable(field, value, by, label) {
    const maskField = field === "actor" ? "actor_id" : field === "resource" ? "resource_id" : field;
    if (value === null || value === undefined || value === "" || !by) return cell(maskField, value, masked);
    return h(
      "div",
      { class: "cellwrap" },
      h("span", { class: "val", title: value }, value),
      h("button", {
        type: "button", class: "cell-filter", tabindex: "-1", testid: `filter-by-${field.replace("_", "-")}`,
        "aria-label": `Show only events with ${label} ${by}`, title: `Show only events with ${label} ${by}`,
        on: { click: (/** @type {Event} */ e) => { e.stopPropagation(); filterBy(field, by); } },
      }),
    );
  }

  /**
   * Who did it: the email, else the user id, else "masked" when what would name them is masked, else "—".
   * @param {AuditEvent} ev
   */
  function actorCell(ev) {
    const who = ev.actor_email ?? ev.actor_id;
    if (who) return filterable("actor", who, who, "actor");
    const by = maskedBy("actor_email", null, masked) ?? maskedBy("actor_id", null, masked);
    return by ? maskedLabel(by) : "—";
  }

  /** @param {AuditEvent} ev */
  function resourceIdCell(ev) {
    if (ev.resource_id === null) return cell("resource_id", ev.resource_id, masked);
    return filterable("resource", ev.resource_id, ev.resource_id, "resource");
  }

  /**
   * Filters by a value from the grid or the detail: the field is set in the form (the other filters stay) and
   * applied. "resource" is that one resource: its type and its id.
   * @param {FilterField} field
   * @param {string} value
   * @param {AuditEvent} [ev]
   */
  function filterBy(field, value, ev) {
    if (field === "resource") {
      const source = ev ?? list.items.find((x) => x.resource_id === value);
      f.resource_id.value = value;
      if (source?.resource_type) f.resource_type.value = source.resource_type;
    } else {
      f[field].value = value;
    }
    apply();
    announce(`Showing only events with ${field.replace("_", " ")} ${value}.`);
  }

  function clearFilters() {
    const empty = emptyAuditForm();
    f.range.value = empty.range;
    for (const k of /** @type {const} */ (["since", "until", "action", "actor", "resource_type", "resource_id"])) f[k].value = empty[k];
    sincePicker.sync();
    untilPicker.sync();
    custom.hidden = true;
    apply();
  }

  function apply() {
    /** @type {AuditForm} */
    const values = {
      range: f.range.value, since: f.since.value, until: f.until.value, action: f.action.value,
      actor: f.actor.value, resource_type: f.resource_type.value, resource_id: f.resource_id.value,
    };
    const now = Date.now();
    const r = auditFilterFromForm(values, now, zone);
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
    const cal = calendarRange(values.range, now, zone);
    rangeHint.hidden = !cal;
    rangeHint.textContent = cal
      ? `${RANGES.find((x) => x.value === values.range)?.label}: ${formatTime(cal.since, zone).slice(0, 16)} to ${formatTime(cal.until, zone).slice(0, 16)} ${zone} (the end not included)`
      : "";
    closeDetail();
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
    selected = ev;
    const json = formatJson(ev.metadata);
    const jsonId = uid("meta");
    const who = eventMembers(ev);
    const memberLink = (/** @type {string} */ email, /** @type {"actor" | "resource"} */ of) =>
      h(
        "button",
        {
          type: "button", class: "link", testid: "member-link", "data-member-of": of, "data-email": email,
          title: `Open the Members tab filtered to ${email}`,
          on: { click: () => ctx.showMember?.({ email }) },
        },
        of === "actor" ? `Actor ${email} in Members` : `Member ${email} in Members`,
      );
    const onlyThis = (/** @type {FilterField} */ field, /** @type {string | null} */ value, /** @type {string} */ label) =>
      value
        ? h("button", { type: "button", class: "link", testid: `detail-filter-${field.replace("_", "-")}`, on: { click: () => filterBy(field, value, ev) } }, label)
        : null;
    replace(
      detail,
      h(
        "div",
        { class: "detail-head" },
        h("h3", null, cell("action", ev.action, masked)),
        h("button", { type: "button", class: "icon", "aria-label": "Close the event detail", testid: "event-close", on: { click: () => { closeDetail(); table.focus(); } } }, "×"),
      ),
      h(
        "div",
        { class: "copy-row", testid: "event-copy" },
        copyValueButton(ev.id, "Copy event id", "copy-event-id"),
        ev.actor_id && copyValueButton(ev.actor_id, "Copy actor id", "copy-actor-id"),
        copyValueButton(eventAsJson(ev), "Copy as JSON", "copy-event-json"),
        copyValueButton(eventAsCsv(ev), "Copy as CSV", "copy-event-csv"),
      ),
      (who.actor || who.resource) &&
        h("div", { class: "link-row", testid: "event-members" }, who.actor && memberLink(who.actor, "actor"), who.resource && memberLink(who.resource, "resource")),
      h(
        "div",
        { class: "link-row", testid: "event-filters" },
        h("span", { class: "muted" }, "Show only:"),
        onlyThis("actor", ev.actor_email ?? ev.actor_id, "this actor"),
        onlyThis("action", ev.action, "this action"),
        onlyThis("resource", ev.resource_id, "this resource"),
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
    body.classList.add("with-detail");
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
