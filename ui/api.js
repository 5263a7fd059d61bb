// @ts-check
/**
 * The IPC edge of the UI: one typed wrapper per Tauri command (docs/ipc.md), the error kinds the UI branches
 * on, and the shapes the commands return. This is the only module that touches `window.__TAURI__`; screens
 * import these functions and never call `invoke` themselves. It holds no state and no secrets: a password
 * passes through `profilesSave` / `sessionConnect` / `profilesTest` once and is not kept.
 */

// ---------------------------------------------------------------------------------------------------------
// Shapes: generated from the Rust types into ipc.d.ts (src-tauri/src/ipc_types.rs, ts-rs), never written here.
// A Rust field renamed or dropped fails `npm run typecheck` wherever the page uses it. Four keep the page's
// names: AccessRequest (Rust `Request`), CheckReport (`Report`), ExportProgress (`Progress`), ExportOptions
// (`ExportDialogOptions`).
// ---------------------------------------------------------------------------------------------------------

/** @typedef {import("./ipc").AcceptedFinding} AcceptedFinding */
/** @typedef {import("./ipc").AcceptedKey} AcceptedKey */
/** @typedef {import("./ipc").AccessEntry} AccessEntry */
/** @typedef {import("./ipc").AccessPage} AccessPage */
/** @typedef {import("./ipc").AccessReason} AccessReason */
/** @typedef {import("./ipc").AccessRequested} AccessRequested */
/** @typedef {import("./ipc").AccessStatus} AccessStatus */
/** @typedef {import("./ipc").ActiveActors} ActiveActors */
/** @typedef {import("./ipc").ActorActivity} ActorActivity */
/** @typedef {import("./ipc").AppInfo} AppInfo */
/** @typedef {import("./ipc").Approval} Approval */
/** @typedef {import("./ipc").AuditEvent} AuditEvent */
/** @typedef {import("./ipc").AuditFilter} AuditFilter */
/** @typedef {import("./ipc").AuditPage} AuditPage */
/** @typedef {import("./ipc").Column} Column */
/** @typedef {import("./ipc").ConnectionReport} ConnectionReport */
/** @typedef {import("./ipc").ConsentChange} ConsentChange */
/** @typedef {import("./ipc").ConsentScope} ConsentScope */
/** @typedef {import("./ipc").ConsentState} ConsentState */
/** @typedef {import("./ipc").Count} Count */
/** @typedef {import("./ipc").Destination} Destination */
/** @typedef {import("./ipc").Diagnosis} Diagnosis */
/** @typedef {import("./ipc").DiagnosisKind} DiagnosisKind */
/** @typedef {import("./ipc").ExportDialogOptions} ExportOptions */
/** @typedef {import("./ipc").ExportSummary} ExportSummary */
/** @typedef {import("./ipc").FailedLogins} FailedLogins */
/** @typedef {import("./ipc").FleetCheck} FleetCheck */
/** @typedef {import("./ipc").FleetOpened} FleetOpened */
/** @typedef {import("./ipc").FleetTenantPage} FleetTenantPage */
/** @typedef {import("./ipc").FleetTenantRow} FleetTenantRow */
/** @typedef {import("./ipc").FleetView} FleetView */
/** @typedef {import("./ipc").Located} Located */
/** @typedef {import("./ipc").ShardStatus} ShardStatus */
/** @typedef {import("./ipc").ShardVerdict} ShardVerdict */
/** @typedef {import("./ipc").Unavailable} Unavailable */
/** @typedef {import("./ipc").Finding} Finding */
/** @typedef {import("./ipc").Glance} Glance */
/** @typedef {import("./ipc").HopKey} HopKey */
/** @typedef {import("./ipc").IpcError} IpcError */
/** @typedef {import("./ipc").LoginInfo} LoginInfo */
/** @typedef {import("./ipc").Member} Member */
/** @typedef {import("./ipc").MemberPage} MemberPage */
/** @typedef {import("./ipc").MemberSort} MemberSort */
/** @typedef {import("./ipc").ProbeEvidence} ProbeEvidence */
/** @typedef {import("./ipc").Profile} Profile */
/** @typedef {import("./ipc").ProfileView} ProfileView */
/** @typedef {import("./ipc").Progress} ExportProgress */
/** @typedef {import("./ipc").ReasonCategory} ReasonCategory */
/** @typedef {import("./ipc").ReasonPolicy} ReasonPolicy */
/** @typedef {import("./ipc").Recorded} Recorded */
/** @typedef {import("./ipc").Recount} Recount */
/** @typedef {import("./ipc").Report} CheckReport */
/** @typedef {import("./ipc").Request} AccessRequest */
/** @typedef {import("./ipc").Role} Role */
/** @typedef {import("./ipc").RouteInfo} RouteInfo */
/** @typedef {import("./ipc").RouteStatus} RouteStatus */
/** @typedef {import("./ipc").ServerRole} ServerRole */
/** @typedef {import("./ipc").ServiceImport} ServiceImport */
/** @typedef {import("./ipc").SessionInfo} SessionInfo */
/** @typedef {import("./ipc").Severity} Severity */
/** @typedef {import("./ipc").SigningKeyInfo} SigningKeyInfo */
/** @typedef {import("./ipc").SshFailure} SshFailure */
/** @typedef {import("./ipc").Tenant} Tenant */
/** @typedef {import("./ipc").TenantFacts} TenantFacts */
/** @typedef {import("./ipc").TenantOverview} TenantOverview */
/** @typedef {import("./ipc").TenantPage} TenantPage */
/** @typedef {import("./ipc").TenantRow} TenantRow */
/** @typedef {import("./ipc").TenantSort} TenantSort */
/** @typedef {import("./ipc").TenantStats} TenantStats */
/** @typedef {import("./ipc").TenantStatsRow} TenantStatsRow */
/** @typedef {import("./ipc").TlsMode} TlsMode */
/** @typedef {import("./ipc").VerifyReport} VerifyReport */
/** @typedef {import("./ipc").Witness} Witness */

