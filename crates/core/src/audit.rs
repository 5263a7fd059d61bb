//! A tenant's audit log: filters, newest-first keyset pages, and the filter SQL the export shares.
//!
//! Pages walk the index `(tenant, created_at DESC, id DESC)` from the cursor, so page 10,000 costs what page 1
//! costs. [`AuditFilter::push_where`] is the one place the filter becomes SQL; the browser and the CSV export
//! both use it, so an export is exactly the rows the browser shows.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{Postgres, QueryBuilder, Row};

use crate::cursor;
use crate::error::{Error, Result};
use crate::mapping::Schema;
use crate::scope::TenantScope;
use crate::sql::{col, keyset_page, like_escape, tenant_eq, SqlSink, LIKE_ESCAPE};
use crate::tenants::{Count, EXACT_COUNT_LIMIT};

/// The audit log's filters (all optional; all combine with AND).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
// Every field may be left out (serde's default): the page sends only the filters it has.
#[ts(optional_fields = nullable)]
pub struct AuditFilter {
    /// Events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Events before this time.
    pub until: Option<DateTime<Utc>>,
    /// Exact action (`member.invited`), or a prefix ending in `.` or `*` (`member.`, `member.*`).
    pub action: Option<String>,
    /// The actor's user id, or their email when users are mapped.
    pub actor: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
}

/// Parses a time given by a user: RFC 3339 (`2026-01-31T12:00:00Z`, `...+02:00`), a date (`2026-01-31`, midnight
/// UTC), or a relative age (`30d`, `12h`, `15m` ago).
pub fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    let t = text.trim();
    let bad = || {
        Error::InvalidInput(format!(
            "cannot read {:?} as a time: use 2026-01-31, 2026-01-31T12:00:00Z, or an age like 30d, 12h, 15m (times from {} to {} UTC)",
            t.chars().take(60).collect::<String>(),
            EARLIEST.format("%Y-%m-%d"),
            LATEST.format("%Y-%m-%d")
        ))
    };
    let parsed = if let Ok(dt) = DateTime::<FixedOffset>::parse_from_rfc3339(t) {
        Some(dt.with_timezone(&Utc))
    } else if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        d.and_hms_opt(0, 0, 0).map(|d| d.and_utc())
    } else {
        relative_age(t)
    };
    // Every arithmetic step above is checked; what is left is the range PostgreSQL and people mean.
    parsed
        .filter(|d| (EARLIEST..=LATEST).contains(d))
        .ok_or_else(bad)
}

/// The earliest and latest times a filter accepts: PostgreSQL has no year 0, and no audit log is older or
/// newer than these.
const EARLIEST: DateTime<Utc> = DateTime::from_naive_utc_and_offset(
    match NaiveDate::from_ymd_opt(1, 1, 1) {
        Some(d) => match d.and_hms_opt(0, 0, 0) {
            Some(d) => d,
            None => panic!("midnight exists"),
        },
        None => panic!("year 1 exists"),
    },
    Utc,
);
const LATEST: DateTime<Utc> = DateTime::from_naive_utc_and_offset(
    match NaiveDate::from_ymd_opt(9999, 12, 31) {
        Some(d) => match d.and_hms_opt(23, 59, 59) {
            Some(d) => d,
            None => panic!("the last second exists"),
        },
        None => panic!("year 9999 exists"),
    },
    Utc,
);

/// `30d`, `12h`, `15m`: that long ago, or `None` when it is not one or does not fit a date.
fn relative_age(t: &str) -> Option<DateTime<Utc>> {
    let (i, unit) = t.char_indices().last()?;
    let n: i64 = t[..i].parse().ok().filter(|n| *n >= 0)?;
    let d = match unit {
        'd' => chrono::Duration::try_days(n),
        'h' => chrono::Duration::try_hours(n),
        'm' => chrono::Duration::try_minutes(n),
        _ => None,
    }?;
    Utc::now().checked_sub_signed(d)
}

