// @ts-check
/**
 * The IPC edge of the UI: one typed wrapper per Tauri command (docs/ipc.md), the error kinds the UI branches
 * on, and the shapes the commands return. This is the only module that touches `window.__TAURI__`; screens
 * import these functions and never call `invoke` themselves. It holds no state and no secrets: a password
 * passes through `profilesSave` / `sessionConnect` / `profilesTest` once and is not kept.
 */

// ---------------------------------------------------------------------------------------------------------
// Shapes (snake_case fields, as serde emits them)
// ---------------------------------------------------------------------------------------------------------

/** @typedef {"disable" | "require" | "verify-full"} TlsMode */
/** @typedef {"off" | "optional" | "required"} ReasonPolicy */
/** @typedef {"support-ticket" | "incident" | "audit-request" | "other"} ReasonCategory */
/** @typedef {"yes" | "no_log_table" | null} Recorded */
/** @typedef {"name" | "slug" | "created_at"} TenantSort */

/** @typedef {{ code: string, object: string, reason: string }} AcceptedFinding */

/**
 * @typedef {object} Profile
 * @property {string} id
 * @property {string} name
 * @property {string} host
 * @property {number} port
 * @property {string} database
 * @property {string} user
 * @property {TlsMode} tls
 * @property {string} [ca_file]
 * @property {string} tenant_setting
 * @property {string} [mapping_file]
 * @property {ReasonPolicy} access_reason
 * @property {number} statement_timeout_ms
 * @property {string} [record_to]   id of the profile (the primary) this one's access records are written on
 * @property {boolean} [pooled]   behind a transaction-mode pooler (PgBouncer): statements are sent unnamed
 * @property {AcceptedFinding[]} [accepted_findings]
 * @property {number} [access_grant_minutes]   under `required`: how long a reason given on opening lasts
 * @property {string} [ssh]   through SSH: a Host alias, user@host or ssh://user@host:port
 * @property {string[]} [ssh_jump]   jump hosts before `ssh`
 * @property {string} [ssh_config]   the SSH configuration file (default ~/.ssh/config)
 * @property {Record<string, string>} [ssh_host_keys]   pinned host keys: hop (host:port) → SHA256 fingerprint
 * @property {string} [password_command]   a command whose first line of output is the password (a token)
 */

/** @typedef {Profile & { password_stored: boolean }} ProfileView */

/**
 * A profile's editable fields as the form sends them; `id` absent or empty for a new profile. An empty
 * `ca_file` / `mapping_file` means "none".
 * @typedef {object} ProfileForm
 * @property {string} [id]
 * @property {string} [name]
 * @property {string} [host]
 * @property {number} [port]
 * @property {string} [database]
 * @property {string} [user]
 * @property {TlsMode} [tls]
 * @property {string} [ca_file]
 * @property {string} [tenant_setting]
 * @property {string} [mapping_file]
 * @property {ReasonPolicy} [access_reason]
 * @property {number} [statement_timeout_ms]
 * @property {string} [record_to]   "" for none
 * @property {boolean} [pooled]   behind a transaction-mode pooler the app cannot detect
 * @property {string} [ssh]   "" for none
 * @property {string[]} [ssh_jump]
 * @property {string} [ssh_config]   "" for the default
 * @property {Record<string, string>} [ssh_host_keys]
 * @property {string} [password_command]   "" for none
 */

/**
 * One SSH hop's host key, as the tunnel saw and trusted it.
 * @typedef {object} HopKey
 * @property {string} hop   host:port as ssh connected to it
 * @property {string} user
 * @property {string} key_type
 * @property {string} fingerprint   SHA256:…
 * @property {string} trusted_by   known_hosts, pinned or accepted
 */

/**
 * What an SSH failure says beyond its message: the hop, and the keys to compare.
 * @typedef {object} SshFailure
 * @property {string | null} hop
 * @property {HopKey[]} [unknown_keys]
 * @property {string} [expected_fingerprint]
 * @property {string} [presented_fingerprint]
 */

/**
 * How the database is reached (evidence): `direct`, or `ssh` through the hops.
 * @typedef {{ via: string, hops?: HopKey[], password_command?: boolean }} RouteInfo
 */

/** @typedef {{ state: "up" } | { state: "reconnecting", route: string } | { state: "down", message: string }} RouteStatus */

/**
 * @typedef {object} LoginInfo
 * @property {string} user
 * @property {string} database
 * @property {string} server_version
 * @property {boolean} superuser
 * @property {boolean} bypassrls
 * @property {string[]} owns_unforced
 * @property {boolean} standby   the server is a hot standby (read-only replica)
 */

