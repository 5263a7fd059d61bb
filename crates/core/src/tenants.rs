//! Tenants: resolve, list and search (the one cross-tenant read), and per-tenant stats (read as the tenant).
//!
//! The tenant list reads only the tenants table. Stats (members, recent audit events, last activity) are never
//! computed across tenants: each is read inside that tenant's own scope, so RLS applies to them like to any
//! other tenant read.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{Postgres, QueryBuilder, Row};

use crate::cursor;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::mapping::{col, Schema};
use crate::scope::{Tenant, TenantScope};

/// Resolves a tenant by id or slug. The only way to obtain a [`Tenant`].
#[tracing::instrument(skip(db))]
pub async fn resolve(db: &Db, key: &str) -> Result<Tenant> {
    let key = key.trim();
    if key.is_empty() {
        return Err(Error::InvalidInput(
            "no tenant given: pass a tenant id or slug".into(),
        ));
    }
    let s = db.schema();
    let t = &s.mapping.tenants;
    let mut qb = select_tenants(s);
    let mut any = false;
    qb.push(" WHERE ");
    if s.tenant_id_type.accepts(key) {
        qb.push(format!("{} = CAST(", col(&t.id)))
            .push_bind(key.to_owned())
            .push(format!(" AS {})", s.tenant_id_type.cast()));
        any = true;
    }
    if let Some(slug) = &t.slug {
        if any {
            qb.push(" OR ");
        }
        qb.push(format!("{} = ", col(slug)))
            .push_bind(key.to_owned());
        any = true;
    }
    if !any {
        return Err(Error::InvalidInput(format!(
            "{key:?} is not a valid tenant id ({} expected) and tenants have no slug to match",
            s.tenant_id_type.cast()
        )));
    }
    qb.push(" LIMIT 2");
    let rows = qb.build().fetch_all(db.pool()).await?;
    let mut found: Vec<TenantRow> = rows.iter().map(row_to_tenant).collect::<Result<_>>()?;
    match found.len() {
        0 => Err(Error::UnknownTenant(key.to_owned())),
        // An id that is also another tenant's slug: the id wins, as ids are what the policies compare.
        _ => {
            found.sort_by_key(|r| r.tenant.id != key);
            Ok(found.swap_remove(0).tenant)
        }
    }
}

/// How the tenant list is sorted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantSort {
    #[default]
    Name,
    Slug,
    CreatedAt,
}

impl std::str::FromStr for TenantSort {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "name" => Ok(TenantSort::Name),
            "slug" => Ok(TenantSort::Slug),
            "created_at" | "created" => Ok(TenantSort::CreatedAt),
            other => Err(Error::InvalidInput(format!(
                "unknown sort {other:?}: use name, slug or created_at"
            ))),
        }
    }
}

/// A query of the tenant list.
#[derive(Clone, Debug, Default)]
pub struct TenantQuery {
    /// Substring of slug or name (case-insensitive, matched literally), or an exact id.
    pub search: Option<String>,
    pub sort: TenantSort,
    pub limit: u32,
    pub after: Option<String>,
}

/// One row of the tenant list.
#[derive(Clone, Debug, Serialize)]
pub struct TenantRow {
    #[serde(flatten)]
    pub tenant: Tenant,
    pub created_at: Option<DateTime<Utc>>,
    /// Extra columns of the reference schema, when present.
    pub plan: Option<String>,
    pub status: Option<String>,
}

/// A page of tenants.
#[derive(Clone, Debug, Serialize)]
pub struct TenantPage {
    pub items: Vec<TenantRow>,
    pub next_cursor: Option<String>,
}

fn select_tenants(s: &Schema) -> QueryBuilder<'static, Postgres> {
    let t = &s.mapping.tenants;
    let cols = &s.tables.tenants.columns;
    let opt_text = |name: Option<&str>| match name {
        Some(n) => format!("{}::text", col(n)),
        None => "NULL::text".to_owned(),
    };
    let created = match (&t.created_at, s.tenants_ts) {
        (Some(c), Some(ts)) => ts.select(&col(c).to_string()),
        _ => "NULL::timestamptz".to_owned(),
    };
    // plan/status exist in the reference schema; a mapped schema may have columns of those names too.
    let extra = |n: &str| {
        if cols.contains_key(n) {
            format!("{}::text", col(n))
        } else {
            "NULL::text".into()
        }
    };
    QueryBuilder::new(format!(
        "SELECT {}::text, {}, {}::text, {}, {}, {} FROM {}",
        col(&t.id),
        opt_text(t.slug.as_deref()),
        col(&t.name),
        created,
        extra("plan"),
        extra("status"),
        s.tables.tenants.name
    ))
}

