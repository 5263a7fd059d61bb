//! The core's error, in the user's terms.
//!
//! Every variant says what went wrong so a support engineer can act on it; [`Error::kind`] gives a stable code
//! that the app and `tenantctl --format json` put beside the message. Database internals (SQL text, server
//! messages that may quote data) never go into the message: they go to `tracing` where the error is made.
//! Secrets never go anywhere: no variant carries a password or a connection string with one.

use std::path::PathBuf;

/// The core's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the core can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The tenant named (by id or slug) does not exist in the tenants table.
    #[error("unknown tenant {0:?}: no tenant has that id or slug")]
    UnknownTenant(String),

    /// No shard of a fleet that answered has the tenant; `unavailable` are the shards that did not answer
    /// (`name (kind)`), where it may be.
    #[error(
        "unknown tenant {key:?}: no tenant has that id or slug on {}{}",
        shards_asked(asked),
        shards_unavailable(unavailable)
    )]
    NotOnFleet {
        key: String,
        asked: Vec<String>,
        unavailable: Vec<String>,
    },

    /// A fleet's directory names no shard for the tenant, or names one that does not have it (`placed_on`: the
    /// directory is stale).
    #[error("unknown tenant {key:?}: {}", match placed_on {
        None => "the fleet's directory names no shard for it".to_owned(),
        Some(s) => format!("the fleet's directory places it on {s}, which does not have it (the directory is stale)"),
    })]
    NotInDirectory {
        key: String,
        placed_on: Option<String>,
    },

    /// A value given by the user is not acceptable (bad tenant id, bad time, bad cursor, ...).
    #[error("{0}")]
    InvalidInput(String),

    /// The mapping file, or the database it describes, is not usable.
    #[error("mapping: {0}")]
    Mapping(String),

    /// Connecting failed; the diagnosis says why and what to try.
    #[error("{0}")]
    Connect(crate::doctor::Diagnosis),

    /// A write was attempted inside a read-only tenant scope.
    #[error("writes are not allowed while reading as a tenant (the tenant scope is a read-only transaction)")]
    ReadOnly,

    /// The statement timeout of the profile cut a query short.
    #[error("the query took longer than the profile's statement timeout and was cancelled by the server")]
    QueryTimeout,

    /// The login may not read an object it needs.
    #[error("permission denied: the database login may not {0}")]
    PermissionDenied(String),

    /// The connection dropped or the server went away in the middle of the work.
    #[error("the connection to the database was lost: {0}")]
    ConnectionLost(String),

    /// Any other database failure. The message names only the SQLSTATE; the detail is in the log.
    #[error("the database refused the request (SQLSTATE {code}); the log has the details")]
    Database { code: String },

    /// Isolation is not enforced for this login and the caller did not accept that.
    #[error("row-level security is not enforced for this login: {0}")]
    IsolationNotEnforced(String),

    /// The profile requires an access reason and none (or a malformed one) was given.
    #[error("{0}")]
    ReasonRequired(String),

    /// The tenant requires its own live approval before support reads its data, and none is live for this
    /// login (or none covers an export): nothing was read.
    #[error("{0}")]
    ConsentRequired(String),

    /// An access must be recorded, and the server is a hot standby (or otherwise refuses writes) with no
    /// primary named to record on: nothing was read.
    #[error("{0}")]
    Standby(String),

    /// A connection pooler between the console and the server works in a way the console cannot (statement
    /// pooling), or lost the console's statements.
    #[error("{0}")]
    Pooler(String),

    /// The support-access log did not keep the record of an access, so the access did not happen.
    #[error("{0}")]
    AccessNotRecorded(String),

    /// The profile store could not be read or written.
    #[error("profile: {0}")]
    Profile(String),

    /// No profile has that name.
    #[error("no profile named {0:?}")]
    UnknownProfile(String),

    /// The system keyring failed.
    #[error("{0}")]
    Keyring(#[from] SecretError),

    /// The user cancelled a long operation.
    #[error("cancelled")]
    Cancelled,

    /// The server cancelled a statement at a request that was not this program's (an administrator's
    /// `pg_cancel_backend`): not the user's cancel, not a timeout.
    #[error("the server cancelled the work at someone else's request (an administrator's pg_cancel_backend, or a tool watching long queries); nothing was kept")]
    ServerCancelled,

    /// An export's manifest must be signed and the key that signs it cannot be had (the keyring that keeps it
    /// is locked or unavailable): nothing was read or recorded.
    #[error("the export's manifest is signed with a key kept in the system keyring, and {0}: unlock the keyring, or export with an unsigned manifest (verify then reports it unsigned)")]
    SigningKeyUnavailable(String),

    /// An export ran longer than its own time limit and the server stopped it.
    #[error("the export ran longer than its time limit ({0} min, the profile's export_timeout_minutes) and the server stopped it; no file was written")]
    ExportTimeout(u64),

    /// The output file exists and overwriting was not asked for.
    #[error("{} exists; choose another name or allow overwriting", .0.display())]
    FileExists(PathBuf),

    /// A file could not be read or written.
    #[error("{action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The private demo/test cluster could not be created or started.
    #[error("local PostgreSQL: {0}")]
    Cluster(String),
}

