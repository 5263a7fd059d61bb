// @ts-check
/**
 * What the user does that crosses screens: connect a profile (asking for the password when the keyring has
 * none), acknowledge the bypass banner, open a tenant (asking for the reason when the profile wants one),
 * disconnect. Screens get these through their context instead of reaching for each other.
 */
import * as api from "./api.js";
import { ErrorKind } from "./api.js";
import { announce } from "./dom.js";
import { confirmDialog } from "./dialog.js";
import { askHostKeys, askPassword, askReason } from "./prompts.js";
import { reusedReason, reuseMinutes } from "./reasons.js";

/** @typedef {import("./store.js").Store} Store */
/** @typedef {import("./api.js").ProfileView} ProfileView */
/** @typedef {import("./api.js").Tenant} Tenant */
/** @typedef {import("./api.js").AccessReason} AccessReason */

/**
 * @typedef {object} Ctx
 * @property {Store} store
 * @property {Actions} actions
 */

/**
 * Whether tenant reads are allowed: connected, and RLS applies to the login or the user acknowledged that it
 * does not.
 * @param {import("./api.js").SessionInfo | null} s
 */
export function readsAllowed(s) {
  if (!s) return false;
  return s.bypass_reasons.length === 0 || s.bypass_accepted;
}

/**
 * Shows the SSH tunnel's state while it is re-opened ("Reconnecting through the bastion…"), for the profile
 * connected now; a later profile's watch replaces it.
 * @param {string} profileId
 */
function watchRoute(profileId) {
  const line = document.getElementById("route-status");
  if (!line) return;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let hide;
  api
    .sessionRouteWatch(profileId, (s) => {
      if (line.dataset.profileId !== profileId) return;
      clearTimeout(hide);
      line.classList.toggle("down", s.state === "down");
      if (s.state === "reconnecting") {
        line.textContent = `Reconnecting through the bastion (${s.route})…`;
        line.hidden = false;
      } else if (s.state === "down") {
        line.textContent = `The SSH route is down: ${s.message}`;
        line.hidden = false;
      } else {
        line.textContent = "Reconnected through the bastion.";
        hide = setTimeout(() => {
          line.hidden = true;
        }, 4000);
      }
    })
    .catch(() => {});
  line.dataset.profileId = profileId;
  line.hidden = true;
}

/**
 * A profile's watch on approvals: one `access_watch` per session (each is a LISTEN connection on the app's side),
 * shared by every view that follows a tenant's consent.
 * @typedef {{ live: Promise<boolean>, listeners: Set<(tenantId: string) => void> }} ConsentWatch
 */

export class Actions {
  #store;
  /** A fleet's shard is being switched (see openFleetTenant). */
  #switching = false;
  /** @type {Map<string, ConsentWatch>} by profile id, for the session connected now */
  #consentWatches = new Map();
  /**
   * The reason given for the tenant being opened, handed to its view once (see takeReason).
   * @type {{ tenantId: string, reason: AccessReason | null } | null}
   */
  #pendingReason = null;

  /** @param {Store} store */
  constructor(store) {
    this.#store = store;
  }

