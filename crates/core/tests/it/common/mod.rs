//! The core's test support, shared with the CLI and app tests (feature `testing`).
#![allow(unused_imports)]

pub use tenant_console_dev::testing::*;

/// Every audit id of a tenant under a filter, page by page (each page in its own scope, as the app reads them).
pub async fn walk_audit(
    db: &tenant_console_core::Db,
    tenant: &tenant_console_core::Tenant,
    filter: &tenant_console_core::audit::AuditFilter,
    limit: u32,
) -> Vec<String> {
    let mut after: Option<String> = None;
    let mut ids = Vec::new();
    loop {
        let mut scope = tenant_console_dev::testing::scope(db, tenant).await;
        let page = tenant_console_core::audit::page(&mut scope, filter, limit, after.as_deref())
            .await
            .unwrap();
        scope.finish().await.unwrap();
        assert!(page.items.len() <= limit as usize);
        ids.extend(page.items.iter().map(|e| e.id.clone()));
        match page.next_cursor {
            Some(c) => after = Some(c),
            None => return ids,
        }
    }
}
