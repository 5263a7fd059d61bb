//! Tenants: resolve, list and search (the one cross-tenant read), and per-tenant stats (read as the tenant).
//!
//! The tenant list reads only the tenants table. Stats (members, recent audit events, last activity) are never
//! computed across tenants: each is read inside that tenant's own scope, so RLS applies to them like to any
//! other tenant read.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sqlx::{Postgres, QueryBuilder, Row};

use crate::cursor;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::mapping::{IdType, Schema, TsType};
use crate::scope::{Tenant, TenantScope};
use crate::sql::{col, keyset_page, like_escape, push_folded, LIKE_ESCAPE};

/// Resolves a tenant by id or slug. The only way to obtain a [`Tenant`].
pub async fn resolve(db: &Db, key: &str) -> Result<Tenant> {
    Ok(resolve_row(db, key).await?.tenant)
}

/// [`resolve`], with the rest of the tenant's row (status, plan, creation date) that the same query reads.
#[tracing::instrument(skip(db))]
pub(crate) async fn resolve_row(db: &Db, key: &str) -> Result<TenantRow> {
    let mut tx = db.read_tx().await?;
    let row = resolve_row_on(&mut tx, db, key).await?;
    tx.commit().await?;
    Ok(row)
}

/// [`resolve_row`] on a transaction the caller holds (a scope about to be entered: one transaction for the
/// lookup and the reads).
pub(crate) async fn resolve_row_on(
    conn: &mut sqlx::PgConnection,
    db: &Db,
    key: &str,
) -> Result<TenantRow> {
    let key = key.trim();
    if key.is_empty() {
        return Err(Error::InvalidInput(
            "no tenant given: pass a tenant id or slug".into(),
        ));
    }
    check_text("tenant", key, 512)?;
    let s = db.schema();
    let t = &s.mapping.tenants;
    let mut qb = select_tenants(s);
    let mut any = false;
    qb.push(" WHERE ");
    if s.tenant_id_type.accepts(key) {
        qb.push(format!("{} = CAST(", tcol(&t.id)))
            .push_bind(key.to_owned())
            .push(format!(" AS {})", s.tenant_id_type.cast()));
        any = true;
    }
    if let Some(slug) = &t.slug {
        if any {
            qb.push(" OR ");
        }
        qb.push(format!("{} = ", tcol(slug)))
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
    let rows = db.statements().built(&mut qb).fetch_all(&mut *conn).await?;
    let mut found: Vec<TenantRow> = rows.iter().map(row_to_tenant).collect::<Result<_>>()?;
    match found.len() {
        0 => Err(Error::UnknownTenant(key.to_owned())),
        // An id that is also another tenant's slug: the id wins, as ids are what the policies compare.
        _ => {
            found.sort_by_key(|r| r.tenant.id != key);
            Ok(found.swap_remove(0))
        }
    }
}

/// How the tenant list is sorted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum TenantSort {
    /// By name, A to Z.
    #[default]
    Name,
    /// By slug, A to Z.
    Slug,
    /// Newest first: what a support person means by sorting on the creation date.
    CreatedAt,
}

impl TenantSort {
    /// Whether the walk goes from the largest key down.
    fn descending(self) -> bool {
        self == TenantSort::CreatedAt
    }
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
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct TenantRow {
    #[serde(flatten)]
    pub tenant: Tenant,
    pub created_at: Option<DateTime<Utc>>,
    /// Extra columns of the reference schema, when present.
    pub plan: Option<String>,
    pub status: Option<String>,
    /// The tenant requires its own live approval before support reads its data (consent the database
    /// enforces; false where the mapping names no consent).
    pub consent_required: bool,
}

/// A page of tenants.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct TenantPage {
    pub items: Vec<TenantRow>,
    pub next_cursor: Option<String>,
}

fn select_tenants(s: &Schema) -> QueryBuilder<'static, Postgres> {
    let t = &s.mapping.tenants;
    let cols = &s.tables.tenants.columns;
    let opt_text = |name: Option<&str>| match name {
        Some(n) => format!("{}::text", tcol(n)),
        None => "NULL::text".to_owned(),
    };
    let created = match (&t.created_at, s.tenants_ts) {
        (Some(c), Some(ts)) => ts.select(&tcol(c)),
        _ => "NULL::timestamptz".to_owned(),
    };
    // plan/status exist in the reference schema; a mapped schema may have columns of those names too.
    let extra = |n: &str| {
        if cols.contains_key(n) {
            format!("{}::text", tcol(n))
        } else {
            "NULL::text".into()
        }
    };
    let consent = match &s.consent {
        Some(c) => format!("coalesce({}::text = 'required', false)", tcol(&c.column)),
        None => "false".to_owned(),
    };
    QueryBuilder::new(format!(
        "SELECT {}::text AS id, {} AS slug, {} AS name, {} AS created_at, {} AS plan, {} AS status, {consent} AS consent_required FROM {} t",
        tcol(&t.id),
        opt_text(t.slug.as_deref()),
        text_key(s, &t.name),
        created,
        extra("plan"),
        extra("status"),
        s.tables.tenants.name
    ))
}

