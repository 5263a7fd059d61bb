// @ts-check
/**
 * Text to paste into a ticket: one event as JSON or CSV, and the evidence of what is on screen for a tenant, as
 * plain text or Markdown. Pure functions (the logic tests pin them); every time is written in UTC, ISO 8601, and
 * an event's time in the zone the screen shows as well.
 */
import { describeFilter } from "./filters.js";
import { formatTime } from "./format.js";
import { maskedBy } from "./masked.js";

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
 * @property {{ id: string, slug: string | null, name: string }} tenant   a mapped schema may have no slug
 * @property {string | null} status
 * @property {import("./api.js").AuditFilter | null} filter   the audit log's filters on screen (null: the audit
 *   log was not opened in this visit)
 * @property {import("./api.js").AuditEvent[]} [events]  the events on screen: the one whose detail is open, else
 *   the rows loaded (the first MAX_EVENTS are written out)
 * @property {boolean} [eventOpen]   `events` is the one event whose detail is open
 * @property {string[]} [masked]     the columns this login may not read (their values are null)
 * @property {string} zone                            the time zone the screen shows times in
 * @property {import("./api.js").AccessReason | null} [reason]  the reason given when the tenant was opened
 * @property {import("./api.js").ReasonPolicy} [policy]  the profile's reason policy
 * @property {string | null} recordId                 the access record of this visit, when one was written
 * @property {import("./api.js").Recorded | null} [recorded]  whether this visit was recorded ("no_log_table": it could not be; null: not asked)
 * @property {{ login: string, database: string, enforced: boolean, reasons: string[], checkedAt: string | null }} isolation
 * @property {string} profile
 * @property {string} version
 * @property {number} now                             ms since the epoch
 */

/** How many of the rows on screen the evidence writes out when no event's detail is open. */
export const MAX_EVENTS = 10;

/** @param {string | number} t */
function utc(t) {
  return new Date(t).toISOString().replace(/\.000Z$/, "Z");
}

/**
 * The sentence about this visit's access record, in words: which record, in which history, and what it means.
 * @param {EvidenceInput} e
 */
export function accessRecordText(e) {
  if (e.recordId) return `Access record ${e.recordId} in the tenant's support-access history: this look at the tenant was recorded`;
  if (e.recorded === "yes") return "This look at the tenant was recorded in its support-access history";
  if (e.recorded === "no_log_table") return "No access record: this database has no support-access log, so this look at the tenant was not recorded";
  if (e.policy === "off" || (e.policy === "optional" && !e.reason)) {
    return "No access record: this profile records a look at a tenant only when a reason is given, and none was";
  }
  if (e.policy === "required" || e.policy === "optional") {
    return "No new access record: the reason given earlier in this session still covers this tenant (one record per grant)";
  }
  return "Access record: none written for this visit";
}

/** @param {EvidenceInput} e */
function reasonText(e) {
  if (e.reason) return `${e.reason.category}: ${e.reason.detail}`;
  if (e.policy === "off") return "none (this profile does not ask for one)";
  if (e.policy === "optional") return "none given (optional for this profile)";
  return "none given";
}

/**
 * An event's field as written in the evidence: the value, "masked for this login" when the login may not read
 * it, or "none".
 * @param {import("./api.js").AuditEvent} ev
 * @param {"actor_id" | "actor_email" | "action" | "resource_type" | "resource_id" | "ip"} field
 * @param {string[] | undefined} masked
 */
function value(ev, field, masked) {
  const v = ev[field];
  if (v !== null && v !== undefined && v !== "") return String(v);
  return maskedBy(field, v, masked) ? "masked for this login" : "none";
}

/**
 * The parts of one event the ticket needs, each as text.
 * @param {import("./api.js").AuditEvent} ev
 * @param {string} zone
 * @param {string[] | undefined} masked
 */
