// Generated from the Rust types by src-tauri/src/ipc_types.rs (ts-rs): do not edit.
// TC_WRITE_IPC=1 cargo test -p tenant-console ipc_types writes it again.

/**
 * A finding of the isolation check that the profile's owner accepted, with why.
 */
export type AcceptedFinding = { code: string, object: string, reason: string, };

/**
 * One host key the user accepted in the prompt.
 */
export type AcceptedKey = { hop: string, fingerprint: string, };

/**
 * One recorded access.
 */
export type AccessEntry = { id: string, at: string, db_user: string, os_user: string, client_host: string, category: string, detail: string, action: string, details: JsonValue, };

/**
 * A page of the access history, newest first.
 */
export type AccessPage = { items: Array<AccessEntry>, next_cursor: string | null, };

/**
 * Why a tenant is opened: a category and a detail (a ticket id, an incident number, free text).
 *
 * There is one way to make one, [`AccessReason::new`], and every other (`FromStr` for `CATEGORY:DETAIL`, serde
 * for the app's IPC and any JSON) goes through it: an unchecked reason cannot exist, whoever sends it.
 */
export type AccessReason = { category: ReasonCategory, detail: string, };

/**
 * A request for access written for a tenant that requires its approval.
 */
export type AccessRequested = { tenant: Tenant, request: Request, };

/**
 * The answer of `tenantctl access status` and the app's consent banner.
 */
export type AccessStatus = { tenant: Tenant, state: ConsentState, consent_required: boolean, 
/**
 * The approval the state is about (the live one, or the newest when none is live).
 */
approval_id: string | null, approved_by: string | null, expires_at: string | null, revoked_at: string | null, scope: ConsentScope | null, 
/**
 * Seconds the live approval has left.
 */
seconds_left: number | null, 
/**
 * The newest request of this login.
 */
request: Request | null, 
/**
 * The database's clock when this was read.
 */
as_of: string, };

/**
 * The most active actors of the events at or after `since`.
 */
export type ActiveActors = { since: string, 
/**
 * How many of those events were read: at most [`ACTIVE_ACTORS_WINDOW`], the newest.
 */
events_read: number, 
/**
 * Whether there were more events than that window (the ranking is then of the newest ones).
 */
capped: boolean, items: Array<ActorActivity>, 
/**
 * The actor column is masked for this login: no ranking can be made.
 */
masked: boolean, };

/**
 * An actor of the tenant's recent events, with how many they caused.
 */
export type ActorActivity = { actor_id: string, 
/**
 * Their email, when users are mapped.
 */
email: string | null, events: number, last: string, };

export type AppInfo = { version: string, initial_profile: string | null, };

/**
 * A tenant's approval for this login.
 */
export type Approval = { id: string, request_id: string | null, approved_by: string, expires_at: string, revoked_at: string | null, scope: ConsentScope, created_at: string, };

/**
 * One audit event.
 */
export type AuditEvent = { id: string, occurred_at: string, actor_id: string | null, actor_email: string | null, 
/**
 * Null when masked (the login may not read the column).
 */
action: string | null, resource_type: string | null, resource_id: string | null, ip: string | null, user_agent: string | null, metadata: JsonValue, };

/**
 * The audit log's filters (all optional; all combine with AND).
 */
export type AuditFilter = { 
/**
 * Events at or after this time.
 */
since?: string | null, 
/**
 * Events before this time.
 */
until?: string | null, 
/**
 * Exact action (`member.invited`), or a prefix ending in `.` or `*` (`member.`, `member.*`).
 */
action?: string | null, 
/**
 * The actor's user id, or their email when users are mapped.
 */
actor?: string | null, resource_type?: string | null, resource_id?: string | null, };

/**
 * A page of audit events, newest first.
 */
export type AuditPage = { items: Array<AuditEvent>, next_cursor: string | null, 
/**
 * The columns this login may not read (`table.column`): their fields are null in every item.
 */
masked_columns: Array<string>, };

/**
 * A column of the export.
 */
export type Column = "id" | "occurred_at" | "actor_id" | "actor_email" | "action" | "resource_type" | "resource_id" | "ip" | "user_agent" | "metadata";