/**
 * A tenant as the page keeps it (the open one, the recent list, the switcher's results): the core's `Tenant`,
 * with the status a tenant row or its overview last said (the core's `Tenant` does not carry one), and in a fleet
 * the shard (profile name) it was found on.
 * @typedef {Tenant & { status?: string | null, shard?: string }} SeenTenant
 */

/**
 * A profile's editable fields as the form sends them (the app reads them into a `Profile`); `id` absent or
 * empty for a new profile; an empty `ca_file`, `mapping_file`, `record_to`, `ssh`, `ssh_config` or
 * `password_command` means "none".
 * @typedef {Partial<Profile>} ProfileForm
 */

/**
 * A page of any list: what `paged.js` reads of every generated `*Page` type.
 * @template T
 * @typedef {{ items: T[], next_cursor: string | null }} Page
 */

/**
 * The columns this login may not read (`table.column`, e.g. "users.email"): their fields are null in every item.
 * @typedef {{ masked_columns?: string[] }} Masked
 */

// ---------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------

// The error kinds the UI branches on, generated from the Rust kinds (error-kinds.js). Kinds starting with
// `connect_` are connection failures.
import { ErrorKind } from "./error-kinds.js";
export { ErrorKind };

/** A rejected command: `kind` is a stable code to branch on, `message` is for people. */
export class ApiError extends Error {
  /**
   * @param {string} kind
   * @param {string} message
   * @param {string | null} [logFile]
   * @param {SshFailure | null} [ssh]
   */
  constructor(kind, message, logFile = null, ssh = null) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    /** @type {string | null} where the app's log is, when the message points there */
    this.logFile = logFile;
    /** @type {SshFailure | null} for SSH failures: the hop and the keys to compare */
    this.ssh = ssh;
  }
}

