//! Browsing as the tenant: tenants, one tenant's overview, members, roles, audit log, access history.

use clap::Args;
use serde::Serialize;
use serde_json::{json, Map, Value};
use tenant_console_core::access::{self, ReasonPolicy};
use tenant_console_core::audit::{self, parse_time, AuditFilter};
use tenant_console_core::tenants::{self, TenantQuery, TenantRow, TenantSort, TenantStats};
use tenant_console_core::{members, roles, Tenant};

use crate::ctx::{connect, Conn, Global};
use crate::output::{print_list, print_object, Failure, Listing};

/// Context fields every tenant-scoped output carries: the resolved tenant, and a warning when isolation
/// rests on the console's own predicates.
fn context(conn: &Conn, tenant: Option<&Tenant>) -> Map<String, Value> {
    let mut m = Map::new();
    if let Some(s) = conn.door.shard() {
        m.insert("fleet".into(), json!(s.fleet));
        m.insert("shard".into(), json!(s.shard));
    }
    if let Some(t) = tenant {
        m.insert(
            "tenant".into(),
            json!({"id": t.id(), "slug": t.slug(), "name": t.name()}),
        );
    }
    if conn.door.db().bypass_accepted() {
        let warning = format!(
            "row-level security does NOT apply to this login ({}); isolation rests on the console's own predicates only",
            conn.door.db().login().bypass_reasons().join("; ")
        );
        eprintln!("tenantctl: WARNING: {}", crate::output::safe(&warning));
        m.insert("isolation_warning".into(), Value::String(warning));
    }
    m
}

#[derive(Args, Debug)]
pub struct TenantsArgs {
    /// Substring of the slug or name (matched literally, case-insensitive), or an exact tenant id.
    #[arg(long)]
    pub search: Option<String>,
    /// Sort by name, slug (A to Z) or created_at (newest first).
    #[arg(long, default_value = "name")]
    pub sort: String,
    /// Rows per page (1-1000).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
    /// Also read each listed tenant's stats (members, audit events in the last 30 days, last activity),
    /// each inside that tenant's own scope.
    #[arg(long)]
    pub stats: bool,
    /// Continue after this cursor (the next_cursor of the previous page).
    /// Continue after this cursor (the next_cursor of the previous page).
    #[arg(long)]
    pub after: Option<String>,
}

/// A tenant row with its stats, when asked for.
#[derive(Serialize)]
struct TenantItem<'a> {
    #[serde(flatten)]
    row: &'a TenantRow,
    #[serde(skip_serializing_if = "Option::is_none")]
    stats: Option<&'a TenantStats>,
}

pub async fn tenants(g: &Global, a: TenantsArgs) -> Result<(), Failure> {
    let sort: TenantSort = a.sort.parse()?;
    let conn = connect(g).await?;
    // The list itself reads only the tenants table, but a console that reads as a superuser is not the tool
    // this is: the door refuses it the same way every tenant read is (exit 3), unless bypass was accepted.
    let page = conn
        .door
        .tenants(&TenantQuery {
            search: a.search,
            sort,
            limit: a.limit,
            after: a.after,
        })
        .await?;
    let stats = if a.stats {
        // Each tenant's numbers are its data: under a required reason, every listed tenant is opened with
        // the reason given (one access record each), or the stats are refused.
        let reason = conn.reason(g)?;
        if conn.door.policy() == ReasonPolicy::Required && reason.is_none() {
            return Err(Failure::usage(
                "this profile requires a reason to read a tenant: --stats reads every listed tenant, so give --reason CATEGORY:DETAIL (one access record per tenant)",
            ));
        }
        if reason.is_some() {
            for row in &page.items {
                conn.door.open(row.tenant.id(), reason.as_ref()).await?;
            }
        }
        let ids: Vec<String> = page
            .items
            .iter()
            .map(|r| r.tenant.id().to_owned())
            .collect();
        let rows = conn.door.stats(&ids).await?;
        Some(
            page.items
                .iter()
                .map(|r| {
                    rows.iter()
                        .find(|s| s.tenant_id == r.tenant.id())
                        .map(|s| s.stats.clone())
                })
                .collect::<Vec<_>>(),
        )
    } else {
        None
    };
    let items: Vec<TenantItem<'_>> = page
        .items
        .iter()
        .enumerate()
        .map(|(i, row)| TenantItem {
            row,
            stats: stats.as_ref().and_then(|s| s[i].as_ref()),
        })
        .collect();
    const COLUMNS: &[(&str, &str)] = &[
        ("id", "/id"),
        ("slug", "/slug"),
        ("name", "/name"),
        ("plan", "/plan"),
        ("status", "/status"),
        ("created_at", "/created_at"),
    ];
    const STATS_COLUMNS: &[(&str, &str)] = &[
        ("members", "/stats/members"),
        ("audit_30d", "/stats/audit_events_30d/value"),
        ("audit_30d_estimate", "/stats/audit_events_30d/is_estimate"),
        ("last_activity", "/stats/last_activity"),
    ];
    let columns: Vec<(&str, &str)> = if a.stats {
        COLUMNS.iter().chain(STATS_COLUMNS).copied().collect()
    } else {
        COLUMNS.to_vec()
    };
    print_list(
        g.format(),
        &Listing {
            items: &items,
            next_cursor: page.next_cursor.as_deref(),
            context: context(&conn, None),
            columns: &columns,
            masked: Vec::new(),
        },
    )
}

