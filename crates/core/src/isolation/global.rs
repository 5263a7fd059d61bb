//! Global tables that belong to tenants: a table without a tenant column that tenant rows point at (`users`
//! through `memberships.user_id`, `audit_logs.actor_id`). RLS on the tenant tables does not cover it: if the
//! login may read it whole, every tenant's members are one `SELECT email FROM users` away, unrecorded.
//!
//! The verdict is proven with rows, never read from names: as the login, with the tenant set to one tenant, it
//! counts the rows of the global table that no row of that tenant's tables reaches through the links. Any
//! such row is another tenant's to see, so the finding is at least a warning naming the links, and critical when
//! the login may read columns a person would call personal (the names only weigh the severity). A table whose
//! policy shows only what the tenant reaches (the reference schema's `users`) counts nothing and is not named.

use sqlx::{PgConnection, Row};

use super::relations::Judge;
use super::{finding, Finding, Severity};
use crate::db::Db;
use crate::error::Result;
use crate::sql::quote;

/// Column names a person would call personal (for the severity only; the leak itself is counted).
pub(super) const PERSONAL: &str =
    "(mail|name|phone|mobile|address|street|city|zip|postal|birth|ssn|passport|iban|ip_addr|avatar)";

/// One link: `from_table.from_cols` → `to.to_cols`.
struct Link {
    /// The tenant column of the table the link starts from.
    tenant_col: String,
    to_oid: i64,
    to: String,
    from_table: String,
    from_cols: Vec<String>,
    to_cols: Vec<String>,
}