fn row_to_tenant(r: &sqlx::postgres::PgRow) -> Result<TenantRow> {
    Ok(TenantRow {
        tenant: Tenant::resolved(r.try_get("id")?, r.try_get("slug")?, r.try_get("name")?),
        created_at: r.try_get("created_at")?,
        plan: r.try_get("plan")?,
        status: r.try_get("status")?,
        consent_required: r.try_get("consent_required")?,
    })
}

/// Checks text a user typed before it is bound: PostgreSQL text cannot hold a NUL (the server would refuse it
/// with an encoding error), and a bound on the length keeps a pasted document from becoming a slow scan.
pub(crate) fn check_text(what: &str, text: &str, max_chars: usize) -> Result<()> {
    if text.contains('\0') {
        return Err(Error::InvalidInput(format!(
            "the {what} contains a NUL character"
        )));
    }
    if text.chars().count() > max_chars {
        return Err(Error::InvalidInput(format!(
            "the {what} is longer than {max_chars} characters"
        )));
    }
    Ok(())
}

/// A column of the tenants table, qualified by its alias `t`. Qualified because ORDER BY resolves a bare name
/// to an output column first, and the output's `id` is the id as text (which sorts integers as "10" < "9").
fn tcol(name: &str) -> String {
    format!("t.{}", col(name))
}

/// Whether a mapped column may hold NULL (unknown columns count as nullable).
fn nullable(s: &Schema, column: &str) -> bool {
    s.tables
        .tenants
        .columns
        .get(column)
        .is_none_or(|c| !c.not_null)
}

/// A text column as the list shows and sorts it: NULL folded to '' so the keyset's row comparison never meets
/// a NULL (which would silently end the walk).
fn text_key(s: &Schema, column: &str) -> String {
    if nullable(s, column) {
        format!("coalesce({}::text, '')", tcol(column))
    } else {
        format!("{}::text", tcol(column))
    }
}