/**
 * Turns whatever a command rejected with into an ApiError.
 * @param {unknown} e
 * @returns {ApiError}
 */
export function toApiError(e) {
  if (e instanceof ApiError) return e;
  if (e && typeof e === "object" && "kind" in e && "message" in e) {
    const o = /** @type {{kind: unknown, message: unknown, log_file?: unknown, ssh?: unknown}} */ (e);
    const ssh = o.ssh && typeof o.ssh === "object" ? /** @type {SshFailure} */ (o.ssh) : null;
    return new ApiError(String(o.kind), String(o.message), typeof o.log_file === "string" ? o.log_file : null, ssh);
  }
  if (typeof e === "string") return new ApiError(ErrorKind.Ipc, e);
  if (e instanceof Error) return new ApiError(ErrorKind.Ipc, e.message);
  return new ApiError(ErrorKind.Ipc, "the app did not answer in a form the window understands");
}

/**
 * @param {unknown} e
 * @returns {boolean} whether `e` is a connection failure (`connect_*`) the doctor explained
 */
export function isConnectError(e) {
  return e instanceof ApiError && e.kind.startsWith("connect_");
}

// ---------------------------------------------------------------------------------------------------------
// Transport
// ---------------------------------------------------------------------------------------------------------

/**
 * @template T
 * @typedef {{ onmessage: (message: T) => void }} ChannelLike
 */

/**
 * The part of `window.__TAURI__` the UI uses.
 * @typedef {object} TauriGlobal
 * @property {{ invoke: (cmd: string, args?: object) => Promise<unknown>, Channel: new () => ChannelLike<any> }} core
 */

/** @returns {TauriGlobal} */
function tauri() {
  const t = /** @type {{ __TAURI__?: TauriGlobal }} */ (/** @type {unknown} */ (window)).__TAURI__;
  if (!t) throw new ApiError(ErrorKind.Ipc, "this page runs outside the Tenant Console app: the app's commands are unavailable");
  return t;
}

/**
 * @template T
 * @param {string} cmd
 * @param {object} [args]
 * @returns {Promise<T>}
 */
async function call(cmd, args) {
  try {
    return /** @type {T} */ (await tauri().core.invoke(cmd, args));
  } catch (e) {
    throw toApiError(e);
  }
}

/**
 * Drops keys whose value is undefined, null or "" so optional arguments are absent, not empty.
 * @template {object} T
 * @param {T} o
 * @returns {Partial<T>}
 */
export function compact(o) {
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const [k, v] of Object.entries(o)) {
    if (v !== undefined && v !== null && v !== "") out[k] = v;
  }
  return /** @type {Partial<T>} */ (out);
}

// ---------------------------------------------------------------------------------------------------------
// Commands, one wrapper each
// ---------------------------------------------------------------------------------------------------------

/** @returns {Promise<AppInfo>} */
export const appInfo = () => call("app_info");
/** Tells the app the first screen is rendered and usable (the start-up benchmark measures up to here). */
export const appReady = () => call("app_ready");
/**
 * Quits the app (Ctrl+Q, Cmd+Q on macOS). The page asks first when an export is running.
 * @returns {Promise<null>}
 */
export const appQuit = () => call("app_quit");

/** @returns {Promise<ProfileView[]>} */
export const profilesList = () => call("profiles_list");

/**
 * Saves a profile; a non-empty password goes to the keyring and is never returned. `fromPgpass`: with no
 * password typed, the one libpq's .pgpass has for this server goes to the keyring (it never enters the page).
 * @param {ProfileForm} profile
 * @param {string} [password]
 * @param {{ fromPgpass?: boolean }} [opts]
 * @returns {Promise<Profile>}
 */
export const profilesSave = (profile, password, opts = {}) =>
  call("profiles_save", compact({ profile, password, fromPgpass: opts.fromPgpass === true ? true : undefined }));

/**
 * @param {string} id
 * @returns {Promise<null>}
 */
export const profilesRemove = (id) => call("profiles_remove", { id });

