// @ts-check
/**
 * Stale-response guard: switching tenants never mixes them.
 *
 * The commands are stateless about the tenant, so a response can arrive after the user has moved on. Every
 * request takes a token when it starts; the handler keeps the response only if the token is still current:
 * same profile, same tenant, same visit (a generation bumped on every switch, so leaving a tenant and coming
 * back still drops what the first visit asked for), and, within a lane ("members", "audit", ...), the latest
 * request of that lane (a new search supersedes the one still in flight). Pure: no DOM, no timers.
 */

/**
 * @typedef {object} Token
 * @property {number} gen
 * @property {string | null} profileId
 * @property {string | null} tenant
 * @property {string | null} lane
 * @property {number} seq
 */

/** Thrown (instead of the response or the error) when a response arrives for a context the user has left. */
export class StaleResponse extends Error {
  constructor() {
    super("response for a tenant or query the user has left");
    this.name = "StaleResponse";
  }
}

/**
 * @param {unknown} e
 * @returns {e is StaleResponse}
 */
export function isStale(e) {
  return e instanceof StaleResponse;
}

export class Guard {
  /**
   * Called with the token of every response dropped as stale (the app logs it at debug level).
   * @type {((t: Token) => void) | null}
   */
  onDrop = null;
  #gen = 0;
  /** @type {string | null} */
  #profileId = null;
  /** @type {string | null} */
  #tenant = null;
  /** @type {Map<string, number>} */
  #lanes = new Map();

  /**
   * Enters a context: from now on, responses requested for any earlier context are stale. Always starts a new
   * visit, even for the same profile and tenant.
   * @param {string | null} profileId
   * @param {string | null} tenant  the tenant's id (null when no tenant is open)
   */
  enter(profileId, tenant) {
    this.#gen += 1;
    this.#profileId = profileId;
    this.#tenant = tenant;
    this.#lanes.clear();
  }

  /** @returns {{ profileId: string | null, tenant: string | null, gen: number }} */
  get current() {
    return { profileId: this.#profileId, tenant: this.#tenant, gen: this.#gen };
  }

  /**
   * A token for a request starting now. With a lane, it also supersedes the lane's earlier requests.
   * @param {string} [lane]
   * @returns {Token}
   */
  token(lane) {
    let seq = 0;
    if (lane) {
      seq = (this.#lanes.get(lane) ?? 0) + 1;
      this.#lanes.set(lane, seq);
    }
    return { gen: this.#gen, profileId: this.#profileId, tenant: this.#tenant, lane: lane ?? null, seq };
  }

  /**
   * Makes every request of a lane stale without starting a new one (a view closed, a filter cleared).
   * @param {string} lane
   */
  abandon(lane) {
    this.#lanes.set(lane, (this.#lanes.get(lane) ?? 0) + 1);
  }

  /**
   * @param {Token} t
   * @returns {boolean} whether a response for `t` may still be shown
   */
  isCurrent(t) {
    if (t.gen !== this.#gen || t.profileId !== this.#profileId || t.tenant !== this.#tenant) return false;
    return t.lane === null || this.#lanes.get(t.lane) === t.seq;
  }

  /**
   * Waits for `promise` and hands its value (or rethrows its error) only if `t` is still current; otherwise
   * throws StaleResponse, so the caller's handler renders nothing — not even an error for a tenant it left.
   * @template T
   * @param {Token} t
   * @param {Promise<T>} promise
   * @returns {Promise<T>}
   */
  async keep(t, promise) {
    let value;
    try {
      value = await promise;
    } catch (e) {
      if (!this.isCurrent(t)) throw this.#drop(t);
      throw e;
    }
    if (!this.isCurrent(t)) throw this.#drop(t);
    return value;
  }

  /** @param {Token} t */
  #drop(t) {
    this.onDrop?.(t);
    return new StaleResponse();
  }
}
