//! The live probe: proof with rows. Each state runs on a dedicated new connection (never a pooled one, which
//! might carry anything): the setting never set, set to `''`, set to a tenant id that does not exist, and set
//! to each sampled tenant. In each state, as the login and as every role it can `SET ROLE` to, it asks each
//! readable tenant table (and each readable view or foreign table with a tenant column) for rows that state must
//! not return, with bounded queries (`LIMIT`, index ranges that are empty under a correct policy), inside a
//! read-only transaction. A policy that leaks in any state is caught on every run.
//!
//! Behind a pooler (PgBouncer in transaction mode) a "new connection" is a server connection another client
//! used before, and may carry that client's session-level `SET` of the tenant setting: residue. The probe
//! reports it where it sees it (a preset with ALTER ROLE/DATABASE … SET is told apart through
//! `pg_db_role_setting`), and proves it with rows: it reads in that state too. The console's own scopes never
//! depend on the setting being absent (each sets it transaction-locally and carries the tenant predicate).
//! The pooled-path check (the setting still present after a scope ended) stays on the pooled path, where
//! residue would live.

use serde::Serialize;
use sqlx::query::QueryScalar;
use sqlx::{Connection, PgConnection};

use super::relations::Judge;
use super::{finding, CheckOptions, Finding, Severity};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::mapping::IdType;
use crate::scope::Tenant;
use crate::sql::quote;

/// Most rows a probe query counts: enough to say "rows leak", never a scan of a large table.
const CAP: i64 = 101;
/// Most roles besides the login the probe becomes.
const MAX_ROLES: usize = 16;

/// One probe question and its answer.
#[derive(Clone, Debug, Serialize, PartialEq, ts_rs::TS)]
pub struct ProbeEvidence {
    /// The role the probe read as (the login, or a role it can SET ROLE to).
    pub role: String,
    /// `unset`, `empty`, `unknown-tenant` or `tenant`.
    pub state: &'static str,
    /// The tenant the setting named (its slug or id), for `tenant` and `unknown-tenant`.
    pub tenant: Option<String>,
    pub relation: String,
    /// Rows of the tenant itself the relation returned (counted up to 1000), in the `tenant` state.
    pub rows_in_scope: Option<i64>,
    /// Rows it must not have returned (counted up to 101 per kind).
    pub foreign_rows: i64,
    /// Set when the question could not be answered (the error's kind; an error denies, it does not leak).
    pub error: Option<String>,
}

pub(crate) struct ProbeResult {
    pub tenants: Vec<String>,
    pub evidence: Vec<ProbeEvidence>,
}

#[derive(Clone, Debug)]
enum State {
    Unset,
    /// A new connection found the setting already set by another client's session (a pooler handed it on).
    Residue(String),
    Empty,
    Unknown(String),
    Tenant(Tenant),
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::Unset => "unset",
            State::Residue(_) => "residue",
            State::Empty => "empty",
            State::Unknown(_) => "unknown-tenant",
            State::Tenant(_) => "tenant",
        }
    }

    fn value(&self) -> Option<&str> {
        match self {
            State::Unset | State::Residue(_) => None,
            State::Empty => Some(""),
            State::Unknown(id) => Some(id),
            State::Tenant(t) => Some(&t.id),
        }
    }
}

/// A relation the probe asks, and the tenant column to ask it by.
struct Target {
    name: String,
    column: String,
    readable_by: Vec<i64>,
}

fn unknown_tenant_id(ty: IdType) -> String {
    match ty {
        IdType::Uuid => uuid::Uuid::new_v4().to_string(),
        IdType::Integer => "-7342001".to_owned(),
        IdType::Text => format!("tenant-console-probe-{}", uuid::Uuid::new_v4().simple()),
    }
}