/**
 * @typedef {object} ServerRole
 * @property {boolean} standby
 * @property {number | null} replay_lag_bytes
 * @property {number | null} replay_delay_seconds
 * @property {number | null} pooler_port   the server's own port, when a pooler or proxy stands in between
 * @property {string} summary   one line for people
 */

/** @typedef {{ kind: string, cause: string, hint: string, ssh?: SshFailure }} Diagnosis */

/**
 * @typedef {object} ConnectionReport
 * @property {boolean} ok
 * @property {string} target
 * @property {string | null} server_version
 * @property {LoginInfo | null} login
 * @property {string[]} bypass_reasons
 * @property {ServerRole | null} server
 * @property {Diagnosis | null} diagnosis
 * @property {RouteInfo | null} [route]
 */

/**
 * @typedef {object} SessionInfo
 * @property {string} profile_id
 * @property {string} profile_name
 * @property {LoginInfo} login
 * @property {string[]} bypass_reasons   why RLS does not apply to this login; empty when it does
 * @property {boolean} bypass_accepted   the user acknowledged the red banner
 * @property {ReasonPolicy} access_reason
 * @property {string | null} records_to   the profile whose primary records this one's accesses
 * @property {RouteInfo} [route]   how the database is reached
 */

/** @typedef {{ id: string, slug: string, name: string, status?: string | null }} Tenant */
/** @typedef {"email" | "name" | "role" | "joined"} MemberSort */
/**
 * A row of the tenant list; `consent_required`: the tenant requires its own live approval before support reads it.
 * @typedef {Tenant & { created_at: string | null, plan: string | null, status: string | null, consent_required?: boolean }} TenantRow
 */
/** @typedef {{ value: number, is_estimate: boolean }} Count */
/** @typedef {{ members: number, audit_events_30d: Count, last_activity: string | null }} TenantStats */
/**
 * `approval`: the tenant's live approval that let it open (a tenant that requires consent), else null; the page
 * shows the time it has left and closes the tenant when it ends. `grant_seconds`: how long a reason lasts.
 * @typedef {{ tenant: Tenant, status?: string | null, plan?: string | null, created_at?: string | null,
 *             stats: TenantStats, recorded: Recorded, record_id?: string | null, grant_seconds?: number | null,
 *             approval?: Approval | null }} TenantOverview
 */

// Consent the database enforces: a tenant that requires its own live approval before support reads it.

/** What an approval allows: reading the tenant, or exporting its audit log too. @typedef {"read" | "export"} ConsentScope */
/** @typedef {"not_required" | "none" | "pending" | "approved" | "expired" | "revoked"} ConsentState */

/**
 * A tenant's approval for this login (the tenant's admins write it in the product).
 * @typedef {object} Approval
 * @property {string} id
 * @property {string | null} request_id
 * @property {string} approved_by
 * @property {string} expires_at   RFC 3339
 * @property {string | null} revoked_at
 * @property {ConsentScope} scope
 * @property {string} created_at
 */

/**
 * A request for access this login wrote.
 * @typedef {object} AccessRequest
 * @property {string} id
 * @property {string} db_user
 * @property {string} category
 * @property {string} detail
 * @property {number} minutes
 * @property {ConsentScope} scope
 * @property {string} created_at
 */

/** @typedef {{ tenant: Tenant, request: AccessRequest }} AccessRequested */

/**
 * Where this login stands with a tenant.
 * @typedef {object} AccessStatus
 * @property {Tenant} tenant
 * @property {ConsentState} state
 * @property {boolean} consent_required
 * @property {string | null} approval_id     the approval the state is about (the live one, else the newest)
 * @property {string | null} approved_by
 * @property {string | null} expires_at
 * @property {string | null} revoked_at
 * @property {ConsentScope | null} scope
 * @property {number | null} seconds_left   what the live approval has left
 * @property {AccessRequest | null} request   this login's newest request
 * @property {string} as_of                   the database's clock
 */

/** An approval changed; `tenant_id` "" means "something changed: check again". @typedef {{ tenant_id: string }} ConsentChange */
/** @typedef {{ tenant_id: string, stats: TenantStats }} TenantStatsRow */

/**
 * @typedef {object} Member
 * @property {string} id
 * @property {string | null} email
 * @property {string | null} name
 * @property {string | null} role   null when masked, as email, name and joined_at
 * @property {string | null} joined_at
 */

/**
 * @typedef {object} Role
 * @property {string} id            the role's name
 * @property {string | null} description
 * @property {string[]} permissions
 * @property {boolean} builtin
 * @property {boolean} global
 * @property {number} members
 */

