//! Connecting: a pool for a profile (or a URL), who the login is, and the door to tenant scopes.
//!
//! [`ConnectSpec`] says where to connect and how (TLS mode, CA file); [`Db::connect`] makes one probe connection
//! first, so a failure gets the doctor's diagnosis instead of a pool time-out, binds the mapping to the catalog,
//! reads who the login is, and then hands out a lazily-filled pool. Reading as a tenant goes through the door
//! ([`crate::access::Door`]), which refuses when the login bypasses row-level security unless that was accepted.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgSslMode};
use sqlx::{ConnectOptions, Connection, PgConnection, Postgres, Transaction};

use crate::doctor::{diagnose, Diagnosis, Target};

mod route;
mod test;

use crate::error::{Error, Result};
use crate::mapping::{Mapping, Schema};
use crate::reach::{PasswordCommand, SshRoute};
pub use route::{Route, RouteInfo, RouteStatus};
pub use test::{test_connection, ConnectionReport};

/// How the connection is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// Plain TCP (a trusted network or loopback only).
    Disable,
    /// Encrypted, but the server's certificate is not checked.
    Require,
    /// Encrypted, the certificate checked against the CA file or the system trust store, and the host name.
    #[default]
    VerifyFull,
}

impl TlsMode {
    /// The mode when none was asked for: plain TCP to a loopback address (nothing crosses a network), and
    /// verify-full everywhere else, so a forgotten `sslmode` never sends a password in the clear.
    pub fn default_for_host(host: &str) -> TlsMode {
        let loopback = host.eq_ignore_ascii_case("localhost")
            || host.starts_with('/')
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if loopback {
            TlsMode::Disable
        } else {
            TlsMode::VerifyFull
        }
    }
}

impl TlsMode {
    /// The mode for libpq's `sslmode` (a URL's, a service's): allow and prefer cannot be told from disable here
    /// (nothing is tried twice), verify-ca is checked as verify-full (stricter, never weaker). Without one: a
    /// CA file means verify-full, else the host decides ([`TlsMode::default_for_host`]).
    pub fn from_sslmode(sslmode: Option<&str>, host: &str, has_ca: bool) -> Result<TlsMode> {
        match sslmode {
            None if has_ca => Ok(TlsMode::VerifyFull),
            None => Ok(TlsMode::default_for_host(host)),
            Some("disable" | "allow" | "prefer") => Ok(TlsMode::Disable),
            Some("require") => Ok(TlsMode::Require),
            Some("verify-ca" | "verify-full") => Ok(TlsMode::VerifyFull),
            Some(other) => Err(Error::InvalidInput(format!("unknown sslmode {other:?}"))),
        }
    }
}

impl std::str::FromStr for TlsMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "disable" => Ok(TlsMode::Disable),
            "require" => Ok(TlsMode::Require),
            "verify-full" => Ok(TlsMode::VerifyFull),
            other => Err(Error::InvalidInput(format!(
                "unknown TLS mode {other:?}: use disable, require or verify-full"
            ))),
        }
    }
}

impl std::fmt::Display for TlsMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TlsMode::Disable => "disable",
            TlsMode::Require => "require",
            TlsMode::VerifyFull => "verify-full",
        })
    }
}

/// Everything needed to open a connection. The password is a [`SecretString`]: it cannot be printed by accident.
#[derive(Clone)]
pub struct ConnectSpec {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    pub password: Option<SecretString>,
    pub tls: TlsMode,
    pub ca_file: Option<PathBuf>,
    pub connect_timeout: Duration,
    /// A command that prints the password, run before every new server connection (instead of `password`).
    pub password_command: Option<PasswordCommand>,
    /// Through SSH, when the database is not reachable directly; its host and port are resolved at the far end.
    pub ssh: Option<SshRoute>,
}

impl std::fmt::Debug for ConnectSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.redacted_url())
    }
}

