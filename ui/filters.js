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

/**
 * The time-range presets, in the order the select shows them. `seconds`: a relative range counted back from now;
 * `calendar`: a day or a month on the calendar of the zone the app shows times in (see calendarRange).
 * @type {readonly { value: string, label: string, seconds: number, calendar?: true }[]}
 */
export const RANGES = Object.freeze([
  { value: "all", label: "Any time", seconds: 0 },
  { value: "1h", label: "Last hour", seconds: 3600 },
  { value: "24h", label: "Last 24 hours", seconds: 86400 },
  { value: "7d", label: "Last 7 days", seconds: 7 * 86400 },
  { value: "30d", label: "Last 30 days", seconds: 30 * 86400 },
  { value: "today", label: "Today", seconds: 0, calendar: true },
  { value: "yesterday", label: "Yesterday", seconds: 0, calendar: true },
  { value: "this-month", label: "This month", seconds: 0, calendar: true },
  { value: "last-month", label: "Last month", seconds: 0, calendar: true },
  { value: "custom", label: "Custom range…", seconds: 0 },
]);

/** The zone this runtime shows local times in (the app's: the computer's zone). */
export function runtimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/**
 * The wall-clock fields of an instant in a zone.
 * @param {number} ms
 * @param {string} timeZone
 * @returns {{ y: number, mo: number, d: number, h: number, mi: number, s: number }}  mo 1–12
 */