/// Lists tenants, optionally filtered by a search text, in keyset pages.
///
/// The sort key is the column itself in its own type (a timestamp sorts as a timestamp, not as text), with the
/// tenant id as tie-break, so the walk is total and stable; a cursor is the (key, id) of the last row.
#[tracing::instrument(skip(db))]
pub async fn list(db: &Db, q: &TenantQuery) -> Result<TenantPage> {
    let s = db.schema();
    let t = &s.mapping.tenants;
    let limit = q.limit.clamp(1, 1000) as i64;
    let (sort_col, ts) = match q.sort {
        TenantSort::Name => (text_key(s, &t.name), None),
        TenantSort::Slug => match &t.slug {
            Some(slug) => (text_key(s, slug), None),
            None => {
                return Err(Error::InvalidInput(
                    "tenants have no slug to sort by".into(),
                ))
            }
        },
        TenantSort::CreatedAt => match (&t.created_at, s.tenants_ts) {
            (Some(c), Some(ts)) if nullable(s, c) => {
                (format!("coalesce({}, '-infinity')", tcol(c)), Some(ts))
            }
            (Some(c), Some(ts)) => (tcol(c), Some(ts)),
            _ => {
                return Err(Error::InvalidInput(
                    "tenants have no created_at to sort by".into(),
                ))
            }
        },
    };
    let kind = format!("tenants:{:?}", q.sort);
    let id = tcol(&t.id);
    let id_cast = s.tenant_id_type.cast();
    let mut qb = select_tenants(s);
    qb.push(" WHERE true");
    let mut trigram_search = false;
    if let Some(text) = q.search.as_deref().map(str::trim).filter(|x| !x.is_empty()) {
        check_text("search text", text, 200)?;
        trigram_search = text.chars().filter(|c| c.is_alphanumeric()).count() >= 3;
        let pattern = format!("%{}%", like_escape(text));
        // The name accent-, case-, space- and punctuation-insensitively ("Globex Inc" finds "Globex, Inc."):
        // both sides folded and stripped, as the reference schema's trigram index has the name (see
        // `sql::searchable`). A text of punctuation only is matched as typed, folded.
        let stripped = crate::sql::search_text(text);
        // The reference schema keeps the searchable name and slug in a stored column (search_name): a short
        // search reads every tenant, and the expressions cost 4 µs a row.
        let column_is = |name: &str, typname: &str| {
            s.tables
                .tenants
                .columns
                .get(name)
                .is_some_and(|c| c.readable && c.typname == typname)
        };
        let stored = !stripped.is_empty()
            && column_is("search_name", "text")
            && t.name == "name"
            && t.slug.as_deref() == Some("slug");
        let (name_expr, name_pattern) = if stripped.is_empty() {
            (crate::sql::folded(&text_key(s, &t.name)), pattern.clone())
        } else if stored {
            (tcol("search_name"), format!("%{}%", like_escape(&stripped)))
        } else {
            (
                crate::sql::searchable(&text_key(s, &t.name)),
                format!("%{}%", like_escape(&stripped)),
            )
        };
        qb.push(format!(" AND ({name_expr} LIKE "));
        push_folded(&mut qb, name_pattern);
        qb.push(LIKE_ESCAPE);
        // A 1-2 letter search has no trigram: where the reference schema keeps the searchable name's letters and
        // letter pairs (search_grams, GIN-indexed), the tenants holding the pair are asked of that index first,
        // so a rare pair reads a handful of rows instead of every tenant (migration 20261207000080). The LIKE
        // stays the match; the pair only narrows.
        let short = stripped.chars().count();
        if stored && (1..=2).contains(&short) && column_is("search_grams", "_text") {
            qb.push(format!(" AND {} @> ARRAY[", tcol("search_grams")));
            push_folded(&mut qb, stripped.clone());
            qb.push("]");
        }
        if let Some(slug) = t.slug.as_ref().filter(|_| !stored) {
            qb.push(format!(" OR {} ILIKE ", text_key(s, slug)))
                .push_bind(pattern.clone())
                .push(LIKE_ESCAPE);
        }
        // A uuid's text is lowercase hex and an integer's is digits: a case-sensitive LIKE with the pattern
        // lowercased is the same match at a third of ILIKE's cost per row (it matters when a short search
        // cannot use the trigram index and every tenant is tested).
        // A piece of a uuid means something from 3 characters on: 1-2 hex characters match nearly every one.
        // Integer and text ids are matched whatever the length (tenant 11 is found by "11").
        if s.tenant_id_type != IdType::Uuid || text.chars().count() >= 3 {
            let (op, id_pattern) = match s.tenant_id_type {
                IdType::Text => ("ILIKE", pattern),
                IdType::Uuid | IdType::Integer => ("LIKE", pattern.to_lowercase()),
            };
            qb.push(format!(" OR {id}::text {op} "))
                .push_bind(id_pattern)
                .push(LIKE_ESCAPE);
        }
        qb.push(")");
    }
    if let Some(after) = &q.after {
        let parts = cursor::decode(after, &kind, 2)?;
        if !s.tenant_id_type.accepts(&parts[1]) {
            return Err(cursor::invalid(after));
        }
        let past = if q.sort.descending() { "<" } else { ">" };
        qb.push(format!(" AND ({sort_col}, {id}) {past} ("));
        match ts {
            None => {
                qb.push("CAST(")
                    .push_bind(parts[0].clone())
                    .push(" AS text)");
            }
            Some(ts) => {
                if parts[0] != "-infinity" && DateTime::parse_from_rfc3339(&parts[0]).is_err() {
                    return Err(cursor::invalid(after));
                }
                push_ts(&mut qb, ts, parts[0].clone());
            }
        }
        qb.push(", CAST(")
            .push_bind(parts[1].clone())
            .push(format!(" AS {id_cast}))"));
    }
    let dir = if q.sort.descending() { " DESC" } else { "" };
    qb.push(format!(" ORDER BY {sort_col}{dir}, {id}{dir} LIMIT "))
        .push_bind(limit + 1);
    let mut tx = db.read_tx().await?;
    if trigram_search {
        // The planner prices ILIKE like an equality, so for a long search text it judges one sequential scan
        // (three ILIKEs on every tenant: 25-40 ms on 10,000) cheaper than three trigram bitmap scans (about
        // 1 ms), and picks it. With sequential scans priced out for this one statement it takes the indexes
        // when they exist; where none do (a mapped schema), it scans anyway, as before. The statement is
        // not kept prepared: a cached generic plan, made without seeing the text, walks the name index and
        // tests every tenant for a rare text; an unnamed statement is planned for the text it is given.
        crate::sql::simple(&mut tx, "SET LOCAL enable_seqscan = off").await?;
    }
    // A search is never kept prepared (see above): its plan must see the text. A cached generic plan of a 1-2
    // letter search walked the name index testing every tenant for a rare text (p95 45-55 ms on 10,000
    // tenants, benches/browse.sh); planned for its text it scans them once (a few ms).
    let searching = q.search.as_deref().is_some_and(|t| !t.trim().is_empty());
    let statements = if searching {
        crate::sql::Statements::Unnamed
    } else {
        db.statements()
    };
    let rows = statements.built(&mut qb).fetch_all(&mut *tx).await?;
    tx.commit().await?;
    let items: Vec<TenantRow> = rows.iter().map(row_to_tenant).collect::<Result<_>>()?;
    let (items, next_cursor) = keyset_page(items, limit as usize, |last| {
        let key = match q.sort {
            TenantSort::Name => last.tenant.name.clone(),
            TenantSort::Slug => last.tenant.slug.clone().unwrap_or_default(),
            TenantSort::CreatedAt => last
                .created_at
                .map(|c| c.to_rfc3339_opts(SecondsFormat::Micros, true))
                .unwrap_or_else(|| "-infinity".into()),
        };
        cursor::encode(&kind, &[&key, &last.tenant.id])
    });
    Ok(TenantPage { items, next_cursor })
}

