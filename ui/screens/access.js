// @ts-check
/**
 * The Access history tab: who from support opened or exported this tenant, when, from where, and why — the
 * same support-access log the tenant's own admins can read.
 */
import * as api from "../api.js";
import { h, replace } from "../dom.js";
import { formatTime, localZone, timeTitle } from "../format.js";
import { withoutEmpty } from "../evidence.js";
import { jsonView } from "../json-view.js";
import { pagedTable } from "../paged.js";

/** @typedef {import("./tenant.js").TabCtx} TabCtx */

/**
 * @param {HTMLElement} panel
 * @param {TabCtx} ctx
 */
export function mount(panel, ctx) {
  const { store, profileId, tenant } = ctx;
  const table = h(
    "table",
    { class: "data access", "aria-label": `Support access to ${tenant.name}`, testid: "access-table" },
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        // The time column names its zone, as the audit log's does.
        [`Time (${localZone()})`, "Action", "Category", "Detail", "Database user", "OS user", "Client host", "Details"].map((c) =>
          h("th", { scope: "col", testid: c.startsWith("Time") ? "access-time-header" : null }, c),
        ),
      ),
    ),
  );
  const list = pagedTable({
    guard: store.guard,
    lane: "access",
    table,
    noun: "access",
    testid: "access",
    fetch: (after) => api.accessHistory(profileId, tenant.id, after),
    row: (a) => {
      // The record's details without empty fields: a filter not given is not shown as a raw null.
      const shown = withoutEmpty(a.details);
      const details = shown && typeof shown === "object" && Object.keys(shown).length ? shown : null;
      return h(
        "tr",
        { testid: "access-row", "data-access-id": a.id },
        h("td", { class: "time", title: timeTitle(a.at) }, formatTime(a.at)),
        h("td", null, a.action),
        // A record without a reason has category "none" and an empty detail: say so in words.
        h("td", null, a.category === "none" ? "no reason given" : a.category),
        h("td", null, a.detail || "—"),
        h("td", { class: "mono" }, a.db_user),
        h("td", { class: "mono" }, a.os_user),
        h("td", { class: "mono" }, a.client_host),
        h("td", null, details ? h("details", null, h("summary", null, "show"), jsonView(details)) : "—"),
      );
    },
    emptyText: () => `No support access to ${tenant.name} has been recorded.`,
    statusText: (n, more) => `${n}${more ? "+" : ""} recorded access${n === 1 && !more ? "" : "es"}`,
    reconnect: () => void ctx.actions.reconnect(),
    intercept: ctx.consentLost,
  });
  replace(panel, list.el);
  void list.reload();
  return {
    unmount() {
      list.destroy();
    },
  };
}