/// Every kind an error of the core can have ([`Error::kind`], the connection doctor's `connect_*` diagnoses,
/// the keyring's kinds). The UI's `ErrorKind` (ui/api.js) must list the same: a test compares them.
pub const KINDS: &[&str] = &[
    "unknown_tenant",
    "invalid_input",
    "mapping",
    "read_only",
    "query_timeout",
    "permission_denied",
    "connection_lost",
    "database",
    "isolation_not_enforced",
    "reason_required",
    "access_not_recorded",
    "consent_required",
    "standby",
    "pooler",
    "profile",
    "unknown_profile",
    "secret_missing",
    "keyring_unavailable",
    "keyring_not_persistent",
    "keyring",
    "cancelled",
    "server_cancelled",
    "export_timeout",
    "signing_key_unavailable",
    "file_exists",
    "io",
    "cluster",
    "connect_dns",
    "connect_refused",
    "connect_timeout",
    "connect_tls",
    "connect_auth",
    "connect_database_missing",
    "connect_privileges",
    "connect_server_unavailable",
    "connect_not_postgres",
    "connect_ssh_unreachable",
    "connect_ssh_auth",
    "connect_ssh_hop",
    "connect_ssh_target",
    "connect_ssh_host_key_unknown",
    "connect_ssh_host_key_changed",
    "connect_ssh_failed",
    "connect_password_command",
    "connect_failed",
];

impl Error {
    /// A stable, machine-readable code for this error (documented in docs/cli.md; the UI branches on it).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::UnknownTenant(_) | Error::NotOnFleet { .. } | Error::NotInDirectory { .. } => {
                "unknown_tenant"
            }
            Error::InvalidInput(_) => "invalid_input",
            Error::Mapping(_) => "mapping",
            Error::Connect(d) => d.kind.code(),
            Error::ReadOnly => "read_only",
            Error::QueryTimeout => "query_timeout",
            Error::PermissionDenied(_) => "permission_denied",
            Error::ConnectionLost(_) => "connection_lost",
            Error::Database { .. } => "database",
            Error::IsolationNotEnforced(_) => "isolation_not_enforced",
            Error::ReasonRequired(_) => "reason_required",
            Error::AccessNotRecorded(_) => "access_not_recorded",
            Error::ConsentRequired(_) => "consent_required",
            Error::Standby(_) => "standby",
            Error::Pooler(_) => "pooler",
            Error::Profile(_) => "profile",
            Error::UnknownProfile(_) => "unknown_profile",
            Error::Keyring(e) => e.kind(),
            Error::Cancelled => "cancelled",
            Error::ServerCancelled => "server_cancelled",
            Error::ExportTimeout(_) => "export_timeout",
            Error::SigningKeyUnavailable(_) => "signing_key_unavailable",
            Error::FileExists(_) => "file_exists",
            Error::Io { .. } => "io",
            Error::Cluster(_) => "cluster",
        }
    }

    /// Whether the details of this error went to the log instead of the message (a database error's text, the
    /// keyring's, a connection failure the doctor could not name): the app then shows where the log is.
    pub fn details_in_log(&self) -> bool {
        match self {
            Error::Database { .. } => true,
            Error::Keyring(e) => matches!(e, SecretError::Other),
            Error::Connect(d) => d.details_in_log,
            _ => false,
        }
    }

    /// A file operation that failed: what was being done, and to which path.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