impl ConnectSpec {
    /// Parses `postgres://user[:password]@host[:port]/database[?sslmode=...]`. A password in the URL is accepted
    /// but callers should prefer `PGPASSWORD` or standard input (a URL ends up in shell history).
    pub fn from_url(url: &str) -> Result<Self> {
        let u = url::Url::parse(url)
            .map_err(|e| Error::InvalidInput(format!("not a postgres:// URL: {e}")))?;
        if u.scheme() != "postgres" && u.scheme() != "postgresql" {
            return Err(Error::InvalidInput(format!(
                "not a postgres:// URL (scheme {:?})",
                u.scheme()
            )));
        }
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let host = u
            .host_str()
            .ok_or_else(|| Error::InvalidInput("the URL names no host".into()))?
            .trim_matches(|c| c == '[' || c == ']')
            .to_owned();
        let user = if u.username().is_empty() {
            "postgres".to_owned()
        } else {
            decode(u.username())
        };
        let database = u.path().trim_start_matches('/');
        let database = if database.is_empty() {
            user.clone()
        } else {
            decode(database)
        };
        let mut sslmode = None;
        let mut ca_file = None;
        for (k, v) in u.query_pairs() {
            match k.as_ref() {
                "sslmode" => sslmode = Some(v.into_owned()),
                "sslrootcert" => ca_file = Some(PathBuf::from(v.as_ref())),
                _ => {}
            }
        }
        let tls = TlsMode::from_sslmode(sslmode.as_deref(), &host, ca_file.is_some())?;
        Ok(ConnectSpec {
            host,
            port: u.port().unwrap_or(5432),
            database,
            user,
            password: u.password().map(|p| SecretString::from(decode(p))),
            tls,
            ca_file,
            connect_timeout: Duration::from_secs(10),
            password_command: None,
            ssh: None,
        })
    }

    /// The URL with no password in it: safe for logs and messages.
    pub fn redacted_url(&self) -> String {
        let via = match &self.ssh {
            Some(r) => format!(" via ssh {}", r.describe()),
            None => String::new(),
        };
        format!(
            "postgres://{}@{}:{}/{} (tls {}){via}",
            self.user, self.host, self.port, self.database, self.tls
        )
    }

    pub(crate) fn target(&self) -> Target {
        Target {
            host: self.host.clone(),
            port: self.port,
            database: self.database.clone(),
            user: self.user.clone(),
        }
    }

    /// The driver's options for a direct connection (callers that build their own pool, e.g. admin commands;
    /// through SSH, use [`Route::options`]). They hold the password and print it in their `Debug`: never log
    /// them.
    pub fn pg_options(&self) -> PgConnectOptions {
        self.options_via(None, self.password.as_ref())
    }

    /// The driver's options, entering at a tunnel's local end when there is one, with `password`.
    pub(crate) fn options_via(
        &self,
        local: Option<&crate::reach::ssh::LocalEnd>,
        password: Option<&SecretString>,
    ) -> PgConnectOptions {
        let mut o = PgConnectOptions::new_without_pgpass()
            .host(&self.host)
            .port(self.port)
            .database(&self.database)
            .username(&self.user)
            .application_name("tenant-console")
            // Not sent: PgBouncer refuses startup parameters it does not know unless configured to ignore
            // them, and since PostgreSQL 12 the default (1) already prints floats exactly.
            .extra_float_digits(None)
            // Statement text may quote user data: keep it out of the driver's own log lines.
            .disable_statement_logging();
        if let Some(p) = password {
            o = o.password(p.expose_secret());
        }
        // Through a tunnel's loopback port (Windows) the driver can only name 127.0.0.1 to TLS, so the
        // certificate is checked against the CA but not the host name; through a Unix socket, fully.
        let loopback_port = matches!(local, Some(crate::reach::ssh::LocalEnd::Tcp(_)));
        o = match self.tls {
            TlsMode::Disable => o.ssl_mode(PgSslMode::Disable),
            TlsMode::Require => o.ssl_mode(PgSslMode::Require),
            TlsMode::VerifyFull if loopback_port => o.ssl_mode(PgSslMode::VerifyCa),
            TlsMode::VerifyFull => o.ssl_mode(PgSslMode::VerifyFull),
        };
        if let Some(ca) = &self.ca_file {
            o = o.ssl_root_cert(ca);
        }
        route::apply_local(o, local)
    }

