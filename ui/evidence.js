// @ts-check
/**
 * Text to paste into a ticket: one event as JSON or CSV, and the evidence of what is on screen for a tenant.
 * Pure functions (the logic tests pin them); every time is written in UTC, ISO 8601, whatever the screen shows.
 */
import { describeFilter } from "./filters.js";

/** The event's fields in the export's column order. */
const EVENT_COLUMNS = /** @type {const} */ ([
  "id", "occurred_at", "actor_id", "actor_email", "action", "resource_type", "resource_id", "ip", "user_agent", "metadata",
]);

/**
 * @param {import("./api.js").AuditEvent} ev
 * @returns {string} the event as indented JSON
 */
export function eventAsJson(ev) {
  /** @type {Record<string, unknown>} */
  const o = {};
  for (const k of EVENT_COLUMNS) o[k] = ev[k] ?? null;
  return JSON.stringify(o, null, 2);
}

/**
 * One CSV cell: RFC 4180 quoting, and a text a spreadsheet would run as a formula gets a leading `'` (as the
 * export does).
 * @param {unknown} v
 */
export function csvCell(v) {
  let s = v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * @param {import("./api.js").AuditEvent} ev
 * @returns {string} a header line and the event's line, as the export writes them (times in UTC)
 */
export function eventAsCsv(ev) {
  return `${EVENT_COLUMNS.join(",")}\r\n${EVENT_COLUMNS.map((k) => csvCell(ev[k])).join(",")}\r\n`;
}

/**
 * @typedef {object} EvidenceInput
 * @property {{ id: string, slug: string, name: string }} tenant
 * @property {string | null} status
 * @property {import("./api.js").AuditFilter} filter   the audit log's filters on screen
 * @property {string} zone                            the time zone the screen shows times in
 * @property {string | null} recordId                 the access record of this visit, when one was written
 * @property {{ login: string, database: string, enforced: boolean, reasons: string[], checkedAt: string | null }} isolation
 * @property {string} profile
 * @property {string} version
 * @property {number} now                             ms since the epoch
 */

/** @param {string | number} t */
function utc(t) {
  return new Date(t).toISOString().replace(/\.000Z$/, "Z");
}

/**
 * The plain-text evidence of what is on screen for a ticket.
 * @param {EvidenceInput} e
 * @returns {string}
 */
export function evidenceText(e) {
  const f = e.filter;
  const range =
    f.since || f.until ? ` · from ${f.since ? utc(f.since) : "the first event"} until ${f.until ? utc(f.until) : "now"} (UTC)` : "";
  const { since: _s, until: _u, ...rest } = f;
  const lines = [
    `Tenant: ${e.tenant.name} (${e.tenant.slug}) · id ${e.tenant.id} · status ${e.status ?? "unknown"}`,
    `Audit log filters: ${describeFilter(rest)}${range}`,
    `Times on screen: ${e.zone}; times here are UTC`,
    e.recordId ? `Access record: ${e.recordId}` : "Access record: none written for this visit",
    e.isolation.enforced
      ? `Isolation: RLS enforced for login ${e.isolation.login} on ${e.isolation.database}${e.isolation.checkedAt ? ` (checked ${utc(e.isolation.checkedAt)})` : ""}`
      : `Isolation: NOT enforced for login ${e.isolation.login} on ${e.isolation.database}: ${e.isolation.reasons.join("; ")}`,
    `Profile ${e.profile} · Tenant Console ${e.version} · copied ${utc(e.now)}`,
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * A value with its null, empty-string and empty-object fields left out, recursively.
 * @param {unknown} v
 * @returns {unknown}
 */
export function withoutEmpty(v) {
  if (Array.isArray(v)) return v.map(withoutEmpty);
  if (v && typeof v === "object") {
    /** @type {Record<string, unknown>} */
    const out = {};
    for (const [k, x] of Object.entries(v)) {
      const y = withoutEmpty(x);
      if (y === null || y === undefined || y === "" || (typeof y === "object" && !Array.isArray(y) && Object.keys(y).length === 0)) continue;
      out[k] = y;
    }
    return out;
  }
  return v;
}