fn shards_asked(asked: &[String]) -> String {
    match asked.len() {
        0 => "any shard (none answered)".into(),
        1 => format!("shard {}", asked[0]),
        n => format!("the {n} shards that answered ({})", asked.join(", ")),
    }
}

fn shards_unavailable(unavailable: &[String]) -> String {
    if unavailable.is_empty() {
        String::new()
    } else {
        format!(
            "; not asked, because they did not answer: {}",
            unavailable.join(", ")
        )
    }
}

/// Where a TOML file is malformed, said without quoting it: line, column, section and key, and the parser's
/// complaint with every quoted value cut out. A file named by mistake (a secrets file given as a mapping) must
/// never have its contents echoed into a message, a log line or a crash report.
pub(crate) fn toml_error(e: &toml::de::Error, text: &str) -> String {
    let mut at = String::new();
    if let Some(span) = e.span() {
        let before = &text[..span.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        at = format!("line {line}, column {column}");
        let section = before
            .lines()
            .filter_map(|l| {
                let l = l.trim();
                (l.starts_with('[') && l.ends_with(']')).then(|| l.trim_matches(['[', ']']).trim())
            })
            .next_back()
            .filter(|s| is_plain_name(s));
        let key = text
            .lines()
            .nth(line - 1)
            .and_then(|l| l.split_once('='))
            .map(|(k, _)| k.trim())
            .filter(|k| is_plain_name(k));
        if let Some(section) = section {
            at.push_str(&format!(", in [{section}]"));
        }
        if let Some(key) = key {
            at.push_str(&format!(", key {key}"));
        }
    }
    let message = redact_quoted(e.message());
    if at.is_empty() {
        message
    } else {
        format!("{at}: {message}")
    }
}

/// A section or key name that can be shown: short, and only the characters TOML allows in a bare key.
fn is_plain_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Replaces what a message quotes (`"value"`, `'value'`) with `…`: values from the file stay out of it.
fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quote: Option<char> = None;
    for c in message.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                out.push(c);
                out.push('…');
            }
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), _) => {}
            (None, c) if c.is_control() => out.push(' '),
            (None, c) => out.push(c),
        }
    }
    out.lines().next().unwrap_or_default().trim().to_owned()
}

/// What can go wrong with a secret, in words a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// No password is stored for this profile (named by its name where known, else its id).
    #[error("no password is stored in the system keyring for profile {0:?}")]
    Missing(String),
    /// A password is stored for the profile, but it was given for another server (host, port, database, user,
    /// TLS or SSH route changed since): it is not sent, the user is asked again.
    #[error("the password stored for profile {0:?} was given for another server (its host, port, database, user, TLS or SSH route changed since), so it is not sent: enter it again")]
    OtherServer(String),
    /// The keyring is locked, absent, or refused access.
    #[error("the system keyring is locked or unavailable: unlock it, or start a Secret Service (gnome-keyring, KWallet or KeePassXC on Linux), or give the password for this session only")]
    Unavailable,
    /// The keyring library has no persistent store on this system.
    #[error("no persistent system keyring is available here: passwords would be forgotten at exit, so none are stored")]
    NotPersistent,
    /// Any other keyring failure (details in the log).
    #[error("the system keyring failed; the log has the details")]
    Other,
}

