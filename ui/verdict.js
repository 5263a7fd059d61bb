// @ts-check
/**
 * The isolation check's verdict in one plain line people can copy into a ticket: whether tenants are kept apart
 * for this login, and on what evidence (the database's word when connecting, the rules the check read, or rows
 * the probe asked for). Pure: the report, the session and the time are parameters.
 */
import { formatTime } from "./format.js";

/** @typedef {import("./api.js").CheckReport} CheckReport */

/**
 * @typedef {object} Verdict
 * @property {"proven" | "checked" | "connected" | "not-kept-apart"} state
 *   proven: the probe read rows and none was another tenant's; checked: the rules hold, no rows asked for yet;
 *   connected: only what connecting said; not-kept-apart: a critical finding, a leak, or RLS not applying
 * @property {string} text  the line to show and copy
 */

/**
 * "14:05 UTC", "14:05 Europe/Berlin": the time the verdict is of, in the zone the app shows.
 * @param {string | number} at
 * @param {string} zone
 */
function clock(at, zone) {
  const t = formatTime(new Date(at).toISOString(), zone);
  return `${t.slice(11, 16)} ${zone === "Etc/UTC" ? "UTC" : zone}`;
}

/**
 * @param {{ report: CheckReport | null, login: string, bypassReasons: string[], at: string | number, zone: string }} o
 *   report: the last check's (null before one ran); bypassReasons: why RLS does not apply to the login, as
 *   connecting said; at: when the report (or the connection) is from
 * @returns {Verdict}
 */
export function isolationVerdict(o) {
  const who = `this login (${o.login})`;
  const when = clock(o.at, o.zone);
  if (!o.report) {
    if (o.bypassReasons.length) {
      return { state: "not-kept-apart", text: `Tenants are NOT kept apart for ${who}: the database does not apply row-level security to it (${o.bypassReasons.join("; ")}).` };
    }
    return {
      state: "connected",
      text: `Tenants are kept apart for ${who}, as the database said when connecting at ${when}: not yet checked. Run check to read the rules, Check with probe to prove it with rows.`,
    };
  }
  const r = o.report;
  const critical = (r.findings ?? []).filter((f) => f.severity === "critical" && !f.accepted);
  const leaks = (r.evidence ?? []).filter((e) => e.foreign_rows > 0);
  if (leaks.length) {
    const e = leaks[0];
    const more = leaks.length > 1 ? ` (and ${leaks.length - 1} more)` : "";
    return {
      state: "not-kept-apart",
      text: `Tenants are NOT kept apart for ${who}: the probe read ${e.foreign_rows} row${e.foreign_rows === 1 ? "" : "s"} of other tenants from ${e.relation} as ${e.role}${more}, at ${when}.`,
    };
  }
  if (critical.length || r.isolation_enforced === false || o.bypassReasons.length) {
    const first = critical[0]?.problem ?? o.bypassReasons[0] ?? "the check found that row-level security does not hold";
    const n = critical.length;
    return {
      state: "not-kept-apart",
      text: `Tenants are NOT kept apart for ${who}: ${n > 1 ? `${n} critical problems, the first: ` : ""}${first} (checked at ${when}).`,
    };
  }
  if ((r.evidence ?? []).length) {
    return { state: "proven", text: `Tenants are kept apart for ${who}: proven with rows at ${when}.` };
  }
  return {
    state: "checked",
    text: `Tenants are kept apart for ${who} by the database's rules, checked at ${when}; not yet proven with rows (Check with probe does that).`,
  };
}