    /// Opens one connection, with the doctor's diagnosis on failure.
    ///
    /// Beside the connection, the doctor asks the port what it is (an SSLRequest, as every client starts): a
    /// port that answers as something else (a web server) fails at once with that said, instead of a wait for
    /// the timeout blamed on the network; one that accepts and keeps silent is named as such when the timeout
    /// comes.
    /// Through SSH, the tunnel opens first (its failures name the hop) and is returned with the connection,
    /// which lives only as long as it.
    pub async fn connect_once(&self) -> Result<(PgConnection, Route)> {
        let route = Route::open(self).await?;
        let conn = self.connect_via(&route).await?;
        Ok((conn, route))
    }

    /// One connection over an open route.
    pub(crate) async fn connect_via(&self, route: &Route) -> Result<PgConnection> {
        let opts = route.options().await?;
        if route.tunnelled() {
            // The port is the tunnel's: asking it what it is would only ask ssh.
            let target = self.target();
            let outcome =
                tokio::time::timeout(self.connect_timeout, PgConnection::connect_with(&opts)).await;
            let e = match outcome {
                Ok(Ok(c)) => return Ok(c),
                Ok(Err(e)) => Error::Connect(diagnose(&e, &target)),
                Err(_) => Error::Connect(Diagnosis::timeout(&target, Some(self.connect_timeout))),
            };
            // ssh logs why the far end refused a moment after it closed our side.
            tokio::time::sleep(Duration::from_millis(100)).await;
            return Err(route.explain(e));
        }
        let target = self.target();
        let connect = tokio::time::timeout(self.connect_timeout, PgConnection::connect_with(&opts));
        tokio::pin!(connect);
        let silence = self.connect_timeout.min(Duration::from_secs(3));
        let probe = crate::doctor::what_answers(&target, silence);
        tokio::pin!(probe);
        let mut silent: Option<Diagnosis> = None;
        let mut probing = true;
        let outcome = loop {
            tokio::select! {
                r = &mut connect => break r,
                a = &mut probe, if probing => {
                    probing = false;
                    match a {
                        crate::doctor::Answer::NotPostgres(d) => return Err(Error::Connect(d)),
                        crate::doctor::Answer::Silent(d) => silent = Some(d),
                        crate::doctor::Answer::PostgresOrUnreachable => {}
                    }
                }
            }
        };
        match outcome {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => {
                // A failure that came before the probe's answer (TLS asked of a web server fails at its first
                // byte): if the probe finds something else listening, that is the cause to name.
                if probing {
                    if let Ok(crate::doctor::Answer::NotPostgres(d)) =
                        tokio::time::timeout(Duration::from_secs(1), probe).await
                    {
                        return Err(Error::Connect(d));
                    }
                }
                Err(Error::Connect(diagnose(&e, &target)))
            }
            Err(_) => {
                // The probe started with the attempt and waits no longer than it: hear what it found.
                if probing {
                    match probe.await {
                        crate::doctor::Answer::NotPostgres(d)
                        | crate::doctor::Answer::Silent(d) => silent = Some(d),
                        crate::doctor::Answer::PostgresOrUnreachable => {}
                    }
                }
                Err(Error::Connect(silent.unwrap_or_else(|| {
                    Diagnosis::timeout(&target, Some(self.connect_timeout))
                })))
            }
        }
    }
}

async fn backend_pid(conn: &mut PgConnection) -> Result<i32> {
    Ok(crate::sql::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *conn)
        .await?)
}

/// What a connect reads in its first transaction: the mapping bound, the login, the server, and the backend
/// that answered (a second transaction's backend tells whether a pooler stands in between).
struct FirstLook {
    schema: Schema,
    login: LoginInfo,
    role: ServerRole,
    backend: i32,
}

impl FirstLook {
    async fn read(tx: &mut PgConnection, mapping: Mapping, port: u16) -> Result<Self> {
        let schema = Schema::bind(tx, mapping).await?;
        let login = LoginInfo::read(tx, &schema).await?;
        let role = ServerRole::read(tx, port).await?;
        let backend = backend_pid(tx).await?;
        Ok(FirstLook {
            schema,
            login,
            role,
            backend,
        })
    }