impl AuditFilter {
    /// Checks the filter before any query: a wrong value is the user's to fix, and is said so.
    pub fn validate(&self, schema: &Schema) -> Result<()> {
        if let (Some(s), Some(u)) = (self.since, self.until) {
            if s >= u {
                return Err(Error::InvalidInput(format!(
                    "the time range is empty: since {s} is not before until {u}"
                )));
            }
        }
        for (name, v) in [
            ("action", &self.action),
            ("actor", &self.actor),
            ("resource type", &self.resource_type),
            ("resource id", &self.resource_id),
        ] {
            if let Some(v) = v {
                if v.len() > 500 || v.contains('\0') {
                    return Err(Error::InvalidInput(format!(
                        "the {name} filter is longer than 500 characters or contains a NUL"
                    )));
                }
            }
        }
        // A filter on a masked column would read what the login may not: refused, in words.
        for (name, field, given) in [
            ("action", "action", self.action.is_some()),
            ("actor", "actor_id", self.actor.is_some()),
            (
                "resource type",
                "resource_type",
                self.resource_type.is_some(),
            ),
            ("resource id", "resource_id", self.resource_id.is_some()),
        ] {
            if given {
                if let Some((_, q)) = schema.audit_masks().into_iter().find(|(f, _)| *f == field) {
                    return Err(Error::InvalidInput(format!(
                        "the {name} filter needs {q}, which this login may not read (it is masked): remove the filter, or ask for SELECT on that column"
                    )));
                }
            }
        }
        if let Some(actor) = &self.actor {
            if actor.contains('@') && schema.audit_masked("actor_email") {
                return Err(Error::InvalidInput(
                    "the actor filter by email needs the users' email, which this login may not read (it is masked): filter by the actor's user id instead".into(),
                ));
            }
        }
        let a = &schema.mapping.audit_logs;
        if self.resource_type.is_some() && a.resource_type.is_none() {
            return Err(Error::InvalidInput(
                "audit logs have no resource type to filter by".into(),
            ));
        }
        if self.resource_id.is_some() && a.resource_id.is_none() {
            return Err(Error::InvalidInput(
                "audit logs have no resource id to filter by".into(),
            ));
        }
        Ok(())
    }

    /// Appends `AND ...` for each filter. Values are bound; names come from the bound mapping.
    pub(crate) fn push_where<Q: SqlSink>(&self, qb: &mut Q, s: &Schema, alias: &str) {
        let a = &s.mapping.audit_logs;
        let c = |name: &str| format!("{alias}.{}", col(name));
        let created = c(&a.created_at);
        if let Some(since) = self.since {
            qb.text(&format!(" AND {created} >= "));
            push_ts(qb, s, since);
        }
        if let Some(until) = self.until {
            qb.text(&format!(" AND {created} < "));
            push_ts(qb, s, until);
        }
        if let Some(action) = self.action.as_deref().filter(|x| !x.is_empty()) {
            // `::text` is free on a text column (the index still serves) and lets an enum column compare too.
            if let Some(prefix) = action.strip_suffix('*') {
                qb.text(&format!(" AND {}::text LIKE ", c(&a.action)))
                    .value(format!("{}%", like_escape(prefix)))
                    .text(LIKE_ESCAPE);
            } else if action.ends_with('.') {
                qb.text(&format!(" AND {}::text LIKE ", c(&a.action)))
                    .value(format!("{}%", like_escape(action)))
                    .text(LIKE_ESCAPE);
            } else {
                qb.text(&format!(" AND {}::text = ", c(&a.action)))
                    .value(action.to_owned());
            }
        }
        if let Some(actor) = self.actor.as_deref().filter(|x| !x.is_empty()) {
            qb.text(&format!(" AND ({}::text = ", c(&a.actor_id)))
                .value(actor.to_owned());
            if let (Some(u), Some(ut), false) = (
                &s.mapping.users,
                &s.tables.users,
                s.audit_masked("actor_email"),
            ) {
                qb.text(&format!(
                    " OR {} IN (SELECT {} FROM {} WHERE lower({}) = lower(",
                    c(&a.actor_id),
                    col(&u.id),
                    ut.name,
                    col(&u.email)
                ))
                .value(actor.to_owned())
                .text("))");
            }
            qb.text(")");
        }
        if let (Some(rt), Some(col_name)) = (&self.resource_type, &a.resource_type) {
            qb.text(&format!(" AND {}::text = ", c(col_name)))
                .value(rt.clone());
        }
        if let (Some(rid), Some(col_name)) = (&self.resource_id, &a.resource_id) {
            qb.text(&format!(" AND {}::text = ", c(col_name)))
                .value(rid.clone());
        }
    }
}