/// Binds a timestamptz text and casts it to the column's own type (so an index on the column serves).
fn push_ts(qb: &mut QueryBuilder<'_, Postgres>, ts: TsType, value: String) {
    let (before, after) = match ts {
        TsType::WithZone => ("CAST(", " AS timestamptz)"),
        TsType::WithoutZone => ("(CAST(", " AS timestamptz) AT TIME ZONE 'UTC')"),
    };
    qb.push(before).push_bind(value).push(after);
}

/// A count that may be an estimate (on tenants with very many rows an exact count would scan too much).
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq, ts_rs::TS)]
pub struct Count {
    pub value: i64,
    pub is_estimate: bool,
}

/// Counts above this are estimated from the planner instead of counted.
pub const EXACT_COUNT_LIMIT: i64 = 10_000;

/// Per-tenant stats, read inside the tenant's scope.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct TenantStats {
    pub members: i64,
    pub audit_events_30d: Count,
    pub last_activity: Option<DateTime<Utc>>,
}

/// Reads a tenant's stats in its scope.
pub async fn stats(scope: &mut TenantScope) -> Result<TenantStats> {
    stats_as_of(scope, Utc::now()).await
}

/// Reads a tenant's stats in its scope, with "the last 30 days" ending at `now` (tests pin it).
pub async fn stats_as_of(scope: &mut TenantScope, now: DateTime<Utc>) -> Result<TenantStats> {
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
    let since = (now - chrono::Duration::days(30)).to_rfc3339();
    let (members, recent, last_activity): (i64, i64, Option<DateTime<Utc>>) = scope
        .statements()
        .query_as(&sql)
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

/// Stats of a tenant in a list, by id.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct TenantStatsRow {
    pub tenant_id: String,
    pub stats: TenantStats,
}

/// The most tenants [`crate::access::Door::stats`] reads in one call (a screenful; each is its own scope).
pub const STATS_BATCH_LIMIT: usize = 100;

/// The tenants of a list page, given by id (the app sends back the ids it was shown), each resolved again. A
/// tenant that no longer exists, or an id that is another tenant's slug, is left out.
pub(crate) async fn resolve_ids(db: &Db, ids: &[String]) -> Result<Vec<TenantRow>> {
    if ids.len() > STATS_BATCH_LIMIT {
        return Err(Error::InvalidInput(format!(
            "stats for {} tenants asked at once; at most {STATS_BATCH_LIMIT}",
            ids.len()
        )));
    }
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        match resolve_row(db, id).await {
            Ok(t) if &t.tenant.id == id => found.push(t),
            Ok(_) | Err(Error::UnknownTenant(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

/// The planner's row estimate for a query (run inside the scope, so it is the estimate under RLS).
pub(crate) async fn estimate(scope: &mut TenantScope, sql: &str, binds: &[&str]) -> Result<i64> {
    let explain = format!("EXPLAIN (FORMAT JSON) {sql}");
    let mut q = crate::sql::query_scalar::<serde_json::Value>(&explain);
    for b in binds {
        q = q.bind(b.to_string());
    }
    let plan = q.fetch_one(scope.conn()).await?;
    Ok(plan
        .pointer("/0/Plan/Plan Rows")
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0) as i64)
}
