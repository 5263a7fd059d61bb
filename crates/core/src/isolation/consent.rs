//! The verdict on consent and on personal columns.
//!
//! Static (the catalog, as the login's roles really are): a role the login can become that may write approvals
//! (INSERT or UPDATE on any column, ownership included) or change a tenant's consent column answers for the
//! tenant: critical. The personal columns the login can read are listed (information).
//!
//! Proven with rows (the probe): for each sampled tenant that requires consent, with no live approval for the
//! login, every tenant table the probe read must have returned none of the tenant's own rows; a table that did
//! is `CONSENT_NOT_ENFORCED`, critical, naming the table and the role. The consent machinery itself (requests,
//! approvals) and the support-access log are the vendor's channel with the tenant and are not under consent.

use super::global::PERSONAL;
use super::probe::ProbeEvidence;
use super::relations::Judge;
use super::{finding, Finding, Severity};
use crate::db::Db;
use crate::error::Result;
use crate::scope::Tenant;
use crate::sql::quote;
use sqlx::PgConnection;

/// Most tenants that require consent the probe adds to its sample.
pub(crate) const CONSENT_SAMPLE: i64 = 2;

pub(crate) async fn findings(
    db: &Db,
    conn: &mut PgConnection,
    judge: &Judge<'_>,
    out: &mut Vec<Finding>,
) -> Result<()> {
    let s = db.schema();
    if let Some(c) = &s.consent {
        let approvals = c.approvals.name.to_string();
        let tenants = s.tables.tenants.name.to_string();
        for role in judge.roles.becomeable() {
            let (write_approvals, flip_consent): (bool, bool) = crate::sql::query_as(
                "SELECT has_any_column_privilege($1::oid, to_regclass($2), 'INSERT')
                     OR has_any_column_privilege($1::oid, to_regclass($2), 'UPDATE'),
                        has_column_privilege($1::oid, to_regclass($3), $4, 'UPDATE')",
            )
            .bind(role.oid)
            .bind(&approvals)
            .bind(&tenants)
            .bind(&c.column)
            .fetch_one(&mut *conn)
            .await?;
            let who = if role.is_login {
                "the login".to_owned()
            } else {
                format!("role {} (which the login can become)", role.name)
            };
            if write_approvals {
                out.push(finding(
                    "CONSENT_APPROVALS_WRITABLE",
                    Severity::Critical,
                    &approvals,
                    format!("{who} may insert or update approvals in {approvals}"),
                    "the support login could approve its own access (or lift a revocation): consent would be the vendor's word, not the tenant's",
                    Some(format!(
                        "REVOKE INSERT, UPDATE ON {approvals} FROM {};",
                        quote(&role.name)
                    )),
                ));
            }
            if flip_consent {
                out.push(finding(
                    "CONSENT_COLUMN_WRITABLE",
                    Severity::Critical,
                    &tenants,
                    format!("{who} may update {tenants}.{}", c.column),
                    "the support login could turn a tenant's consent requirement off",
                    Some(format!(
                        "REVOKE UPDATE ON {tenants} FROM {};",
                        quote(&role.name)
                    )),
                ));
            }
        }
    }
    personal_columns(db, conn, judge, out).await
}

/// Lists the personal columns the login itself may read, in the tenant tables and in the mapped users table.
async fn personal_columns(
    db: &Db,
    conn: &mut PgConnection,
    judge: &Judge<'_>,
    out: &mut Vec<Finding>,
) -> Result<()> {
    let mut oids: Vec<i64> = judge.catalog.tables.iter().map(|t| t.oid).collect();
    let users = db
        .schema()
        .tables
        .users
        .as_ref()
        .map(|u| u.name.to_string());
    let rows: Vec<String> = crate::sql::query_scalar(&format!(
        "SELECT format('%s.%I', a.attrelid::regclass, a.attname)
           FROM pg_attribute a
          WHERE (a.attrelid = ANY ($1::int8[]::oid[]) OR a.attrelid = to_regclass($2))
            AND a.attnum > 0 AND NOT a.attisdropped AND a.attname ~* '{PERSONAL}'
            AND has_column_privilege(a.attrelid, a.attnum, 'SELECT')
          ORDER BY 1"
    ))
    .bind(std::mem::take(&mut oids))
    .bind(users.unwrap_or_default())
    .fetch_all(&mut *conn)
    .await?;
    if !rows.is_empty() {
        out.push(finding(
            "PERSONAL_COLUMNS_READABLE",
            Severity::Info,
            "personal data",
            format!(
                "the login may read these personal columns (in a tenant's scope, under its policies): {}",
                rows.join(", ")
            ),
            "support staff often need none of them: a column grant that leaves them out makes the console show them as masked",
            None,
        ));
    }
    Ok(())
}