/**
 * Tests a saved profile; `password` is used for this test only (when the keyring has none);
 * `acceptHostKeys`: SSH fingerprints the user accepted, for this test.
 * @param {string} id
 * @param {string} [password]
 * @param {string[]} [acceptHostKeys]
 * @returns {Promise<ConnectionReport>}
 */
export const profilesTest = (id, password, acceptHostKeys) =>
  call("profiles_test", compact({ id, password, acceptHostKeys }));

/**
 * Tests a profile form before it is saved (nothing is written). Without a password: an edited profile's stored one.
 * @param {ProfileForm} profile
 * @param {string} [password]
 * @param {string[]} [acceptHostKeys]
 * @returns {Promise<ConnectionReport>}
 */
export const profilesTestDraft = (profile, password, acceptHostKeys) =>
  call("profiles_test_draft", compact({ profile, password, acceptHostKeys }));

/**
 * Pins SSH host keys the user compared and accepted into a saved profile (its stored password goes along).
 * @param {string} id
 * @param {{ hop: string, fingerprint: string }[]} keys
 * @returns {Promise<Profile>}
 */
export const profilesPinHostKeys = (id, keys) => call("profiles_pin_host_keys", { id, keys });

/**
 * Reads a libpq service (pg_service.conf) into the new-profile form.
 * @param {string} name
 * @returns {Promise<ServiceImport>}
 */
export const profilesImportService = (name) => call("profiles_import_service", { name });

/**
 * @param {string} profileId
 * @param {{ password?: string, allowBypass?: boolean, acceptHostKeys?: string[], fleet?: string }} [opts]
 *   password: for this session only; acceptHostKeys: SSH fingerprints accepted for this connect; fleet: the open
 *   fleet whose shard this profile is (connected within the fleet's budget, one shard at a time)
 * @returns {Promise<SessionInfo>}
 */
export const sessionConnect = (profileId, opts = {}) =>
  call("session_connect", {
    ...compact({ profileId, password: opts.password, acceptHostKeys: opts.acceptHostKeys, fleet: opts.fleet }),
    allowBypass: opts.allowBypass === true,
  });

/** @returns {Promise<FleetView[]>} */
export const fleetsList = () => call("fleets_list");

/**
 * Opens a fleet: every shard is asked whether it answers (within the fleet's budget).
 * @param {string} fleet
 * @returns {Promise<FleetOpened>}
 */
export const fleetOpen = (fleet) => call("fleet_open", { fleet });

/** @returns {Promise<null>} */
export const fleetClose = () => call("fleet_close");

/**
 * Searches every shard of the open fleet; each row names its shard.
 * @param {string} fleet
 * @param {{ search?: string, sort?: TenantSort, limit?: number }} [q]
 * @returns {Promise<FleetTenantPage>}
 */
export const fleetSearch = (fleet, q = {}) => call("fleet_search", compact({ fleet, ...q }));

/**
 * The shard of tenant `key` (an id or a slug) in the open fleet; `near`: the shard to ask first (where the user
 * last saw the tenant).
 * @param {string} fleet
 * @param {string} key
 * @param {string} [near]
 * @returns {Promise<Located>}
 */
export const fleetLocate = (fleet, key, near) => call("fleet_locate", compact({ fleet, key, near }));

/**
 * The isolation check on every shard of the open fleet.
 * @param {string} fleet
 * @param {boolean} probe
 * @returns {Promise<FleetCheck>}
 */
export const fleetCheck = (fleet, probe) => call("fleet_check", { fleet, probe });

/**
 * Calls `onStatus` whenever a connected profile's SSH tunnel changes state (re-opened after it died).
 * @param {string} profileId
 * @param {(s: RouteStatus) => void} onStatus
 * @returns {Promise<null>}
 */
export const sessionRouteWatch = (profileId, onStatus) => {
  /** @type {ChannelLike<RouteStatus>} */
  const onRoute = new (tauri().core.Channel)();
  onRoute.onmessage = onStatus;
  return call("session_route_watch", { profileId, onRoute });
};