export function wallClock(ms, timeZone) {
  /** @type {Record<string, string>} */
  const p = {};
  const fmt = new Intl.DateTimeFormat("en-US", {
    timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  for (const part of fmt.formatToParts(new Date(ms))) p[part.type] = part.value;
  return { y: Number(p.year), mo: Number(p.month), d: Number(p.day), h: Number(p.hour) % 24, mi: Number(p.minute), s: Number(p.second) };
}

/**
 * The instant a wall-clock time names in a zone (a time skipped by a DST change moves forward, as clocks do).
 * Date.UTC normalises overflow, so day 0 or month 13 are fine.
 * @param {number} y
 * @param {number} mo  1–12 (or beyond: normalised)
 * @param {number} d
 * @param {number} h
 * @param {number} mi
 * @param {string} timeZone
 */
export function zonedTime(y, mo, d, h, mi, timeZone) {
  const wanted = Date.UTC(y, mo - 1, d, h, mi);
  const offsetAt = (/** @type {number} */ t) => {
    const w = wallClock(t, timeZone);
    return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - Math.floor(t / 1000) * 1000;
  };
  // Two rounds settle the offset on either side of a DST change.
  let t = wanted - offsetAt(wanted);
  t = wanted - offsetAt(t);
  return t;
}

/** @param {number} ms */
function rfc3339(ms) {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * The range of a calendar preset (today, yesterday, this month, last month) in a zone: from its first midnight
 * to the next one (the filter's `until` is exclusive), as RFC 3339 UTC instants. null for other presets.
 * @param {string} preset
 * @param {number} now  ms since the epoch
 * @param {string} timeZone  IANA name: the zone the app shows times in
 * @returns {{ since: string, until: string } | null}
 */
export function calendarRange(preset, now, timeZone) {
  const w = wallClock(now, timeZone);
  /** @type {[number, number, number, number, number, number] | null} y, mo, d of the start; of the end */
  let r = null;
  if (preset === "today") r = [w.y, w.mo, w.d, w.y, w.mo, w.d + 1];
  else if (preset === "yesterday") r = [w.y, w.mo, w.d - 1, w.y, w.mo, w.d];
  else if (preset === "this-month") r = [w.y, w.mo, 1, w.y, w.mo + 1, 1];
  else if (preset === "last-month") r = [w.y, w.mo - 1, 1, w.y, w.mo, 1];
  if (!r) return null;
  return { since: rfc3339(zonedTime(r[0], r[1], r[2], 0, 0, timeZone)), until: rfc3339(zonedTime(r[3], r[4], r[5], 0, 0, timeZone)) };
}

/**
 * Examples for the custom range's fields, from today (never a fixed date): the start of today and now, in the
 * form the fields read ("2026-11-23 00:00").
 * @param {number} now
 * @param {string} [timeZone]  default: this runtime's
 * @returns {{ since: string, until: string }}
 */
export function rangeExamples(now, timeZone = runtimeZone()) {
  const w = wallClock(now, timeZone);
  const p = (/** @type {number} */ n) => String(n).padStart(2, "0");
  const day = `${w.y}-${p(w.mo)}-${p(w.d)}`;
  return { since: `${day} 00:00`, until: `${day} ${p(w.h)}:${p(w.mi)}` };
}

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
 * @param {string | null | undefined} iso
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
 * @param {string} [timeZone]  the zone of the calendar presets (today, last month…); default: this runtime's,
 *   the zone the custom range's fields are read in
 * @returns {{ ok: true, filter: AuditFilter } | { ok: false, errors: Record<string, string> }}
 */
export function auditFilterFromForm(form, now, timeZone = runtimeZone()) {
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
  } else if (preset.calendar) {
    const r = calendarRange(preset.value, now, timeZone);
    if (r) Object.assign(filter, r);
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
 * The form that shows a filter (custom range when it has bounds). `range`: the preset the filter came from; a
 * calendar preset (last month…) is kept as it is, since it names the same days when the form is read again.
 * @param {AuditFilter} filter
 * @param {string} [range]
 * @returns {AuditForm}
 */
export function auditFormFromFilter(filter, range) {
  const custom = Boolean(filter.since || filter.until);
  const calendar = RANGES.some((r) => r.value === range && r.calendar);
  return {
    range: calendar ? /** @type {string} */ (range) : custom ? "custom" : "all",
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
 * A file name for an export. Without a time range: the tenant and today's date, "audit-acme-2026-11-23.csv".
 * With one: the tenant and the range exported, in the zone it was entered in, "globex-audit-2026-11-01_2026-11-30.csv"
 * for last month (the end is the last day included: `until` is exclusive, so a range ending at midnight ends the
 * day before); a bound that is not a midnight carries its time ("2026-11-20T1430"); a range of one day is that
 * day; no end is today. The slug is made safe for file systems.
 * @param {string} slug
 * @param {number} now
 * @param {string} [ext]
 * @param {AuditFilter} [filter]
 * @param {string} [timeZone]  the zone the range was entered in; default: this runtime's
 */
export function exportFileName(slug, now, ext = "csv", filter = {}, timeZone = runtimeZone()) {
  const safe = slug.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "") || "tenant";
  if (!filter.since && !filter.until) return `audit-${safe}-${new Date(now).toISOString().slice(0, 10)}.${ext}`;
  const p = (/** @type {number} */ n) => String(n).padStart(2, "0");
  const day = (/** @type {{ y: number, mo: number, d: number }} */ w) => `${w.y}-${p(w.mo)}-${p(w.d)}`;
  /** @param {string} iso  @param {boolean} end */
  const bound = (iso, end) => {
    const ms = Date.parse(iso);
    const w = wallClock(ms, timeZone);
    const midnight = w.h === 0 && w.mi === 0 && w.s === 0;
    if (!midnight) return `${day(w)}T${p(w.h)}${p(w.mi)}`;
    // An exclusive end at midnight: the last day in the range is the one before.
    return day(end ? wallClock(ms - 1, timeZone) : w);
  };
  const from = filter.since ? bound(filter.since, false) : "start";
  const to = filter.until ? bound(filter.until, true) : day(wallClock(now, timeZone));
  return `${safe}-audit-${from === to ? from : `${from}_${to}`}.${ext}`;
}

/**
 * What the export dialog says about time zones when they could disagree: the range as entered (in the zone the
 * app shows) and as UTC, and the zone the file's times are written in. null when everything is UTC anyway.
 * @param {AuditFilter} filter
 * @param {string} enteredIn  the zone the range was entered in (the app's)
 * @param {string} fileZone   the zone the file's times are written in ("UTC" unless chosen)
 * @returns {string | null}
 */
export function exportZoneNote(filter, enteredIn, fileZone) {
  const isUtc = (/** @type {string} */ z) => z === "UTC" || z === "Etc/UTC";
  if (!filter.since && !filter.until) return isUtc(fileZone) ? null : `Times in the file are written in ${fileZone}.`;
  if (isUtc(enteredIn) && isUtc(fileZone)) return null;
  const p = (/** @type {number} */ n) => String(n).padStart(2, "0");
  const local = (/** @type {string} */ iso) => {
    const w = wallClock(Date.parse(iso), enteredIn);
    return `${w.y}-${p(w.mo)}-${p(w.d)} ${p(w.h)}:${p(w.mi)}`;
  };
  const asEntered = `${filter.since ? local(filter.since) : "the first event"} to ${filter.until ? local(filter.until) : "now"}`;
  const asUtc = `${filter.since ?? "the first event"} to ${filter.until ?? "now"}`;
  const range = isUtc(enteredIn)
    ? `The range is in UTC: ${asUtc}.`
    : `The range is in ${enteredIn}, as entered: ${asEntered} (${asUtc} in UTC).`;
  const file = isUtc(fileZone)
    ? `The file's times are written in UTC, not ${enteredIn}: choose ${enteredIn} under “Times in” to write them as entered.`
    : `The file's times are written in ${fileZone}${fileZone === enteredIn ? ", as the range" : ""}.`;
  return `${range} ${file}`;
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