  /**
   * Connects a profile. When the keyring has no password (or is locked), asks for it: remembered in the
   * keyring, or sent with this connection only. Resolves with the session, or null if the user gave up;
   * rejects with the command's error otherwise (the caller shows it).
   * @param {ProfileView} profile
   * @param {{ allowBypass?: boolean }} [opts]
   */
  async connect(profile, opts = {}) {
    /** @type {string | undefined} */
    let password;
    for (let attempt = 0; attempt < 4; attempt += 1) {
      try {
        // A shard of the open fleet is connected as one (within the fleet's budget, one shard at a time).
        const fleet = this.#store.state.fleet;
        const shardOf = fleet && fleet.profiles.some((p) => p.id === profile.id) ? fleet.name : undefined;
        // A profile that is not one of the open fleet's shards: the fleet (and its open shard) is closed first.
        if (fleet && !shardOf) {
          await api.fleetClose().catch(() => {});
          this.#store.disconnected();
        }
        const session = await api.sessionConnect(profile.id, { password, allowBypass: opts.allowBypass === true, fleet: shardOf });
        // The stored password worked (none was typed for this connection): it is not "refused" any more.
        if (password === undefined) this.#store.passwordRefused(profile.id, false);
        password = undefined;
        // A new session: the last one's watch on approvals went with its connection.
        this.#consentWatches.delete(session.profile_id);
        this.#store.connected({ ...profile, password_stored: profile.password_stored }, session);
        if (session.route?.via === "ssh") watchRoute(session.profile_id);
        announce(
          session.bypass_reasons.length && !session.bypass_accepted
            ? `Connected to ${session.profile_name}. Warning: row-level security does not apply to login ${session.login.user}.`
            : `Connected to ${session.profile_name} as ${session.login.user}.`,
        );
        return session;
      } catch (err) {
        const e = api.toApiError(err);
        // SSH host keys seen for the first time: the user compares the fingerprints; trusted ones are pinned
        // in the profile (with its stored password) and the connect is tried again.
        const unknown = e.kind === ErrorKind.ConnectSshHostKeyUnknown ? (e.ssh?.unknown_keys ?? []) : [];
        if (unknown.length) {
          if (!(await askHostKeys({ profileName: profile.name, keys: unknown, pin: true }))) return null;
          await api.profilesPinHostKeys(profile.id, unknown.map((k) => ({ hop: k.hop, fingerprint: k.fingerprint })));
          continue;
        }
        const keyring = e.kind === ErrorKind.KeyringUnavailable || e.kind === ErrorKind.KeyringNotPersistent;
        const refused = e.kind === ErrorKind.ConnectAuth;
        // The keyring's password was refused: the profile must stop saying "password stored" as if it worked.
        if (refused && password === undefined && profile.password_stored) this.#store.passwordRefused(profile.id, true);
        if (password !== undefined || (e.kind !== ErrorKind.SecretMissing && !keyring && !refused)) throw e;
        // In the app's words: never the profile's id, never a command to type.
        const answer = await askPassword({
          profileName: profile.name,
          why: keyring
            ? `The system keyring is locked or not available here, so no password can be kept. Enter the password of database user ${profile.user} for this session only.`
            : refused
              ? `The server refused the password of database user ${profile.user}. Enter it again.`
              : `No password is stored for ${profile.name}. Enter the password of database user ${profile.user}.`,
          canRemember: !keyring,
        });
        if (!answer) return null;
        if (answer.remember) {
          // Straight to the keyring; the next connect reads it from there.
          try {
            await api.profilesSave({ id: profile.id }, answer.password);
            profile = { ...profile, password_stored: true };
            this.#store.passwordRefused(profile.id, false);
          } catch (saveErr) {
            const se = api.toApiError(saveErr);
            if (se.kind !== ErrorKind.KeyringUnavailable && se.kind !== ErrorKind.KeyringNotPersistent) throw se;
            announce("The keyring could not keep the password: it is used for this session only.");
            password = answer.password;
          }
        } else {
          password = answer.password;
        }
      }
    }
    return null;
  }

  /** The user read the red banner and chose to continue: reconnect with the bypass allowed. */
  async acknowledgeBypass() {
    const { profile } = this.#store.state;
    if (!profile) return null;
    return this.connect(profile, { allowBypass: true });
  }

  /** Connects the current profile again (after a lost connection), keeping its bypass acknowledgement. */
  async reconnect() {
    const { profile, session } = this.#store.state;
    if (!profile) return null;
    return this.connect(profile, { allowBypass: session?.bypass_accepted === true });
  }

  async disconnect() {
    const { session, fleet } = this.#store.state;
    this.#store.disconnected();
    if (session) this.#consentWatches.delete(session.profile_id);
    if (session) {
      try {
        await api.sessionDisconnect(session.profile_id);
      } catch {
        // Already gone: nothing left to close.
      }
    }
    if (fleet) {
      try {
        await api.fleetClose();
      } catch {
        // Already closed.
      }
    }
    if (session || fleet) announce(fleet ? `Closed fleet ${fleet.name}.` : "Disconnected.");
  }

  /**
   * Opens a fleet: every shard is asked whether it answers; its tenants screen shows (no shard is connected
   * until a tenant is opened). Rejects with the command's error (the caller shows it).
   * @param {string} name
   */
  async openFleet(name) {
    const session = this.#store.state.session;
    if (session) {
      this.#consentWatches.delete(session.profile_id);
      this.#store.disconnected();
      await api.sessionDisconnect(session.profile_id).catch(() => {});
    }
    const opened = await api.fleetOpen(name);
    const all = await api.profilesList();
    const profiles = opened.fleet.shards.flatMap((s) => all.filter((p) => p.id === s.profile_id));
    this.#store.fleetOpened({ name: opened.fleet.name, view: opened.fleet, status: opened.status, profiles });
    const down = opened.status.filter((s) => !s.answered).length;
    announce(`Opened fleet ${name}: ${opened.status.length - down} of ${opened.status.length} shards answered.`);
    return opened;
  }

