//! Test support inside the core (feature `testing`, enabled only by test builds through the development crate):
//! a tenant scope without the door, for tests of the queries and of the database's own refusals, and a door with
//! no reason policy. The test databases themselves live in `tenant-console-dev`.

use crate::access::{Door, ReasonPolicy};
use crate::{Db, Tenant, TenantScope};

/// A scope for `tenant` without the door's rules: for tests of the queries and of the database's own refusals
/// (never compiled into the app or the CLI).
pub async fn scope(db: &Db, tenant: &Tenant) -> TenantScope {
    db.ensure_isolated()
        .expect("isolation holds for the test login");
    TenantScope::open(db, tenant)
        .await
        .expect("the tenant scope opens")
}

/// A door with no reason policy, for tests that read as a tenant through the product's own path.
pub fn door(db: &Db) -> Door {
    Door::new(db.clone(), ReasonPolicy::Off, crate::access::DEFAULT_GRANT)
}