/**
 * @param {string} profileId
 * @returns {Promise<null>}
 */
export const sessionDisconnect = (profileId) => call("session_disconnect", { profileId });

/**
 * @param {string} profileId
 * @param {{ search?: string, sort?: TenantSort, after?: string | null, limit?: number }} [q]
 * @returns {Promise<Page<TenantRow>>}
 */
export const tenantsSearch = (profileId, q = {}) => call("tenants_search", compact({ profileId, ...q }));

/**
 * Stats of listed tenants (members, audit events in 30 days, last activity), each read in its own scope. At most
 * 100 ids; tenants that no longer exist are left out.
 * @param {string} profileId
 * @param {string[]} tenants  tenant ids
 * @returns {Promise<TenantStatsRow[]>}
 */
export const tenantsStats = (profileId, tenants) => call("tenants_stats", { profileId, tenants });

/**
 * Opens a tenant (records the access when the database has a support-access log).
 * @param {string} profileId
 * @param {string} tenant  id or slug
 * @param {AccessReason | null} [reason]
 * @returns {Promise<TenantOverview>}
 */
export const tenantOpen = (profileId, tenant, reason) => call("tenant_open", compact({ profileId, tenant, reason }));

/**
 * @param {string} profileId
 * @param {string} tenant
 * @param {{ role?: string, email?: string, after?: string | null, limit?: number, sort?: MemberSort, descending?: boolean }} [q]
 * @returns {Promise<MemberPage>}
 */
export const membersPage = (profileId, tenant, q = {}) => call("members_page", compact({ profileId, tenant, ...q }));

/**
 * @param {string} profileId
 * @param {string} tenant
 * @returns {Promise<Role[]>}
 */
export const rolesList = (profileId, tenant) => call("roles_list", { profileId, tenant });

/**
 * @param {string} profileId
 * @param {string} tenant
 * @param {AuditFilter} filter
 * @param {{ after?: string | null, limit?: number, oldestFirst?: boolean }} [q]
 * @returns {Promise<AuditPage>}
 */
export const auditPage = (profileId, tenant, filter, q = {}) =>
  call("audit_page", { ...compact({ profileId, tenant, ...q }), filter });

/**
 * @param {string} profileId
 * @param {string} tenant
 * @param {AuditFilter} filter
 * @returns {Promise<Count>}
 */
export const auditCount = (profileId, tenant, filter) => call("audit_count", { profileId, tenant, filter });

/**
 * @param {string} profileId
 * @param {string} tenant
 * @param {string | null} [after]
 * @returns {Promise<Page<AccessEntry>>}
 */
export const accessHistory = (profileId, tenant, after) => call("access_history", compact({ profileId, tenant, after }));

/**
 * The tenant at a glance, read in its scope: the newest events, the most active actors and the failed sign-ins
 * of the last 30 days, the latest support accesses.
 * @param {string} profileId
 * @param {string} tenant
 * @returns {Promise<Glance>}
 */
export const tenantGlance = (profileId, tenant) => call("tenant_glance", { profileId, tenant });

/**
 * Asks a tenant that requires its own approval for access (the reason is always required). The tenant's admins
 * answer in the product; `accessStatus` / `accessWatch` tell when.
 * @param {string} profileId
 * @param {string} tenant  id or slug
 * @param {AccessReason} reason
 * @param {number} minutes  1 to 10080 (a week)
 * @param {ConsentScope} scope
 * @returns {Promise<AccessRequested>}
 */
export const accessRequest = (profileId, tenant, reason, minutes, scope) =>
  call("access_request", { profileId, tenant, reason, minutes, scope });

/**
 * Where this login stands with a tenant: not required, none, pending, approved, expired or revoked.
 * @param {string} profileId
 * @param {string} tenant
 * @returns {Promise<AccessStatus>}
 */