export function eventFacts(ev, zone, masked) {
  const email = ev.actor_email;
  const id = ev.actor_id;
  const actor =
    email && id ? `${email} (user id ${id})` : email ? `${email} (user id ${value(ev, "actor_id", masked)})` : id ? `user id ${id} (email ${value(ev, "actor_email", masked)})` : value(ev, "actor_id", masked) === "none" ? "none (the system)" : "masked for this login";
  const resource = ev.resource_type || ev.resource_id ? [ev.resource_type, ev.resource_id].filter(Boolean).join(" ") : value(ev, "resource_type", masked);
  return {
    id: ev.id,
    utc: utc(ev.occurred_at),
    local: zone === "UTC" || zone === "Etc/UTC" ? null : `${formatTime(ev.occurred_at, zone)} ${zone}`,
    actor,
    action: value(ev, "action", masked),
    resource,
    ip: value(ev, "ip", masked),
  };
}

/** @param {EvidenceInput} e */
function filterText(e) {
  const f = e.filter;
  if (!f) return "the audit log was not opened in this visit";
  const range =
    f.since || f.until ? ` · from ${f.since ? utc(f.since) : "the first event"} until ${f.until ? utc(f.until) : "now"} (UTC)` : "";
  const { since: _s, until: _u, ...rest } = f;
  return `${describeFilter(rest)}${range}`;
}

/** @param {EvidenceInput} e */
function isolationText(e) {
  return e.isolation.enforced
    ? `RLS enforced for login ${e.isolation.login} on ${e.isolation.database}${e.isolation.checkedAt ? ` (checked ${utc(e.isolation.checkedAt)})` : ""}`
    : `NOT enforced for login ${e.isolation.login} on ${e.isolation.database}: ${e.isolation.reasons.join("; ")}`;
}

/** @param {EvidenceInput} e */
function zoneText(e) {
  return e.zone === "UTC" || e.zone === "Etc/UTC"
    ? "Times: UTC (ISO 8601), as on screen"
    : `Times: UTC (ISO 8601); event times also in ${e.zone}, the zone on screen`;
}

/**
 * The events to write out and the line that introduces them, or null when there are none on screen.
 * @param {EvidenceInput} e
 */
function eventsPart(e) {
  const all = e.events ?? [];
  if (!all.length) return null;
  const shown = e.eventOpen ? all.slice(0, 1) : all.slice(0, MAX_EVENTS);
  const head = e.eventOpen
    ? "Event (its detail was open)"
    : `Events on screen: ${shown.length === all.length ? `${all.length}` : `the first ${shown.length} of ${all.length} loaded`}, ${shown.length === 1 ? "as listed" : "in the order listed"}`;
  return { head, facts: shown.map((ev) => eventFacts(ev, e.zone, e.masked)) };
}

/**
 * The plain-text evidence of what is on screen for a ticket: the tenant, the reason it was opened with, its access
 * record in words, the audit filters and the events on screen (times in UTC and in the zone shown), the
 * isolation status.
 * @param {EvidenceInput} e
 * @returns {string}
 */
export function evidenceText(e) {
  const lines = [
    `Tenant: ${e.tenant.name} (${e.tenant.slug ?? "no slug"}) · id ${e.tenant.id} · status ${e.status ?? "unknown"}`,
    `Reason given when the tenant was opened: ${reasonText(e)}`,
    accessRecordText(e),
    `Audit log filters: ${filterText(e)}`,
  ];
  const evs = eventsPart(e);
  if (evs) {
    lines.push(`${evs.head}:`);
    for (const f of evs.facts) {
      if (e.eventOpen) {
        lines.push(
          `  Event id: ${f.id}`,
          `  Time: ${f.utc} UTC${f.local ? ` · ${f.local}` : ""}`,
          `  Actor: ${f.actor}`,
          `  Action: ${f.action}`,
          `  Resource: ${f.resource}`,
          `  IP: ${f.ip}`,
        );
      } else {
        lines.push(`  - ${f.utc} UTC${f.local ? ` (${f.local})` : ""} · ${f.actor} · ${f.action} · ${f.resource} · event ${f.id}`);
      }
    }
  }
  lines.push(
    zoneText(e),
    `Isolation: ${isolationText(e)}`,
    `Profile ${e.profile} · Tenant Console ${e.version} · copied ${utc(e.now)}`,
  );
  return `${lines.join("\n")}\n`;
}

/**
 * Text for Markdown: the characters that would format, link or open HTML are escaped (the text never starts a
 * line, so `#`, `+` and `-` are left alone); lines are joined.
 * @param {string} s
 */
