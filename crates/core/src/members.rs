//! A tenant's members: user, email, role, joined; filtered by role, searched by email, in keyset pages.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{Postgres, QueryBuilder, Row};

use crate::cursor;
use crate::error::{Error, Result};
use crate::mapping::{Reads, Schema};
use crate::scope::TenantScope;
use crate::sql::col;
use crate::sql::{keyset_page, like_escape, tenant_eq, LIKE_ESCAPE};
use crate::tenants::check_text;

/// A query of a tenant's members.
#[derive(Clone, Debug, Default)]
pub struct MemberQuery {
    /// Only members with this role (exact).
    pub role: Option<String>,
    /// Substring of the email (case-insensitive, matched literally).
    pub email: Option<String>,
    pub limit: u32,
    pub after: Option<String>,
    /// The order (default: by email).
    pub sort: MemberSort,
    /// Reverse the order.
    pub descending: bool,
}

/// How members are ordered; each key then the user id, so the walk is total and a cursor is (key, id).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum MemberSort {
    #[default]
    Email,
    Name,
    Role,
    /// When they joined (members without a date first, ascending).
    Joined,
}

/// One member of a tenant.
#[derive(Clone, Debug, Serialize, PartialEq, ts_rs::TS)]
pub struct Member {
    /// The user id (members are identified by their user).
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    /// Null when masked (the login may not read the column).
    pub role: Option<String>,
    pub joined_at: Option<DateTime<Utc>>,
}

/// A page of members, in the query's order (then user id).
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct MemberPage {
    pub items: Vec<Member>,
    pub next_cursor: Option<String>,
    /// The columns this login may not read (`table.column`): their fields are null in every item.
    pub masked_columns: Vec<String>,
}