fn push_ts<Q: SqlSink>(qb: &mut Q, s: &Schema, t: DateTime<Utc>) {
    // A `timestamp without time zone` column is compared in its own type, so its index still serves.
    match s.audit_ts {
        crate::mapping::TsType::WithZone => {
            qb.timestamp(t);
        }
        crate::mapping::TsType::WithoutZone => {
            qb.text("(").timestamp(t).text(" AT TIME ZONE 'UTC')");
        }
    }
}

/// One audit event.
#[derive(Clone, Debug, Serialize, PartialEq, ts_rs::TS)]
pub struct AuditEvent {
    pub id: String,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<String>,
    pub actor_email: Option<String>,
    /// Null when masked (the login may not read the column).
    pub action: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub metadata: serde_json::Value,
}

/// A page of audit events, newest first.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct AuditPage {
    pub items: Vec<AuditEvent>,
    pub next_cursor: Option<String>,
    /// The columns this login may not read (`table.column`): their fields are null in every item.
    pub masked_columns: Vec<String>,
}

/// The SELECT list shared by pages and export: every column as text or timestamptz, in [`AuditEvent`] order.
pub(crate) fn select_list(s: &Schema, alias: &str, with_email: bool) -> String {
    select_parts(s, alias, with_email).join(", ")
}

/// The items of [`select_list`], one per field, in its order.
pub(crate) fn select_parts(s: &Schema, alias: &str, with_email: bool) -> [String; 10] {
    let a = &s.mapping.audit_logs;
    let masks = s.audit_masks();
    let masked = |field: &str| masks.iter().any(|(f, _)| *f == field);
    let c = |name: &str| format!("{alias}.{}", col(name));
    // A column the login may not read is read as null (masked): naming it would fail the whole query.
    let readable = |field: &str, name: &Option<String>| name.clone().filter(|_| !masked(field));
    let opt = |name: &Option<String>| match name {
        Some(n) => format!("{}::text", c(n)),
        None => "NULL::text".to_owned(),
    };
    let email = match (
        &s.mapping.users,
        &s.tables.users,
        with_email && !masked("actor_email"),
    ) {
        (Some(u), Some(ut), true) => format!(
            "(SELECT {}::text FROM {} WHERE {} = {})",
            col(&u.email),
            ut.name,
            col(&u.id),
            c(&a.actor_id)
        ),
        _ => "NULL::text".to_owned(),
    };
    let meta = match readable("metadata", &a.metadata) {
        Some(m) => format!("{}::text", c(&m)),
        None => "NULL::text".to_owned(),
    };
    // inet renders as "10.0.0.1/32" with ::text; host() gives the address people expect.
    let ip = match &readable("ip", &a.ip) {
        Some(n)
            if s.tables
                .audit
                .columns
                .get(n)
                .is_some_and(|i| i.typname == "inet") =>
        {
            format!("host({})", c(n))
        }
        other => opt(other),
    };
    // Named for the browser (rows read by name); in this order for the export's binary COPY.
    [
        format!("{}::text AS id", c(&a.id)),
        format!("{} AS occurred_at", s.audit_ts.select(&c(&a.created_at))),
        format!(
            "{} AS actor_id",
            opt(&readable("actor_id", &Some(a.actor_id.clone())))
        ),
        format!("{email} AS actor_email"),
        format!(
            "{} AS action",
            opt(&readable("action", &Some(a.action.clone())))
        ),
        format!(
            "{} AS resource_type",
            opt(&readable("resource_type", &a.resource_type))
        ),
        format!(
            "{} AS resource_id",
            opt(&readable("resource_id", &a.resource_id))
        ),
        format!("{ip} AS ip"),
        format!(
            "{} AS user_agent",
            opt(&readable("user_agent", &a.user_agent))
        ),
        format!("{meta} AS metadata"),
    ]
}

