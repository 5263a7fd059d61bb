// @ts-check
/**
 * The access reasons given in this run of the app, most recent first, and the reuse of one reason for the other
 * tenants of the same ticket. Pure functions over plain values (the store keeps the list and the reuse; the logic
 * tests pin these). Reasons are never written to disk: a ticket's words stay in memory.
 */

/** @typedef {import("./api.js").AccessReason} AccessReason */

/** How many recent reasons are offered. */
export const REASONS_MAX = 5;

/** When the profile does not say how long a reason's grant lasts: the core's default (`access_grant_minutes`). */
export const DEFAULT_GRANT_MINUTES = 30;

/**
 * @param {AccessReason | null | undefined} a
 * @param {AccessReason | null | undefined} b
 */
export function sameReason(a, b) {
  return !!a && !!b && a.category === b.category && a.detail.trim() === b.detail.trim();
}

/**
 * The list with `reason` first, without duplicates, at most `max` long.
 * @param {readonly AccessReason[]} list
 * @param {AccessReason} reason
 * @param {number} [max]
 * @returns {AccessReason[]}
 */
export function pushReason(list, reason, max = REASONS_MAX) {
  const r = { category: reason.category, detail: reason.detail.trim() };
  if (!r.detail) return list.slice(0, max);
  return [r, ...list.filter((x) => !sameReason(x, r))].slice(0, max);
}

/**
 * One reason covering the other tenants of the same ticket for a while, for one connected profile.
 * @typedef {{ profileId: string, reason: AccessReason, until: number }} ReasonReuse
 */

/**
 * The reason to open a tenant with, without asking, or null: the reuse is live and for this profile.
 * @param {ReasonReuse | null} reuse
 * @param {string} profileId
 * @param {number} now
 * @returns {AccessReason | null}
 */
export function reusedReason(reuse, profileId, now) {
  return reuse && reuse.profileId === profileId && reuse.until > now ? reuse.reason : null;
}

/**
 * How long one reason may cover further tenants: the grant a reason opens (`access_grant_minutes`, under
 * `required`, and as long under `optional`), or null when the policy asks for no reason.
 * @param {import("./api.js").ReasonPolicy} policy
 * @param {number | null | undefined} grantMinutes  the profile's, when it says
 */
export function reuseMinutes(policy, grantMinutes) {
  if (policy !== "required" && policy !== "optional") return null;
  return grantMinutes && grantMinutes > 0 ? grantMinutes : DEFAULT_GRANT_MINUTES;
}

/**
 * A reason in a line: "support-ticket: ZD-4711".
 * @param {AccessReason} r
 */
export function reasonLabel(r) {
  return `${r.category}: ${r.detail}`;
}