/**
 * The outcome of testing a connection: who the login is, or why it failed.
 */
export type ConnectionReport = { ok: boolean, 
/**
 * Where, without the password.
 */
target: string, server_version: string | null, login: LoginInfo | null, 
/**
 * Why row-level security does not apply to this login (empty when it does).
 */
bypass_reasons: Array<string>, 
/**
 * Whether the server is a standby (and how far behind), and whether a pooler stands in between.
 */
server: ServerRole | null, diagnosis: Diagnosis | null, 
/**
 * How the server was reached: directly, or through the SSH hops with their host keys.
 */
route: RouteInfo | null, };

/**
 * A change of an approval, as announced on the channel.
 */
export type ConsentChange = { 
/**
 * The tenant whose approvals changed (as text).
 */
tenant_id: string, };

/**
 * What an approval allows: reading the tenant in the console, or exporting its audit log too.
 */
export type ConsentScope = "read" | "export";

/**
 * Where the login stands with a tenant.
 */
export type ConsentState = "not_required" | "none" | "pending" | "approved" | "expired" | "revoked";

/**
 * A count that may be an estimate (on tenants with very many rows an exact count would scan too much).
 */
export type Count = { value: number, is_estimate: boolean, };

/**
 * Where the user chose to save: a token that stands for the path (the page never holds a path it could
 * change), and the name and folder to show.
 */
export type Destination = { token: string, file_name: string, folder: string, };

/**
 * One failed connection, explained.
 */
export type Diagnosis = { kind: DiagnosisKind, 
/**
 * What happened, in one line.
 */
cause: string, 
/**
 * What to try.
 */
hint: string, 
/**
 * For SSH failures: the hop that failed and the host keys involved (what the app's prompt shows).
 */
ssh?: SshFailure, };

/**
 * What went wrong while connecting.
 */
export type DiagnosisKind = "dns" | "refused" | "timeout" | "tls" | "auth" | "database_missing" | "privileges" | "server_unavailable" | "not_postgres" | "ssh_unreachable" | "ssh_auth" | "ssh_hop" | "ssh_target" | "ssh_host_key_unknown" | "ssh_host_key_changed" | "ssh_failed" | "password_command" | "other";

/**
 * The dialog's options.
 */
export type ExportDialogOptions = { columns?: Array<Column> | null, tz?: string | null, bom: boolean, 
/**
 * Write the manifest unsigned when the keyring that keeps the signing key is locked (asked, never silent).
 */
unsigned: boolean, };

/**
 * The result of a finished export.
 */
export type ExportSummary = { rows: number, bytes: number, seconds: number, 
/**
 * Where the file is (absent when streamed to a writer).
 */
path: string | null, 
/**
 * Whether the export was recorded in the tenant's support-access log (before its first byte).
 */
recorded: Recorded | null, 
/**
 * The id of that access record.
 */
record_id: string | null, 
/**
 * Where the manifest was written, the file's SHA-256, and the fingerprint of the key that signed it.
 */
manifest: string | null, sha256: string | null, signed_by: string | null, 
/**
 * The signing key's public half (`ed25519:…`), for the verify command an auditor runs.
 */
public_key: string | null, };

export type FailedLogins = { 
/**
 * The action they are logged with (the mapping's `failed_login_action`).
 */
action: string, since: string, 
/**
 * How many since then (exact up to the count cap, else estimated and labelled so).
 */
count: Count, 
/**
 * The newest of them.
 */
latest: Array<AuditEvent>, 
/**
 * The action column is masked for this login: failed sign-ins cannot be told from other events.
 */
masked: boolean, };

/**
 * One finding.
 */
export type Finding = { code: string, severity: Severity, 
/**
 * The table, view, function, policy or role concerned.
 */
object: string, 
/**
 * What is wrong (or, for info, what was checked).
 */
problem: string, 
/**
 * Why it matters.
 */
why: string, 
/**
 * SQL that would fix it.
 */
fix_sql: string | null, 
/**
 * Set when the finding was accepted (in the profile or with `--accept`): the reason.
 */
accepted: string | null, };

/**
 * The isolation check over a fleet: one verdict per shard, and the fleet's.
 */
