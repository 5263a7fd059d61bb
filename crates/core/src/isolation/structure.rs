//! The shape of the tenant tables (tenant column NOT NULL, foreign key, index, tenant-scoped unique
//! constraints) and the integrity of the support-access log: no rule or trigger that could swallow or rewrite a
//! record, and no role the login can become that could erase one.

use sqlx::{PgConnection, Row};

use super::relations::Judge;
use super::{finding, Finding, Severity, ACCESS_LOG_SQL};
use crate::db::Db;
use crate::error::Result;
use crate::sql::quote;

pub(crate) async fn findings(
    db: &Db,
    conn: &mut PgConnection,
    judge: &Judge<'_>,
    out: &mut Vec<Finding>,
) -> Result<()> {
    let tenants_table = db.schema().tables.tenants.name.to_string();
    for t in judge.catalog.tables.iter().filter(|t| t.parent.is_none()) {
        let name = &t.name;
        let col = quote(&t.column);
        let mut warned = false;
        if !t.not_null {
            warned = true;
            out.push(finding(
                "TENANT_COLUMN_NULLABLE",
                Severity::Warning,
                name,
                format!("the tenant column {} of {name} may be NULL", t.column),
                "a row without a tenant belongs to no one and slips past tenant predicates and exports",
                Some(format!("ALTER TABLE {name} ALTER COLUMN {col} SET NOT NULL;")),
            ));
        }
        let r = crate::sql::query(
            "SELECT
               EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conrelid = $1::oid AND c.contype = 'f'
                        AND $2::int2 = ANY (c.conkey) AND c.confrelid = to_regclass($3)) AS has_fk,
               EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = $1::oid AND i.indkey[0] = $2::int2) AS has_index,
               ARRAY(SELECT ic.relname::text FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                      WHERE i.indrelid = $1::oid AND i.indisunique AND NOT i.indisprimary
                        AND NOT ($2::int2 = ANY (i.indkey::int2[]))) AS bad_unique",
        )
        .bind(t.oid)
        .bind(t.attnum)
        .bind(&tenants_table)
        .fetch_one(&mut *conn)
        .await?;
        let has_fk: bool = r.try_get("has_fk")?;
        let has_index: bool = r.try_get("has_index")?;
        let bad_unique: Vec<String> = r.try_get("bad_unique")?;
        if !has_fk && !t.foreign {
            warned = true;
            out.push(finding(
                "TENANT_COLUMN_NO_FK",
                Severity::Warning,
                name,
                format!("the tenant column {} of {name} has no foreign key to {tenants_table}", t.column),
                "rows can name tenants that do not exist, and survive their tenant's deletion",
                Some(format!(
                    "ALTER TABLE {name} ADD FOREIGN KEY ({col}) REFERENCES {tenants_table} ON DELETE CASCADE;"
                )),
            ));
        }
        if !has_index && !t.foreign {
            warned = true;
            out.push(finding(
                "NO_TENANT_INDEX",
                Severity::Warning,
                name,
                format!("no index of {name} leads with the tenant column {}", t.column),
                "every tenant read scans the whole table: slow, and it makes the probe and the policies costly",
                Some(format!("CREATE INDEX ON {name} ({col});")),
            ));
        }
        for idx in bad_unique {
            warned = true;
            out.push(finding(
                "UNIQUE_WITHOUT_TENANT",
                Severity::Warning,
                &format!("{name} index {idx}"),
                format!("the unique index {idx} of {name} leaves out the tenant column"),
                "a duplicate-key error reveals that another tenant holds that value",
                Some(format!("-- recreate {idx} with {col} as its first column")),
            ));
        }
        if warned {
            // A table with structural warnings is not "found right".
            out.retain(|f| !(f.code == "TABLE_ISOLATED" && &f.object == name));
        }
    }

    let Some(log) = &db.schema().tables.access_log else {
        out.push(finding(
            "NO_ACCESS_LOG",
            Severity::Warning,
            "support_access_log",
            "the database has no support-access log table".into(),
            "without it the console cannot record who opened a tenant and why; profiles that require reasons cannot open tenants",
            Some(ACCESS_LOG_SQL.to_owned()),
        ));
        return Ok(());
    };
    let log_name = log.name.to_string();
    let r = crate::sql::query(
        "SELECT ARRAY(SELECT rulename::text FROM pg_rewrite WHERE ev_class = to_regclass($1) AND rulename <> '_RETURN'
                      ORDER BY 1) AS rules,
                ARRAY(SELECT tgname::text FROM pg_trigger WHERE tgrelid = to_regclass($1) AND NOT tgisinternal
                      ORDER BY 1) AS triggers,
                ARRAY(SELECT a::text || ':' || p FROM unnest($2::int8[]) a,
                             unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE']) p
                       WHERE has_table_privilege(a::oid, to_regclass($1), p)) AS erasers,
                ARRAY(SELECT DISTINCT a::text || ':' || c FROM unnest($2::int8[]) a, unnest(ARRAY['db_user', 'created_at']) c
                       WHERE EXISTS (SELECT 1 FROM pg_attribute
                                      WHERE attrelid = to_regclass($1) AND attname = c AND NOT attisdropped)
                         AND has_column_privilege(a::oid, to_regclass($1), c, 'INSERT')
                       ORDER BY 1) AS forgers",
    )
    .bind(&log_name)
    .bind(judge.roles.becomeable_oids())
    .fetch_one(&mut *conn)
    .await?;
    let rules: Vec<String> = r.try_get("rules")?;
    let triggers: Vec<String> = r.try_get("triggers")?;
    let erasers: Vec<String> = r.try_get("erasers")?;
    let forgers: Vec<String> = r.try_get("forgers")?;
    for (oid, columns) in by_role(forgers) {
        let role = judge.roles.name(oid);
        out.push(finding(
            "ACCESS_LOG_FORGEABLE",
            Severity::Warning,
            &log_name,
            format!(
                "{} may write {} of the support-access log {log_name} itself",
                judge.roles.describe(oid),
                columns.join(" and ")
            ),
            "a record can then claim another login wrote it, or an earlier time: who and when must be the database's to say (session_user, the server's clock)",
            Some(format!(
                "ALTER TABLE {log_name} ALTER COLUMN db_user SET DEFAULT session_user;\nREVOKE INSERT ON {log_name} FROM {r};\nGRANT INSERT (tenant_id, os_user, client_host, category, detail, action, details) ON {log_name} TO {r};",
                r = quote(&role)
            )),
        ));
    }
    for rule in rules {
        out.push(finding(
            "ACCESS_LOG_RULE",
            Severity::Warning,
            &format!("{log_name} rule {rule}"),
            format!("the support-access log {log_name} has the rule {rule}"),
            "a rule can rewrite or swallow the console's records; the console verifies each record comes back, and refuses to read when it does not",
            Some(format!("DROP RULE {} ON {log_name};", quote(&rule))),
        ));
    }
    for trigger in triggers {
        out.push(finding(
            "ACCESS_LOG_TRIGGER",
            Severity::Warning,
            &format!("{log_name} trigger {trigger}"),
            format!("the support-access log {log_name} has the trigger {trigger}"),
            "a trigger can drop, move or rewrite the console's records; the console verifies each record comes back, and refuses to read when it does not",
            Some(format!("DROP TRIGGER {} ON {log_name};", quote(&trigger))),
        ));
    }
    for (oid, privileges) in by_role(erasers) {
        let role = judge.roles.name(oid);
        out.push(finding(
            "ACCESS_LOG_ERASABLE",
            Severity::Critical,
            &log_name,
            format!(
                "{} holds {} on the support-access log {log_name}",
                judge.roles.describe(oid),
                privileges.join(", ")
            ),
            "whoever holds the console's password can erase or rewrite the record of what it read: the log proves nothing",
            Some(format!(
                "REVOKE UPDATE, DELETE, TRUNCATE ON {log_name} FROM {};",
                quote(&role)
            )),
        ));
    }
    Ok(())
}

/// `oid:what` pairs grouped by role, in first-seen order.
fn by_role(pairs: Vec<String>) -> Vec<(i64, Vec<String>)> {
    let mut out: Vec<(i64, Vec<String>)> = Vec::new();
    for e in pairs {
        let Some((oid, what)) = e.split_once(':') else {
            continue;
        };
        let Ok(oid) = oid.parse::<i64>() else {
            continue;
        };
        match out.iter_mut().find(|(o, _)| *o == oid) {
            Some((_, w)) => w.push(what.to_owned()),
            None => out.push((oid, vec![what.to_owned()])),
        }
    }
    out
}
