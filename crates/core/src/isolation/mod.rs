//! The isolation check: is row-level security really in force for this login? Judged by what PostgreSQL lets
//! the login do, then proven with rows.
//!
//! The static half computes the login's reach, never guessing from names: every role it can become
//! ([`reach`]: inherited, or by `SET ROLE`, NOINHERIT included), every relation any of those roles can read by table
//! *or* column privilege ([`relations`]: tables, partitions, inheritance children, views, materialized views,
//! foreign tables), views followed through `pg_depend` to their base tables at any depth and judged by the role
//! whose rights they run with, the policies that really apply to those roles ([`policies`]), the SECURITY DEFINER
//! functions those roles may execute judged by their owner's power ([`functions`]), and the support-access log's
//! integrity ([`structure`]). The live [`probe`] then asks each tenant table, on dedicated new connections (never
//! pooled ones), for rows it must not return with the setting unset, empty, set to a tenant that does not exist
//! and set to each sampled tenant, as the login and as each role it can `SET ROLE` to, and reports what it saw.
//!
//! Every finding has a stable code (documented in the README), a severity, the object, what is wrong, why it
//! matters, and the SQL that would fix it where there is one. This module never writes.

mod consent;
mod functions;
mod global;
mod policies;
mod probe;
mod reach;
mod relations;
mod structure;

use serde::Serialize;

use crate::db::{Db, LoginInfo};
use crate::error::Result;
use crate::profile::AcceptedFinding;

pub use probe::ProbeEvidence;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Isolation is not in force for this login: rows of other tenants can be read (or its traces erased).
    Critical,
    /// Isolation holds, but something weakens it or will break it.
    Warning,
    /// Checked and found right.
    Info,
}

/// One finding.
#[derive(Clone, Debug, Serialize, PartialEq, ts_rs::TS)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    /// The table, view, function, policy or role concerned.
    pub object: String,
    /// What is wrong (or, for info, what was checked).
    pub problem: String,
    /// Why it matters.
    pub why: String,
    /// SQL that would fix it.
    pub fix_sql: Option<String>,
    /// Set when the finding was accepted (in the profile or with `--accept`): the reason.
    pub accepted: Option<String>,
}

/// What to check.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// Run the live probe too.
    pub probe: bool,
    /// Probe this tenant (id or slug) only; otherwise a sample.
    pub tenant: Option<String>,
    /// How many tenants the probe samples (default 3).
    pub sample: usize,
    /// Findings accepted with a reason: still shown, but no longer failing the check.
    pub accepted: Vec<AcceptedFinding>,
}

/// The result of a check.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct Report {
    pub login: LoginInfo,
    /// Every role the login can become besides itself, with how (`inherited` or `set role`).
    pub reach: Vec<String>,
    pub tables_checked: Vec<String>,
    pub probed_tenants: Vec<String>,
    /// What the probe asked and saw: one entry per role, state and relation.
    pub evidence: Vec<ProbeEvidence>,
    pub findings: Vec<Finding>,
    /// True when no unaccepted critical finding exists.
    pub isolation_enforced: bool,
}

impl Report {
    /// Unaccepted critical findings.
    pub fn failing(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Critical && f.accepted.is_none())
    }
}

pub(crate) fn finding(
    code: &'static str,
    severity: Severity,
    object: &str,
    problem: String,
    why: &str,
    fix_sql: Option<String>,
) -> Finding {
    Finding {
        code,
        severity,
        object: object.to_owned(),
        problem,
        why: why.to_owned(),
        fix_sql,
        accepted: None,
    }
}

/// Runs the check for the login of `db`.
#[tracing::instrument(skip_all)]
pub async fn check(db: &Db, opts: &CheckOptions) -> Result<Report> {
    // One snapshot of the catalog for the whole verdict, in a transaction (safe behind a pooler).
    let mut conn = db.snapshot_tx().await?;
    let login = db.login().clone();
    let setting = db.schema().setting().to_owned();
    let mut out = Vec::new();

    let roles = reach::load(&mut conn, &login).await?;
    reach::findings(&roles, &login, &mut out);
    let catalog = relations::load(db, &mut conn, &roles).await?;
    let tables: Vec<(i64, String)> = catalog
        .tables
        .iter()
        .map(|t| (t.oid, t.column.clone()))
        .collect();
    let policies = policies::load(&mut conn, &tables, &roles, &setting).await?;
    let judge = relations::Judge {
        roles: &roles,
        catalog: &catalog,
        policies: &policies,
    };
    judge.table_findings(&setting, &mut out);
    judge.relation_findings(&mut out);
    functions::findings(&mut conn, &judge, &mut out).await?;
    structure::findings(db, &mut conn, &judge, &mut out).await?;
    global::findings(db, &mut conn, &judge, &mut out).await?;
    consent::findings(db, &mut conn, &judge, &mut out).await?;
    conn.commit().await?;

    let mut probed = Vec::new();
    let mut evidence = Vec::new();
    if opts.probe {
        // Tenants that require consent are always read too: the database's refusal is proven with their rows.
        let consent_tenants = consent::sample(db).await?;
        let result = probe::run(db, &judge, opts, &consent_tenants, &mut out).await?;
        consent::probe_findings(db, &consent_tenants, &result.evidence, &mut out).await?;
        probed = result.tenants;
        evidence = result.evidence;
    }

    // Accepted findings: still shown, no longer failing. Login findings cannot be accepted this way.
    for f in &mut out {
        if f.code.starts_with("LOGIN_") {
            continue;
        }
        if let Some(a) = opts
            .accepted
            .iter()
            .find(|a| a.code == f.code && a.object == f.object)
        {
            f.accepted = Some(a.reason.clone());
        }
    }
    out.sort_by(|a, b| (a.severity, a.code, &a.object).cmp(&(b.severity, b.code, &b.object)));
    out.dedup_by(|a, b| a.code == b.code && a.object == b.object && a.problem == b.problem);
    let enforced = !out
        .iter()
        .any(|f| f.severity == Severity::Critical && f.accepted.is_none());
    Ok(Report {
        login,
        reach: roles.described(),
        tables_checked: catalog.tables.iter().map(|t| t.name.clone()).collect(),
        probed_tenants: probed,
        evidence,
        findings: out,
        isolation_enforced: enforced,
    })
}

/// The SQL that adds the reference schema's support-access log to a database that lacks one.
pub const ACCESS_LOG_SQL: &str = "CREATE TABLE support_access_log (
    id bigint GENERATED ALWAYS AS IDENTITY, tenant_id <tenant id type> NOT NULL REFERENCES <tenants> ON DELETE CASCADE,
    db_user text NOT NULL DEFAULT current_user, os_user text NOT NULL, client_host text NOT NULL,
    category text NOT NULL, detail text NOT NULL DEFAULT '', action text NOT NULL,
    details jsonb NOT NULL DEFAULT '{}', created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (tenant_id, id));
ALTER TABLE support_access_log ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON support_access_log
    USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::<tenant id type>)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::<tenant id type>);
GRANT SELECT, INSERT ON support_access_log TO <console login>;";