pub(crate) async fn findings(
    db: &Db,
    conn: &mut PgConnection,
    judge: &Judge<'_>,
    out: &mut Vec<Finding>,
) -> Result<()> {
    let tenant_oids: Vec<i64> = judge.catalog.tables.iter().map(|t| t.oid).collect();
    if tenant_oids.is_empty() {
        return Ok(());
    }
    let tenants = db.schema().tables.tenants.name.to_string();
    let rows = crate::sql::query(
        "SELECT c.confrelid::int8 AS to_oid, c.confrelid::regclass::text AS to_name,
                c.conrelid::regclass::text AS from_name,
                ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i) AS from_cols,
                ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                        JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i) AS to_cols
           FROM pg_constraint c
          WHERE c.contype = 'f' AND c.conrelid = ANY ($1::int8[]::oid[])
            AND NOT c.confrelid = ANY ($1::int8[]::oid[]) AND c.confrelid <> to_regclass($2)
          ORDER BY 2, 3",
    )
    .bind(&tenant_oids)
    .bind(&tenants)
    .fetch_all(&mut *conn)
    .await?;
    let mut links = Vec::new();
    for r in rows {
        let from_name: String = r.try_get("from_name")?;
        let tenant_col = judge
            .catalog
            .tables
            .iter()
            .find(|t| t.name == from_name)
            .map(|t| t.column.clone())
            .unwrap_or_else(|| "tenant_id".into());
        links.push(Link {
            tenant_col,
            to_oid: r.try_get("to_oid")?,
            to: r.try_get("to_name")?,
            from_table: from_name,
            from_cols: r.try_get("from_cols")?,
            to_cols: r.try_get("to_cols")?,
        });
    }
    let mut targets: Vec<(i64, String)> = links.iter().map(|l| (l.to_oid, l.to.clone())).collect();
    targets.dedup();
    if targets.is_empty() {
        return Ok(());
    }
    // One tenant to stand in for all: the first by id, as the login sees the tenant list.
    let id_col = quote(&db.schema().mapping.tenants.id);
    let sample: Option<String> = crate::sql::query_scalar(&format!(
        "SELECT {id_col}::text FROM {tenants} ORDER BY {id_col} LIMIT 1"
    ))
    .fetch_optional(&mut *conn)
    .await?;
    let setting = db.schema().setting().to_owned();
    for (oid, name) in targets {
        let readable: bool = crate::sql::query_scalar(
            "SELECT has_table_privilege($1::oid, 'SELECT') OR has_any_column_privilege($1::oid, 'SELECT')",
        )
        .bind(oid)
        .fetch_one(&mut *conn)
        .await?;
        if !readable {
            continue;
        }
        let personal: Vec<String> = crate::sql::query_scalar(&format!(
            "SELECT attname::text FROM pg_attribute
              WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped
                AND attname ~* '{PERSONAL}' AND has_column_privilege($1::oid, attname, 'SELECT')
              ORDER BY attnum"
        ))
        .bind(oid)
        .fetch_all(&mut *conn)
        .await?;
        let these: Vec<&Link> = links.iter().filter(|l| l.to_oid == oid).collect();
        let via: Vec<String> = these
            .iter()
            .map(|l| {
                format!(
                    "{}.{} → {}.{}",
                    l.from_table,
                    l.from_cols.join(","),
                    l.to,
                    l.to_cols.join(",")
                )
            })
            .collect();
        let Some(tenant) = &sample else {
            out.push(finding(
                "GLOBAL_TABLE_UNPROVEN",
                Severity::Warning,
                &name,
                format!(
                    "{name} has no tenant column, tenant rows point at it ({}), and the login may read it; with no tenant to read as, it could not be counted",
                    via.join("; ")
                ),
                "if the login reads it whole, every tenant's rows of it are visible",
                None,
            ));
            continue;
        };
        // The rows of the global table no row of this tenant reaches, read as the login in its scope.
        let mut unreached = String::new();
        for l in &these {
            let on: Vec<String> = l
                .from_cols
                .iter()
                .zip(&l.to_cols)
                .map(|(f, t)| format!("r.{} = g.{}", quote(f), quote(t)))
                .collect();
            unreached.push_str(&format!(
                " AND NOT EXISTS (SELECT 1 FROM {} r WHERE {})",
                l.from_table,
                on.join(" AND ")
            ));
        }
        // In a savepoint: a count the login may not make (no SELECT on a linking table) must not end the
        // check's transaction, and the tenant setting goes with it.
        crate::sql::query("SAVEPOINT tc_global_rows")
            .execute(&mut *conn)
            .await?;
        let counted: std::result::Result<i64, sqlx::Error> = async {
            crate::sql::query("SELECT set_config($1, $2, true)")
                .bind(&setting)
                .bind(tenant)
                .execute(&mut *conn)
                .await?;
            crate::sql::query_scalar(&format!(
                "SELECT count(*) FROM {name} g WHERE true{unreached}"
            ))
            .fetch_one(&mut *conn)
            .await
        }
        .await;
        crate::sql::query("ROLLBACK TO SAVEPOINT tc_global_rows")
            .execute(&mut *conn)
            .await?;
        let others = match counted {
            Ok(n) => n,
            Err(e) => {
                tracing::info!(table = %name, error = %e, "could not count a global table's rows as the login");
                continue;
            }
        };
        if others == 0 {
            continue;
        }
        let severity = if personal.is_empty() {
            Severity::Warning
        } else {
            Severity::Critical
        };
        out.push(finding(
            "GLOBAL_TABLE_READABLE",
            severity,
            &name,
            format!(
                "{name} has no tenant column and the login reads {others} of its rows that no row of the tenant it is set to reaches ({}){}: other tenants' rows, read without any record",
                via.join("; "),
                if personal.is_empty() {
                    String::new()
                } else {
                    format!(", with the personal columns {}", personal.join(", "))
                }
            ),
            "tenant isolation stops at the tenant tables: whoever holds the login reads this table whole",
            Some(fix_sql(&name, &these, &setting, db)),
        ));
    }
    Ok(())
}

/// A policy that shows the login only the rows its tenant's rows reach (as the reference schema's `users`).
fn fix_sql(name: &str, links: &[&Link], setting: &str, db: &Db) -> String {
    let reach: Vec<String> = links
        .iter()
        .map(|l| {
            let on: Vec<String> = l
                .from_cols
                .iter()
                .zip(&l.to_cols)
                .map(|(f, t)| format!("r.{} = {name}.{}", quote(f), quote(t)))
                .collect();
            format!(
                "EXISTS (SELECT 1 FROM {} r WHERE {} AND r.{} = NULLIF(current_setting('{setting}', true), '')::{})",
                l.from_table,
                on.join(" AND "),
                quote(&l.tenant_col),
                db.schema().tenant_id_type.cast()
            )
        })
        .collect();
    format!(
        "ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;\nCREATE POLICY reached_by_current_tenant ON {name} FOR SELECT TO <console login>\n  USING ({});",
        reach.join("\n      OR ")
    )
}