fn row_to_tenant(r: &sqlx::postgres::PgRow) -> Result<TenantRow> {
    Ok(TenantRow {
        tenant: Tenant::resolved(r.try_get(0)?, r.try_get(1)?, r.try_get(2)?),
        created_at: r.try_get(3)?,
        plan: r.try_get(4)?,
        status: r.try_get(5)?,
    })
}

/// Escapes LIKE wildcards so user text is matched literally.
pub(crate) fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Lists tenants, optionally filtered by a search text, in keyset pages.
#[tracing::instrument(skip(db))]
pub async fn list(db: &Db, q: &TenantQuery) -> Result<TenantPage> {
    let s = db.schema();
    let t = &s.mapping.tenants;
    let limit = q.limit.clamp(1, 1000) as i64;
    let sort_col = match q.sort {
        TenantSort::Name => format!("{}::text", col(&t.name)),
        TenantSort::Slug => match &t.slug {
            Some(slug) => format!("{}::text", col(slug)),
            None => {
                return Err(Error::InvalidInput(
                    "tenants have no slug to sort by".into(),
                ))
            }
        },
        TenantSort::CreatedAt => match (&t.created_at, s.tenants_ts) {
            (Some(c), Some(ts)) => format!("{}::text", ts.select(&col(c).to_string())),
            _ => {
                return Err(Error::InvalidInput(
                    "tenants have no created_at to sort by".into(),
                ))
            }
        },
    };
    let kind = format!("tenants:{:?}", q.sort);
    let id = format!("{}::text", col(&t.id));
    let mut qb = select_tenants(s);
    qb.push(" WHERE true");
    if let Some(text) = q.search.as_deref().map(str::trim).filter(|x| !x.is_empty()) {
        if text.len() > 200 {
            return Err(Error::InvalidInput(
                "search text is longer than 200 characters".into(),
            ));
        }
        let pattern = format!("%{}%", like_escape(text));
        qb.push(format!(" AND ({} ILIKE ", col(&t.name)))
            .push_bind(pattern.clone())
            .push(" ESCAPE '\\'");
        if let Some(slug) = &t.slug {
            qb.push(format!(" OR {} ILIKE ", col(slug)))
                .push_bind(pattern)
                .push(" ESCAPE '\\'");
        }
        if s.tenant_id_type.accepts(text) {
            qb.push(format!(" OR {} = CAST(", col(&t.id)))
                .push_bind(text.to_owned())
                .push(format!(" AS {})", s.tenant_id_type.cast()));
        }
        qb.push(")");
    }
    if let Some(after) = &q.after {
        let parts = cursor::decode(after, &kind, 2)?;
        qb.push(format!(" AND ({sort_col}, {id}) > ("))
            .push_bind(parts[0].clone())
            .push(", ")
            .push_bind(parts[1].clone())
            .push(")");
    }
    qb.push(format!(" ORDER BY {sort_col}, {id} LIMIT "))
        .push_bind(limit + 1);
    let rows = qb.build().fetch_all(db.pool()).await?;
    let mut items: Vec<TenantRow> = rows.iter().map(row_to_tenant).collect::<Result<_>>()?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        let last = items.last().expect("limit >= 1");
        let key = match q.sort {
            TenantSort::Name => last.tenant.name.clone(),
            TenantSort::Slug => last.tenant.slug.clone().unwrap_or_default(),
            TenantSort::CreatedAt => {
                // Same text form as the SQL's timestamptz::text in the session's time zone: re-read it.
                created_text(db, &last.tenant).await?
            }
        };
        Some(cursor::encode(&kind, &[&key, &last.tenant.id]))
    } else {
        None
    };
    Ok(TenantPage { items, next_cursor })
}