export type FleetCheck = { fleet: string, shards: Array<ShardVerdict>, 
/**
 * The shards whose check failed (isolation not enforced, or a failing finding).
 */
leaking: Array<string>, unavailable: Array<string>, 
/**
 * Every shard answered and every one holds: the only "enforced" a fleet can earn.
 */
isolation_enforced: boolean, };

/**
 * An opened fleet: what it is, and what each shard answered when it was opened.
 */
export type FleetOpened = { fleet: FleetView, status: Array<ShardStatus>, };

/**
 * A fleet search: the rows every shard that answered found (the first `limit`, merged in the query's order),
 * whether a shard had more, and the shards that did not answer.
 */
export type FleetTenantPage = { items: Array<FleetTenantRow>, 
/**
 * Some shard had more rows than it sent: narrow the search.
 */
more: boolean, unavailable: Array<Unavailable>, };

/**
 * A tenant row of a fleet search: the row, and the shard it came from.
 */
export type FleetTenantRow = { shard: string, created_at: string | null, 
/**
 * Extra columns of the reference schema, when present.
 */
plan: string | null, status: string | null, 
/**
 * The tenant requires its own live approval before support reads its data (consent the database
 * enforces; false where the mapping names no consent).
 */
consent_required: boolean, 
/**
 * The tenant id as text (uuid, text or integer in the database). Readable everywhere ([`Tenant::id`]),
 * writable only inside this crate: a resolved tenant cannot be re-pointed by assignment.
 */
id: string, slug: string | null, name: string, };

/**
 * A fleet as the profiles screen lists it.
 */
export type FleetView = { name: string, shards: Array<ShardView>, 
/**
 * The connection budget over all its shards.
 */
max_connections: number, 
/**
 * The profile whose database says where each tenant lives, when the fleet has a directory.
 */
directory: string | null, };

export type Glance = { 
/**
 * The newest events, newest first.
 */
latest: Array<AuditEvent>, active_actors: ActiveActors, failed_logins: FailedLogins, 
/**
 * The newest support accesses (empty where the database has no access log).
 */
recent_access: Array<AccessEntry>, 
/**
 * The columns this login may not read (`table.column`): null wherever they would show.
 */
masked_columns: Array<string>, 
/**
 * "Now" for the relative parts.
 */
as_of: string, };

/**
 * One hop's host key, as the tunnel saw and trusted it.
 */
export type HopKey = { 
/**
 * `host:port` as ssh connected to it (after the SSH configuration).
 */
hop: string, 
/**
 * The SSH user on that hop.
 */
user: string, 
/**
 * The key type (`ssh-ed25519`).
 */
key_type: string, 
/**
 * `SHA256:` fingerprint.
 */
fingerprint: string, 
/**
 * Why it was trusted: `known_hosts`, `pinned` (the profile) or `accepted` (for this run).
 */
trusted_by: string, };

/**
 * An error crossing the IPC boundary.
 */
export type IpcError = { kind: string, message: string, 
/**
 * Where the app's log is, when the error's details went there ([`Error::details_in_log`]; its message then
 * says "the log has the details"): the window shows it, with Copy and Open.
 */
log_file?: string, 
/**
 * For SSH failures: the hop, and the host keys the window asks the user to compare and accept.
 */
ssh?: SshFailure, };

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;

/**
 * Where a tenant lives: its shard, and the tenant as that shard knows it.
 */
export type Located = { shard: string, tenant: Tenant, 
/**
 * Shards that did not answer (the tenant was found on another).
 */
unavailable: Array<Unavailable>, 
/**
 * Shards not asked: the lookup was settled (the tenant found by its id) before their turn came.
 */
not_asked: Array<string>, };

/**
 * Who the console is connected as, and whether row-level security applies to it.
 */
export type LoginInfo = { user: string, database: string, server_version: string, superuser: boolean, bypassrls: boolean, 
/**
 * Mapped tenant tables this login owns (directly or through a role it belongs to). FORCED RLS still
 * applies to an owner, but an owner can turn it off: the isolation check weighs that.
 */
owns_tenant_tables: Array<string>, 
/**
 * Mapped tenant tables this login owns whose RLS is not FORCED: RLS does not apply to it there.
 */
owns_unforced: Array<string>, 
/**
 * The server is a hot standby (`pg_is_in_recovery()`): it reads, but an access record cannot be written
 * there (a profile's `record_to` names the primary that records).
 */
standby: boolean, };

