// @ts-check
/**
 * The one store of the UI: which screen shows, the current profile and its session, the open tenant, and the
 * recent tenants of the profile (persisted). Screens read it and subscribe to it; they keep only their own view
 * state (filters, loaded rows). Changing the profile or the tenant enters a new context in the guard, so every
 * response still in flight for the old one is dropped when it arrives.
 */
import { Guard } from "./guard.js";
import { pushReason } from "./reasons.js";
import { loadRecent, pushRecent, saveRecent } from "./recent.js";

/** @typedef {import("./api.js").ProfileView} ProfileView */
/** @typedef {import("./api.js").SessionInfo} SessionInfo */
/** @typedef {import("./api.js").SeenTenant} Tenant */
/** @typedef {import("./recent.js").StorageLike} StorageLike */
/** @typedef {"profiles" | "tenants" | "tenant" | "check"} Screen */
/** @typedef {"overview" | "members" | "roles" | "audit" | "access"} TenantTab */

/**
 * @typedef {object} State
 * @property {Screen} screen
 * @property {ProfileView | null} profile   the selected (and, with a session, connected) profile
 * @property {SessionInfo | null} session
 * @property {Tenant | null} tenant         the open tenant
 * @property {Tenant[]} recent              the profile's recently opened tenants, most recent first
 * @property {TenantTab} tab                the tenant view's tab (kept when switching tenants)
 * @property {readonly string[]} refused    profiles whose stored password the server refused on the last try
 * @property {FleetState | null} fleet      the open fleet; `session` is then its shard connected now (or none yet)
 */

/**
 * An open fleet: what it is, what its shards answered when it was opened, and the shards' profiles.
 * @typedef {object} FleetState
 * @property {string} name
 * @property {import("./api.js").FleetView} view
 * @property {import("./api.js").ShardStatus[]} status
 * @property {ProfileView[]} profiles  the shards' profiles (a shard is connected as its profile)
 */

/** @typedef {(state: State, prev: State) => void} Listener */

export class Store {
  /** @type {State} */
  #state = { screen: "profiles", profile: null, session: null, tenant: null, recent: [], tab: "overview", refused: [], fleet: null };
  /** @type {Set<Listener>} */
  #listeners = new Set();
  #storage;
  /** Drops responses for a profile or tenant the user has left (see guard.js). */
  guard = new Guard();
  /** When the session connected: its isolation verdict (RLS applies to the login, or why not) is of that time. */
  connectedAt = /** @type {string | null} */ (null);
  /**
   * The access reasons given in this run of the app, most recent first (memory only: the reason prompt and the
   * export dialog offer them).
   * @type {import("./api.js").AccessReason[]}
   */
  reasons = [];
  /** One reason covering the other tenants of a ticket for a while (see reasons.js); ends with the session. */
  reasonReuse = /** @type {import("./reasons.js").ReasonReuse | null} */ (null);
  /** Exports running now (quitting asks first while there is one). */
  exportsRunning = 0;

  /** @param {StorageLike} storage  where the recent tenants persist (localStorage in the app) */
  constructor(storage) {
    this.#storage = storage;
  }

  /** @returns {Readonly<State>} */
  get state() {
    return this.#state;
  }