/// Reads one page of the tenant's audit log, newest first, starting after `after`.
pub async fn page(
    scope: &mut TenantScope,
    filter: &AuditFilter,
    limit: u32,
    after: Option<&str>,
) -> Result<AuditPage> {
    page_in_order(scope, filter, limit, after, false).await
}

/// Reads one page of the tenant's audit log, newest first or (`oldest_first`) oldest first, starting after
/// `after` (a cursor of the same order). Either way one walk of the tenant's time index, forwards or back.
#[tracing::instrument(skip(scope), fields(tenant = %scope.tenant().id))]
pub async fn page_in_order(
    scope: &mut TenantScope,
    filter: &AuditFilter,
    limit: u32,
    after: Option<&str>,
    oldest_first: bool,
) -> Result<AuditPage> {
    let s = scope.schema().clone();
    let kind = if oldest_first { "audit-asc" } else { "audit" };
    s.require_keys(crate::mapping::Reads::Audit)?;
    filter.validate(&s)?;
    let a = &s.mapping.audit_logs;
    let limit = limit.clamp(1, 1000) as i64;
    let mut qb = QueryBuilder::<Postgres>::new(format!(
        "SELECT {} FROM {} e WHERE ",
        select_list(&s, "e", true),
        s.tables.audit.name,
    ));
    tenant_eq(
        &mut qb,
        &format!("e.{}", col(&a.tenant_id)),
        &scope.tenant().id,
        s.tenant_id_type,
    );
    filter.push_where(&mut qb, &s, "e");
    let created = format!("e.{}", col(&a.created_at));
    let id = format!("e.{}", col(&a.id));
    if let Some(after) = after {
        let parts = cursor::decode(after, kind, 2)?;
        let ts = DateTime::parse_from_rfc3339(&parts[0])
            .map_err(|_| cursor::invalid(after))?
            .with_timezone(&Utc);
        if !s.audit_id_type.accepts(&parts[1]) {
            return Err(cursor::invalid(after));
        }
        let past = if oldest_first { ">" } else { "<" };
        qb.push(format!(" AND ({created}, {id}) {past} ("));
        push_ts(&mut qb, &s, ts);
        qb.push(", CAST(")
            .push_bind(parts[1].clone())
            .push(format!(" AS {}))", s.audit_id_type.cast()));
    }
    let dir = if oldest_first { "ASC" } else { "DESC" };
    qb.push(format!(" ORDER BY {created} {dir}, {id} {dir} LIMIT "))
        .push_bind(limit + 1);
    let rows = scope
        .statements()
        .built(&mut qb)
        .fetch_all(scope.conn())
        .await?;
    let items = rows.iter().map(row_to_event).collect::<Result<Vec<_>>>()?;
    let (items, next_cursor) = keyset_page(items, limit as usize, |last| {
        position_cursor(kind, last.occurred_at, &last.id)
    });
    Ok(AuditPage {
        items,
        next_cursor,
        masked_columns: s.masked_columns(crate::mapping::Reads::Audit),
    })
}

/// The cursor of the page that starts right after the event (`occurred_at`, `id`): what a page's `next_cursor`
/// is when that event ends it. Public so a caller that knows a position (a benchmark, a deep link) can start
/// there without walking.
pub fn cursor_after(occurred_at: DateTime<Utc>, id: &str) -> String {
    position_cursor("audit", occurred_at, id)
}

/// A cursor of the `kind` order (`audit`: newest first, `audit-asc`: oldest first) at (`occurred_at`, `id`).
fn position_cursor(kind: &str, occurred_at: DateTime<Utc>, id: &str) -> String {
    cursor::encode(
        kind,
        &[
            &occurred_at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            id,
        ],
    )
}

fn row_to_event(r: &sqlx::postgres::PgRow) -> Result<AuditEvent> {
    let meta: Option<String> = r.try_get("metadata")?;
    Ok(AuditEvent {
        id: r.try_get("id")?,
        occurred_at: r.try_get("occurred_at")?,
        actor_id: r.try_get("actor_id")?,
        actor_email: r.try_get("actor_email")?,
        action: r.try_get("action")?,
        resource_type: r.try_get("resource_type")?,
        resource_id: r.try_get("resource_id")?,
        ip: r.try_get("ip")?,
        user_agent: r.try_get("user_agent")?,
        metadata: meta
            .map(|m| serde_json::from_str(&m).unwrap_or(serde_json::Value::String(m)))
            .unwrap_or(serde_json::Value::Null),
    })
}

