//! Consent the database enforces: a tenant that requires its own approval before the vendor's support reads
//! its data.
//!
//! The tenant says so in its row (`support_consent = 'required'` in the reference schema). The console asks
//! by writing a request ([`request`]: the login may insert requests, nothing else); the SaaS application writes
//! the tenant admin's answer as an approval, for one database role (the `grantee`, compared with
//! `session_user`), until a time, revocable. A RESTRICTIVE policy on every tenant table lets rows through to the
//! support login only while such an approval is live, so the database refuses even a client that is not this
//! console. The door ([`super::Door`]) refuses earlier and in words (`consent_required`), before anything is
//! read, and checks the approval's scope (`export` for an export) which the database cannot tell from a read.
//!
//! [`status`] says where the login stands with a tenant; [`Watch`] wakes the app when an approval is written
//! or revoked (`LISTEN` on the mapping's channel; behind a pooler in transaction mode LISTEN is impossible and
//! the app polls [`status`] instead).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Row};

use super::{os_user, AccessReason};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::mapping::Schema;
use crate::scope::Tenant;

/// What an approval allows: reading the tenant in the console, or exporting its audit log too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum ConsentScope {
    #[default]
    Read,
    Export,
}

impl ConsentScope {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentScope::Read => "read",
            ConsentScope::Export => "export",
        }
    }

    /// Whether an approval of this scope covers `need` (an export approval covers reading too).
    pub fn covers(self, need: ConsentScope) -> bool {
        self == ConsentScope::Export || need == ConsentScope::Read
    }
}

impl std::str::FromStr for ConsentScope {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "read" => Ok(ConsentScope::Read),
            "export" => Ok(ConsentScope::Export),
            other => Err(Error::InvalidInput(format!(
                "unknown access scope {other:?}: use read or export"
            ))),
        }
    }
}

/// The longest access a request may ask for: one week.
pub const MAX_MINUTES: u32 = 7 * 24 * 60;

/// A tenant's approval for this login.
#[derive(Clone, Debug, Serialize, PartialEq, ts_rs::TS)]
pub struct Approval {
    pub id: String,
    pub request_id: Option<String>,
    pub approved_by: String,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub scope: ConsentScope,
    pub created_at: DateTime<Utc>,
}

/// A request the console wrote.
#[derive(Clone, Debug, Serialize, PartialEq, ts_rs::TS)]
pub struct Request {
    pub id: String,
    pub db_user: String,
    pub category: String,
    pub detail: String,
    pub minutes: i32,
    pub scope: ConsentScope,
    pub created_at: DateTime<Utc>,
}

/// Where the login stands with a tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    /// The tenant does not require approval: reads need none.
    NotRequired,
    /// Required, and never asked.
    None,
    /// Asked, not answered yet.
    Pending,
    /// A live approval.
    Approved,
    /// The newest approval ran out.
    Expired,
    /// The newest approval was revoked.
    Revoked,
}

/// The answer of `tenantctl access status` and the app's consent banner.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct AccessStatus {
    pub tenant: Tenant,
    pub state: ConsentState,
    pub consent_required: bool,
    /// The approval the state is about (the live one, or the newest when none is live).
    pub approval_id: Option<String>,
    pub approved_by: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub scope: Option<ConsentScope>,
    /// Seconds the live approval has left.
    pub seconds_left: Option<i64>,
    /// The newest request of this login.
    pub request: Option<Request>,
    /// The database's clock when this was read.
    pub as_of: DateTime<Utc>,
}

fn parse_scope(s: &str) -> ConsentScope {
    // The schema's CHECK allows only these two; anything else is read as the narrower one.
    if s == "export" {
        ConsentScope::Export
    } else {
        ConsentScope::Read
    }
}