    /// How statements are sent: unnamed behind a pooler (asked for, found by its port, or seen as another
    /// backend answering `second_backend`'s transaction), kept prepared otherwise.
    fn statements(&self, options: &DbOptions, second_backend: i32) -> crate::sql::Statements {
        statements_for(
            options.pooled || self.role.pooler_port.is_some() || self.backend != second_backend,
        )
    }
}

fn statements_for(pooled: bool) -> crate::sql::Statements {
    if pooled {
        crate::sql::Statements::Unnamed
    } else {
        crate::sql::Statements::Kept
    }
}

/// Who the console is connected as, and whether row-level security applies to it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, ts_rs::TS)]
pub struct LoginInfo {
    pub user: String,
    pub database: String,
    pub server_version: String,
    pub superuser: bool,
    pub bypassrls: bool,
    /// Mapped tenant tables this login owns (directly or through a role it belongs to). FORCED RLS still
    /// applies to an owner, but an owner can turn it off: the isolation check weighs that.
    pub owns_tenant_tables: Vec<String>,
    /// Mapped tenant tables this login owns whose RLS is not FORCED: RLS does not apply to it there.
    pub owns_unforced: Vec<String>,
    /// The server is a hot standby (`pg_is_in_recovery()`): it reads, but an access record cannot be written
    /// there (a profile's `record_to` names the primary that records).
    pub standby: bool,
}

/// What kind of server the console reached: a primary or a standby (and how far behind), directly or
/// through a pooler or proxy.
#[derive(Clone, Debug, Serialize, PartialEq, ts_rs::TS)]
pub struct ServerRole {
    /// A hot standby (`pg_is_in_recovery()`).
    pub standby: bool,
    /// On a standby: WAL received but not yet replayed, in bytes.
    pub replay_lag_bytes: Option<i64>,
    /// On a standby: seconds since the last transaction it replayed was committed on the primary. It grows
    /// while the primary is idle too: read it with the byte lag.
    pub replay_delay_seconds: Option<f64>,
    /// The port the server itself listens on (`inet_server_port()`), when it differs from the one connected
    /// to: a pooler (PgBouncer) or a proxy stands in between.
    pub pooler_port: Option<u16>,
    /// All of it in one line for people ([`ServerRole::describe`]).
    pub summary: String,
}

impl ServerRole {
    /// Reads the server's role; `connected_port` is the port the console connected to.
    pub(crate) async fn read(conn: &mut PgConnection, connected_port: u16) -> Result<Self> {
        let (standby, lag, delay, port): (bool, Option<i64>, Option<f64>, Option<i32>) =
            crate::sql::query_as(
                "SELECT pg_is_in_recovery(),
                        CASE WHEN pg_is_in_recovery() THEN
                          pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint END,
                        CASE WHEN pg_is_in_recovery() THEN
                          extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END,
                        inet_server_port()",
            )
            .fetch_one(&mut *conn)
            .await?;
        let mut role = ServerRole {
            standby,
            replay_lag_bytes: lag,
            replay_delay_seconds: delay,
            pooler_port: port
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| *p != connected_port),
            summary: String::new(),
        };
        role.summary = role.describe();
        Ok(role)
    }

    /// One line for people: `primary`, or `standby, 0 bytes behind, last replayed transaction 3 s ago`.
    pub fn describe(&self) -> String {
        let mut s = if self.standby {
            let mut s = "hot standby (read-only replica)".to_owned();
            if let Some(b) = self.replay_lag_bytes {
                s.push_str(&format!(", {b} bytes received but not yet replayed"));
            }
            match self.replay_delay_seconds {
                Some(d) => s.push_str(&format!(
                    ", last replayed transaction committed {d:.1} s ago"
                )),
                None => s.push_str(", nothing replayed since it started"),
            }
            s
        } else {
            "primary".to_owned()
        };
        if let Some(p) = self.pooler_port {
            s.push_str(&format!(
                "; through a pooler or proxy (the server itself listens on port {p})"
            ));
        }
        s
    }
}

impl LoginInfo {
    /// Why RLS does not apply to this login, one reason per line; empty when it does apply.
    pub fn bypass_reasons(&self) -> Vec<String> {
        let mut r = Vec::new();
        if self.superuser {
            r.push(format!("login {:?} is a superuser", self.user));
        }
        if self.bypassrls {
            r.push(format!("login {:?} has the BYPASSRLS attribute", self.user));
        }
        for t in &self.owns_unforced {
            r.push(format!(
                "login {:?} owns {t}, whose row-level security is not FORCED",
                self.user
            ));
        }
        r
    }

