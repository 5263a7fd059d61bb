//! Browsing as the tenant. Every command names its tenant: the app is stateless about which tenant is open,
//! so a late response can be matched to (and dropped for) a tenant the user has already left.

use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;
use tenant_console_core::access::consent::{ConsentChange, Request, Watch};
use tenant_console_core::access::{
    self, AccessPage, AccessReason, AccessStatus, Approval, ConsentScope, Recorded,
};
use tenant_console_core::audit::{self, AuditFilter, AuditPage};
use tenant_console_core::members::{self, MemberPage, MemberQuery};
use tenant_console_core::roles::{self, Role};
use tenant_console_core::tenants::{
    self, Count, TenantPage, TenantQuery, TenantSort, TenantStats, TenantStatsRow,
};
use tenant_console_core::Tenant;

use crate::error::CmdResult;
use crate::state::AppState;

#[tauri::command]
pub async fn tenants_search(
    state: State<'_, AppState>,
    profile_id: String,
    search: Option<String>,
    sort: Option<TenantSort>,
    after: Option<String>,
    limit: Option<u32>,
) -> CmdResult<TenantPage> {
    let q = TenantQuery {
        search,
        sort: sort.unwrap_or_default(),
        limit: limit.unwrap_or(50),
        after,
    };
    Ok(state.door(&profile_id)?.tenants(&q).await?)
}

/// Stats for the rows of the tenant list (asked after the page is shown, so searching never waits for them).
/// Under a required reason, only tenants opened with a reason in this session have their numbers read.
#[tauri::command]
pub async fn tenants_stats(
    state: State<'_, AppState>,
    profile_id: String,
    tenants: Vec<String>,
) -> CmdResult<Vec<TenantStatsRow>> {
    Ok(state.door(&profile_id)?.stats(&tenants).await?)
}

/// An opened tenant: who it is, its stats, whether the access was recorded, and how long the reason lasts.
#[derive(Serialize, ts_rs::TS)]
pub struct TenantOverview {
    pub tenant: Tenant,
    /// Status, plan and creation date (each absent when the mapping has no such column).
    pub status: Option<String>,
    pub plan: Option<String>,
    pub created_at: Option<chrono::DateTime<chrono::Utc>>,
    pub stats: TenantStats,
    pub recorded: Option<Recorded>,
    pub record_id: Option<String>,
    pub grant_seconds: Option<u64>,
    /// The tenant's live approval that let it open (a tenant that requires consent): the page shows the time
    /// it has left and closes the tenant when it ends.
    pub approval: Option<Approval>,
}

#[tauri::command]
pub async fn tenant_open(
    state: State<'_, AppState>,
    profile_id: String,
    tenant: String,
    reason: Option<AccessReason>,
) -> CmdResult<TenantOverview> {
    let door = state.door(&profile_id)?;
    let (opened, mut scope) = door.open_scope(&tenant, reason.as_ref()).await?;
    let stats = tenants::stats(&mut scope).await?;
    scope.finish().await?;
    Ok(TenantOverview {
        tenant: opened.tenant,
        status: opened.status,
        plan: opened.plan,
        created_at: opened.created_at,
        stats,
        recorded: opened.recorded,
        record_id: opened.record_id,
        grant_seconds: opened.grant_seconds,
        approval: opened.approval,
    })
}

/// A request for access written for a tenant that requires its approval.
#[derive(Serialize, ts_rs::TS)]
pub struct AccessRequested {
    pub tenant: Tenant,
    pub request: Request,
}

/// Asks a tenant that requires its approval for access (the reason is always required).
#[tauri::command]
pub async fn access_request(
    state: State<'_, AppState>,
    profile_id: String,
    tenant: String,
    reason: AccessReason,
    minutes: u32,
    scope: Option<ConsentScope>,
) -> CmdResult<AccessRequested> {
    let (tenant, request) = state
        .door(&profile_id)?
        .request_access(&tenant, &reason, minutes, scope.unwrap_or_default())
        .await?;
    Ok(AccessRequested { tenant, request })
}

/// Where this login stands with a tenant: not required, none, pending, approved, expired or revoked.
#[tauri::command]
pub async fn access_status(
    state: State<'_, AppState>,
    profile_id: String,
    tenant: String,
) -> CmdResult<AccessStatus> {
    Ok(state.door(&profile_id)?.access_status(&tenant).await?)
}