  /**
   * Opens a tenant of the open fleet: on the shard a search just found it on (`tenant.shard`, `found`), else on
   * the shard a lookup names (a recent tenant may have moved); that shard is connected as its profile (the
   * one open before is closed), then the tenant opens as with the profile alone (reason, records on that shard).
   * Resolves false when the user gave up or the shard's login may not read yet (the banner says why).
   * @param {import("./api.js").SeenTenant} tenant
   * @param {{ found?: boolean }} [opts]
   */
  async openFleetTenant(tenant, opts = {}) {
    const fleet = this.#store.state.fleet;
    if (!fleet) return this.openTenant(tenant);
    // One switch at a time: a second click while a shard connects does nothing.
    if (this.#switching) return false;
    this.#switching = true;
    try {
      return await this.#openOnShard(fleet, tenant, opts.found === true);
    } finally {
      this.#switching = false;
    }
  }

  /**
   * @param {import("./store.js").FleetState} fleet
   * @param {import("./api.js").SeenTenant} tenant
   * @param {boolean} found
   */
  async #openOnShard(fleet, tenant, found) {
    let t = tenant;
    if (!found || !t.shard) {
      // Asked first on the shard the user last saw it on (an integer id may be another tenant elsewhere).
      const located = await api.fleetLocate(fleet.name, t.id, t.shard);
      t = { ...located.tenant, status: t.status, shard: located.shard };
    }
    const profile = fleet.profiles.find((p) => p.name === t.shard);
    if (!profile) throw new Error(`Shard ${t.shard} of fleet ${fleet.name} has no profile here.`);
    let session = this.#store.state.session;
    if (session?.profile_id !== profile.id) {
      // Switching shards closes the one open now: an export running on it would stop without its file.
      if (session && this.#store.exportsRunning > 0) {
        const ok = await confirmDialog({
          title: "Stop the running export?",
          text: `An export is running on shard ${session.profile_name}. Opening ${t.name} on shard ${t.shard} closes that shard: the export stops and no file is written.`,
          confirm: "Stop it and switch",
          danger: true,
          testid: "switch-shard-dialog",
        });
        if (!ok) return false;
      }
      // Connecting a shard closes the one open before (the app's side): if this one fails, none is open.
      const before = session;
      try {
        session = await this.connect(profile);
      } catch (e) {
        if (before) this.#store.shardClosed();
        throw e;
      }
      if (!session) {
        if (before) this.#store.shardClosed();
        return false;
      }
      if (!readsAllowed(session)) return false;
    }
    return this.openTenant(t);
  }

  /**
   * Opens a tenant: asks for the reason first when the profile wants one, then switches (a new visit, with its
   * own guard context). The tenant already open is just shown. Resolves false when the user cancelled (nothing
   * changed).
   * @param {Tenant} tenant
   */
  async openTenant(tenant) {
    const { session, tenant: open } = this.#store.state;
    if (!session || !readsAllowed(session)) return false;
    // The tenant is already open: show its view (the access is already recorded, nothing reloads).
    if (open?.id === tenant.id) {
      this.#store.show("tenant");
      return true;
    }
    const policy = session.access_reason;
    /** @type {AccessReason | null} */
    let reason = null;
    if (policy === "required" || policy === "optional") {
      const store = this.#store;
      // One reason for the tenants of one ticket: while it lasts, the next tenant opens with it, unasked.
      reason = reusedReason(store.reasonReuse, session.profile_id, Date.now());
      if (!reason) {
        const minutes = reuseMinutes(policy, store.state.profile?.access_grant_minutes);
        const answer = await askReason({ policy, tenantName: tenant.name, recent: store.reasons, reuseMinutes: minutes });
        if (!answer) return false;
        reason = answer.reason;
        if (reason) {
          store.rememberReason(reason);
          store.reasonReuse = answer.reuse && minutes ? { profileId: session.profile_id, reason, until: Date.now() + minutes * 60000 } : null;
        }
      }
    }
    this.#pendingReason = { tenantId: tenant.id, reason };
    this.#store.openTenant(tenant);
    return true;
  }

  /**
   * Follows the approvals of a connected profile's tenants: `onChange` gets the tenant id of each change ("" for
   * "something changed, check again"). `live` resolves true when changes arrive as they happen, false when they
   * cannot (a transaction pooler, or the watch failed): the caller polls `access_status` then.
   * @param {string} profileId
   * @param {(tenantId: string) => void} onChange
   * @returns {{ live: Promise<boolean>, stop(): void }}
   */
  watchConsent(profileId, onChange) {
    let w = this.#consentWatches.get(profileId);
    if (!w) {
      /** @type {Set<(tenantId: string) => void>} */
      const listeners = new Set();
      const live = api.accessWatch(profileId, (c) => {
        for (const fn of [...listeners]) fn(typeof c?.tenant_id === "string" ? c.tenant_id : "");
      }).then(
        (ok) => ok === true,
        () => {
          // Not watched: the next view asks again (the session may be back by then); this one polls.
          if (this.#consentWatches.get(profileId) === w) this.#consentWatches.delete(profileId);
          return false;
        },
      );
      w = { live, listeners };
      this.#consentWatches.set(profileId, w);
    }
    const watch = w;
    watch.listeners.add(onChange);
    return { live: watch.live, stop: () => void watch.listeners.delete(onChange) };
  }

  /**
   * The reason given when `tenantId` was opened (once; the view keeps it for exports).
   * @param {string} tenantId
   */
  takeReason(tenantId) {
    const p = this.#pendingReason;
    this.#pendingReason = null;
    return p && p.tenantId === tenantId ? p.reason : null;
  }
}