    pub(crate) async fn read(conn: &mut PgConnection, schema: &Schema) -> Result<Self> {
        let (user, database, server_version, superuser, bypassrls, standby): (
            String,
            String,
            String,
            bool,
            bool,
            bool,
        ) = crate::sql::query_as(
                "SELECT current_user::text, current_database()::text, current_setting('server_version'),
                        r.rolsuper, r.rolbypassrls, pg_is_in_recovery()
                   FROM pg_roles r WHERE r.rolname = current_user",
            )
            .fetch_one(&mut *conn)
            .await?;
        let mut tables = vec![
            schema.tables.members.name.to_string(),
            schema.tables.audit.name.to_string(),
        ];
        if let Some(r) = &schema.tables.roles {
            tables.push(r.name.to_string());
        }
        if let Some(a) = &schema.tables.access_log {
            tables.push(a.name.to_string());
        }
        let owned: Vec<(String, bool)> = crate::sql::query_as(
            "SELECT c.oid::regclass::text, c.relforcerowsecurity FROM pg_class c
              WHERE c.oid = ANY (SELECT to_regclass(t) FROM unnest($1::text[]) t)
                AND pg_has_role(current_user, c.relowner, 'USAGE')
              ORDER BY 1",
        )
        .bind(&tables)
        .fetch_all(&mut *conn)
        .await?;
        let owns_unforced = owned
            .iter()
            .filter(|(_, forced)| !forced)
            .map(|(t, _)| t.clone())
            .collect();
        let owns_tenant_tables = owned.into_iter().map(|(t, _)| t).collect();
        Ok(LoginInfo {
            user,
            database,
            server_version,
            superuser,
            bypassrls,
            owns_tenant_tables,
            owns_unforced,
            standby,
        })
    }
}

/// Options of a connected database handle.
#[derive(Clone, Debug)]
pub struct DbOptions {
    /// Statement timeout inside tenant scopes.
    pub statement_timeout: Duration,
    /// The time limit of an export's statements (zero: none).
    pub export_timeout: Duration,
    /// Pool size.
    pub max_connections: u32,
    /// Read as tenants even though the login bypasses RLS (isolation then rests on the console's predicates).
    pub allow_bypass: bool,
    /// Behind a pooler in transaction mode (a profile's `pooled`): send every statement unnamed. Connecting
    /// also finds a pooler by itself (the server's port is not the one connected to, or one connection's
    /// transactions run on different backends).
    pub pooled: bool,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            statement_timeout: Duration::from_secs(30),
            export_timeout: Duration::from_secs(60 * 60),
            max_connections: 8,
            allow_bypass: false,
            pooled: false,
        }
    }
}

/// A connected database: pool, bound mapping, and who the login is. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Db({})", self.inner.target)
    }
}

struct Inner {
    pool: PgPool,
    statements: crate::sql::Statements,
    schema: Arc<Schema>,
    login: LoginInfo,
    options: DbOptions,
    target: String,
    route: Option<Arc<Route>>,
}

/// How long [`Db::connect_lean`] waits for its first connection before it asks the full diagnosis beside it.
const LEAN_PATIENCE: Duration = Duration::from_millis(150);

/// Whether a pool error is a failure to open or keep a connection (not an error of a statement).
fn is_connect_failure(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(db) => {
            matches!(
                db.code().as_deref(),
                Some("28P01" | "28000" | "08006" | "08001")
            )
        }
        _ => false,
    }
}