/// Sends each announced change of an approval on `on_change` (LISTEN) until the window goes or the
/// connection ends. Returns false where LISTEN cannot work (no consent mapped, a pooler in transaction mode):
/// the page polls `access_status` then.
#[tauri::command]
pub async fn access_watch(
    state: State<'_, AppState>,
    profile_id: String,
    on_change: Channel<ConsentChange>,
) -> CmdResult<bool> {
    let door = state.door(&profile_id)?;
    let Some(mut watch) = Watch::start(door.db()).await? else {
        return Ok(false);
    };
    drop(door);
    let task = tauri::async_runtime::spawn(async move {
        // A payload the console does not read still means "something changed": refresh (empty tenant id).
        while let Ok(change) = watch.next().await {
            let change = change.unwrap_or(ConsentChange {
                tenant_id: String::new(),
            });
            if on_change.send(change).is_err() {
                break;
            }
        }
    });
    // Stopped (its LISTEN connection closed) when the profile disconnects.
    state.keep_watch(&profile_id, task);
    Ok(true)
}

#[allow(clippy::too_many_arguments)]
#[tauri::command]
pub async fn members_page(
    state: State<'_, AppState>,
    profile_id: String,
    tenant: String,
    role: Option<String>,
    email: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
    sort: Option<tenant_console_core::members::MemberSort>,
    descending: Option<bool>,
) -> CmdResult<MemberPage> {
    let mut scope = state.door(&profile_id)?.scope(&tenant).await?;
    let q = MemberQuery {
        role,
        email,
        limit: limit.unwrap_or(100),
        after,
        sort: sort.unwrap_or_default(),
        descending: descending.unwrap_or(false),
    };
    let page = members::list(&mut scope, &q).await?;
    scope.finish().await?;
    Ok(page)
}

#[tauri::command]
pub async fn roles_list(
    state: State<'_, AppState>,
    profile_id: String,
    tenant: String,
) -> CmdResult<Vec<Role>> {
    let mut scope = state.door(&profile_id)?.scope(&tenant).await?;
    let list = roles::list(&mut scope).await?;
    scope.finish().await?;
    Ok(list)
}

#[tauri::command]
pub async fn audit_page(
    state: State<'_, AppState>,
    profile_id: String,
    tenant: String,
    filter: AuditFilter,
    after: Option<String>,
    limit: Option<u32>,
    oldest_first: Option<bool>,
) -> CmdResult<AuditPage> {
    let mut scope = state.door(&profile_id)?.scope(&tenant).await?;
    let page = audit::page_in_order(
        &mut scope,
        &filter,
        limit.unwrap_or(100),
        after.as_deref(),
        oldest_first.unwrap_or(false),
    )
    .await?;
    scope.finish().await?;
    Ok(page)
}

/// The tenant at a glance: the newest events, the most active actors and failed sign-ins of the last 30 days,
/// and the latest support accesses, in one read-only scope.
#[tauri::command]
pub async fn tenant_glance(
    state: State<'_, AppState>,
    profile_id: String,
    tenant: String,
) -> CmdResult<tenant_console_core::glance::Glance> {
    let mut scope = state.door(&profile_id)?.scope(&tenant).await?;
    let glance = tenant_console_core::glance::glance(&mut scope, chrono::Utc::now()).await?;
    scope.finish().await?;
    Ok(glance)
}

#[tauri::command]
pub async fn audit_count(
    state: State<'_, AppState>,
    profile_id: String,
    tenant: String,
    filter: AuditFilter,
) -> CmdResult<Count> {
    let mut scope = state.door(&profile_id)?.scope(&tenant).await?;
    let count = audit::count(&mut scope, &filter).await?;
    scope.finish().await?;
    Ok(count)
}

#[tauri::command]
pub async fn access_history(
    state: State<'_, AppState>,
    profile_id: String,
    tenant: String,
    after: Option<String>,
) -> CmdResult<AccessPage> {
    let mut scope = state.door(&profile_id)?.scope(&tenant).await?;
    let page = access::history(&mut scope, 100, after.as_deref()).await?;
    scope.finish().await?;
    Ok(page)
}
