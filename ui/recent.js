// @ts-check
/**
 * The recently used tenants of each profile, most recent first, kept in localStorage so the quick switcher can
 * offer them after a restart. Only a tenant's id, slug and name are kept (what the switcher shows), never its
 * data. Pure functions over a Storage-like object, so node tests pass a Map-backed one.
 */

/** @typedef {import("./api.js").SeenTenant} Tenant */
/** @typedef {{ getItem(key: string): string | null, setItem(key: string, value: string): void }} StorageLike */

/** How many recent tenants a profile keeps. */
export const RECENT_MAX = 8;

/** @param {string} profileId */
export function recentKey(profileId) {
  return `tenant-console.recent.${profileId}`;
}

/**
 * @param {unknown} v
 * @returns {v is Tenant}
 */
function isTenant(v) {
  if (!v || typeof v !== "object") return false;
  const t = /** @type {Record<string, unknown>} */ (v);
  return typeof t.id === "string" && t.id !== "" && typeof t.slug === "string" && typeof t.name === "string";
}

/**
 * The list with `tenant` moved (or added) to the front, without duplicates (by id), at most `max` long.
 * @param {Tenant[]} list
 * @param {Tenant} tenant
 * @param {number} [max]
 * @returns {Tenant[]}
 */
export function pushRecent(list, tenant, max = RECENT_MAX) {
  /** @type {Tenant} */
  const entry = { id: tenant.id, slug: tenant.slug, name: tenant.name };
  if (tenant.shard) entry.shard = tenant.shard;
  return [entry, ...list.filter((t) => tenantKey(t) !== tenantKey(entry))].slice(0, max);
}

/**
 * Reads a profile's list; anything unreadable (another version's format, a hand edit) reads as empty.
 * @param {StorageLike} storage
 * @param {string} profileId
 * @returns {Tenant[]}
 */
export function loadRecent(storage, profileId) {
  let raw;
  try {
    raw = storage.getItem(recentKey(profileId));
  } catch {
    return [];
  }
  if (!raw) return [];
  try {
    const v = JSON.parse(raw);
    if (!Array.isArray(v)) return [];
    /** @type {Tenant[]} */
    let out = [];
    for (const t of v) {
      if (!isTenant(t) || out.some((o) => tenantKey(o) === tenantKey(t))) continue;
      out.push(typeof t.shard === "string" && t.shard ? { id: t.id, slug: t.slug, name: t.name, shard: t.shard } : { id: t.id, slug: t.slug, name: t.name });
    }
    return out.slice(0, RECENT_MAX);
  } catch {
    return [];
  }
}

/**
 * @param {StorageLike} storage
 * @param {string} profileId
 * @param {Tenant[]} list
 */
export function saveRecent(storage, profileId, list) {
  try {
    storage.setItem(recentKey(profileId), JSON.stringify(list.slice(0, RECENT_MAX)));
  } catch {
    // Storage full or disabled: the list still lives for this session.
  }
}

/**
 * Whether a tenant matches what was typed in the switcher (name, slug or id, case-insensitive).
 * @param {Tenant} t
 * @param {string} query
 */
export function matchesTenant(t, query) {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  return t.name.toLowerCase().includes(q) || (t.slug ?? "").toLowerCase().includes(q) || t.id.toLowerCase() === q;
}

/**
 * A tenant's identity in a list: its id, and in a fleet its shard too (an integer id like 42 may be a tenant on
 * every shard).
 * @param {Tenant} t
 */
export function tenantKey(t) {
  return t.shard ? `${t.shard}/${t.id}` : t.id;
}

/**
 * The quick switcher's list: the recent tenants that match first (most recent first), then the search
 * results that are not already listed, at most `max` in all.
 * @param {Tenant[]} recent
 * @param {Tenant[]} results
 * @param {string} query
 * @param {number} [max]
 * @returns {{ tenant: Tenant, recent: boolean }[]}
 */
export function switcherItems(recent, results, query, max = 20) {
  /** @type {{ tenant: Tenant, recent: boolean }[]} */
  const out = [];
  const seen = new Set();
  // A recent tenant that the search also found is shown as the server has it now (its status, a new name).
  const fresh = new Map(results.map((t) => [tenantKey(t), t]));
  for (const t of recent) {
    const key = tenantKey(t);
    if (matchesTenant(t, query) && !seen.has(key)) {
      seen.add(key);
      out.push({ tenant: fresh.get(key) ?? t, recent: true });
    }
  }
  for (const t of results) {
    const key = tenantKey(t);
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ tenant: t, recent: false });
    }
  }
  return out.slice(0, max);
}