impl Db {
    /// Connects, with a diagnosis on failure, and binds the mapping to the database.
    #[tracing::instrument(skip_all, fields(target = %spec.redacted_url()))]
    pub async fn connect(spec: &ConnectSpec, mapping: Mapping, options: DbOptions) -> Result<Self> {
        let route = Route::open(spec).await?;
        let mut probe = spec.connect_via(&route).await?;
        let mut tx = probe.begin_with("BEGIN READ ONLY").await?;
        let first = FirstLook::read(&mut tx, mapping, spec.port).await?;
        tx.commit().await?;
        let mut tx = probe.begin_with("BEGIN READ ONLY").await?;
        let second_backend = backend_pid(&mut tx).await?;
        tx.commit().await?;
        probe.close().await.ok();
        let statements = first.statements(&options, second_backend);
        let FirstLook { schema, login, .. } = first;
        // With a password command, the options get a fresh token before the pool's first connection.
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(spec.connect_timeout)
            .connect_lazy_with(route.options_now(spec.password.as_ref()));
        tracing::info!(user = %login.user, superuser = login.superuser, bypassrls = login.bypassrls, standby = login.standby, ?statements, route = %route.info().describe(), "connected");
        Ok(Db::assemble(
            pool,
            schema,
            login,
            options,
            spec.redacted_url(),
            statements,
            Some(Arc::new(route)),
        ))
    }

    /// Connects with one server connection instead of three, for a fleet's shard (many connects at once under
    /// one budget): the pool's first connection does the connect's own work (the mapping bound, the login and
    /// the server read, a pooler looked for) and stays in the pool for what follows. [`Db::connect`] opens a
    /// probe connection of its own and the doctor's "what answers" probe beside it for the best diagnosis; here
    /// the driver's error is diagnosed directly, and a connect still pending after a moment is asked, with a bare
    /// TCP connect, whether it is refused (the pool retries a refused connect until its timeout). It never holds
    /// more than one of the login's connections while it connects: a fleet's budget counts on that.
    #[tracing::instrument(skip_all, fields(target = %spec.redacted_url()))]
    pub async fn connect_lean(
        spec: &ConnectSpec,
        mapping: Mapping,
        options: DbOptions,
    ) -> Result<Self> {
        let route = Route::open(spec).await?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(spec.connect_timeout)
            .connect_lazy_with(route.options_now(spec.password.as_ref()));
        let target = spec.target();
        let diagnosed = |e: sqlx::Error| match e {
            sqlx::Error::PoolTimedOut => {
                Error::Connect(Diagnosis::timeout(&target, Some(spec.connect_timeout)))
            }
            e => route.explain(Error::Connect(diagnose(&e, &target))),
        };
        let mut tx = {
            let first = pool.begin_with("BEGIN READ ONLY");
            tokio::pin!(first);
            tokio::select! {
            tx = &mut first => tx.map_err(diagnosed)?,
            _ = tokio::time::sleep(LEAN_PATIENCE) => {
                // Still not connected. The pool retries a refused connect until its timeout, so find out
                // whether that is why, with a bare TCP connect (no session: it opens no backend of the login's,
                // and a fleet's budget counts those); a server that accepts is only slow, and is waited for.
                // Through a tunnel the tunnel always accepts, and a refusal at the far end is not retried.
                // (A socket directory as the host is not a TCP address: nothing to knock on.)
                if !route.tunnelled() && !target.host.starts_with('/') {
                    let at = (target.host.as_str(), target.port);
                    let knock = tokio::time::timeout(spec.connect_timeout, tokio::net::TcpStream::connect(at));
                    if let Ok(Err(e)) = knock.await {
                        if e.kind() == std::io::ErrorKind::ConnectionRefused {
                            return Err(Error::Connect(diagnose(&sqlx::Error::Io(e), &target)));
                        }
                    }
                }
                first.await.map_err(diagnosed)?
            }
            }
        };
        let first = FirstLook::read(&mut tx, mapping, spec.port).await?;
        tx.commit().await?;
        // The same pooled connection again, unless a pooler stands in between (then another backend answers).
        let mut tx = pool.begin_with("BEGIN READ ONLY").await?;
        let second_backend = backend_pid(&mut tx).await?;
        tx.commit().await?;
        let statements = first.statements(&options, second_backend);
        let FirstLook { schema, login, .. } = first;
        tracing::info!(user = %login.user, superuser = login.superuser, bypassrls = login.bypassrls, standby = login.standby, ?statements, "connected (lean)");
        Ok(Db::assemble(
            pool,
            schema,
            login,
            options,
            spec.redacted_url(),
            statements,
            Some(Arc::new(route)),
        ))
    }