/**
 * @typedef {object} AuditFilter
 * @property {string} [since]          RFC 3339
 * @property {string} [until]          RFC 3339
 * @property {string} [action]         exact, or a prefix ending in `.` or `*`
 * @property {string} [actor]
 * @property {string} [resource_type]
 * @property {string} [resource_id]
 */

/**
 * @typedef {object} AuditEvent
 * @property {string} id
 * @property {string} occurred_at
 * @property {string | null} actor_id
 * @property {string | null} actor_email
 * @property {string | null} action   null when masked, as every field but id and occurred_at
 * @property {string | null} resource_type
 * @property {string | null} resource_id
 * @property {string | null} ip
 * @property {string | null} user_agent
 * @property {unknown} metadata
 */

/**
 * @typedef {object} AccessEntry
 * @property {string} id
 * @property {string} at
 * @property {string} db_user
 * @property {string} os_user
 * @property {string} client_host
 * @property {string} category
 * @property {string} detail
 * @property {string} action
 * @property {unknown} details
 */

/** @typedef {{ category: ReasonCategory, detail: string }} AccessReason */

/**
 * @template T
 * @typedef {{ items: T[], next_cursor: string | null }} Page
 */

/**
 * The columns this login may not read (`table.column`, e.g. "users.email"): their fields are null in every item.
 * @typedef {{ masked_columns?: string[] }} Masked
 */
/** @typedef {Page<Member> & Masked} MemberPage */
/** @typedef {Page<AuditEvent> & Masked} AuditPage */

/**
 * @typedef {object} Finding
 * @property {string} code
 * @property {"critical" | "warning" | "info"} severity
 * @property {string} object
 * @property {string} problem
 * @property {string} why
 * @property {string | null} fix_sql
 * @property {string | null} accepted
 */

/**
 * The exact shape may gain fields; `login` is shown as the login's name whether it arrives as a string or a
 * LoginInfo.
 * @typedef {object} ProbeEvidence
 * @property {string} role
 * @property {"unset" | "empty" | "unknown-tenant" | "tenant"} state
 * @property {string | null} tenant
 * @property {string} relation
 * @property {number | null} rows_in_scope
 * @property {number} foreign_rows
 * @property {string | null} error
 */
/**
 * @typedef {{ login: LoginInfo | string | null, findings: Finding[], reach?: string[], probed_tenants?: string[],
 *             evidence?: ProbeEvidence[], isolation_enforced?: boolean }} CheckReport
 */

/** @typedef {{ rows: number, bytes: number, total_estimate: number | null, elapsed_ms: number }} ExportProgress */
/**
 * @typedef {{ rows: number, bytes: number, seconds: number, path: string, recorded: Recorded,
 *             manifest?: string | null, sha256?: string | null, signed_by?: string | null,
 *             public_key?: string | null }} ExportSummary
 */
/** @typedef {{ columns?: string[], tz?: string, bom: boolean, unsigned?: boolean }} ExportOptions */
/** @typedef {{ public_key: string, fingerprint: string }} SigningKeyInfo */
/**
 * The database's own record of a file: the export-complete record with its SHA-256.
 * @typedef {{ record_id: string, recorded_at: string, db_user: string, rows: number | null }} Witness
 */
/**
 * @typedef {{ rows_now: number, rows_in_manifest: number, difference: number, from_utc: string | null,
 *             to_utc: string, witnessed?: Witness | null }} Recount
 */
/**
 * @typedef {object} VerifyReport   what `tenantctl verify` prints, for a file chosen in the app
 * @property {boolean} ok           the file is the one its manifest describes, and the signature checks out
 * @property {string[]} problems    what is wrong, each in a sentence
 * @property {string} file
 * @property {string} manifest
 * @property {{ id: string, slug: string | null, name: string } | null} tenant
 * @property {number | null} rows_counted
 * @property {string} sha256
 * @property {string | null} signed_by      the fingerprint of the key that signed it
 * @property {boolean} key_trusted          signed by a key this machine trusts
 * @property {string | null} [trusted_as]   which: "this machine's key", "the key given", a trusted key's name
 * @property {boolean} [unknown_key]        validly signed, but by a key no one here trusts
 * @property {string | null} checked_against the key it was checked against (pasted, or this machine's)
 * @property {string} file_token            names the file to verify it again (with a recount)
 * @property {Recount | null} recount
 */
/** @typedef {{ token: string, file_name: string, folder: string }} Destination */
/** @typedef {{ version: string, initial_profile: string | null }} AppInfo */

// ---------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------