export function mdText(s) {
  return s.replace(/\r?\n|\r/g, " ").replace(/[\\`*_[\]<>|~]/g, (c) => `\\${c}`);
}

/**
 * A code span, safe in a table cell: a backtick inside gets a longer fence, a pipe is escaped (GFM reads
 * `\|` inside a table's code span as a pipe).
 * @param {string} s
 */
export function mdCode(s) {
  const one = s.replace(/\r?\n|\r/g, " ").replaceAll("|", "\\|");
  const fence = one.includes("`") ? "``" : "`";
  const pad = fence.length > 1 || one.startsWith("`") || one.endsWith("`") ? " " : "";
  return `${fence}${pad}${one}${pad}${fence}`;
}

/**
 * The same evidence as Markdown, for a ticket system that renders it: a list of facts, the events as a table.
 * @param {EvidenceInput} e
 * @returns {string}
 */
export function evidenceMarkdown(e) {
  const t = e.tenant;
  const status = e.status ?? "unknown";
  const lines = [
    `**Evidence from Tenant Console** — ${mdText(t.name)}`,
    "",
    `- **Tenant:** ${mdText(t.name)} (${t.slug === null ? "no slug" : mdCode(t.slug)}) · id ${mdCode(t.id)} · status ${status === "active" ? mdText(status) : `**${mdText(status)}**`}`,
    `- **Reason given when the tenant was opened:** ${mdText(reasonText(e))}`,
    `- **Access record:** ${mdText(accessRecordText(e))}`,
    `- **Audit log filters:** ${mdText(filterText(e))}`,
    `- **${mdText(zoneText(e).replace(/^Times: /, "Times:** "))}`,
    `- **Isolation:** ${mdText(isolationText(e))}`,
    `- **Copied:** ${utc(e.now)} · profile ${mdText(e.profile)} · Tenant Console ${mdText(e.version)}`,
  ];
  const evs = eventsPart(e);
  if (evs) {
    const zone = e.zone === "UTC" || e.zone === "Etc/UTC" ? null : e.zone;
    lines.push("", `**${mdText(evs.head)}**`, "");
    if (e.eventOpen) {
      const f = evs.facts[0];
      lines.push(
        "| Field | Value |",
        "|---|---|",
        `| Event id | ${mdCode(f.id)} |`,
        `| Time (UTC) | ${f.utc} |`,
        ...(f.local ? [`| Time (${mdText(/** @type {string} */ (zone))}) | ${mdText(f.local.replace(` ${zone}`, ""))} |`] : []),
        `| Actor | ${mdText(f.actor)} |`,
        `| Action | ${mdCode(f.action)} |`,
        `| Resource | ${mdText(f.resource)} |`,
        `| IP | ${mdText(f.ip)} |`,
      );
    } else {
      lines.push(
        `| Time (UTC) |${zone ? ` Time (${mdText(zone)}) |` : ""} Actor | Action | Resource | Event id |`,
        `|---|${zone ? "---|" : ""}---|---|---|---|`,
        ...evs.facts.map(
          (f) =>
            `| ${f.utc} |${zone && f.local ? ` ${mdText(f.local.replace(` ${zone}`, ""))} |` : ""} ${mdText(f.actor)} | ${mdCode(f.action)} | ${mdText(f.resource)} | ${mdCode(f.id)} |`,
        ),
      );
    }
  }
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

/**
 * The member an event is about, by the email the Members tab can filter on: the actor, or the resource when it
 * is a member named by email (its id, or an email in the metadata).
 * @param {import("./api.js").AuditEvent} ev
 * @returns {{ actor: string | null, resource: string | null }}
 */
export function eventMembers(ev) {
  const actor = ev.actor_email || null;
  let resource = null;
  if (ev.resource_type === "member" || ev.resource_type === "membership" || ev.resource_type === "user") {
    if (ev.resource_id && ev.resource_id.includes("@")) resource = ev.resource_id;
    else if (ev.metadata && typeof ev.metadata === "object") {
      const m = /** @type {Record<string, unknown>} */ (ev.metadata);
      const found = ["member_email", "target_email", "email", "user_email"].map((k) => m[k]).find((v) => typeof v === "string" && v.includes("@"));
      resource = typeof found === "string" ? found : null;
    }
  }
  return { actor, resource };
}