async fn set_tenant(conn: &mut PgConnection, schema: &Schema, tenant: &Tenant) -> Result<()> {
    crate::sql::query("SELECT set_config($1, $2, true)")
        .bind(schema.setting())
        .bind(&tenant.id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The live approval of `tenant` for this login covering `need`, read on `conn` (a transaction the tenant is
/// set in). The newest-expiring one wins.
pub(crate) async fn live_approval(
    conn: &mut PgConnection,
    schema: &Schema,
    tenant: &Tenant,
    need: ConsentScope,
) -> Result<Option<Approval>> {
    let Some(c) = &schema.consent else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT id::text AS id, request_id::text AS request_id, approved_by, expires_at, revoked_at, scope::text AS scope, created_at
           FROM {} WHERE tenant_id = CAST($1 AS {}) AND grantee = session_user
            AND revoked_at IS NULL AND expires_at > now() AND ($2 = 'read' OR scope = 'export')
          ORDER BY expires_at DESC LIMIT 1",
        c.approvals.name,
        schema.tenant_id_type.cast()
    );
    let row = crate::sql::query(&sql)
        .bind(&tenant.id)
        .bind(need.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| approval_from(&r)).transpose()
}

fn approval_from(r: &sqlx::postgres::PgRow) -> Result<Approval> {
    Ok(Approval {
        id: r.try_get("id")?,
        request_id: r.try_get("request_id")?,
        approved_by: r.try_get("approved_by")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
        scope: parse_scope(&r.try_get::<String, _>("scope")?),
        created_at: r.try_get("created_at")?,
    })
}

/// Refuses, before anything is read, a read of a tenant that requires consent without a live approval
/// covering `need`; returns the approval that allows it. `conn` is a transaction the tenant is set in.
pub(crate) async fn gate(
    conn: &mut PgConnection,
    schema: &Schema,
    tenant: &Tenant,
    need: ConsentScope,
) -> Result<Approval> {
    if let Some(a) = live_approval(conn, schema, tenant, need).await? {
        return Ok(a);
    }
    let st = read_status(conn, schema, tenant, true).await?;
    let now = match st.state {
        ConsentState::Approved => format!(
            "the approval that is live covers reading only, not an export ({})",
            st.approval_id.as_deref().unwrap_or("?")
        ),
        ConsentState::Pending => "a request is waiting for the tenant's answer".to_owned(),
        ConsentState::Expired => format!(
            "the last approval expired at {}",
            st.expires_at
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default()
        ),
        ConsentState::Revoked => "the last approval was revoked by the tenant".to_owned(),
        ConsentState::None | ConsentState::NotRequired => "nothing has been asked yet".to_owned(),
    };
    let scope = if need == ConsentScope::Export {
        " --scope export"
    } else {
        ""
    };
    Err(Error::ConsentRequired(format!(
        "tenant {} requires its own approval before support reads its data, and none is live for this login ({now}); nothing was read. Ask with `tenantctl access request --tenant {} --reason CATEGORY:DETAIL --minutes 60{scope}` or \"Request access\" in the app; the tenant's admins approve it in the product",
        tenant.label(),
        tenant.label()
    )))
}

/// Where the login stands with `tenant` (`required`: what its row says).
pub(crate) async fn read_status(
    conn: &mut PgConnection,
    schema: &Schema,
    tenant: &Tenant,
    required: bool,
) -> Result<AccessStatus> {
    let mut st = AccessStatus {
        tenant: tenant.clone(),
        state: ConsentState::NotRequired,
        consent_required: required,
        approval_id: None,
        approved_by: None,
        expires_at: None,
        revoked_at: None,
        scope: None,
        seconds_left: None,
        request: None,
        as_of: Utc::now(),
    };
    let Some(c) = &schema.consent else {
        return Ok(st);
    };
    let cast = schema.tenant_id_type.cast();
    st.as_of = crate::sql::query_scalar("SELECT now()")
        .fetch_one(&mut *conn)
        .await?;
    // The live approval with the latest expiry, else the newest approval.
    let sql = format!(
        "SELECT id::text AS id, request_id::text AS request_id, approved_by, expires_at, revoked_at, scope::text AS scope, created_at
           FROM {} WHERE tenant_id = CAST($1 AS {cast}) AND grantee = session_user
          ORDER BY (revoked_at IS NULL AND expires_at > now()) DESC,
                   CASE WHEN revoked_at IS NULL AND expires_at > now() THEN expires_at END DESC NULLS LAST,
                   created_at DESC, id DESC
          LIMIT 1",
        c.approvals.name
    );
    let approval = crate::sql::query(&sql)
        .bind(&tenant.id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| approval_from(&r))
        .transpose()?;
    let sql = format!(
        "SELECT id::text AS id, db_user::text AS db_user, category::text AS category, detail::text AS detail,
                minutes::int4 AS minutes, scope::text AS scope, created_at
           FROM {} WHERE tenant_id = CAST($1 AS {cast}) AND db_user = session_user
          ORDER BY created_at DESC, id DESC LIMIT 1",
        c.requests.name
    );
    let request = crate::sql::query(&sql)
        .bind(&tenant.id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| -> Result<Request> {
            Ok(Request {
                id: r.try_get("id")?,
                db_user: r.try_get("db_user")?,
                category: r.try_get("category")?,
                detail: r.try_get("detail")?,
                minutes: r.try_get("minutes")?,
                scope: parse_scope(&r.try_get::<String, _>("scope")?),
                created_at: r.try_get("created_at")?,
            })
        })
        .transpose()?;
    if !required {
        st.request = request;
        return Ok(st);
    }
    let live = approval
        .as_ref()
        .is_some_and(|a| a.revoked_at.is_none() && a.expires_at > st.as_of);
    // A request newer than the newest answer is waiting (unless an approval is live anyway).
    let answered = |r: &Request| {
        approval.as_ref().is_some_and(|a| {
            a.request_id.as_deref() == Some(r.id.as_str()) || a.created_at >= r.created_at
        })
    };
    st.state = match (&approval, &request) {
        _ if live => ConsentState::Approved,
        (_, Some(r)) if !answered(r) => ConsentState::Pending,
        (Some(a), _) if a.revoked_at.is_some() => ConsentState::Revoked,
        (Some(_), _) => ConsentState::Expired,
        (None, _) => ConsentState::None,
    };
    if let Some(a) = &approval {
        st.approval_id = Some(a.id.clone());
        st.approved_by = Some(a.approved_by.clone());
        st.expires_at = Some(a.expires_at);
        st.revoked_at = a.revoked_at;
        st.scope = Some(a.scope);
        if live {
            st.seconds_left = Some((a.expires_at - st.as_of).num_seconds().max(0));
        }
    }
    st.request = request;
    Ok(st)
}

/// Where the login stands with `tenant`, read in a short read-only transaction with the tenant set.
pub(crate) async fn status(db: &Db, tenant: &Tenant, required: bool) -> Result<AccessStatus> {
    let mut tx = db.read_tx().await?;
    set_tenant(&mut tx, db.schema(), tenant).await?;
    let st = read_status(&mut tx, db.schema(), tenant, required).await?;
    tx.commit().await?;
    Ok(st)
}

/// [`gate`] in a short read-only transaction of its own, with the tenant set.
pub(crate) async fn gate_now(db: &Db, tenant: &Tenant, need: ConsentScope) -> Result<Approval> {
    let mut tx = db.read_tx().await?;
    set_tenant(&mut tx, db.schema(), tenant).await?;
    let approval = gate(&mut tx, db.schema(), tenant, need).await?;
    tx.commit().await?;
    Ok(approval)
}

/// [`live_approval`] in a short read-only transaction of its own, with the tenant set.
pub(crate) async fn live_approval_now(
    db: &Db,
    tenant: &Tenant,
    need: ConsentScope,
) -> Result<Option<Approval>> {
    let mut tx = db.read_tx().await?;
    set_tenant(&mut tx, db.schema(), tenant).await?;
    let approval = live_approval(&mut tx, db.schema(), tenant, need).await?;
    tx.commit().await?;
    Ok(approval)
}

/// Writes a request for access to `tenant` on `db` (the primary, where records go) and returns it.
pub(crate) async fn request(
    db: &Db,
    tenant: &Tenant,
    reason: &AccessReason,
    minutes: u32,
    scope: ConsentScope,
) -> Result<Request> {
    let schema = db.schema();
    let Some(c) = &schema.consent else {
        return Err(Error::Mapping(
            "this database keeps no consent tables (the mapping names no [consent]): there is nothing to request; docs/isolation.md has the SQL that adds them".into(),
        ));
    };
    if minutes == 0 || minutes > MAX_MINUTES {
        return Err(Error::InvalidInput(format!(
            "ask for 1 to {MAX_MINUTES} minutes of access (a week at most)"
        )));
    }
    let mut tx = db.write_tx().await?;
    set_tenant(&mut tx, schema, tenant).await?;
    let sql = format!(
        "INSERT INTO {} (tenant_id, os_user, category, detail, minutes, scope)
         VALUES (CAST($1 AS {}), $2, $3, $4, $5, $6)
         RETURNING id::text AS id, db_user::text AS db_user, category::text AS category, detail::text AS detail,
                   minutes::int4 AS minutes, scope::text AS scope, created_at",
        c.requests.name,
        schema.tenant_id_type.cast()
    );
    let row = crate::sql::query(&sql)
        .bind(&tenant.id)
        .bind(os_user())
        .bind(reason.category().as_str())
        .bind(reason.detail())
        .bind(minutes as i32)
        .bind(scope.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match Error::from(e) {
            Error::PermissionDenied(_) => Error::PermissionDenied(format!(
                "write a request to {} (GRANT INSERT (tenant_id, os_user, category, detail, minutes, scope) ON it TO the console's login)",
                c.requests.name
            )),
            other => other,
        })?;
    let req = Request {
        id: row.try_get("id")?,
        db_user: row.try_get("db_user")?,
        category: row.try_get("category")?,
        detail: row.try_get("detail")?,
        minutes: row.try_get("minutes")?,
        scope: parse_scope(&row.try_get::<String, _>("scope")?),
        created_at: row.try_get("created_at")?,
    };
    tx.commit().await?;
    tracing::info!(request = %req.id, tenant = %tenant.id, "access requested");
    Ok(req)
}

/// A change of an approval, as announced on the channel.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct ConsentChange {
    /// The tenant whose approvals changed (as text).
    pub tenant_id: String,
}

/// Wakes a waiting console when an approval is written or revoked: `LISTEN` on the mapping's channel.
pub struct Watch {
    listener: sqlx::postgres::PgListener,
}

impl Watch {
    /// Listens on `db`'s consent channel; `None` where that cannot work (no consent mapped, or a pooler in
    /// transaction mode, where a LISTEN would sit on a server connection other clients share): poll
    /// [`super::Door::access_status`] then.
    pub async fn start(db: &Db) -> Result<Option<Watch>> {
        let Some(c) = &db.schema().consent else {
            return Ok(None);
        };
        if db.statements() == crate::sql::Statements::Unnamed {
            return Ok(None);
        }
        let options = db.connect_options().await?;
        let mut listener = sqlx::postgres::PgListener::connect_with(
            &sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect_lazy_with(options),
        )
        .await?;
        listener.listen(&c.channel).await?;
        Ok(Some(Watch { listener }))
    }

    /// The next change (its tenant); `None` when the payload is not one the reference schema sends (the
    /// caller then refreshes whatever it shows).
    pub async fn next(&mut self) -> Result<Option<ConsentChange>> {
        let n = self.listener.recv().await?;
        Ok(serde_json::from_str::<serde_json::Value>(n.payload())
            .ok()
            .and_then(|v| {
                let id = v.get("tenant_id")?;
                Some(ConsentChange {
                    tenant_id: id
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| id.to_string()),
                })
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_approval_covers_reading_and_a_read_approval_does_not_cover_an_export() {
        assert!(ConsentScope::Export.covers(ConsentScope::Read));
        assert!(ConsentScope::Export.covers(ConsentScope::Export));
        assert!(ConsentScope::Read.covers(ConsentScope::Read));
        assert!(!ConsentScope::Read.covers(ConsentScope::Export));
        assert_eq!(
            "export".parse::<ConsentScope>().unwrap(),
            ConsentScope::Export
        );
        assert_eq!(
            "write".parse::<ConsentScope>().unwrap_err().kind(),
            "invalid_input"
        );
    }
}