/**
 * One member of a tenant.
 */
export type Member = { 
/**
 * The user id (members are identified by their user).
 */
id: string, email: string | null, name: string | null, 
/**
 * Null when masked (the login may not read the column).
 */
role: string | null, joined_at: string | null, };

/**
 * A page of members, in the query's order (then user id).
 */
export type MemberPage = { items: Array<Member>, next_cursor: string | null, 
/**
 * The columns this login may not read (`table.column`): their fields are null in every item.
 */
masked_columns: Array<string>, };

/**
 * How members are ordered; each key then the user id, so the walk is total and a cursor is (key, id).
 */
export type MemberSort = "email" | "name" | "role" | "joined";

/**
 * One probe question and its answer.
 */
export type ProbeEvidence = { 
/**
 * The role the probe read as (the login, or a role it can SET ROLE to).
 */
role: string, 
/**
 * `unset`, `empty`, `unknown-tenant` or `tenant`.
 */
state: string, 
/**
 * The tenant the setting named (its slug or id), for `tenant` and `unknown-tenant`.
 */
tenant: string | null, relation: string, 
/**
 * Rows of the tenant itself the relation returned (counted up to 1000), in the `tenant` state.
 */
rows_in_scope: number | null, 
/**
 * Rows it must not have returned (counted up to 101 per kind).
 */
foreign_rows: number, 
/**
 * Set when the question could not be answered (the error's kind; an error denies, it does not leak).
 */
error: string | null, };

/**
 * One connection profile. No secret in it.
 */
export type Profile = { 
/**
 * Stable id: the keyring account of the profile's password.
 */
id: string, 
/**
 * What people call it (`prod-replica`); unique in the store.
 */
name: string, host: string, port: number, database: string, user: string, tls: TlsMode, ca_file?: string | null, tenant_setting: string, mapping_file?: string | null, access_reason: ReasonPolicy, 
/**
 * How long a reason given when opening a tenant lasts, in minutes (policy `required`).
 */
access_grant_minutes: number, statement_timeout_ms: number, 
/**
 * The time limit of an export, in minutes (0: none).
 */
export_timeout_minutes: number, 
/**
 * Where this profile's access records are written: the id (or name) of another profile, the primary,
 * when this one reads from a hot standby, where nothing can be written.
 */
record_to?: string | null, 
/**
 * Behind a connection pooler in transaction mode (PgBouncer): every statement is sent unnamed. Connecting
 * finds most poolers by itself; this says so where it cannot (a pooler on the server's own port number).
 */
pooled?: boolean, accepted_findings?: Array<AcceptedFinding>, 
/**
 * Through SSH: what `ssh` takes (a Host alias of the SSH configuration, `user@host`,
 * `ssh://user@host:port`). The host and port above are then resolved at the far end.
 */
ssh?: string | null, 
/**
 * Jump hosts before `ssh` (as `ssh -J` takes them), replacing a ProxyJump of the SSH configuration.
 */
ssh_jump?: Array<string>, 
/**
 * The SSH configuration file (default `~/.ssh/config`).
 */
ssh_config?: string | null, 
/**
 * Host keys pinned by hop (`host:port` as ssh connects) to a `SHA256:` fingerprint.
 */
ssh_host_keys?: { [key in string]: string }, 
/**
 * A command whose first line of output is the password (a short-lived token), run before every new
 * server connection; no password is stored then.
 */
password_command?: string | null, };

/**
 * A profile as the UI sees it: never with a password, only whether one is stored (for its server as it is).
 */
