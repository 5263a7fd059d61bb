// @ts-check
/**
 * Formatting of numbers, estimates, sizes, durations and times for display. Pure functions with the locale and
 * time zone as parameters (defaulting to the user's), so node tests can pin them. Output is plain text for
 * `textContent`, never markup.
 */

/** @param {string} [locale] */
function nf(locale) {
  return new Intl.NumberFormat(locale ?? "en-US", { maximumFractionDigits: 0 });
}

/**
 * A count with grouping: 1234567 -> "1,234,567".
 * @param {number} n
 * @param {string} [locale]
 */
export function formatCount(n, locale) {
  return nf(locale).format(n);
}

/**
 * A count the server may have estimated (from planner statistics): estimates are labelled "≈" and rounded to
 * two significant digits, so they do not look more exact than they are.
 * @param {{ value: number, is_estimate: boolean }} c
 * @param {string} [locale]
 */
export function formatEstimate(c, locale) {
  if (!c.is_estimate) return formatCount(c.value, locale);
  return `≈ ${formatCount(roundSignificant(c.value, 2), locale)}`;
}

/**
 * @param {number} n
 * @param {number} digits
 */
export function roundSignificant(n, digits) {
  if (n === 0 || !Number.isFinite(n)) return n;
  const mag = Math.floor(Math.log10(Math.abs(n)));
  if (mag < digits) return Math.round(n);
  const f = 10 ** (mag - digits + 1);
  return Math.round(n / f) * f;
}

/**
 * Bytes in binary units: 1536 -> "1.5 KiB".
 * @param {number} bytes
 */
export function formatBytes(bytes) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return i === 0 ? `${v} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/**
 * A duration for people: "4 s", "2 min 5 s", "1 h 3 min". Under a second reads "under 1 s".
 * @param {number} seconds
 */
export function formatDuration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return "unknown";
  if (seconds < 1) return "under 1 s";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

/**
 * What an approval has left, for the tenant's header: whole minutes (rounded up) while there are more than two,
 * then minutes and seconds ("1:05 left"), so the end is seen coming; hours and days for long approvals.
 * @param {number} ms  milliseconds left
 */
export function formatTimeLeft(ms) {
  if (!Number.isFinite(ms) || ms <= 0) return "no time left";
  const s = Math.ceil(ms / 1000);
  if (s <= 120) return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")} left`;
  const m = Math.ceil(s / 60);
  if (m < 120) return `${m} min left`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min left` : `${h} h left`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h left` : `${d} d left`;
}

/**
 * How long until `formatTimeLeft(ms)` reads differently: a second near the end, else the next minute.
 * @param {number} ms  milliseconds left
 */
export function timeLeftTick(ms) {
  if (ms <= 121000) return Math.max(50, ((ms - 1) % 1000) + 1);
  // The display is ceil(minutes): it changes when ms crosses the whole minute below.
  return Math.max(50, ms - (Math.ceil(ms / 60000) - 1) * 60000);
}

/**
 * Where an export stands, from one progress message of its channel.
 * @param {{ rows: number, bytes: number, total_estimate: number | null, elapsed_ms: number }} p
 * @returns {{ fraction: number | null, rate: number | null, secondsLeft: number | null }}
 *   fraction of the estimated total done (null when there is no estimate), rows per second (null before any
 *   time has passed), seconds left (null without an estimate or a rate)
 */
export function exportProgress(p) {
  const rate = p.elapsed_ms > 0 ? (p.rows * 1000) / p.elapsed_ms : null;
  const total = p.total_estimate;
  // The total is an estimate: once we pass it we are near the end but do not know where; say so (no >100%).
  const fraction = total && total > 0 ? Math.min(p.rows / total, 0.99) : null;
  let secondsLeft = null;
  if (total && total > 0 && rate && rate > 0) secondsLeft = Math.max(total - p.rows, 0) / rate;
  return { fraction, rate, secondsLeft };
}

/**
 * The progress line of the export dialog: "12,000 of ≈ 30,000 rows · 4,000 rows/s · about 5 s left".
 * @param {{ rows: number, bytes: number, total_estimate: number | null, elapsed_ms: number }} p
 * @param {string} [locale]
 */
export function formatExportProgress(p, locale) {
  const { rate, secondsLeft } = exportProgress(p);
  const parts = [];
  parts.push(
    p.total_estimate != null
      ? `${formatCount(p.rows, locale)} of ≈ ${formatCount(p.total_estimate, locale)} rows`
      : `${formatCount(p.rows, locale)} rows`,
  );
  if (p.bytes > 0) parts.push(formatBytes(p.bytes));
  if (rate !== null) parts.push(`${formatCount(rate, locale)} rows/s`);
  if (p.elapsed_ms >= 1000) parts.push(`${formatDuration(p.elapsed_ms / 1000)} elapsed`);
  if (secondsLeft !== null) {
    // "about under 1 s left" reads wrong: under a second is "almost done" too.
    parts.push(p.rows >= (p.total_estimate ?? 0) || secondsLeft < 1 ? "almost done" : `about ${formatDuration(secondsLeft)} left`);
  }
  return parts.join(" · ");
}

/**
 * A timestamp in the given time zone as "2026-11-23 07:39:05" (sortable, unambiguous, no locale month names).
 * @param {string | null | undefined} iso  RFC 3339
 * @param {string} [timeZone]  IANA name; default: the user's
 */
export function formatTime(iso, timeZone) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  /** @type {Intl.DateTimeFormatOptions} */
  const opts = {
    year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  };
  if (timeZone) opts.timeZone = timeZone;
  /** @type {Record<string, string>} */
  const p = {};
  for (const part of new Intl.DateTimeFormat("en-US", opts).formatToParts(d)) p[part.type] = part.value;
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/**
 * A date only ("2026-11-23"), for created / joined columns.
 * @param {string | null | undefined} iso
 * @param {string} [timeZone]
 */
export function formatDate(iso, timeZone) {
  const t = formatTime(iso, timeZone);
  return t === "—" || !/^\d{4}-/.test(t) ? t : t.slice(0, 10);
}

/**
 * How long ago, coarse: "just now", "5 min ago", "3 h ago", "12 days ago".
 * @param {string | null | undefined} iso
 * @param {number} now  ms since the epoch
 */
export function formatAgo(iso, now) {
  if (!iso) return "never";
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const s = Math.round((now - t) / 1000);
  if (s < 0) return "in the future";
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  const d = Math.floor(s / 86400);
  return d === 1 ? "1 day ago" : `${d} days ago`;
}

/**
 * JSON for the event detail: two-space indented, stable, with a fallback for values that do not serialize.
 * @param {unknown} v
 */
export function formatJson(v) {
  try {
    const s = JSON.stringify(v, null, 2);
    return s === undefined ? "null" : s;
  } catch {
    return String(v);
  }
}

/** The user's time zone (IANA), or "UTC" when the platform does not say. */
export function localZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/**
 * The hover text of a time shown relative or local: the time in the zone with its name, and in UTC.
 * "2026-11-23 08:39:05 Europe/Berlin · 2026-11-23 07:39:05 UTC"
 * @param {string | null | undefined} iso
 * @param {string} [timeZone]  default: the user's
 */
export function timeTitle(iso, timeZone) {
  if (!iso) return "";
  const zone = timeZone ?? localZone();
  const local = formatTime(iso, zone);
  const utc = formatTime(iso, "UTC");
  return zone === "UTC" || zone === "Etc/UTC" ? `${utc} UTC` : `${local} ${zone} · ${utc} UTC`;
}