#[derive(Args, Debug)]
pub struct TenantArgs {
    /// Tenant id or slug.
    #[arg(long)]
    pub tenant: String,
}

pub async fn tenant(g: &Global, a: TenantArgs) -> Result<(), Failure> {
    let conn = connect(g).await?;
    let (opened, mut scope) = conn.open_scope(g, &a.tenant).await?;
    let tenant = opened.tenant;
    let stats = tenants::stats(&mut scope).await?;
    scope.finish().await?;
    let mut obj = context(&conn, Some(&tenant));
    obj.insert("id".into(), json!(tenant.id()));
    obj.insert(
        "stats".into(),
        serde_json::to_value(&stats).expect("serializes"),
    );
    print_object(g.format(), &Value::Object(obj))
}

#[derive(Args, Debug)]
pub struct MembersArgs {
    /// Tenant id or slug.
    #[arg(long)]
    pub tenant: String,
    /// Only members with this role.
    #[arg(long)]
    pub role: Option<String>,
    /// Substring of the member's email.
    #[arg(long)]
    pub email: Option<String>,
    /// Rows per page (1-1000).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
    /// Continue after this cursor (the next_cursor of the previous page).
    #[arg(long)]
    pub after: Option<String>,
    /// Order by: email, name, role or joined.
    #[arg(long, value_enum, default_value = "email")]
    pub sort: MemberSortArg,
    /// Reverse the order.
    #[arg(long)]
    pub desc: bool,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum MemberSortArg {
    Email,
    Name,
    Role,
    Joined,
}

pub async fn members(g: &Global, a: MembersArgs) -> Result<(), Failure> {
    let conn = connect(g).await?;
    let (opened, mut scope) = conn.open_scope(g, &a.tenant).await?;
    let tenant = opened.tenant;
    let page = members::list(
        &mut scope,
        &members::MemberQuery {
            role: a.role,
            email: a.email,
            limit: a.limit,
            after: a.after,
            sort: match a.sort {
                MemberSortArg::Email => members::MemberSort::Email,
                MemberSortArg::Name => members::MemberSort::Name,
                MemberSortArg::Role => members::MemberSort::Role,
                MemberSortArg::Joined => members::MemberSort::Joined,
            },
            descending: a.desc,
        },
    )
    .await?;
    let masked = conn
        .door
        .db()
        .schema()
        .member_masks()
        .into_iter()
        .map(|(f, _)| format!("/{f}"))
        .collect();
    scope.finish().await?;
    let mut ctx = context(&conn, Some(&tenant));
    ctx.insert("masked_columns".into(), json!(page.masked_columns));
    print_list(
        g.format(),
        &Listing {
            items: &page.items,
            next_cursor: page.next_cursor.as_deref(),
            context: ctx,
            columns: &[
                ("user_id", "/id"),
                ("email", "/email"),
                ("name", "/name"),
                ("role", "/role"),
                ("joined_at", "/joined_at"),
            ],
            masked,
        },
    )
}

pub async fn roles(g: &Global, a: TenantArgs) -> Result<(), Failure> {
    let conn = connect(g).await?;
    let (opened, mut scope) = conn.open_scope(g, &a.tenant).await?;
    let tenant = opened.tenant;
    let list = roles::list(&mut scope).await?;
    scope.finish().await?;
    print_list(
        g.format(),
        &Listing {
            items: &list,
            next_cursor: None,
            context: context(&conn, Some(&tenant)),
            columns: &[
                ("role", "/id"),
                ("builtin", "/builtin"),
                ("members", "/members"),
                ("permissions", "/permissions"),
                ("description", "/description"),
            ],
            masked: Vec::new(),
        },
    )
}

/// The audit filters, shared with `export-audit`.
#[derive(Args, Debug, Clone)]
pub struct FilterArgs {
    /// Events at or after this time: 2026-01-31, 2026-01-31T12:00:00Z, or an age like 30d, 12h.
    #[arg(long, help_heading = "Filters")]
    pub since: Option<String>,
    /// Events before this time (same forms as --since).
    #[arg(long, help_heading = "Filters")]
    pub until: Option<String>,
    /// Exact action (member.invited), or a prefix ending in '.' or '*' (member.).
    #[arg(long, help_heading = "Filters")]
    pub action: Option<String>,
    /// Actor user id or email.
    #[arg(long, help_heading = "Filters")]
    pub actor: Option<String>,
    /// Only events about this kind of resource (exact: member, project, invoice…).
    #[arg(long, help_heading = "Filters")]
    pub resource_type: Option<String>,
    /// Only events about this resource (its id, exact).
    #[arg(long, help_heading = "Filters")]
    pub resource_id: Option<String>,
}

impl FilterArgs {
    pub fn to_filter(&self) -> Result<AuditFilter, Failure> {
        Ok(AuditFilter {
            since: self.since.as_deref().map(parse_time).transpose()?,
            until: self.until.as_deref().map(parse_time).transpose()?,
            action: self.action.clone(),
            actor: self.actor.clone(),
            resource_type: self.resource_type.clone(),
            resource_id: self.resource_id.clone(),
        })
    }
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Tenant id or slug.
    #[arg(long)]
    pub tenant: String,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Rows per page (1-1000).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
    /// Continue after this cursor (the next_cursor of the previous page).
    #[arg(long)]
    pub after: Option<String>,
    /// Also count the matching events (exact up to 10,000, estimated beyond, and labelled so).
    #[arg(long)]
    pub count: bool,
    /// Oldest first (default: newest first).
    #[arg(long)]
    pub oldest_first: bool,
}

pub async fn audit(g: &Global, a: AuditArgs) -> Result<(), Failure> {
    let filter = a.filter.to_filter()?;
    let conn = connect(g).await?;
    let (opened, mut scope) = conn.open_scope(g, &a.tenant).await?;
    let tenant = opened.tenant;
    let page = audit::page_in_order(
        &mut scope,
        &filter,
        a.limit,
        a.after.as_deref(),
        a.oldest_first,
    )
    .await?;
    let count = if a.count {
        Some(audit::count(&mut scope, &filter).await?)
    } else {
        None
    };
    scope.finish().await?;
    let mut ctx = context(&conn, Some(&tenant));
    ctx.insert("masked_columns".into(), json!(page.masked_columns));
    if let Some(c) = count {
        ctx.insert("count".into(), json!(c.value));
        ctx.insert("count_is_estimate".into(), json!(c.is_estimate));
    }
    print_list(
        g.format(),
        &Listing {
            items: &page.items,
            next_cursor: page.next_cursor.as_deref(),
            context: ctx,
            columns: &[
                ("id", "/id"),
                ("occurred_at", "/occurred_at"),
                ("actor", "/actor_email"),
                ("action", "/action"),
                ("resource_type", "/resource_type"),
                ("resource_id", "/resource_id"),
                ("ip", "/ip"),
            ],
            masked: conn
                .door
                .db()
                .schema()
                .audit_masks()
                .into_iter()
                .map(|(f, _)| format!("/{f}"))
                .collect(),
        },
    )
}

#[derive(Args, Debug)]
pub struct AccessLogArgs {
    /// Tenant id or slug.
    #[arg(long)]
    pub tenant: String,
    /// Rows per page (1-1000).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
    /// Continue after this cursor (the next_cursor of the previous page).
    #[arg(long)]
    pub after: Option<String>,
}

pub async fn access_log(g: &Global, a: AccessLogArgs) -> Result<(), Failure> {
    let conn = connect(g).await?;
    let (opened, mut scope) = conn.open_scope(g, &a.tenant).await?;
    let tenant = opened.tenant;
    let page = access::history(&mut scope, a.limit, a.after.as_deref()).await?;
    scope.finish().await?;
    print_list(
        g.format(),
        &Listing {
            items: &page.items,
            next_cursor: page.next_cursor.as_deref(),
            context: context(&conn, Some(&tenant)),
            columns: &[
                ("at", "/at"),
                ("db_user", "/db_user"),
                ("os_user", "/os_user"),
                ("host", "/client_host"),
                ("category", "/category"),
                ("detail", "/detail"),
                ("action", "/action"),
            ],
            masked: Vec::new(),
        },
    )
}