export type ProfileView = { password_stored: boolean, 
/**
 * Stable id: the keyring account of the profile's password.
 */
id: string, 
/**
 * What people call it (`prod-replica`); unique in the store.
 */
name: string, host: string, port: number, database: string, user: string, tls: TlsMode, ca_file?: string | null, tenant_setting: string, mapping_file?: string | null, access_reason: ReasonPolicy, 
/**
 * How long a reason given when opening a tenant lasts, in minutes (policy `required`).
 */
access_grant_minutes: number, statement_timeout_ms: number, 
/**
 * The time limit of an export, in minutes (0: none).
 */
export_timeout_minutes: number, 
/**
 * Where this profile's access records are written: the id (or name) of another profile, the primary,
 * when this one reads from a hot standby, where nothing can be written.
 */
record_to?: string | null, 
/**
 * Behind a connection pooler in transaction mode (PgBouncer): every statement is sent unnamed. Connecting
 * finds most poolers by itself; this says so where it cannot (a pooler on the server's own port number).
 */
pooled?: boolean, accepted_findings?: Array<AcceptedFinding>, 
/**
 * Through SSH: what `ssh` takes (a Host alias of the SSH configuration, `user@host`,
 * `ssh://user@host:port`). The host and port above are then resolved at the far end.
 */
ssh?: string | null, 
/**
 * Jump hosts before `ssh` (as `ssh -J` takes them), replacing a ProxyJump of the SSH configuration.
 */
ssh_jump?: Array<string>, 
/**
 * The SSH configuration file (default `~/.ssh/config`).
 */
ssh_config?: string | null, 
/**
 * Host keys pinned by hop (`host:port` as ssh connects) to a `SHA256:` fingerprint.
 */
ssh_host_keys?: { [key in string]: string }, 
/**
 * A command whose first line of output is the password (a short-lived token), run before every new
 * server connection; no password is stored then.
 */
password_command?: string | null, };

/**
 * How far an export is.
 */
export type Progress = { rows: number, bytes: number, 
/**
 * The rows expected (exact up to 10,000, estimated beyond).
 */
total_estimate: number | null, elapsed_ms: number, };

/**
 * The kind of reason.
 */
export type ReasonCategory = "support-ticket" | "incident" | "audit-request" | "other";

/**
 * Whether opening a tenant needs a reason.
 */
export type ReasonPolicy = "off" | "optional" | "required";

/**
 * Whether an access was recorded.
 */
export type Recorded = "yes" | "no_log_table";

/**
 * What a recount in the tenant's scope found, against what the manifest says was exported.
 */
export type Recount = { 
/**
 * The database's own record of this file (the `export-complete` record with its SHA-256), or none: an
 * export the database never witnessed (a file edited and re-signed, or made elsewhere).
 */
witnessed: Witness | null, 
/**
 * The events in the manifest's range now, read as the tenant.
 */
rows_now: number, rows_in_manifest: number, 
/**
 * `rows_now - rows_in_manifest`: events added to (positive) or gone from (negative) the range since.
 */
difference: number, 
/**
 * The range counted, in UTC: from (inclusive) to (exclusive).
 */
from_utc: string | null, to_utc: string, };

/**
 * The result of a check.
 */
export type Report = { login: LoginInfo, 
/**
 * Every role the login can become besides itself, with how (`inherited` or `set role`).
 */
reach: Array<string>, tables_checked: Array<string>, probed_tenants: Array<string>, 
/**
 * What the probe asked and saw: one entry per role, state and relation.
 */
evidence: Array<ProbeEvidence>, findings: Array<Finding>, 
/**
 * True when no unaccepted critical finding exists.
 */
isolation_enforced: boolean, };

/**
 * A request the console wrote.
 */
export type Request = { id: string, db_user: string, category: string, detail: string, minutes: number, scope: ConsentScope, created_at: string, };

/**
 * One role of a tenant.
 */
export type Role = { 
/**
 * The role's name (roles are identified by name within a tenant).
 */
id: string, description: string | null, permissions: Array<string>, builtin: boolean, 
/**
 * Whether the role is global (a null tenant in the roles table) rather than the tenant's own.
 */
global: boolean, members: number, };

/**
 * How the console reached the server: what the access record and the export manifest say.
 */
export type RouteInfo = { 
/**
 * `direct`, or `ssh` (through the hops).
 */
via: string, 
/**
 * The SSH hops in order, each with the host key it presented and why it was trusted.
 */
hops?: Array<HopKey>, 
/**
 * The password came from a command (a short-lived token), not a stored password.
 */
password_command?: boolean, };

