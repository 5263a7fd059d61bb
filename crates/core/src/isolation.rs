//! The isolation check: is row-level security really in force for this login? Catalog findings, then proof.
//!
//! The static half reads the catalog about the connected login (superuser, BYPASSRLS, owned tables, roles it can
//! `SET ROLE` into) and about every tenant table (from the mapping, and any table with a tenant-looking column),
//! its partitions and inheritance children, its policies, and the views, materialized views and SECURITY DEFINER
//! functions that read it. A finding is judged by whether rows can really escape: a view running as an owner who
//! is itself subject to RLS does not leak, so it is not reported as one.
//!
//! The live probe asks, inside the console's ordinary tenant scope, each tenant table for a row of another
//! tenant and, with the setting unset, for any row at all, and checks that the setting is gone from a pooled
//! connection after a scope ends. Its queries are bounded (`EXISTS`, `LIMIT`): with a correct policy the
//! tenant column's index answers them at once, whatever the table's size. This catches policies that look right
//! and are wrong, which no catalog query can prove.
//!
//! Every finding has a stable code (documented in the README), a severity, the object, what is wrong, why it
//! matters, and the SQL that would fix it where there is one.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use sqlx::{Connection, Row};

use crate::db::{Db, LoginInfo};
use crate::error::Result;
use crate::profile::AcceptedFinding;
use crate::scope::Tenant;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Isolation is not in force for this login.
    Critical,
    /// Isolation holds, but something weakens it or will break it.
    Warning,
    /// Checked and found right.
    Info,
}

/// One finding.
#[derive(Clone, Debug, Serialize, PartialEq)]
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
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub login: LoginInfo,
    pub tables_checked: Vec<String>,
    pub probed_tenants: Vec<String>,
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

/// Column names that make a table a tenant table, besides the mapped ones.
const TENANT_COLUMNS: [&str; 4] = ["tenant_id", "tenantId", "organization_id", "organizationId"];

/// A tenant table as the catalog describes it.
#[derive(Clone, Debug)]
struct TenantTable {
    oid: u32,
    name: String,
    relname: String,
    column: String,
    attnum: i16,
    not_null: bool,
    rls: bool,
    forced: bool,
    login_owns: bool,
    can_read: bool,
    owner: String,
    owner_bypasses: bool,
    parent: Option<String>,
}

