//! A tenant's members: user, email, role, joined; filtered by role, searched by email, in keyset pages.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{Postgres, QueryBuilder, Row};

use crate::cursor;
use crate::error::{Error, Result};
use crate::mapping::col;
use crate::scope::TenantScope;
use crate::tenants::{check_text, like_escape};

/// A query of a tenant's members.
#[derive(Clone, Debug, Default)]
pub struct MemberQuery {
    /// Only members with this role (exact).
    pub role: Option<String>,
    /// Substring of the email (case-insensitive, matched literally).
    pub email: Option<String>,
    pub limit: u32,
    pub after: Option<String>,
}

/// One member of a tenant.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Member {
    /// The user id (members are identified by their user).
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: String,
    pub joined_at: Option<DateTime<Utc>>,
}

/// A page of members, ordered by email (then user id).
#[derive(Clone, Debug, Serialize)]
pub struct MemberPage {
    pub items: Vec<Member>,
    pub next_cursor: Option<String>,
}

/// Reads one page of the tenant's members.
#[tracing::instrument(skip(scope), fields(tenant = %scope.tenant().id))]
pub async fn list(scope: &mut TenantScope, q: &MemberQuery) -> Result<MemberPage> {
    let s = scope.schema().clone();
    let m = &s.mapping.members;
    let limit = q.limit.clamp(1, 1000) as i64;
    let (email, name, join) = match (&s.mapping.users, &s.tables.users) {
        (Some(u), Some(ut)) => (
            format!("u.{}::text", col(&u.email)),
            u.name
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
        (Some(c), Some(ts)) => ts.select(&format!("m.{}", col(c))),
        _ => "NULL::timestamptz".into(),
    };
    let user_id = format!("m.{}::text", col(&m.user_id));
    let sort = format!("coalesce({email}, '')");
    let mut qb = QueryBuilder::<Postgres>::new(format!(
        "SELECT {user_id}, {email}, {name}, m.{}::text, {joined} FROM {} m{join} WHERE m.{} = CAST(",
        col(&m.role),
        s.tables.members.name,
        col(&m.tenant_id)
    ));
    qb.push_bind(scope.tenant().id.clone())
        .push(format!(" AS {})", s.tenant_id_type.cast()));
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
            .push(" ESCAPE '\\'");
    }
    if let Some(after) = &q.after {
        let parts = cursor::decode(after, "members", 2)?;
        qb.push(format!(" AND ({sort}, {user_id}) > ("))
            .push_bind(parts[0].clone())
            .push(", ")
            .push_bind(parts[1].clone())
            .push(")");
    }
    qb.push(format!(" ORDER BY {sort}, {user_id} LIMIT "))
        .push_bind(limit + 1);
    let rows = qb.build().fetch_all(scope.conn()).await?;
    let mut items = rows
        .iter()
        .map(|r| {
            Ok(Member {
                id: r.try_get(0)?,
                email: r.try_get(1)?,
                name: r.try_get(2)?,
                role: r.try_get(3)?,
                joined_at: r.try_get(4)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        let last = items.last().expect("limit >= 1");
        Some(cursor::encode(
            "members",
            &[last.email.as_deref().unwrap_or(""), &last.id],
        ))
    } else {
        None
    };
    Ok(MemberPage { items, next_cursor })
}