    /// Wraps an existing pool (tests, and callers that manage their own pool).
    pub async fn from_pool(pool: PgPool, mapping: Mapping, options: DbOptions) -> Result<Self> {
        let mut tx = pool.begin_with("BEGIN READ ONLY").await?;
        let schema = Schema::bind(&mut tx, mapping).await?;
        let login = LoginInfo::read(&mut tx, &schema).await?;
        tx.commit().await?;
        let statements = statements_for(options.pooled);
        Ok(Db::assemble(
            pool,
            schema,
            login,
            options,
            "pool".into(),
            statements,
            None,
        ))
    }

    fn assemble(
        pool: PgPool,
        schema: Schema,
        login: LoginInfo,
        options: DbOptions,
        target: String,
        statements: crate::sql::Statements,
        route: Option<Arc<Route>>,
    ) -> Self {
        Db {
            inner: Arc::new(Inner {
                pool,
                statements,
                schema: Arc::new(schema),
                login,
                options,
                target,
                route,
            }),
        }
    }

    /// Readies the way for the pool's next connection: a dead tunnel re-opened; with a password command, a
    /// fresh token whenever the pool may connect (no idle connection left, the tunnel re-opened, or `force`).
    async fn ready(&self, force: bool) -> Result<()> {
        let Some(route) = &self.inner.route else {
            return Ok(());
        };
        let reopened = route.ensure_up().await?;
        if route.spec().password_command.is_some()
            && (force || reopened || self.inner.pool.num_idle() == 0)
        {
            self.inner.pool.set_connect_options(route.options().await?);
        }
        Ok(())
    }

