//! Browsing as the tenant. Every command names its tenant: the app is stateless about which tenant is open,
//! so a late response can be matched to (and dropped for) a tenant the user has already left.

use serde::Serialize;
use tauri::State;
use tenant_console_core::access::{self, AccessPage, AccessReason, Recorded};
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
#[derive(Serialize)]
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
    })
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