/// Counts the tenant's events matching the filter, exactly, however many (a verification's recount).
pub async fn count_exact(scope: &mut TenantScope, filter: &AuditFilter) -> Result<i64> {
    let s = scope.schema().clone();
    filter.validate(&s)?;
    let tenant = scope.tenant().id.clone();
    let mut qb = base_query(&s, &tenant, filter, "SELECT count(*) FROM (SELECT 1");
    qb.push(") all_rows");
    Ok(scope
        .statements()
        .built_scalar(&mut qb)
        .fetch_one(scope.conn())
        .await?)
}

/// Counts the tenant's events matching the filter: exact up to [`EXACT_COUNT_LIMIT`], estimated beyond.
pub async fn count(scope: &mut TenantScope, filter: &AuditFilter) -> Result<Count> {
    let s = scope.schema().clone();
    filter.validate(&s)?;
    let tenant = scope.tenant().id.clone();
    let mut qb = base_query(&s, &tenant, filter, "SELECT count(*) FROM (SELECT 1");
    qb.push(format!(" LIMIT {}) capped", EXACT_COUNT_LIMIT + 1));
    let exact: i64 = scope
        .statements()
        .built_scalar(&mut qb)
        .fetch_one(scope.conn())
        .await?;
    if exact <= EXACT_COUNT_LIMIT {
        return Ok(Count {
            value: exact,
            is_estimate: false,
        });
    }
    // Beyond the cap, the planner's estimate for the same filtered query (planned inside the scope, so under
    // RLS) is good enough to say "about N", and is labelled an estimate.
    let mut qb = base_query(&s, &tenant, filter, "EXPLAIN (FORMAT JSON) SELECT 1");
    let plan: serde_json::Value = scope
        .statements()
        .built_scalar(&mut qb)
        .fetch_one(scope.conn())
        .await?;
    let est = plan
        .pointer("/0/Plan/Plan Rows")
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0) as i64;
    Ok(Count {
        value: est.max(exact),
        is_estimate: true,
    })
}

/// An actor of the tenant's recent events, with how many they caused.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct ActorActivity {
    pub actor_id: String,
    /// Their email, when users are mapped.
    pub email: Option<String>,
    pub events: i64,
    pub last: DateTime<Utc>,
}

/// The most active actors of the events at or after `since`.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct ActiveActors {
    pub since: DateTime<Utc>,
    /// How many of those events were read: at most [`ACTIVE_ACTORS_WINDOW`], the newest.
    pub events_read: i64,
    /// Whether there were more events than that window (the ranking is then of the newest ones).
    pub capped: bool,
    pub items: Vec<ActorActivity>,
    /// The actor column is masked for this login: no ranking can be made.
    pub masked: bool,
}

/// The newest events [`active_actors`] ranks, at most: the read stays one bounded walk of the tenant's time
/// index, however busy the tenant (measured on the 1M-row bench tenant, benches/browse.sh).
pub const ACTIVE_ACTORS_WINDOW: i64 = 10_000;