    /// A transaction on the pool, with the way readied first. A new connection refused once (a token that
    /// expired in between, a tunnel that died as it was used) is tried once more with the way readied again.
    async fn begin(&self, sql: &'static str) -> Result<Transaction<'static, Postgres>> {
        self.ready(false).await?;
        match self.inner.pool.begin_with(sql).await {
            Ok(tx) => Ok(tx),
            Err(e) if self.inner.route.is_some() && is_connect_failure(&e) => {
                tracing::info!(error = %e, "a new connection failed: readying the route and trying once more");
                self.ready(true).await?;
                self.inner.pool.begin_with(sql).await.map_err(|e| {
                    let Some(r) = &self.inner.route else {
                        return Error::from(e);
                    };
                    // A new connection that failed says why in the doctor's words (a password that expired).
                    let e = if is_connect_failure(&e) && !matches!(e, sqlx::Error::PoolTimedOut) {
                        Error::Connect(diagnose(&e, &r.spec().target()))
                    } else {
                        Error::from(e)
                    };
                    r.explain(e)
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// How this database is reached (direct or through SSH, with each hop's host key): for evidence.
    pub fn route_info(&self) -> RouteInfo {
        self.inner
            .route
            .as_ref()
            .map(|r| r.info())
            .unwrap_or_else(|| RouteInfo {
                via: "direct".into(),
                ..Default::default()
            })
    }

    /// The open route (tunnel state, its changes), when this handle was connected with [`Db::connect`].
    pub fn route(&self) -> Option<&Arc<Route>> {
        self.inner.route.as_ref()
    }

    /// Fails with [`Error::IsolationNotEnforced`] when RLS does not apply to this login and that was not accepted.
    pub fn ensure_isolated(&self) -> Result<()> {
        let reasons = self.inner.login.bypass_reasons();
        if reasons.is_empty() || self.inner.options.allow_bypass {
            Ok(())
        } else {
            Err(Error::IsolationNotEnforced(format!(
                "{}; refusing to read as a tenant (--allow-bypass overrides, and then isolation rests on the console's own predicates only)",
                reasons.join("; ")
            )))
        }
    }

    /// True when RLS does not apply to this login but the caller chose to go on (every output must say so).
    pub fn bypass_accepted(&self) -> bool {
        self.inner.options.allow_bypass && !self.inner.login.bypass_reasons().is_empty()
    }

    /// A read-only transaction on a pooled connection, for the catalog and cross-tenant reads (the tenant
    /// list). Every statement the core sends runs in a transaction: behind a pooler in transaction mode, a
    /// statement outside one may be parsed on one server connection and run on another.
    pub(crate) async fn read_tx(&self) -> Result<Transaction<'static, Postgres>> {
        self.begin("BEGIN READ ONLY").await
    }

    /// A read-only transaction that sees one snapshot for all its statements: the isolation check's catalog.
    pub(crate) async fn snapshot_tx(&self) -> Result<Transaction<'static, Postgres>> {
        self.begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
    }

    /// A read-write transaction: the access record, the console's only write.
    pub(crate) async fn write_tx(&self) -> Result<Transaction<'static, Postgres>> {
        self.begin("BEGIN").await
    }

    /// Connect options for a connection of the caller's own (the probe), through the route, with a fresh
    /// password when it comes from a command.
    pub(crate) async fn connect_options(&self) -> Result<PgConnectOptions> {
        match &self.inner.route {
            Some(r) if r.tunnelled() || r.spec().password_command.is_some() => r.options().await,
            _ => Ok((*self.inner.pool.connect_options()).clone()),
        }
    }

    /// How the browse path sends its statements: kept prepared (directly connected), or unnamed (a pooler).
    pub fn statements(&self) -> crate::sql::Statements {
        self.inner.statements
    }

    /// Closes the pool (disconnecting a profile).
    pub async fn close(&self) {
        self.inner.pool.close().await
    }

    /// The pool, for tests only (a statement outside a transaction is not safe behind a pooler).
    #[cfg(any(test, feature = "testing"))]
    pub fn catalog_pool(&self) -> &PgPool {
        &self.inner.pool
    }

    pub fn schema(&self) -> &Schema {
        &self.inner.schema
    }

    pub(crate) fn schema_arc(&self) -> Arc<Schema> {
        self.inner.schema.clone()
    }

    pub fn login(&self) -> &LoginInfo {
        &self.inner.login
    }

    pub fn options(&self) -> &DbOptions {
        &self.inner.options
    }

    pub(crate) fn statement_timeout_ms(&self) -> u128 {
        self.inner.options.statement_timeout.as_millis()
    }

    /// Where this handle is connected, without secrets.
    pub fn target(&self) -> &str {
        &self.inner.target
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_never_print_their_password() {
        let s = ConnectSpec::from_url(
            "postgres://console:s3cr%40t@db.example:6543/app?sslmode=verify-full",
        )
        .unwrap();
        assert_eq!(s.host, "db.example");
        assert_eq!(s.port, 6543);
        assert_eq!(s.database, "app");
        assert_eq!(s.user, "console");
        assert_eq!(s.tls, TlsMode::VerifyFull);
        assert_eq!(s.password.as_ref().unwrap().expose_secret(), "s3cr@t");
        let shown = format!("{s:?} {}", s.redacted_url());
        assert!(!shown.contains("s3cr"), "{shown}");
    }

    #[test]
    fn without_sslmode_only_loopback_goes_unencrypted() {
        let tls = |url: &str| ConnectSpec::from_url(url).unwrap().tls;
        assert_eq!(tls("postgres://u@127.0.0.1:5432/d"), TlsMode::Disable);
        assert_eq!(tls("postgres://u@localhost/d"), TlsMode::Disable);
        assert_eq!(tls("postgres://u@[::1]/d"), TlsMode::Disable);
        assert_eq!(tls("postgres://u@db.example/d"), TlsMode::VerifyFull);
        assert_eq!(tls("postgres://u@10.0.0.7/d"), TlsMode::VerifyFull);
        assert_eq!(
            tls("postgres://u@127.0.0.1/d?sslrootcert=/etc/ca.crt"),
            TlsMode::VerifyFull
        );
        assert_eq!(
            tls("postgres://u@db.example/d?sslmode=require"),
            TlsMode::Require
        );
        assert_eq!(
            tls("postgres://u@db.example/d?sslmode=verify-ca"),
            TlsMode::VerifyFull
        );
    }

    #[test]
    fn bad_urls_are_clear_errors() {
        for bad in [
            "",
            "mysql://x@y/z",
            "postgres:///db",
            "postgres://u@h/db?sslmode=maybe",
        ] {
            let e = ConnectSpec::from_url(bad).unwrap_err();
            assert_eq!(e.kind(), "invalid_input", "{bad}");
        }
    }
}