pub(crate) async fn run(
    db: &Db,
    judge: &Judge<'_>,
    opts: &CheckOptions,
    also: &[Tenant],
    out: &mut Vec<Finding>,
) -> Result<ProbeResult> {
    let s = db.schema();
    let setting = s.setting().to_owned();
    let tenants: Vec<Tenant> = match &opts.tenant {
        Some(key) => vec![crate::tenants::resolve(db, key).await?],
        None => {
            let page = crate::tenants::list(
                db,
                &crate::tenants::TenantQuery {
                    limit: opts.sample.max(1) as u32,
                    ..Default::default()
                },
            )
            .await?;
            page.items.into_iter().map(|r| r.tenant).collect()
        }
    };
    // Tenants the caller adds (those that require consent: their refusal is proven with their rows).
    let mut tenants = tenants;
    for t in also {
        if !tenants.iter().any(|x| x.id == t.id) {
            tenants.push(t.clone());
        }
    }
    let labels = tenants.iter().map(|t| t.label().to_owned()).collect();
    // A login RLS does not apply to is already critical; reading as tenants then needs --allow-bypass.
    if db.ensure_isolated().is_err() {
        return Ok(ProbeResult {
            tenants: labels,
            evidence: Vec::new(),
        });
    }

    let mut targets: Vec<Target> = judge
        .catalog
        .tables
        .iter()
        .filter(|t| !t.readable_by.is_empty())
        .map(|t| Target {
            name: t.name.clone(),
            column: t.column.clone(),
            readable_by: t.readable_by.clone(),
        })
        .collect();
    let mut views: Vec<Target> = judge
        .catalog
        .relations
        .values()
        .filter(|r| !r.readable_by.is_empty())
        .filter_map(|r| {
            r.tenant_column.as_ref().map(|c| Target {
                name: r.name.clone(),
                column: c.clone(),
                readable_by: r.readable_by.clone(),
            })
        })
        .collect();
    views.sort_by(|a, b| a.name.cmp(&b.name));
    targets.extend(views);

    let roles: Vec<(i64, String, bool)> = judge
        .roles
        .becomeable()
        .into_iter()
        .filter(|r| r.is_login || r.bypass().is_none())
        .take(MAX_ROLES + 1)
        .map(|r| (r.oid, r.name.clone(), r.is_login))
        .collect();

    let mut states = vec![
        State::Unset,
        State::Empty,
        State::Unknown(unknown_tenant_id(s.tenant_id_type)),
    ];
    states.extend(tenants.iter().cloned().map(State::Tenant));

    let cast = s.tenant_id_type.cast();
    let timeout = format!("{}ms", db.statement_timeout_ms().min(10_000));
    let options = db.connect_options().await?;
    let mut evidence = Vec::new();
    for state in &states {
        // A dedicated connection per state: nothing another user of the console's pool did can hide or fake a
        // leak (behind a pooler it may still carry another client's session SET: see Residue).
        let mut conn = PgConnection::connect_with(&options).await?;
        let mut state = state.clone();
        if matches!(state, State::Unset) {
            let mut tx = conn.begin().await?;
            let (present, preset): (Option<String>, bool) = crate::sql::query_as(
                "SELECT current_setting($1, true),
                        EXISTS (SELECT 1 FROM pg_db_role_setting s, unnest(s.setconfig) c
                                 WHERE s.setrole IN (0, (SELECT oid FROM pg_roles WHERE rolname = session_user))
                                   AND s.setdatabase IN (0, (SELECT oid FROM pg_database
                                                              WHERE datname = current_database()))
                                   AND split_part(c, '=', 1) = $1)",
            )
            .bind(&setting)
            .fetch_one(&mut *tx)
            .await?;
            tx.rollback().await?;
            let present = present.filter(|v| !v.is_empty());
            if let (Some(v), false) = (&present, preset) {
                out.push(residue_finding(&setting, v));
                state = State::Residue(v.clone());
            } else if let Some(v) = present {
                out.push(finding(
                    "PROBE_SETTING_PRESET",
                    Severity::Critical,
                    &setting,
                    format!("a new connection of the login starts with {setting} = {v:?}"),
                    "a default set with ALTER ROLE / ALTER DATABASE … SET scopes every session that forgets to set the tenant to that tenant",
                    Some(format!("ALTER ROLE <console login> RESET {setting}; ALTER DATABASE <database> RESET {setting};")),
                ));
            }
        }
        let state = &state;
        for (role_oid, role, is_login) in &roles {
            let mut tx = conn.begin().await?;
            crate::sql::query("SET TRANSACTION READ ONLY")
                .execute(&mut *tx)
                .await?;
            crate::sql::query("SELECT set_config('statement_timeout', $1, true)")
                .bind(&timeout)
                .execute(&mut *tx)
                .await?;
            if let Some(v) = state.value() {
                crate::sql::query("SELECT set_config($1, $2, true)")
                    .bind(&setting)
                    .bind(v)
                    .execute(&mut *tx)
                    .await?;
            }
            if !is_login {
                let set = format!("SET LOCAL ROLE {}", quote(role));
                if let Err(e) = crate::sql::query(&set).execute(&mut *tx).await {
                    tracing::info!(role = %role, error = %e, "probe could not SET ROLE");
                    continue;
                }
            }
            for t in targets.iter().filter(|t| t.readable_by.contains(role_oid)) {
                let col = quote(&t.column);
                let n = &t.name;
                let (in_scope_sql, foreign_sql) = match state {
                    State::Tenant(_) => (
                        Some(format!(
                            "SELECT count(*) FROM (SELECT 1 FROM {n} WHERE {col} = CAST($1 AS {cast}) LIMIT 1000) s"
                        )),
                        crate::sql::foreign_rows_sql(&n.to_string(), &col, cast, CAP),
                    ),
                    _ => (None, format!("SELECT count(*) FROM (SELECT 1 FROM {n} LIMIT {CAP}) x")),
                };
                let answer = ask(&mut tx, in_scope_sql.as_deref(), &foreign_sql, state).await?;
                let (rows_in_scope, foreign, error) = match answer {
                    Ok((a, b)) => (a, b, None),
                    Err(kind) => (None, 0, Some(kind)),
                };
                let tenant_label = match state {
                    State::Tenant(t) => Some(t.label().to_owned()),
                    State::Unknown(id) | State::Residue(id) => Some(id.clone()),
                    _ => None,
                };
                if foreign > 0 {
                    let shown = if foreign >= CAP {
                        format!("{foreign}+")
                    } else {
                        foreign.to_string()
                    };
                    let who = if *is_login {
                        "the login".to_owned()
                    } else {
                        format!("role {role} (SET ROLE)")
                    };
                    let (code, problem, why) = match state {
                        State::Residue(v) => (
                            "PROBE_POOLED_RESIDUE",
                            format!("with {setting} = {v:?} left by another client's session, {n} returned {shown} rows to {who} that never set the tenant"),
                            "a client behind this pooler that does not set the tenant in each transaction reads as whichever tenant another client last SET",
                        ),
                        State::Unset => (
                            "PROBE_UNSET_SETTING_ROWS",
                            format!("with {setting} never set, {n} returned {shown} rows to {who}"),
                            "any code path that forgets to set the tenant sees data: the policy does not deny by default",
                        ),
                        State::Empty => (
                            "PROBE_EMPTY_SETTING_ROWS",
                            format!("with {setting} = '', {n} returned {shown} rows to {who}"),
                            "a reset setting is '' on a used connection: the policy must deny then too",
                        ),
                        State::Unknown(id) => (
                            "PROBE_UNKNOWN_TENANT_ROWS",
                            format!("with {setting} = {id:?}, a tenant that does not exist, {n} returned {shown} rows to {who}"),
                            "a mistyped or deleted tenant id must see nothing",
                        ),
                        State::Tenant(t) => (
                            "PROBE_FOREIGN_ROWS",
                            format!("reading as tenant {}, {n} returned {shown} rows of other tenants to {who}", t.label()),
                            "the policies let another tenant's rows through the console's own tenant scope",
                        ),
                    };
                    out.push(finding(
                        code,
                        Severity::Critical,
                        n,
                        problem,
                        why,
                        Some(format!(
                            "-- inspect the policies: SELECT * FROM pg_policies WHERE format('%I.%I', schemaname, tablename)::regclass = '{}'::regclass;",
                            n.replace('\'', "''")
                        )),
                    ));
                }
                if let Some(kind) = &error {
                    if matches!(state, State::Tenant(_)) {
                        out.push(finding(
                            "PROBE_INCONCLUSIVE",
                            Severity::Warning,
                            n,
                            format!("the probe could not read {n} as {role} in a tenant's scope ({kind})"),
                            "the probe proves nothing about this relation until it can read it",
                            None,
                        ));
                    }
                }
                evidence.push(ProbeEvidence {
                    role: role.clone(),
                    state: state.name(),
                    tenant: tenant_label,
                    relation: n.clone(),
                    rows_in_scope,
                    foreign_rows: foreign,
                    error,
                });
            }
            tx.rollback().await.ok();
        }
        conn.close().await.ok();
    }

    // Residue: the setting must not survive the end of a scope on a pooled connection.
    if let Some(first) = tenants.first() {
        let mut tx = db.read_tx().await?;
        crate::sql::query("SELECT set_config($1, $2, true)")
            .bind(&setting)
            .bind(&first.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut tx = db.read_tx().await?;
        let left: Option<String> = crate::sql::query_scalar("SELECT current_setting($1, true)")
            .bind(&setting)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        let left = left.filter(|v| !v.is_empty());
        if left.as_deref().is_some_and(|v| v != first.id) {
            // Not ours: another client's session SET, on a server connection a pooler handed to us.
            out.push(residue_finding(
                &setting,
                left.as_deref().unwrap_or_default(),
            ));
        } else if left.is_some() {
            out.push(finding(
                "PROBE_SETTING_LEAKED",
                Severity::Critical,
                &setting,
                format!("{setting} was still set on the connection after the transaction ended"),
                "a pooled connection would carry one tenant's scope into the next use (a pooler in statement mode, or a session-level SET)",
                None,
            ));
        }
    }
    Ok(ProbeResult {
        tenants: labels,
        evidence,
    })
}

/// The finding for a tenant setting found set on a connection the console did not set it on, with no
/// ALTER ROLE/DATABASE … SET to explain it: another client's session-level SET, handed on by a pooler.
fn residue_finding(setting: &str, value: &str) -> Finding {
    finding(
        "PROBE_POOLED_RESIDUE",
        Severity::Critical,
        setting,
        format!(
            "a connection the console had not set {setting} on already had {setting} = {value:?}: another client's session-level SET stayed on a server connection that a pooler handed on"
        ),
        "behind a pooler in transaction or statement mode, a client that does not set the tenant in each transaction reads as whichever tenant another client last SET",
        Some(format!(
            "-- Set the tenant per transaction in every client: SELECT set_config('{}', <tenant>, true); never SET it at session level behind a pooler. In pgbouncer.ini, server_reset_query_always = 1 (server_reset_query = DISCARD ALL) clears sessions between clients.",
            setting.replace('\'', "''")
        )),
    )
}

/// Asks one relation, inside a savepoint so that an error (which denies, it does not leak) does not end the
/// transaction. The outer error is a lost connection; the inner one the kind of a query's error.
async fn ask(
    tx: &mut PgConnection,
    in_scope_sql: Option<&str>,
    foreign_sql: &str,
    state: &State,
) -> Result<std::result::Result<(Option<i64>, i64), String>> {
    crate::sql::query("SAVEPOINT tc_probe")
        .execute(&mut *tx)
        .await?;
    let result: std::result::Result<(Option<i64>, i64), sqlx::Error> = async {
        let in_scope = match in_scope_sql {
            Some(sql) => Some(scalar(sql, state).fetch_one(&mut *tx).await?),
            None => None,
        };
        let foreign = scalar(foreign_sql, state).fetch_one(&mut *tx).await?;
        Ok((in_scope, foreign))
    }
    .await;
    match result {
        Ok(v) => {
            crate::sql::query("RELEASE SAVEPOINT tc_probe")
                .execute(&mut *tx)
                .await?;
            Ok(Ok(v))
        }
        Err(e) => {
            let kind = Error::from(e);
            if matches!(kind, Error::ConnectionLost(_)) {
                return Err(kind);
            }
            crate::sql::query("ROLLBACK TO SAVEPOINT tc_probe")
                .execute(&mut *tx)
                .await?;
            Ok(Err(kind.kind().to_owned()))
        }
    }
}

/// A counting query, with the tenant bound where the state names one.
fn scalar<'q>(
    sql: &'q str,
    state: &'q State,
) -> QueryScalar<'q, sqlx::Postgres, i64, sqlx::postgres::PgArguments> {
    let q = crate::sql::query_scalar::<i64>(sql);
    match state {
        State::Tenant(t) => q.bind(t.id.as_str()),
        _ => q,
    }
}
