//! Browsing as the tenant, on a real server as `console_reader`: every list (tenants, members, roles, audit,
//! access history), every filter, the edges of keyset pagination, bad input, counts and stats. The oracle is
//! always the superuser's own SQL on the same database, never a number written into the test.

use crate::common::{walk_audit, TestDb};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tenant_console_core::audit::{self, AuditFilter};
use tenant_console_core::tenants::{self, TenantQuery, TenantSort, EXACT_COUNT_LIMIT};
use tenant_console_core::{access, members, roles, Db, Tenant};

mod at_a_glance;
mod audit_log;
mod members_and_roles;
mod tenant_list;

/// The superuser's answer: one text column of `sql` with text binds.
pub(super) async fn su(admin: &PgPool, sql: &str, binds: &[&str]) -> Vec<String> {
    let mut q = sqlx::query_scalar::<_, String>(sql);
    for b in binds {
        q = q.bind(b.to_string());
    }
    q.fetch_all(admin)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

pub(super) async fn su_count(admin: &PgPool, sql: &str, binds: &[&str]) -> i64 {
    let mut q = sqlx::query_scalar::<_, i64>(sql);
    for b in binds {
        q = q.bind(b.to_string());
    }
    q.fetch_one(admin)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Walks the whole tenant list page by page; returns the ids in order and the number of pages.
pub(super) async fn walk_tenants(db: &Db, q: &TenantQuery) -> (Vec<String>, usize) {
    let mut q = q.clone();
    let (mut ids, mut pages) = (Vec::new(), 0);
    loop {
        let page = tenants::list(db, &q).await.unwrap();
        pages += 1;
        assert!(page.items.len() <= q.limit as usize);
        ids.extend(page.items.iter().map(|r| r.tenant.id().to_owned()));
        match page.next_cursor {
            Some(c) => {
                assert_eq!(
                    page.items.len(),
                    q.limit as usize,
                    "a short page has a cursor"
                );
                q.after = Some(c);
            }
            None => return (ids, pages),
        }
        assert!(pages < 10_000, "the walk does not end");
    }
}

pub(super) async fn walk_members(
    db: &Db,
    tenant: &Tenant,
    q: &members::MemberQuery,
) -> Vec<String> {
    let mut q = q.clone();
    let mut ids = Vec::new();
    loop {
        let mut scope = tenant_console_dev::testing::scope(db, tenant).await;
        let page = members::list(&mut scope, &q).await.unwrap();
        scope.finish().await.unwrap();
        ids.extend(page.items.iter().map(|m| m.id.clone()));
        match page.next_cursor {
            Some(c) => q.after = Some(c),
            None => return ids,
        }
    }
}

/// Adds tenants as the superuser: (slug, name, created_at offset in seconds from a fixed instant).
pub(super) async fn add_tenants(admin: &PgPool, rows: &[(&str, &str, i64)]) {
    for (slug, name, secs) in rows {
        sqlx::query(
            "INSERT INTO tenants (slug, name, created_at)
             VALUES ($1, $2, timestamptz '2025-06-01 00:00:00+00' + make_interval(secs => $3))",
        )
        .bind(slug)
        .bind(name)
        .bind(*secs as f64)
        .execute(admin)
        .await
        .unwrap();
    }
}