/// Reads one page of the tenant's members.
#[tracing::instrument(skip(scope), fields(tenant = %scope.tenant().id))]
pub async fn list(scope: &mut TenantScope, q: &MemberQuery) -> Result<MemberPage> {
    let s = scope.schema().clone();
    let m = &s.mapping.members;
    s.require_keys(Reads::Members)?;
    let masked_columns = s.masked_columns(Reads::Members);
    let limit = q.limit.clamp(1, 1000) as i64;
    // What the login may not read is read as null (masked); a search, filter or sort on it is refused.
    let email_col = s.user_column(|u| Some(&u.email));
    let name_col = s.user_column(|u| u.name.as_ref());
    let role_ok = Schema::can_read(&s.tables.members, &m.role);
    let joined_ok = m
        .created_at
        .as_ref()
        .is_some_and(|c| Schema::can_read(&s.tables.members, c));
    let refuse = |what: &str, column: String| {
        Error::InvalidInput(format!(
            "{what} needs {column}, which this login may not read (it is masked): choose another, or ask for SELECT on that column"
        ))
    };
    let users_name = s
        .mapping
        .users
        .as_ref()
        .map(|u| u.table.clone())
        .unwrap_or_default();
    // Sorting by a masked email or name sorts by nothing, and so by user id: allowed.
    if q.sort == MemberSort::Role && !role_ok {
        return Err(refuse("sorting by role", format!("{}.{}", m.table, m.role)));
    }
    if q.sort == MemberSort::Joined && m.created_at.is_some() && !joined_ok {
        return Err(refuse(
            "sorting by joined date",
            format!(
                "{}.{}",
                m.table,
                m.created_at.as_deref().unwrap_or_default()
            ),
        ));
    }
    if q.role.as_deref().is_some_and(|r| !r.is_empty()) && !role_ok {
        return Err(refuse("the role filter", format!("{}.{}", m.table, m.role)));
    }
    if q.email.as_deref().is_some_and(|t| !t.trim().is_empty())
        && email_col.is_none()
        && s.mapping.users.is_some()
    {
        let email = s
            .mapping
            .users
            .as_ref()
            .map(|u| u.email.clone())
            .unwrap_or_default();
        return Err(refuse("the email search", format!("{users_name}.{email}")));
    }
    let users_readable = s.users_readable();
    let (email, name, join) = match (&s.mapping.users, &s.tables.users, users_readable) {
        (Some(u), Some(ut), true) => (
            email_col
                .as_ref()
                .map(|e| format!("u.{}::text", col(e)))
                .unwrap_or_else(|| "NULL::text".into()),
            name_col
                .as_ref()
                .map(|n| format!("u.{}::text", col(n)))
                .unwrap_or_else(|| "NULL::text".into()),
            format!(
                " LEFT JOIN {} u ON u.{} = m.{}",
                ut.name,
                col(&u.id),
                col(&m.user_id)
            ),
        ),
        _ => ("NULL::text".into(), "NULL::text".into(), String::new()),
    };
    let joined = match (&m.created_at, s.members_ts) {
        (Some(c), Some(ts)) if joined_ok => ts.select(&format!("m.{}", col(c))),
        _ => "NULL::timestamptz".into(),
    };
    let user_id = format!("m.{}::text", col(&m.user_id));
    // The key in its own type (a date sorts as a date), its text for the cursor, and the cast back.
    let (sort, cast) = match q.sort {
        MemberSort::Email => (format!("coalesce({email}, '')"), "text".to_owned()),
        MemberSort::Name => (format!("coalesce({name}, '')"), "text".to_owned()),
        MemberSort::Role => (format!("m.{}::text", col(&m.role)), "text".to_owned()),
        MemberSort::Joined => match (&m.created_at, s.members_ts) {
            (Some(c), Some(ts)) => {
                let ty = match ts {
                    crate::mapping::TsType::WithZone => "timestamptz",
                    crate::mapping::TsType::WithoutZone => "timestamp",
                };
                (
                    format!("coalesce(m.{}, '-infinity'::{ty})", col(c)),
                    ty.to_owned(),
                )
            }
            _ => {
                return Err(Error::InvalidInput(
                    "members have no joined date to sort by (the mapping names none)".into(),
                ))
            }
        },
    };
    let kind = format!("members:{:?}:{}", q.sort, q.descending);
    let role = if role_ok {
        format!("m.{}::text", col(&m.role))
    } else {
        "NULL::text".to_owned()
    };
    let mut qb = QueryBuilder::<Postgres>::new(format!(
        "SELECT {user_id} AS id, {email} AS email, {name} AS name, {role} AS role, {joined} AS joined_at,
                ({sort})::text AS sort_key
           FROM {} m{join} WHERE ",
        s.tables.members.name,
    ));
    tenant_eq(
        &mut qb,
        &format!("m.{}", col(&m.tenant_id)),
        &scope.tenant().id,
        s.tenant_id_type,
    );
    if let Some(role) = q.role.as_deref().filter(|r| !r.is_empty()) {
        check_text("role filter", role, 200)?;
        qb.push(format!(" AND m.{}::text = ", col(&m.role)))
            .push_bind(role.to_owned());
    }
    if let Some(text) = q.email.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        check_text("email search", text, 200)?;
        if s.mapping.users.is_none() {
            return Err(Error::InvalidInput(
                "users are not mapped: no email to search".into(),
            ));
        }
        qb.push(format!(" AND {email} ILIKE "))
            .push_bind(format!("%{}%", like_escape(text)))
            .push(LIKE_ESCAPE);
    }
    let (past, dir) = if q.descending {
        ("<", " DESC")
    } else {
        (">", "")
    };
    if let Some(after) = &q.after {
        let parts = cursor::decode(after, &kind, 2)?;
        // A date key must read as one (PostgreSQL's own text of it), or the cursor was not ours.
        if q.sort == MemberSort::Joined
            && parts[0] != "-infinity"
            && parts[0]
                .get(..19)
                .and_then(|t| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").ok())
                .is_none()
        {
            return Err(cursor::invalid(after));
        }
        qb.push(format!(" AND ({sort}, {user_id}) {past} (CAST("))
            .push_bind(parts[0].clone())
            .push(format!(" AS {cast}), "))
            .push_bind(parts[1].clone())
            .push(")");
    }
    qb.push(format!(" ORDER BY {sort}{dir}, {user_id}{dir} LIMIT "))
        .push_bind(limit + 1);
    let rows = scope
        .statements()
        .built(&mut qb)
        .fetch_all(scope.conn())
        .await?;
    let items = rows
        .iter()
        .map(|r| {
            Ok(Member {
                id: r.try_get("id")?,
                email: r.try_get("email")?,
                name: r.try_get("name")?,
                role: r.try_get("role")?,
                joined_at: r.try_get("joined_at")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    // The sort key of the page's last row (the one the next page starts after), as the server wrote it.
    let last_key = match rows.get(limit as usize - 1) {
        Some(r) => r
            .try_get::<Option<String>, _>("sort_key")?
            .unwrap_or_default(),
        None => String::new(),
    };
    let (items, next_cursor) = keyset_page(items, limit as usize, |last| {
        cursor::encode(&kind, &[&last_key, &last.id])
    });
    Ok(MemberPage {
        items,
        next_cursor,
        masked_columns,
    })
}
