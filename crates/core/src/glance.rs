//! The tenant at a glance: what a support person looks at first, read in one scope (one read-only transaction
//! as the tenant): the newest events, who was most active in the last 30 days, failed sign-ins, and the latest
//! support accesses. Every part is a bounded walk of an index (the tenant's time index, its action index, the
//! access log's), so it is as quick on a tenant of millions of events as on a small one.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::access::{self, AccessEntry};
use crate::audit::{self, ActiveActors, AuditEvent, AuditFilter};
use crate::error::Result;
use crate::scope::TenantScope;
use crate::tenants::Count;

/// How many of each the glance shows.
pub const LATEST_EVENTS: u32 = 20;
pub const ACTIVE_ACTORS: i64 = 5;
pub const FAILED_LOGINS_SHOWN: u32 = 5;
pub const ACCESSES_SHOWN: u32 = 5;
/// The window of "recent" for the actors and the failed sign-ins.
pub const RECENT_DAYS: i64 = 30;

#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct FailedLogins {
    /// The action they are logged with (the mapping's `failed_login_action`).
    pub action: String,
    pub since: DateTime<Utc>,
    /// How many since then (exact up to the count cap, else estimated and labelled so).
    pub count: Count,
    /// The newest of them.
    pub latest: Vec<AuditEvent>,
    /// The action column is masked for this login: failed sign-ins cannot be told from other events.
    pub masked: bool,
}

#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct Glance {
    /// The newest events, newest first.
    pub latest: Vec<AuditEvent>,
    pub active_actors: ActiveActors,
    pub failed_logins: FailedLogins,
    /// The newest support accesses (empty where the database has no access log).
    pub recent_access: Vec<AccessEntry>,
    /// The columns this login may not read (`table.column`): null wherever they would show.
    pub masked_columns: Vec<String>,
    /// "Now" for the relative parts.
    pub as_of: DateTime<Utc>,
}

/// Reads the glance in `scope`, "recent" ending at `now`.
pub async fn glance(scope: &mut TenantScope, now: DateTime<Utc>) -> Result<Glance> {
    let since = now - Duration::days(RECENT_DAYS);
    let latest = audit::page(scope, &AuditFilter::default(), LATEST_EVENTS, None)
        .await?
        .items;
    let active_actors = audit::active_actors(scope, since, ACTIVE_ACTORS).await?;
    let action = scope
        .schema()
        .mapping
        .audit_logs
        .failed_login_action
        .clone();
    let failed = AuditFilter {
        since: Some(since),
        action: Some(action.clone()),
        ..Default::default()
    };
    let action_masked = scope.schema().audit_masked("action");
    let (count, failed_latest) = if action_masked {
        (
            Count {
                value: 0,
                is_estimate: false,
            },
            Vec::new(),
        )
    } else {
        (
            audit::count(scope, &failed).await?,
            audit::page(scope, &failed, FAILED_LOGINS_SHOWN, None)
                .await?
                .items,
        )
    };
    let recent_access = if scope.schema().tables.access_log.is_some() {
        access::history(scope, ACCESSES_SHOWN, None).await?.items
    } else {
        Vec::new()
    };
    Ok(Glance {
        latest,
        active_actors,
        failed_logins: FailedLogins {
            action,
            since,
            count,
            latest: failed_latest,
            masked: action_masked,
        },
        recent_access,
        masked_columns: scope.schema().masked_columns(crate::mapping::Reads::Audit),
        as_of: now,
    })
}