export const accessStatus = (profileId, tenant) => call("access_status", { profileId, tenant });

/**
 * Calls `onChange` whenever an approval of the profile's tenants is written or revoked. Resolves true when
 * changes arrive live (LISTEN); false where they cannot (a transaction pooler): poll `accessStatus` then.
 * @param {string} profileId
 * @param {(c: ConsentChange) => void} onChange
 * @returns {Promise<boolean>}
 */
export const accessWatch = (profileId, onChange) => {
  /** @type {ChannelLike<ConsentChange>} */
  let channel;
  try {
    channel = new (tauri().core.Channel)();
  } catch (e) {
    return Promise.reject(toApiError(e));
  }
  channel.onmessage = onChange;
  return call("access_watch", { profileId, onChange: channel });
};

/**
 * @param {string} profileId
 * @param {{ probe?: boolean, tenant?: string | null }} [opts]
 * @returns {Promise<CheckReport>}
 */
export const isolationCheck = (profileId, opts = {}) =>
  call("isolation_check", { ...compact({ profileId, tenant: opts.tenant }), probe: opts.probe === true });

/**
 * Exports a tenant's audit log to the file chosen in the save dialog (`destination`, the token
 * `exportDestination` returned), reporting progress to `onProgress` until the returned promise settles.
 * @param {{ profileId: string, tenant: string, exportId: string, destination: string, filter: AuditFilter,
 *           options: ExportOptions, reason?: AccessReason | null }} req
 * @param {(p: ExportProgress) => void} onProgress
 * @returns {Promise<ExportSummary>}
 */
export function auditExport(req, onProgress) {
  /** @type {ChannelLike<ExportProgress>} */
  let channel;
  try {
    channel = new (tauri().core.Channel)();
  } catch (e) {
    return Promise.reject(toApiError(e));
  }
  channel.onmessage = onProgress;
  return call("audit_export", { ...compact(req), filter: req.filter, options: req.options, onProgress: channel });
}

/**
 * @param {string} exportId
 * @returns {Promise<null>}
 */
export const auditExportCancel = (exportId) => call("audit_export_cancel", { exportId });

/**
 * Shows a file this session exported in the file manager, by its export id (the page names no path).
 * @param {string} exportId
 * @returns {Promise<null>}
 */
export const showInFolder = (exportId) => call("show_in_folder", { exportId });

/**
 * Opens a file this session exported with the desktop's default application, by its export id.
 * @param {string} exportId
 * @returns {Promise<null>}
 */
export const openExport = (exportId) => call("open_export", { exportId });

/**
 * Opens the app's log of today with the desktop's default application.
 * @returns {Promise<null>}
 */
export const openLog = () => call("open_log", {});

/**
 * The public key that signs this machine's export manifests (made on first use, kept in the keyring).
 * @returns {Promise<SigningKeyInfo>}
 */
export const signingKeyShow = () => call("signing_key_show", {});

/**
 * Verifies an export against its manifest: one this session exported (`exportId`), one verified before
 * (`fileToken`, from its report), else a file the user
 * chooses in the native open dialog (the page names no path). `publicKey` empty: this machine's key.
 * `recountOn`: a connected profile whose door counts the manifest's range again in the tenant's scope.
 * null when the user closes the open dialog without choosing.
 * @param {{ exportId?: string | null, fileToken?: string | null, publicKey?: string | null, recountOn?: string | null,
 *           reason?: AccessReason | null }} req
 * @returns {Promise<VerifyReport | null>}
 */
export const verifyFile = (req) => call("verify_file", compact(req));

/**
 * Asks where to save a CSV file: the Rust side opens the native save dialog (which asks before replacing a
 * file) and keeps the path; the page gets a one-time token and the name and folder to show. null when the user
 * cancels.
 * @param {string} suggestedName a file name only
 * @returns {Promise<Destination | null>}
 */
export const exportDestination = (suggestedName) => call("export_destination", { suggestedName });
