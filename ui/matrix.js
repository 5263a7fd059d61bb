// @ts-check
/**
 * Derived views of what the commands return: the roles × permissions matrix and the isolation findings grouped
 * by severity. Pure.
 */

/** @typedef {import("./api.js").Role} Role */
/** @typedef {import("./api.js").Finding} Finding */

/**
 * The permission matrix: one row per role (in the order given), one column per permission (grouped by their
 * area, `members:manage` under `members`), and whether each role has each permission.
 * @param {Role[]} roles
 * @returns {{ permissions: string[], rows: { role: Role, has: boolean[] }[] }}
 */
export function permissionMatrix(roles) {
  const set = new Set();
  for (const r of roles) for (const p of r.permissions) set.add(p);
  const permissions = /** @type {string[]} */ ([...set]).sort((a, b) => {
    const [aa, ab] = splitPermission(a);
    const [ba, bb] = splitPermission(b);
    return aa === ba ? ab.localeCompare(bb) : aa.localeCompare(ba);
  });
  const rows = roles.map((role) => {
    const own = new Set(role.permissions);
    return { role, has: permissions.map((p) => own.has(p)) };
  });
  return { permissions, rows };
}

/**
 * "members:manage" -> ["members", "manage"]; a permission without ":" is its own area.
 * @param {string} p
 * @returns {[string, string]}
 */
export function splitPermission(p) {
  const i = p.indexOf(":");
  return i < 0 ? [p, ""] : [p.slice(0, i), p.slice(i + 1)];
}

/** Severities, most urgent first. */
export const SEVERITIES = /** @type {const} */ (["critical", "warning", "info"]);

/**
 * Findings grouped by severity, most urgent first; empty groups omitted; unknown severities last, as "info"
 * would hide them. Accepted findings stay in their group (the UI marks them).
 * @param {Finding[]} findings
 * @returns {{ severity: string, findings: Finding[] }[]}
 */
export function groupFindings(findings) {
  /** @type {Map<string, Finding[]>} */
  const by = new Map();
  for (const f of findings) {
    const list = by.get(f.severity) ?? [];
    list.push(f);
    by.set(f.severity, list);
  }
  /** @type {string[]} */
  const order = [...SEVERITIES];
  for (const k of by.keys()) if (!order.includes(k)) order.push(k);
  return order.filter((s) => by.has(s)).map((s) => ({ severity: s, findings: /** @type {Finding[]} */ (by.get(s)) }));
}