async fn created_text(db: &Db, tenant: &Tenant) -> Result<String> {
    let s = db.schema();
    let t = &s.mapping.tenants;
    let (Some(c), Some(ts)) = (&t.created_at, s.tenants_ts) else {
        return Ok(String::new());
    };
    let mut qb = QueryBuilder::<Postgres>::new(format!(
        "SELECT {}::text FROM {} WHERE {} = CAST(",
        ts.select(&col(c).to_string()),
        s.tables.tenants.name,
        col(&t.id)
    ));
    qb.push_bind(tenant.id.clone())
        .push(format!(" AS {})", s.tenant_id_type.cast()));
    Ok(qb.build().fetch_one(db.pool()).await?.try_get(0)?)
}

/// A count that may be an estimate (on tenants with very many rows an exact count would scan too much).
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub struct Count {
    pub value: i64,
    pub is_estimate: bool,
}

/// Counts above this are estimated from the planner instead of counted.
pub const EXACT_COUNT_LIMIT: i64 = 10_000;

/// Per-tenant stats, read inside the tenant's scope.
#[derive(Clone, Debug, Serialize)]
pub struct TenantStats {
    pub members: i64,
    pub audit_events_30d: Count,
    pub last_activity: Option<DateTime<Utc>>,
}

/// Reads a tenant's stats in its scope.
pub async fn stats(scope: &mut TenantScope) -> Result<TenantStats> {
    let s = scope.schema().clone();
    let tenant = scope.tenant().id.clone();
    let m = &s.mapping.members;
    let a = &s.mapping.audit_logs;
    let cast = s.tenant_id_type.cast();
    let created = col(&a.created_at).to_string();
    let ts_param = s.audit_ts.param("$2");
    let sql = format!(
        "SELECT (SELECT count(*) FROM {members} WHERE {mt} = CAST($1 AS {cast})),
                (SELECT count(*) FROM (SELECT 1 FROM {audit} WHERE {at} = CAST($1 AS {cast})
                    AND {created} >= {ts_param} LIMIT {cap}) capped),
                (SELECT {last} FROM {audit} WHERE {at} = CAST($1 AS {cast})
                    ORDER BY {created} DESC LIMIT 1)",
        members = s.tables.members.name,
        mt = col(&m.tenant_id),
        audit = s.tables.audit.name,
        at = col(&a.tenant_id),
        cap = EXACT_COUNT_LIMIT + 1,
        last = s.audit_ts.select(&created),
    );
    let since = (Utc::now() - chrono::Duration::days(30)).to_rfc3339();
    let (members, recent, last_activity): (i64, i64, Option<DateTime<Utc>>) = sqlx::query_as(&sql)
        .bind(&tenant)
        .bind(&since)
        .fetch_one(scope.conn())
        .await?;
    let audit_events_30d = if recent > EXACT_COUNT_LIMIT {
        let est = estimate(
            scope,
            &format!(
                "SELECT 1 FROM {} WHERE {} = CAST($1 AS {cast}) AND {created} >= {ts_param}",
                s.tables.audit.name,
                col(&a.tenant_id)
            ),
            &[&tenant, &since],
        )
        .await?;
        Count {
            value: est.max(recent),
            is_estimate: true,
        }
    } else {
        Count {
            value: recent,
            is_estimate: false,
        }
    };
    Ok(TenantStats {
        members,
        audit_events_30d,
        last_activity,
    })
}

/// The planner's row estimate for a query (run inside the scope, so it is the estimate under RLS).
pub(crate) async fn estimate(scope: &mut TenantScope, sql: &str, binds: &[&str]) -> Result<i64> {
    let explain = format!("EXPLAIN (FORMAT JSON) {sql}");
    let mut q = sqlx::query_scalar::<_, serde_json::Value>(&explain);
    for b in binds {
        q = q.bind(b.to_string());
    }
    let plan = q.fetch_one(scope.conn()).await?;
    Ok(plan
        .pointer("/0/Plan/Plan Rows")
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_in_search_text_match_literally() {
        assert_eq!(like_escape("50%_off\\"), "50\\%\\_off\\\\");
        assert_eq!(like_escape("acme"), "acme");
    }
}