/// The tenants that require consent, for the probe's sample (at most [`CONSENT_SAMPLE`]).
pub(crate) async fn sample(db: &Db) -> Result<Vec<Tenant>> {
    let s = db.schema();
    let Some(c) = &s.consent else {
        return Ok(Vec::new());
    };
    let t = &s.mapping.tenants;
    let mut tx = db.read_tx().await?;
    let ids: Vec<String> = crate::sql::query_scalar(&format!(
        "SELECT {}::text FROM {} WHERE {}::text = 'required' ORDER BY 1 LIMIT {CONSENT_SAMPLE}",
        crate::sql::col(&t.id),
        s.tables.tenants.name,
        crate::sql::col(&c.column)
    ))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut out = Vec::new();
    for id in ids {
        out.push(crate::tenants::resolve(db, &id).await?);
    }
    Ok(out)
}

/// Judges the probe's evidence for the tenants that require consent.
pub(crate) async fn probe_findings(
    db: &Db,
    consent_tenants: &[Tenant],
    evidence: &[ProbeEvidence],
    out: &mut Vec<Finding>,
) -> Result<()> {
    let s = db.schema();
    let Some(c) = &s.consent else {
        return Ok(());
    };
    let exempt: Vec<String> = [
        Some(c.requests.name.to_string()),
        Some(c.approvals.name.to_string()),
        s.tables.access_log.as_ref().map(|l| l.name.to_string()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut proven = Vec::new();
    for tenant in consent_tenants {
        let live = crate::access::consent::live_approval_now(
            db,
            tenant,
            crate::access::ConsentScope::Read,
        )
        .await?;
        if let Some(a) = live {
            out.push(finding(
                "CONSENT_APPROVED_NOW",
                Severity::Info,
                tenant.label(),
                format!(
                    "tenant {} requires consent and an approval for this login is live until {} (approval {}): the probe cannot show it refused",
                    tenant.label(),
                    a.expires_at.format("%Y-%m-%d %H:%M UTC"),
                    a.id
                ),
                "run the probe again when no approval is live to prove the refusal",
                None,
            ));
            continue;
        }
        let mine = evidence.iter().filter(|e| {
            e.state == "tenant"
                && e.tenant.as_deref() == Some(tenant.label())
                && !exempt.contains(&e.relation)
        });
        let mut read = 0;
        for e in mine {
            read += 1;
            if e.rows_in_scope.unwrap_or(0) > 0 {
                out.push(finding(
                    "CONSENT_NOT_ENFORCED",
                    Severity::Critical,
                    &e.relation,
                    format!(
                        "tenant {} requires its approval and none is live, yet {} returned {} of its rows to {}",
                        tenant.label(),
                        e.relation,
                        e.rows_in_scope.unwrap_or(0),
                        if e.role == db.login().user { "the login".to_owned() } else { format!("role {}", e.role) }
                    ),
                    "the database lets the support login read a tenant that has not approved it: only the console's own refusal stands in the way, and any other client goes around it",
                    Some(format!(
                        "CREATE POLICY support_consent ON {} AS RESTRICTIVE FOR SELECT TO <support login> USING (<tenant column> NOT IN (SELECT id FROM <tenants> WHERE {} = 'required' AND NOT EXISTS (SELECT 1 FROM {} a WHERE a.tenant_id = id AND a.grantee = session_user AND a.revoked_at IS NULL AND a.expires_at > now())));",
                        e.relation,
                        quote(&c.column),
                        c.approvals.name
                    )),
                ));
            }
        }
        if read > 0 {
            proven.push(tenant.label().to_owned());
        }
    }
    if !proven.is_empty() && !out.iter().any(|f| f.code == "CONSENT_NOT_ENFORCED") {
        out.push(finding(
            "CONSENT_ENFORCED",
            Severity::Info,
            "consent",
            format!(
                "tenants that require consent ({}) returned none of their rows to the login without a live approval, on every tenant table the probe read",
                proven.join(", ")
            ),
            "the database itself refuses the support login until the tenant approves",
            None,
        ));
    }
    Ok(())
}