/** The error kinds the UI branches on (docs/ipc.md). Kinds starting with `connect_` are connection failures. */
export const ErrorKind = Object.freeze({
  NotConnected: "not_connected",
  SecretMissing: "secret_missing",
  KeyringUnavailable: "keyring_unavailable",
  KeyringNotPersistent: "keyring_not_persistent",
  IsolationNotEnforced: "isolation_not_enforced",
  ReasonRequired: "reason_required",
  AccessNotRecorded: "access_not_recorded",
  Standby: "standby",
  Pooler: "pooler",
  UnknownTenant: "unknown_tenant",
  UnknownProfile: "unknown_profile",
  InvalidInput: "invalid_input",
  QueryTimeout: "query_timeout",
  ConnectionLost: "connection_lost",
  PermissionDenied: "permission_denied",
  Mapping: "mapping",
  Cancelled: "cancelled",
  /** The server cancelled the work at someone else's request (an administrator's pg_cancel_backend). */
  ServerCancelled: "server_cancelled",
  /** An export ran longer than the profile's export time limit. */
  ExportTimeout: "export_timeout",
  /** The keyring that keeps the manifest's signing key is locked: offer an unsigned manifest, never silently. */
  SigningKeyUnavailable: "signing_key_unavailable",
  /** The tenant requires its own live approval before support reads it: offer "Request access". */
  ConsentRequired: "consent_required",
  FileExists: "file_exists",
  Io: "io",
  Database: "database",
  ReadOnly: "read_only",
  Profile: "profile",
  Keyring: "keyring",
  Cluster: "cluster",
  ConnectDns: "connect_dns",
  ConnectRefused: "connect_refused",
  ConnectTimeout: "connect_timeout",
  ConnectTls: "connect_tls",
  ConnectAuth: "connect_auth",
  ConnectDatabaseMissing: "connect_database_missing",
  ConnectPrivileges: "connect_privileges",
  ConnectServerUnavailable: "connect_server_unavailable",
  ConnectNotPostgres: "connect_not_postgres",
  /** The SSH bastion (first hop) could not be reached. */
  ConnectSshUnreachable: "connect_ssh_unreachable",
  /** An SSH hop refused the login (`ssh.hop` names it). */
  ConnectSshAuth: "connect_ssh_auth",
  /** An SSH hop could not reach the next one. */
  ConnectSshHop: "connect_ssh_hop",
  /** The tunnel works; its last hop could not reach the database. */
  ConnectSshTarget: "connect_ssh_target",
  /** Host keys no one vouched for: `ssh.unknown_keys` to compare and accept. */
  ConnectSshHostKeyUnknown: "connect_ssh_host_key_unknown",
  /** A host key changed: `ssh.expected_fingerprint` and `ssh.presented_fingerprint`. Never accepted here. */
  ConnectSshHostKeyChanged: "connect_ssh_host_key_changed",
  ConnectSshFailed: "connect_ssh_failed",
  /** The profile's password command failed. */
  ConnectPasswordCommand: "connect_password_command",
  ConnectFailed: "connect_failed",
  /** The app's own: no file manager or desktop portal could show or open a file. */
  Desktop: "desktop",
  /** Not from the commands: the IPC itself failed, or the reply was not `{kind, message}`. */
  Ipc: "ipc",
});

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
 * @typedef {object} ServiceImport
 * @property {ProfileForm} profile   the new-profile form's fields (not saved yet)
 * @property {string} service_file
 * @property {boolean} password_found   .pgpass has the password: save with `fromPgpass`
 * @property {string[]} notes
 */

/**
 * Reads a libpq service (pg_service.conf) into the new-profile form.
 * @param {string} name
 * @returns {Promise<ServiceImport>}
 */
export const profilesImportService = (name) => call("profiles_import_service", { name });

/**
 * @param {string} profileId
 * @param {{ password?: string, allowBypass?: boolean, acceptHostKeys?: string[] }} [opts]
 *   password: for this session only; acceptHostKeys: SSH fingerprints accepted for this connect
 * @returns {Promise<SessionInfo>}
 */
export const sessionConnect = (profileId, opts = {}) =>
  call("session_connect", {
    ...compact({ profileId, password: opts.password, acceptHostKeys: opts.acceptHostKeys }),
    allowBypass: opts.allowBypass === true,
  });

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
 * `masked`: the column the part needs (actor, action) is masked for this login, so it has nothing to show.
 * @typedef {{ actor_id: string, email: string | null, events: number, last: string }} ActorActivity
 * @typedef {{ since: string, events_read: number, capped: boolean, items: ActorActivity[], masked?: boolean }} ActiveActors
 * @typedef {{ action: string, since: string, count: Count, latest: AuditEvent[], masked?: boolean }} FailedLogins
 * @typedef {{ latest: AuditEvent[], active_actors: ActiveActors, failed_logins: FailedLogins,
 *             recent_access: AccessEntry[], masked_columns?: string[], as_of: string }} Glance
 */

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