/**
 * What the app shows while the tunnel is re-opened.
 */
export type RouteStatus = { "state": "up" } | { "state": "reconnecting", route: string, } | { "state": "down", message: string, };

/**
 * What kind of server the console reached: a primary or a standby (and how far behind), directly or
 * through a pooler or proxy.
 */
export type ServerRole = { 
/**
 * A hot standby (`pg_is_in_recovery()`).
 */
standby: boolean, 
/**
 * On a standby: WAL received but not yet replayed, in bytes.
 */
replay_lag_bytes: number | null, 
/**
 * On a standby: seconds since the last transaction it replayed was committed on the primary. It grows
 * while the primary is idle too: read it with the byte lag.
 */
replay_delay_seconds: number | null, 
/**
 * The port the server itself listens on (`inet_server_port()`), when it differs from the one connected
 * to: a pooler (PgBouncer) or a proxy stands in between.
 */
pooler_port: number | null, 
/**
 * All of it in one line for people ([`ServerRole::describe`]).
 */
summary: string, };

/**
 * What importing a libpq service found: the profile form's fields, and what to tell the user.
 */
export type ServiceImport = { 
/**
 * Fields for the new-profile form (not saved yet), as `profiles_save` reads them.
 */
profile: Partial<Profile>, 
/**
 * The file the service came from.
 */
service_file: string, 
/**
 * Whether `.pgpass` has the password: saving with `from_pgpass` stores it (it never enters the window).
 */
password_found: boolean, notes: Array<string>, };

/**
 * A connected profile, as the isolation banner needs it.
 */
export type SessionInfo = { profile_id: string, profile_name: string, login: LoginInfo, 
/**
 * Why RLS does not apply to this login; empty when it does.
 */
bypass_reasons: Array<string>, 
/**
 * The user acknowledged the bypass: tenant reads go on, resting on the console's predicates only.
 */
bypass_accepted: boolean, access_reason: ReasonPolicy, 
/**
 * The profile whose primary records this profile's accesses (`record_to`), when it reads a standby.
 */
records_to: string | null, 
/**
 * How the database is reached: directly, or through SSH hops with their host keys.
 */
route: RouteInfo, };

/**
 * How bad a finding is.
 */
export type Severity = "critical" | "warning" | "info";

/**
 * A shard's health: whether it answered, its server, its role and the time a read took.
 */
export type ShardStatus = { shard: string, answered: boolean, server_version: string | null, 
/**
 * `primary` or `standby`.
 */
role: string | null, 
/**
 * A read-only round trip (BEGIN, SELECT, COMMIT) on the connected shard, in milliseconds.
 */
latency_ms: number | null, unavailable: Unavailable | null, };

/**
 * One shard's verdict.
 */
export type ShardVerdict = { shard: string, 
/**
 * The check's report, when the shard answered.
 */
report: Report | null, 
/**
 * Why it did not.
 */
unavailable: Unavailable | null, };

/**
 * One shard of a fleet: its profile's name, and its id when such a profile exists.
 */
export type ShardView = { name: string, profile_id: string | null, };

/**
 * This machine's signing key, public half: what the auditor is given.
 */
export type SigningKeyInfo = { public_key: string, fingerprint: string, };

/**
 * What the app needs to show for an SSH failure: the hop, and for host keys both fingerprints.
 */
export type SshFailure = { 
/**
 * The hop that failed (`host:port`), when known.
 */
hop: string | null, 
/**
 * Host keys no one vouched for (unknown) or the key presented (changed).
 */
unknown_keys?: Array<HopKey>, 
/**
 * For a changed key: the fingerprint known_hosts or the profile expected.
 */
expected_fingerprint?: string, 
/**
 * For a changed key: what the hop presented.
 */
presented_fingerprint?: string, };