fn finding(
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
    let mut conn = db.catalog_pool().acquire().await?;
    let login = db.login().clone();
    let setting = db.schema().setting().to_owned();
    let mut out = Vec::new();

    // The login itself.
    if login.superuser {
        out.push(finding(
            "LOGIN_SUPERUSER",
            Severity::Critical,
            &login.user,
            format!("the login {:?} is a superuser", login.user),
            "superusers bypass row-level security entirely: every policy is ignored for them",
            Some(format!(
                "CREATE ROLE console_reader LOGIN NOSUPERUSER NOBYPASSRLS; -- and connect as it instead of {}",
                login.user
            )),
        ));
    }
    if login.bypassrls {
        out.push(finding(
            "LOGIN_BYPASSRLS",
            Severity::Critical,
            &login.user,
            format!("the login {:?} has the BYPASSRLS attribute", login.user),
            "BYPASSRLS makes every policy inapplicable to the login",
            Some(format!(
                "ALTER ROLE \"{}\" NOBYPASSRLS;",
                login.user.replace('"', "\"\"")
            )),
        ));
    }
    let escalations: Vec<(String, bool, bool)> = sqlx::query_as(
        "SELECT r.rolname::text, r.rolsuper, r.rolbypassrls FROM pg_roles r
          WHERE r.rolname <> current_user AND pg_has_role(current_user, r.oid, 'MEMBER')
            AND (r.rolsuper OR r.rolbypassrls) ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (role, sup, _) in escalations {
        out.push(finding(
            "SET_ROLE_BYPASS",
            Severity::Warning,
            &role,
            format!(
                "the login can SET ROLE {role}, which {}",
                if sup {
                    "is a superuser"
                } else {
                    "has BYPASSRLS"
                }
            ),
            "any session of this login can step into a role that RLS does not apply to",
            Some(format!(
                "REVOKE \"{}\" FROM \"{}\";",
                role.replace('"', "\"\""),
                login.user.replace('"', "\"\"")
            )),
        ));
    }

    // The tenant tables.
    let tables = tenant_tables(db, &mut conn).await?;
    let tenants_table = db.schema().tables.tenants.name.to_string();
    for t in &tables {
        check_table(t, &setting, &tenants_table, &mut conn, &mut out).await?;
    }
    check_views_and_functions(&tables, &mut conn, &mut out).await?;

    if db.schema().tables.access_log.is_none() {
        out.push(finding(
            "NO_ACCESS_LOG",
            Severity::Warning,
            "support_access_log",
            "the database has no support-access log table".into(),
            "without it the console cannot record who opened a tenant and why; profiles that require reasons cannot open tenants",
            Some(ACCESS_LOG_SQL.to_owned()),
        ));
    }
    drop(conn);

    let mut probed = Vec::new();
    if opts.probe {
        probed = probe(db, &tables, opts, &mut out).await?;
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
    let enforced = !out
        .iter()
        .any(|f| f.severity == Severity::Critical && f.accepted.is_none());
    Ok(Report {
        login,
        tables_checked: tables.iter().map(|t| t.name.clone()).collect(),
        probed_tenants: probed,
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

async fn tenant_tables(db: &Db, conn: &mut sqlx::PgConnection) -> Result<Vec<TenantTable>> {
    let s = db.schema();
    // Mapped tables with their tenant column, then any table with a tenant-looking column.
    let mut mapped: Vec<(String, String)> = vec![
        (
            s.tables.members.name.to_string(),
            s.mapping.members.tenant_id.clone(),
        ),
        (
            s.tables.audit.name.to_string(),
            s.mapping.audit_logs.tenant_id.clone(),
        ),
    ];
    if let (Some(r), Some(rt)) = (&s.mapping.roles, &s.tables.roles) {
        if let Some(tc) = &r.tenant_id {
            mapped.push((rt.name.to_string(), tc.clone()));
        }
    }
    if let Some(l) = &s.tables.access_log {
        mapped.push((l.name.to_string(), "tenant_id".into()));
    }
    let mut names: BTreeSet<String> = TENANT_COLUMNS.iter().map(|s| s.to_string()).collect();
    names.extend(mapped.iter().map(|(_, c)| c.clone()));
    let names: Vec<String> = names.into_iter().collect();
    let tables: Vec<String> = mapped.iter().map(|(t, _)| t.clone()).collect();
    let columns: Vec<String> = mapped.iter().map(|(_, c)| c.clone()).collect();
    let rows = sqlx::query(
        "WITH RECURSIVE roots AS (
             SELECT c.oid, a.attname::text AS col
               FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                AND n.nspname NOT LIKE 'pg_toast%'
                AND (a.attname = ANY ($1::text[])
                     OR (c.oid, a.attname::text) IN (SELECT to_regclass(t), col FROM unnest($2::text[], $3::text[]) AS m(t, col)))
         ), tree AS (
             SELECT r.oid, r.col, NULL::oid AS parent FROM roots r
             UNION
             SELECT i.inhrelid, tree.col, tree.oid FROM pg_inherits i JOIN tree ON i.inhparent = tree.oid
         )
         SELECT DISTINCT ON (c.oid) c.oid::int4 AS oid, c.oid::regclass::text AS name, c.relname::text, tree.col,
                a.attnum, a.attnotnull, c.relrowsecurity, c.relforcerowsecurity,
                pg_has_role(current_user, c.relowner, 'USAGE') AS login_owns,
                has_table_privilege(c.oid, 'SELECT') AS can_read,
                o.rolname::text AS owner, (o.rolsuper OR o.rolbypassrls) AS owner_bypasses,
                tree.parent::regclass::text AS parent
           FROM tree JOIN pg_class c ON c.oid = tree.oid JOIN pg_roles o ON o.oid = c.relowner
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = tree.col
          ORDER BY c.oid, tree.parent NULLS LAST",
    )
    .bind(&names)
    .bind(&tables)
    .bind(&columns)
    .fetch_all(&mut *conn)
    .await?;
    let mut out: Vec<TenantTable> = rows
        .iter()
        .map(|r| {
            Ok(TenantTable {
                oid: r.try_get::<i32, _>("oid")? as u32,
                name: r.try_get("name")?,
                relname: r.try_get("relname")?,
                column: r.try_get("col")?,
                attnum: r.try_get("attnum")?,
                not_null: r.try_get("attnotnull")?,
                rls: r.try_get("relrowsecurity")?,
                forced: r.try_get("relforcerowsecurity")?,
                login_owns: r.try_get("login_owns")?,
                can_read: r.try_get("can_read")?,
                owner: r.try_get("owner")?,
                owner_bypasses: r.try_get("owner_bypasses")?,
                parent: r.try_get("parent")?,
            })
        })
        .collect::<Result<_>>()?;
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

async fn check_table(
    t: &TenantTable,
    setting: &str,
    tenants_table: &str,
    conn: &mut sqlx::PgConnection,
    out: &mut Vec<Finding>,
) -> Result<()> {
    // A regclass rendering, quoted where needed: usable as is in the fix SQL.
    let name = &t.name;
    let before = out.len();
    let is_partition = t.parent.is_some();
    // A partition is read through its parent (whose policies apply) unless the login can read it directly.
    let reachable = !is_partition || t.can_read;
    if !t.rls && reachable {
        out.push(finding(
            if is_partition {
                "PARTITION_RLS_DISABLED"
            } else {
                "RLS_DISABLED"
            },
            Severity::Critical,
            &t.name,
            format!(
                "row-level security is disabled on {}{}",
                t.name,
                t.parent
                    .as_ref()
                    .map(|p| format!(
                        " (a partition or child of {p}) and the login can read it directly"
                    ))
                    .unwrap_or_default()
            ),
            "without RLS every row of every tenant is visible to anyone who can read the table",
            Some(format!(
                "ALTER TABLE {name} ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;"
            )),
        ));
    }
    if t.rls && !t.forced {
        if t.login_owns {
            out.push(finding(
                "OWNER_NOT_FORCED",
                Severity::Critical,
                &t.name,
                format!("the login owns {} and its RLS is not FORCED", t.name),
                "a table's owner is exempt from its policies unless RLS is forced",
                Some(format!("ALTER TABLE {name} FORCE ROW LEVEL SECURITY;")),
            ));
        } else {
            out.push(finding(
                "RLS_NOT_FORCED",
                Severity::Warning,
                &t.name,
                format!("row-level security on {} is enabled but not forced", t.name),
                "its owner (and any login that becomes the owner) reads every tenant's rows",
                Some(format!("ALTER TABLE {name} FORCE ROW LEVEL SECURITY;")),
            ));
        }
    } else if t.login_owns && !t.owner_bypasses {
        out.push(finding(
            "LOGIN_OWNS_TABLE",
            Severity::Warning,
            &t.name,
            format!(
                "the login owns {} (RLS is forced, so it applies today)",
                t.name
            ),
            "an owner can turn RLS off or drop the policy at any time",
            Some(format!(
                "ALTER TABLE {name} OWNER TO <an application owner role>;"
            )),
        ));
    }

    // Policies.
    let policies = sqlx::query(
        "SELECT polname::text, polpermissive, polcmd::text, coalesce(pg_get_expr(polqual, polrelid), '') AS qual
           FROM pg_policy WHERE polrelid = $1::oid",
    )
    .bind(t.oid as i64)
    .fetch_all(&mut *conn)
    .await?;
    let needle = format!("current_setting('{setting}'");
    let mut reads_setting = false;
    for p in &policies {
        let polname: String = p.try_get(0)?;
        let permissive: bool = p.try_get(1)?;
        let cmd: String = p.try_get(2)?;
        let qual: String = p.try_get(3)?;
        let object = format!("{} policy {polname}", t.name);
        let applies_to_select = cmd == "r" || cmd == "*";
        if qual.contains(&needle) {
            reads_setting = true;
            // current_setting('x') without missing_ok raises when the setting is unset.
            let strict = format!("current_setting('{setting}'::text)");
            if qual.contains(&strict) {
                out.push(finding(
                    "POLICY_SETTING_NOT_MISSING_OK",
                    Severity::Warning,
                    &object,
                    "the policy calls current_setting without missing_ok".into(),
                    "an unset setting raises an error instead of denying; tools and jobs that forget it fail loudly (fine) but inconsistently",
                    Some(format!("-- in the policy: NULLIF(current_setting('{setting}', true), '')")),
                ));
            }
            let casts = qual.contains(")::uuid")
                || qual.contains(")::integer")
                || qual.contains(")::bigint");
            if casts && !qual.contains("NULLIF(current_setting") {
                out.push(finding(
                    "POLICY_CAST_WITHOUT_NULLIF",
                    Severity::Warning,
                    &object,
                    "the policy casts the setting to uuid/integer without NULLIF(..., '')".into(),
                    "after a transaction-local set_config the setting is '' (not NULL) on that connection, and the cast raises",
                    Some(format!("-- in the policy: NULLIF(current_setting('{setting}', true), '')::<type>")),
                ));
            }
        } else if permissive && applies_to_select && t.rls {
            out.push(finding(
                "PERMISSIVE_POLICY_OPEN",
                Severity::Critical,
                &object,
                format!("the permissive policy {polname} on {} does not read {setting}: USING ({qual})", t.name),
                "permissive policies are ORed: this one opens rows to every tenant whatever the tenant policy says",
                Some(format!("DROP POLICY \"{}\" ON {name}; -- or make it RESTRICTIVE / add the tenant predicate", polname.replace('"', "\"\""))),
            ));
        }
    }
    if t.rls && reachable {
        if policies.is_empty() {
            out.push(finding(
                "RLS_NO_POLICY",
                Severity::Warning,
                &t.name,
                format!("RLS is enabled on {} but it has no policy", t.name),
                "with no policy RLS denies everything: the table looks empty to every tenant",
                Some(format!(
                    "CREATE POLICY tenant_isolation ON {name} USING ({col} = NULLIF(current_setting('{setting}', true), '')::<type>);",
                    col = t.column
                )),
            ));
        } else if !reads_setting {
            out.push(finding(
                "NO_TENANT_POLICY",
                Severity::Critical,
                &t.name,
                format!("no policy of {} reads the setting {setting}", t.name),
                "the console sets that setting to scope reads; policies reading something else do not isolate its reads",
                Some(format!(
                    "CREATE POLICY tenant_isolation ON {name} USING (\"{col}\" = NULLIF(current_setting('{setting}', true), '')::<type>);",
                    col = t.column
                )),
            ));
        }
    }

    // Structure: not null, foreign key, index, unique constraints (on the tables themselves, not partitions).
    if !is_partition {
        if !t.not_null {
            out.push(finding(
                "TENANT_COLUMN_NULLABLE",
                Severity::Warning,
                &t.name,
                format!("the tenant column {} of {} may be NULL", t.column, t.name),
                "a row without a tenant belongs to no one and slips past tenant predicates and exports",
                Some(format!("ALTER TABLE {name} ALTER COLUMN \"{}\" SET NOT NULL;", t.column)),
            ));
        }
        let (has_fk, has_index, bad_unique): (bool, bool, Vec<String>) = {
            let r = sqlx::query(
                "SELECT
                   EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = $1::oid AND c.contype = 'f'
                            AND $2::int2 = ANY (c.conkey) AND c.confrelid = to_regclass($3)),
                   EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = $1::oid AND i.indkey[0] = $2::int2),
                   ARRAY(SELECT ic.relname::text FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                          WHERE i.indrelid = $1::oid AND i.indisunique AND NOT i.indisprimary
                            AND NOT ($2::int2 = ANY (i.indkey::int2[])))",
            )
            .bind(t.oid as i64)
            .bind(t.attnum)
            .bind(tenants_table)
            .fetch_one(&mut *conn)
            .await?;
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)
        };
        if !has_fk {
            out.push(finding(
                "TENANT_COLUMN_NO_FK",
                Severity::Warning,
                &t.name,
                format!("the tenant column {} of {} has no foreign key to {tenants_table}", t.column, t.name),
                "rows can name tenants that do not exist, and survive their tenant's deletion",
                Some(format!(
                    "ALTER TABLE {name} ADD FOREIGN KEY (\"{}\") REFERENCES {tenants_table} ON DELETE CASCADE;",
                    t.column
                )),
            ));
        }
        if !has_index {
            out.push(finding(
                "NO_TENANT_INDEX",
                Severity::Warning,
                &t.name,
                format!("no index of {} leads with the tenant column {}", t.name, t.column),
                "every tenant read scans the whole table: slow, and it makes the probe and the policies costly",
                Some(format!("CREATE INDEX ON {name} (\"{}\");", t.column)),
            ));
        }
        for idx in bad_unique {
            out.push(finding(
                "UNIQUE_WITHOUT_TENANT",
                Severity::Warning,
                &format!("{} index {idx}", t.name),
                format!(
                    "the unique index {idx} of {} leaves out the tenant column",
                    t.name
                ),
                "a duplicate-key error reveals that another tenant holds that value",
                Some(format!(
                    "-- recreate {idx} with \"{}\" as its first column",
                    t.column
                )),
            ));
        }
    }
    if out.len() == before {
        out.push(finding(
            "TABLE_ISOLATED",
            Severity::Info,
            &t.name,
            format!(
                "RLS enabled and forced on {}, a policy reads {setting}, tenant column {} is NOT NULL with a foreign key and an index",
                t.name, t.column
            ),
            "checked and found right",
            None,
        ));
    }
    Ok(())
}

async fn check_views_and_functions(
    tables: &[TenantTable],
    conn: &mut sqlx::PgConnection,
    out: &mut Vec<Finding>,
) -> Result<()> {
    let by_oid: HashMap<u32, &TenantTable> = tables.iter().map(|t| (t.oid, t)).collect();
    let oids: Vec<i64> = tables.iter().map(|t| t.oid as i64).collect();
    let views = sqlx::query(
        "SELECT DISTINCT v.oid::regclass::text, v.relkind::text, d.refobjid::int4,
                coalesce(array_to_string(v.reloptions, ',') ~* 'security_invoker=(true|on|1|yes)', false),
                o.rolname::text, (o.rolsuper OR o.rolbypassrls),
                pg_has_role(v.relowner, t.relowner, 'USAGE')
           FROM pg_rewrite r JOIN pg_class v ON v.oid = r.ev_class
           JOIN pg_depend d ON d.objid = r.oid AND d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
           JOIN pg_class t ON t.oid = d.refobjid
           JOIN pg_roles o ON o.oid = v.relowner
          WHERE v.relkind IN ('v', 'm') AND d.refobjid = ANY ($1::oid[]) AND v.oid <> d.refobjid
            AND has_table_privilege(v.oid, 'SELECT')",
    )
    .bind(&oids)
    .fetch_all(&mut *conn)
    .await?;
    for v in views {
        let view: String = v.try_get(0)?;
        let kind: String = v.try_get(1)?;
        let table_oid = v.try_get::<i32, _>(2)? as u32;
        let invoker: bool = v.try_get(3)?;
        let owner: String = v.try_get(4)?;
        let owner_bypasses: bool = v.try_get(5)?;
        let owner_owns_table: bool = v.try_get(6)?;
        let Some(t) = by_oid.get(&table_oid) else {
            continue;
        };
        if kind == "m" {
            out.push(finding(
                "MATVIEW_TENANT_DATA",
                Severity::Critical,
                &view,
                format!("the materialized view {view} is built from the tenant table {} and the login can read it", t.name),
                "a materialized view is a copy: row-level security never applies to it",
                Some(format!("REVOKE SELECT ON {view} FROM <console login>; -- or drop it")),
            ));
            continue;
        }
        let owner_escapes = owner_bypasses || !t.rls || (owner_owns_table && !t.forced);
        if !invoker && owner_escapes {
            out.push(finding(
                "DEFINER_VIEW_BYPASS",
                Severity::Critical,
                &view,
                format!(
                    "the view {view} reads {} with the rights of its owner {owner}, to whom RLS does not apply there",
                    t.name
                ),
                "a view runs as its owner unless security_invoker is set: the login reads every tenant's rows through it",
                Some(format!("ALTER VIEW {view} SET (security_invoker = true);")),
            ));
        }
    }
    let funcs = sqlx::query(
        "SELECT p.oid::regprocedure::text, o.rolname::text, (o.rolsuper OR o.rolbypassrls), p.prosrc, p.proowner::int4
           FROM pg_proc p JOIN pg_roles o ON o.oid = p.proowner JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            AND has_function_privilege(p.oid, 'EXECUTE')",
    )
    .fetch_all(&mut *conn)
    .await?;
    for f in funcs {
        let name: String = f.try_get(0)?;
        let owner: String = f.try_get(1)?;
        let owner_bypasses: bool = f.try_get(2)?;
        let src: String = f.try_get(3)?;
        for t in tables {
            let mentions = src.contains(&t.relname) || src.contains(&t.name);
            let owner_escapes = owner_bypasses || !t.rls || (t.owner == owner && !t.forced);
            if mentions && owner_escapes {
                out.push(finding(
                    "DEFINER_FUNCTION_BYPASS",
                    Severity::Warning,
                    &name,
                    format!(
                        "the SECURITY DEFINER function {name} reads {} as {owner}, to whom RLS does not apply there, and the login may execute it",
                        t.name
                    ),
                    "whatever the function returns comes from every tenant's rows unless it filters itself",
                    Some(format!("REVOKE EXECUTE ON FUNCTION {name} FROM PUBLIC, <console login>; -- or make it SECURITY INVOKER")),
                ));
            }
        }
    }
    Ok(())
}

/// The live probe: foreign rows in a tenant's scope, any rows with the setting unset, a leaked setting.
async fn probe(
    db: &Db,
    tables: &[TenantTable],
    opts: &CheckOptions,
    out: &mut Vec<Finding>,
) -> Result<Vec<String>> {
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
    let readable: Vec<&TenantTable> = tables.iter().filter(|t| t.can_read).collect();
    let cast = s.tenant_id_type.cast();
    let bypassing = !db.login().bypass_reasons().is_empty();
    for tenant in &tenants {
        let mut scope = match db.scope(tenant).await {
            Ok(scope) => scope,
            // A bypassing login without --allow-bypass is already a critical login finding.
            Err(crate::Error::IsolationNotEnforced(_)) if bypassing => break,
            Err(e) => return Err(e),
        };
        for t in &readable {
            // With a correct policy, `col = setting AND col < $1` is an empty index range: instant on any size.
            let sql = format!(
                "SELECT (SELECT count(*) FROM (SELECT 1 FROM {n} WHERE \"{c}\" < CAST($1 AS {ty}) LIMIT 101) a)
                      + (SELECT count(*) FROM (SELECT 1 FROM {n} WHERE \"{c}\" > CAST($1 AS {ty}) LIMIT 101) b)
                      + (SELECT count(*) FROM (SELECT 1 FROM {n} WHERE \"{c}\" IS NULL LIMIT 101) z)",
                n = t.name,
                c = t.column.replace('"', "\"\""),
                ty = cast,
            );
            let foreign: i64 = sqlx::query_scalar(&sql)
                .bind(&tenant.id)
                .fetch_one(scope.raw())
                .await?;
            if foreign > 0 {
                out.push(finding(
                    "PROBE_FOREIGN_ROWS",
                    Severity::Critical,
                    &t.name,
                    format!(
                        "reading as tenant {}, {} returned {}{} rows of other tenants",
                        tenant.label(),
                        t.name,
                        foreign.min(300),
                        if foreign >= 101 { "+" } else { "" }
                    ),
                    "the policies let another tenant's rows through the console's own tenant scope",
                    Some(format!("-- inspect the policies: SELECT * FROM pg_policies WHERE tablename = '{}';", t.relname)),
                ));
            }
        }
        scope.finish().await?;
    }
    if !tenants.is_empty() && !bypassing {
        // Setting unset: a read-only transaction without set_config must see nothing.
        let mut conn = db.catalog_pool().acquire().await?;
        let mut tx = conn.begin().await?;
        sqlx::query("SET TRANSACTION READ ONLY")
            .execute(&mut *tx)
            .await?;
        for t in &readable {
            let sql = format!(
                "SELECT count(*) FROM (SELECT 1 FROM {} LIMIT 101) x",
                t.name
            );
            let visible: i64 = match sqlx::query_scalar(&sql).fetch_one(&mut *tx).await {
                Ok(n) => n,
                Err(e) => {
                    // An error with the setting unset denies (loudly): not a leak. Reset the transaction.
                    tracing::info!(table = %t.name, error = %e, "probe with unset setting raised");
                    tx.rollback().await.ok();
                    tx = conn.begin().await?;
                    sqlx::query("SET TRANSACTION READ ONLY")
                        .execute(&mut *tx)
                        .await?;
                    0
                }
            };
            if visible > 0 {
                out.push(finding(
                    "PROBE_UNSET_SETTING_ROWS",
                    Severity::Critical,
                    &t.name,
                    format!("with {setting} unset, {} returned {visible}{} rows", t.name, if visible >= 101 { "+" } else { "" }),
                    "any code path that forgets to set the tenant sees data: the policy does not deny by default",
                    Some(format!("-- the policy must compare with NULLIF(current_setting('{setting}', true), '')")),
                ));
            }
        }
        tx.rollback().await.ok();
        // The setting must not survive the end of a scope on a pooled connection.
        let mut tx = conn.begin().await?;
        sqlx::query("SELECT set_config($1, $2, true)")
            .bind(&setting)
            .bind(&tenants[0].id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let left: Option<String> = sqlx::query_scalar("SELECT current_setting($1, true)")
            .bind(&setting)
            .fetch_one(&mut *conn)
            .await?;
        if left.as_deref().is_some_and(|v| !v.is_empty()) {
            out.push(finding(
                "PROBE_SETTING_LEAKED",
                Severity::Critical,
                &setting,
                format!("{setting} was still set on the connection after the transaction ended"),
                "a pooled connection would carry one tenant's scope into the next use (a pooler in statement mode?)",
                None,
            ));
        }
    }
    Ok(tenants.iter().map(|t| t.label().to_owned()).collect())
}