impl SecretError {
    /// The stable error code.
    pub fn kind(&self) -> &'static str {
        match self {
            // The same for the UI: no usable stored password, ask for one.
            SecretError::Missing(_) | SecretError::OtherServer(_) => "secret_missing",
            SecretError::Unavailable => "keyring_unavailable",
            SecretError::NotPersistent => "keyring_not_persistent",
            SecretError::Other => "keyring",
        }
    }
}

/// Turns a database error into one a user can act on; the raw error goes to the log, not into the message.
impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) => {
                let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
                tracing::warn!(sqlstate = %code, error = %db, "database error");
                match code.as_str() {
                    // read_only_sql_transaction
                    "25006" => Error::ReadOnly,
                    // query_canceled: by the statement timeout, or at a request (pg_cancel_backend: the
                    // console's own cancel is told apart where it is sent).
                    "57014" if db.message().contains("statement timeout") => Error::QueryTimeout,
                    "57014" => Error::ServerCancelled,
                    // insufficient_privilege
                    "42501" => Error::PermissionDenied(
                        "read or write one of the objects this needs (check its GRANTs)".into(),
                    ),
                    // admin_shutdown, crash_shutdown, cannot_connect_now
                    "57P01" | "57P02" | "57P03" => {
                        Error::ConnectionLost("the server is shutting down".into())
                    }
                    // duplicate_prepared_statement, invalid_sql_statement_name: statements of one session
                    // were spread over server connections (a pooler in transaction mode, statements kept
                    // named by a client other than the console's core).
                    "42P05" | "26000" => Error::Pooler(format!(
                        "the server lost track of a prepared statement (SQLSTATE {code}): a pooler in transaction mode (PgBouncer) moved this session's statements to another server connection; connect directly or through session pooling, and report this (the console's own statements are unnamed)"
                    )),
                    // protocol_violation: PgBouncer in statement mode refuses every transaction.
                    "08P01" if db.message().contains("statement pool mode") => Error::Pooler(
                        "the pooler is in statement mode, which refuses transactions, and every read of the console is a transaction: connect through a pool in transaction or session mode (pool_mode in pgbouncer.ini), or directly".into(),
                    ),
                    _ => Error::Database { code },
                }
            }
            sqlx::Error::Io(io) => {
                tracing::warn!(error = %io, "database connection I/O error");
                Error::ConnectionLost(io.kind().to_string())
            }
            sqlx::Error::PoolTimedOut => {
                tracing::warn!("pool timed out");
                Error::ConnectionLost("no connection became available in time".into())
            }
            sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
                Error::ConnectionLost("the connection pool is closed".into())
            }
            sqlx::Error::Protocol(p) => {
                tracing::warn!(error = %p, "protocol error");
                Error::ConnectionLost("the server sent an unexpected message".into())
            }
            other => {
                tracing::warn!(error = %other, "database error");
                Error::Database {
                    code: "none".into(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_exists_message_names_the_file_and_the_way_out() {
        let e = Error::FileExists(PathBuf::from("/tmp/audit.csv"));
        assert_eq!(e.kind(), "file_exists");
        assert_eq!(
            e.to_string(),
            "/tmp/audit.csv exists; choose another name or allow overwriting"
        );
    }

    #[test]
    fn a_malformed_toml_file_is_named_by_place_and_never_quoted() {
        let text = "[tenants]\ntable = \"tenants\"\nid = 5\n[audit_logs]\ndb_admin_password = \"hunter2-very-secret\" x\n";
        let e = toml::from_str::<toml::Value>(text).unwrap_err();
        let m = toml_error(&e, text);
        assert!(!m.contains("hunter2"), "{m}");
        assert!(m.starts_with("line 5, column "), "{m}");
        assert!(m.contains("in [audit_logs], key db_admin_password"), "{m}");
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Port {
            port: u16,
        }
        let text = "port = \"s3cr3t-token\"\n";
        let e = toml::from_str::<Port>(text).unwrap_err();
        let m = toml_error(&e, text);
        assert!(!m.contains("s3cr3t"), "{m}");
        assert!(m.contains("key port"), "{m}");
        let text = "just-a-secret-line-no-equals\n";
        let e = toml::from_str::<toml::Value>(text).unwrap_err();
        let m = toml_error(&e, text);
        assert!(!m.contains("secret"), "{m}");
    }

    #[test]
    fn every_error_has_a_kind_from_the_list_and_says_whether_the_log_has_its_details() {
        use crate::doctor::{Diagnosis, DiagnosisKind};
        let io = || std::io::Error::other("x");
        let mut all = vec![
            Error::UnknownTenant("t".into()),
            Error::NotOnFleet {
                key: "t".into(),
                asked: vec!["a".into()],
                unavailable: vec!["b (connect_refused)".into()],
            },
            Error::NotInDirectory {
                key: "t".into(),
                placed_on: Some("a".into()),
            },
            Error::InvalidInput("x".into()),
            Error::Mapping("x".into()),
            Error::ReadOnly,
            Error::QueryTimeout,
            Error::PermissionDenied("x".into()),
            Error::ConnectionLost("x".into()),
            Error::Database { code: "x".into() },
            Error::IsolationNotEnforced("x".into()),
            Error::ReasonRequired("x".into()),
            Error::AccessNotRecorded("x".into()),
            Error::ConsentRequired("x".into()),
            Error::Standby("x".into()),
            Error::Pooler("x".into()),
            Error::Profile("x".into()),
            Error::UnknownProfile("x".into()),
            Error::Keyring(SecretError::Missing("p".into())),
            Error::Keyring(SecretError::Unavailable),
            Error::Keyring(SecretError::NotPersistent),
            Error::Keyring(SecretError::Other),
            Error::Cancelled,
            Error::ServerCancelled,
            Error::ExportTimeout(60),
            Error::SigningKeyUnavailable("x".into()),
            Error::FileExists(PathBuf::from("x")),
            Error::io("x", "x", io()),
            Error::Cluster("x".into()),
        ];
        for kind in [
            DiagnosisKind::Dns,
            DiagnosisKind::Refused,
            DiagnosisKind::Timeout,
            DiagnosisKind::Tls,
            DiagnosisKind::Auth,
            DiagnosisKind::DatabaseMissing,
            DiagnosisKind::Privileges,
            DiagnosisKind::ServerUnavailable,
            DiagnosisKind::NotPostgres,
            DiagnosisKind::SshUnreachable,
            DiagnosisKind::SshAuth,
            DiagnosisKind::SshHop,
            DiagnosisKind::SshTarget,
            DiagnosisKind::SshHostKeyUnknown,
            DiagnosisKind::SshHostKeyChanged,
            DiagnosisKind::SshFailed,
            DiagnosisKind::PasswordCommand,
            DiagnosisKind::Other,
        ] {
            all.push(Error::Connect(Diagnosis::new(kind, "x".into(), "y")));
        }
        let kinds: std::collections::BTreeSet<&str> = all.iter().map(Error::kind).collect();
        let listed: std::collections::BTreeSet<&str> = KINDS.iter().copied().collect();
        assert_eq!(kinds, listed);
        // The app shows where the log is because the error says its details are there, and every error that
        // tells the user "the log has ..." says so (connection failures the doctor could not name included).
        let target = crate::doctor::Target {
            host: "db.example".into(),
            port: 5432,
            user: "u".into(),
            database: "d".into(),
        };
        all.push(Error::Connect(crate::doctor::diagnose(
            &sqlx::Error::Protocol("odd".into()),
            &target,
        )));
        for e in &all {
            assert_eq!(
                e.details_in_log(),
                e.to_string().contains("the log has"),
                "{:?}: {e}",
                e.kind()
            );
        }
        assert!(all.iter().filter(|e| e.details_in_log()).count() >= 3);
    }

    #[test]
    fn pool_timeout_is_reported_as_a_lost_connection() {
        let e: Error = sqlx::Error::PoolTimedOut.into();
        assert_eq!(e.kind(), "connection_lost");
    }
}