/**
 * A tenant that exists: made only by resolving an id or slug against the tenants table. Outside this crate it
 * can be read but not re-pointed:
 *
 * ```compile_fail
 * fn repoint(t: &mut tenant_console_core::Tenant) {
 *     t.id = "another tenant".into(); // error[E0616]: field `id` of struct `Tenant` is private
 * }
 * ```
 *
 * ```
 * fn read(t: &tenant_console_core::Tenant) -> String {
 *     format!("{} {} {:?}", t.id(), t.name(), t.slug())
 * }
 * ```
 */
export type Tenant = { 
/**
 * The tenant id as text (uuid, text or integer in the database). Readable everywhere ([`Tenant::id`]),
 * writable only inside this crate: a resolved tenant cannot be re-pointed by assignment.
 */
id: string, slug: string | null, name: string, };

export type TenantFacts = { id: string, slug: string | null, name: string, };

/**
 * An opened tenant: who it is, its stats, whether the access was recorded, and how long the reason lasts.
 */
export type TenantOverview = { tenant: Tenant, 
/**
 * Status, plan and creation date (each absent when the mapping has no such column).
 */
status: string | null, plan: string | null, created_at: string | null, stats: TenantStats, recorded: Recorded | null, record_id: string | null, grant_seconds: number | null, 
/**
 * The tenant's live approval that let it open (a tenant that requires consent): the page shows the time
 * it has left and closes the tenant when it ends.
 */
approval: Approval | null, };

/**
 * A page of tenants.
 */
export type TenantPage = { items: Array<TenantRow>, next_cursor: string | null, };

/**
 * One row of the tenant list.
 */
export type TenantRow = { created_at: string | null, 
/**
 * Extra columns of the reference schema, when present.
 */
plan: string | null, status: string | null, 
/**
 * The tenant requires its own live approval before support reads its data (consent the database
 * enforces; false where the mapping names no consent).
 */
consent_required: boolean, 
/**
 * The tenant id as text (uuid, text or integer in the database). Readable everywhere ([`Tenant::id`]),
 * writable only inside this crate: a resolved tenant cannot be re-pointed by assignment.
 */
id: string, slug: string | null, name: string, };

/**
 * How the tenant list is sorted.
 */
export type TenantSort = "name" | "slug" | "created_at";

/**
 * Per-tenant stats, read inside the tenant's scope.
 */
export type TenantStats = { members: number, audit_events_30d: Count, last_activity: string | null, };

/**
 * Stats of a tenant in a list, by id.
 */
export type TenantStatsRow = { tenant_id: string, stats: TenantStats, };

/**
 * How the connection is protected.
 */
export type TlsMode = "disable" | "require" | "verify-full";

/**
 * A shard that did not answer, and why.
 */
export type Unavailable = { shard: string, 
/**
 * The error's kind (`connect_refused`, `connect_auth`, `query_timeout`, ...).
 */
kind: string, message: string, };

/**
 * What "Verify a file" found: the core's verification of the file against its manifest, the key it was
 * checked against, and the recount in the tenant's scope when one was asked for.
 */
export type VerifyReport = { 
/**
 * The key the signature had to be made with: the one pasted in the dialog, or this machine's own.
 */
checked_against: string | null, 
/**
 * Names the file for another verification (with a recount) without the dialog again.
 */
file_token: string, recount: Recount | null, 
/**
 * Everything checked out (and the signing key was the one given, when one was).
 */
ok: boolean, 
/**
 * What is wrong, each in a sentence; empty when `ok`.
 */
problems: Array<string>, file: string, manifest: string, tenant: TenantFacts | null, rows_counted: number | null, sha256: string, 
/**
 * The fingerprint of the key that signed the manifest.
 */
signed_by: string | null, 
/**
 * Whether that key is one the verifier trusts (given with --public-key, this machine's own, or listed in
 * the trusted keys).
 */
key_trusted: boolean, 
/**
 * Which trusted key it was: `this machine's key`, `the key given`, or a trusted key's name.
 */
trusted_as: string | null, 
/**
 * Validly signed, but by a key the verifier does not trust: the file may be anyone's.
 */
unknown_key: boolean, };

/**
 * What the tenant's access log says about one finished export: the `export-complete` record whose SHA-256
 * is `sha256`, written by the console at the end of the export with the server's clock.
 */
export type Witness = { record_id: string, recorded_at: string, db_user: string, rows: number | null, };
