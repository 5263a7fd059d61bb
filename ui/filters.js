// @ts-check
/**
 * The audit log's filter form and the AuditFilter the commands take, both ways. Pure: the form is plain
 * strings (what inputs hold), the filter is what `audit_page` / `audit_count` / `audit_export` receive.
 * Times in the form are the user's local wall-clock time (`<input type="datetime-local">`); the filter
 * carries RFC 3339 instants in UTC.
 */

/** @typedef {import("./api.js").AuditFilter} AuditFilter */

/**
 * @typedef {object} AuditForm
 * @property {string} range     a preset name (see RANGES) or "custom"
 * @property {string} since     datetime-local value, used when range is "custom"
 * @property {string} until     datetime-local value, used when range is "custom"
 * @property {string} action
 * @property {string} actor
 * @property {string} resource_type
 * @property {string} resource_id
 */

/** The time-range presets, in the order the select shows them. */
export const RANGES = /** @type {const} */ ([
  { value: "all", label: "Any time", seconds: 0 },
  { value: "1h", label: "Last hour", seconds: 3600 },
  { value: "24h", label: "Last 24 hours", seconds: 86400 },
  { value: "7d", label: "Last 7 days", seconds: 7 * 86400 },
  { value: "30d", label: "Last 30 days", seconds: 30 * 86400 },
  { value: "custom", label: "Custom range…", seconds: 0 },
]);

/** @returns {AuditForm} */
export function emptyAuditForm() {
  return { range: "all", since: "", until: "", action: "", actor: "", resource_type: "", resource_id: "" };
}

/**
 * A datetime-local value ("2026-11-23T07:39" or with seconds) in the local time zone, as RFC 3339 UTC.
 * @param {string} value
 * @returns {string | null} null when the value is not a date
 */
export function localInputToRfc3339(value) {
  // ISO 8601 like everything else in the app: a date, or a date and a time (a space or a T between them).
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m;
  const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0));
  if (Number.isNaN(date.getTime()) || date.getMonth() !== Number(mo) - 1) return null;
  return date.toISOString().replace(/\.000Z$/, "Z");
}

/**
 * An RFC 3339 instant as a datetime-local value in the local time zone (for prefilling a form).
 * @param {string | undefined} iso
 */
export function rfc3339ToLocalInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const p = (/** @type {number} */ n) => String(n).padStart(2, "0");
  const base = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
  return d.getSeconds() ? `${base}:${p(d.getSeconds())}` : base;
}

/**
 * The filter for a form, or the problems that keep it from being one.
 * @param {AuditForm} form
 * @param {number} now  ms since the epoch (the presets count back from it)
 * @returns {{ ok: true, filter: AuditFilter } | { ok: false, errors: Record<string, string> }}
 */
export function auditFilterFromForm(form, now) {
  /** @type {AuditFilter} */
  const filter = {};
  /** @type {Record<string, string>} */
  const errors = {};
  const preset = RANGES.find((r) => r.value === form.range);
  if (!preset) {
    errors.range = `unknown time range ${JSON.stringify(form.range)}`;
  } else if (preset.value === "custom") {
    if (form.since.trim()) {
      const s = localInputToRfc3339(form.since);
      if (s) filter.since = s;
      else errors.since = "not a date and time";
    }
    if (form.until.trim()) {
      const u = localInputToRfc3339(form.until);
      if (u) filter.until = u;
      else errors.until = "not a date and time";
    }
    if (filter.since && filter.until && filter.since >= filter.until) {
      errors.until = "must be after the start of the range";
    }
  } else if (preset.seconds > 0) {
    filter.since = new Date(now - preset.seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  }
  // The action is exact, or a prefix ending in "." or "*": the server reads it, the form only trims it.
  for (const key of /** @type {const} */ (["action", "actor", "resource_type", "resource_id"])) {
    const v = form[key].trim();
    if (v) filter[key] = v;
  }
  if (Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, filter };
}

/**
 * The form that shows a filter (custom range when it has bounds).
 * @param {AuditFilter} filter
 * @returns {AuditForm}
 */
export function auditFormFromFilter(filter) {
  const custom = Boolean(filter.since || filter.until);
  return {
    range: custom ? "custom" : "all",
    since: rfc3339ToLocalInput(filter.since),
    until: rfc3339ToLocalInput(filter.until),
    action: filter.action ?? "",
    actor: filter.actor ?? "",
    resource_type: filter.resource_type ?? "",
    resource_id: filter.resource_id ?? "",
  };
}

/**
 * A one-line summary of a filter for people: "action member.* · actor ada@example.com", or "all events".
 * @param {AuditFilter} filter
 */
export function describeFilter(filter) {
  /** @type {string[]} */
  const parts = [];
  if (filter.since) parts.push(`since ${filter.since}`);
  if (filter.until) parts.push(`until ${filter.until}`);
  if (filter.action) parts.push(`action ${filter.action}`);
  if (filter.actor) parts.push(`actor ${filter.actor}`);
  if (filter.resource_type) parts.push(`resource type ${filter.resource_type}`);
  if (filter.resource_id) parts.push(`resource ${filter.resource_id}`);
  return parts.length ? parts.join(" · ") : "all events";
}

/**
 * A file name for an export: "audit-acme-2026-11-23.csv" (the slug made safe for file systems).
 * @param {string} slug
 * @param {number} now
 */
export function exportFileName(slug, now, ext = "csv") {
  const safe = slug.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "") || "tenant";
  return `audit-${safe}-${new Date(now).toISOString().slice(0, 10)}.${ext}`;
}

/**
 * The format a file name asks for, as the export reads it: `.jsonl` (or `.ndjson`) is JSON lines, anything else
 * CSV; a final `.gz` compresses.
 * @param {string} name
 * @returns {{ format: "csv" | "jsonl", gzip: boolean, label: string }}
 */
export function exportFormatOf(name) {
  let stem = name.toLowerCase();
  const gzip = stem.endsWith(".gz");
  if (gzip) stem = stem.slice(0, -3);
  const format = stem.endsWith(".jsonl") || stem.endsWith(".ndjson") ? "jsonl" : "csv";
  return { format, gzip, label: `${format === "jsonl" ? "JSON lines" : "CSV"}${gzip ? ", gzip-compressed" : ""}` };
}

/**
 * The command an auditor runs to check an export, quoted for a POSIX shell.
 * @param {string} path
 * @param {string} publicKey
 */
export function verifyCommand(path, publicKey) {
  const q = (/** @type {string} */ s) => `'${s.replace(/'/g, `'\\''`)}'`;
  return `tenantctl verify ${q(path)} --public-key ${q(publicKey)}`;
}

