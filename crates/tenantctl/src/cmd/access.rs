//! Consent the database enforces: asking a tenant for access, and where this login stands with it.

use clap::{Args, Subcommand};
use serde_json::json;
use tenant_console_core::access::consent::MAX_MINUTES;
use tenant_console_core::access::ConsentScope;

use crate::ctx::{connect, Global};
use crate::output::{print_object, Failure};

#[derive(Subcommand, Debug)]
pub enum AccessCmd {
    /// Ask a tenant that requires its approval for access: writes a request (with --reason) that the
    /// tenant's admins answer in the product. Nothing is read until they approve.
    Request(RequestArgs),
    /// Where this login stands with a tenant: not_required, none, pending, approved (by whom, until when),
    /// expired or revoked.
    Status(StatusArgs),
}

#[derive(Args, Debug)]
pub struct RequestArgs {
    /// Tenant id or slug.
    #[arg(long)]
    pub tenant: String,
    /// How long the access is asked for, in minutes (1 to 10080, a week).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=MAX_MINUTES as i64))]
    pub minutes: u32,
    /// What the access is for: read (browse the tenant) or export (its audit log too).
    #[arg(long, value_enum, default_value = "read")]
    pub scope: ScopeArg,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ScopeArg {
    Read,
    Export,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Tenant id or slug.
    #[arg(long)]
    pub tenant: String,
}

pub async fn run(g: &Global, c: AccessCmd) -> Result<(), Failure> {
    match c {
        AccessCmd::Request(a) => request(g, a).await,
        AccessCmd::Status(a) => status(g, a).await,
    }
}

async fn request(g: &Global, a: RequestArgs) -> Result<(), Failure> {
    let conn = connect(g).await?;
    let Some(reason) = conn.reason(g)? else {
        return Err(Failure::usage(
            "say why you ask: --reason CATEGORY:DETAIL (e.g. support-ticket:ZD-1234); the tenant's admins read it when they decide",
        ));
    };
    let scope = match a.scope {
        ScopeArg::Read => ConsentScope::Read,
        ScopeArg::Export => ConsentScope::Export,
    };
    let (tenant, req) = conn
        .door
        .request_access(&a.tenant, &reason, a.minutes, scope)
        .await?;
    print_object(
        g.format(),
        &json!({
            "tenant": {"id": tenant.id(), "slug": tenant.slug(), "name": tenant.name()},
            "state": "pending",
            "request_id": req.id,
            "minutes": req.minutes,
            "scope": req.scope,
            "requested_at": req.created_at,
            "next": format!("the tenant's admins approve it in the product; `tenantctl access status --tenant {}` shows the answer", tenant.slug().unwrap_or(tenant.id())),
        }),
    )
}

async fn status(g: &Global, a: StatusArgs) -> Result<(), Failure> {
    let conn = connect(g).await?;
    let st = conn.door.access_status(&a.tenant).await?;
    print_object(
        g.format(),
        &json!({
            "tenant": {"id": st.tenant.id(), "slug": st.tenant.slug(), "name": st.tenant.name()},
            "state": st.state,
            "consent_required": st.consent_required,
            "approved_by": st.approved_by,
            "expires_at": st.expires_at,
            "revoked_at": st.revoked_at,
            "scope": st.scope,
            "minutes_left": st.seconds_left.map(|s| (s + 59) / 60),
            "approval_id": st.approval_id,
            "request_id": st.request.as_ref().map(|r| r.id.clone()),
            "requested_at": st.request.as_ref().map(|r| r.created_at),
        }),
    )
}