  /**
   * Calls `fn` after every change, with the new and the previous state.
   * @param {Listener} fn
   * @returns {() => void} unsubscribes
   */
  subscribe(fn) {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** @param {Partial<State>} patch */
  #set(patch) {
    const prev = this.#state;
    this.#state = Object.freeze({ ...prev, ...patch });
    const profileId = this.#state.session?.profile_id ?? null;
    const tenantId = this.#state.tenant?.id ?? null;
    if (profileId !== (prev.session?.profile_id ?? null) || tenantId !== (prev.tenant?.id ?? null)) {
      this.guard.enter(profileId, tenantId);
    }
    for (const fn of [...this.#listeners]) fn(this.#state, prev);
  }

  /** @param {Screen} screen */
  show(screen) {
    if (screen !== this.#state.screen) this.#set({ screen });
  }

  /** @param {TenantTab} tab */
  showTab(tab) {
    if (tab !== this.#state.tab) this.#set({ tab });
  }

  /**
   * Selects a profile on the profiles screen (no session).
   * @param {ProfileView | null} profile
   */
  selectProfile(profile) {
    this.#set({ profile });
  }

  /**
   * A session started (or was re-established, e.g. after acknowledging the bypass banner).
   * @param {ProfileView} profile
   * @param {SessionInfo} session
   */
  connected(profile, session) {
    const same = this.#state.session?.profile_id === session.profile_id;
    const fleet = this.#state.fleet;
    // A profile that is not one of the open fleet's shards closes the fleet's view.
    const inFleet = fleet !== null && fleet.profiles.some((p) => p.id === session.profile_id);
    this.connectedAt = new Date().toISOString();
    if (!same) this.reasonReuse = null;
    this.#set({
      profile,
      session,
      fleet: inFleet ? fleet : null,
      tenant: same ? this.#state.tenant : null,
      recent: loadRecent(this.#storage, inFleet ? fleetRecentKey(fleet.name) : session.profile_id),
      screen: same || inFleet ? this.#state.screen : "tenants",
    });
  }

  /**
   * A fleet was opened: its tenants screen shows; no shard is connected until a tenant is opened.
   * @param {FleetState} fleet
   */
  fleetOpened(fleet) {
    this.reasonReuse = null;
    this.#set({ fleet, session: null, tenant: null, recent: loadRecent(this.#storage, fleetRecentKey(fleet.name)), screen: "tenants" });
  }

  /** The open fleet's shard session is gone (switching shards failed half-way): the fleet's tenants show. */
  shardClosed() {
    if (!this.#state.fleet) return;
    this.#set({ session: null, tenant: null, screen: "tenants" });
  }

  disconnected() {
    this.reasonReuse = null;
    this.#set({ session: null, tenant: null, recent: [], screen: "profiles", fleet: null });
  }

  /** The key the recent tenants are kept under: the open fleet's (across its shards), else the profile's. */
  #recentKey() {
    const { fleet, session } = this.#state;
    return fleet ? fleetRecentKey(fleet.name) : (session?.profile_id ?? "");
  }

  /**
   * Remembers a reason given (opening a tenant, an export) for the next prompts.
   * @param {import("./api.js").AccessReason} reason
   */
  rememberReason(reason) {
    this.reasons = pushReason(this.reasons, reason);
  }

  /**
   * The server refused a profile's stored password (true), or took it / a new one was stored (false).
   * @param {string} profileId
   * @param {boolean} refused
   */
  passwordRefused(profileId, refused) {
    const has = this.#state.refused.includes(profileId);
    if (has === refused) return;
    this.#set({ refused: refused ? [...this.#state.refused, profileId] : this.#state.refused.filter((id) => id !== profileId) });
  }

  /**
   * Opens a tenant (or closes it with null): a new context, and the tenant goes to the front of the recent list.
   * Opening the tenant that is already open just shows it.
   * @param {Tenant | null} tenant
   */
  openTenant(tenant) {
    const session = this.#state.session;
    if (!tenant || !session) {
      this.#set({ tenant: null, screen: session ? "tenants" : "profiles" });
      return;
    }
    // In a fleet, the tenant is on the shard connected now.
    if (this.#state.fleet) tenant = { ...tenant, shard: session.profile_name };
    const recent = pushRecent(this.#state.recent, tenant);
    saveRecent(this.#storage, this.#recentKey(), recent);
    if (this.#state.tenant?.id === tenant.id) {
      // Already open (a double click, or choosing it again in the switcher): show it. Starting a new visit
      // here would drop the open view's in-flight responses as stale while the view itself stays, leaving it
      // on "Opening…" for good.
      this.#set({ recent, screen: "tenant" });
      return;
    }
    this.#set({ tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name, shard: tenant.shard }, recent, screen: "tenant" });
  }

  /**
   * The tenant's details as the server resolved them (its name may differ from what the list showed).
   * Keeps the context: same tenant id.
   * @param {Tenant} tenant
   */
  tenantResolved(tenant) {
    const session = this.#state.session;
    if (!session || this.#state.tenant?.id !== tenant.id) return;
    const shard = this.#state.tenant?.shard;
    const recent = pushRecent(this.#state.recent, { ...tenant, shard });
    saveRecent(this.#storage, this.#recentKey(), recent);
    this.#set({ tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name, status: tenant.status ?? null, shard }, recent });
  }
}

/**
 * Where a fleet's recent tenants are kept (one list across its shards; each names its shard).
 * @param {string} name
 */
export function fleetRecentKey(name) {
  return `fleet:${name}`;
}