/// The `limit` actors with the most events at or after `since` (ties: the most recent first), counted over the
/// newest [`ACTIVE_ACTORS_WINDOW`] of those events, in the tenant's scope.
pub async fn active_actors(
    scope: &mut TenantScope,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<ActiveActors> {
    let s = scope.schema().clone();
    let tenant = scope.tenant().id.clone();
    let a = &s.mapping.audit_logs;
    s.require_keys(crate::mapping::Reads::Audit)?;
    if s.audit_masked("actor_id") {
        return Ok(ActiveActors {
            since,
            events_read: 0,
            capped: false,
            items: Vec::new(),
            masked: true,
        });
    }
    let filter = AuditFilter {
        since: Some(since),
        ..Default::default()
    };
    let email = match (
        &s.mapping.users,
        &s.tables.users,
        s.audit_masked("actor_email"),
    ) {
        (Some(u), Some(ut), false) => format!(
            "(SELECT {}::text FROM {} WHERE {} = r.actor)",
            col(&u.email),
            ut.name,
            col(&u.id)
        ),
        _ => "NULL::text".to_owned(),
    };
    // The newest events of the window, grouped: one walk of the tenant's time index (index-only where the
    // reference schema's covering index has the actor), no window function and nothing materialised.
    let mut qb = base_query(
        &s,
        &tenant,
        &filter,
        &format!(
            "SELECT r.actor::text, {email}, r.n, {last}, r.total FROM (\
               SELECT actor, count(*) AS n, max(at) AS last, sum(count(*)) OVER ()::int8 AS total FROM (\
                 SELECT e.{actor} AS actor, e.{at} AS at",
            last = s.audit_ts.select("r.last"),
            actor = col(&a.actor_id),
            at = col(&a.created_at),
        ),
    );
    qb.push(format!(
        " ORDER BY e.{at} DESC, e.{id} DESC LIMIT {window}) w GROUP BY actor) r \
          WHERE r.actor IS NOT NULL ORDER BY r.n DESC, r.last DESC LIMIT ",
        at = col(&a.created_at),
        id = col(&a.id),
        window = ACTIVE_ACTORS_WINDOW
    ));
    qb.push_bind(limit.clamp(1, 50));
    let rows = scope
        .statements()
        .built(&mut qb)
        .fetch_all(scope.conn())
        .await?;
    let mut read = 0;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        read = row.try_get::<i64, _>(4)?;
        items.push(ActorActivity {
            actor_id: row.try_get(0)?,
            email: row.try_get(1)?,
            events: row.try_get(2)?,
            last: row.try_get(3)?,
        });
    }
    // A full window: were there more events since then? One more step of the same index.
    let capped = if read >= ACTIVE_ACTORS_WINDOW {
        let mut qb = base_query(&s, &tenant, &filter, "SELECT EXISTS (SELECT 1");
        qb.push(format!(
            " ORDER BY e.{at} DESC, e.{id} DESC OFFSET {window} LIMIT 1)",
            at = col(&a.created_at),
            id = col(&a.id),
            window = ACTIVE_ACTORS_WINDOW
        ));
        scope
            .statements()
            .built_scalar::<bool>(&mut qb)
            .fetch_one(scope.conn())
            .await?
    } else {
        false
    };
    Ok(ActiveActors {
        since,
        events_read: read.min(ACTIVE_ACTORS_WINDOW),
        capped,
        items,
        masked: false,
    })
}

/// `<head> FROM audit e WHERE e.tenant = $1 AND <filters>`.
pub(crate) fn base_query<'a>(
    s: &Schema,
    tenant: &str,
    filter: &AuditFilter,
    head: &str,
) -> QueryBuilder<'a, Postgres> {
    let a = &s.mapping.audit_logs;
    let mut qb = QueryBuilder::<Postgres>::new(format!(
        "{head} FROM {} e WHERE e.{} = CAST(",
        s.tables.audit.name,
        col(&a.tenant_id)
    ));
    qb.push_bind(tenant.to_owned())
        .push(format!(" AS {})", s.tenant_id_type.cast()));
    filter.push_where(&mut qb, s, "e");
    qb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_in_three_forms() {
        assert_eq!(
            parse_time("2026-01-31").unwrap().to_rfc3339(),
            "2026-01-31T00:00:00+00:00"
        );
        assert_eq!(
            parse_time("2026-01-31T12:00:00+02:00")
                .unwrap()
                .to_rfc3339(),
            "2026-01-31T10:00:00+00:00"
        );
        let ago = Utc::now() - parse_time("30d").unwrap();
        assert!((ago.num_days() - 30).abs() <= 1);
    }

    #[test]
    fn unreadable_times_say_what_is_accepted() {
        for bad in [
            "yesterday",
            "2026-13-01",
            "-5d",
            "30x",
            "",
            "'; drop table x",
        ] {
            let e = parse_time(bad).unwrap_err();
            assert_eq!(e.kind(), "invalid_input");
            assert!(e.to_string().contains("30d"), "{e}");
        }
    }
}
