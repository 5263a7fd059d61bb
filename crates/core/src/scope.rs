//! The tenant scope: the transaction every tenant read runs in, handed out only by the door.
//!
//! A [`TenantScope`] is a transaction that is `READ ONLY`, has the tenant setting set with
//! `set_config(setting, tenant, true)` (transaction-local, so a pooled connection never carries it into its next
//! use) and a statement timeout. It can only be opened for a [`Tenant`], and a `Tenant` can only be made by
//! resolving it against the tenants table ([`crate::tenants::resolve`]), so every tenant-scoped query function,
//! which takes `&mut TenantScope`, is unreachable without a real tenant. The queries carry the explicit tenant
//! predicate as well (defence in depth: a policy that is wrong still cannot show another tenant's rows).
//!
//! This module never writes. The one write the console makes (the support-access log) lives in
//! [`crate::access`] and runs in its own short transaction.

use std::sync::Arc;

use serde::Serialize;
use sqlx::{PgConnection, Postgres, Transaction};

use crate::db::Db;
use crate::error::{Error, Result};
use crate::mapping::Schema;

/// A tenant that exists: made only by resolving an id or slug against the tenants table. Outside this crate it
/// can be read but not re-pointed:
///
/// ```compile_fail
/// fn repoint(t: &mut tenant_console_core::Tenant) {
///     t.id = "another tenant".into(); // error[E0616]: field `id` of struct `Tenant` is private
/// }
/// ```
///
/// ```
/// fn read(t: &tenant_console_core::Tenant) -> String {
///     format!("{} {} {:?}", t.id(), t.name(), t.slug())
/// }
/// ```
#[derive(Clone, Debug, Serialize, PartialEq, Eq, ts_rs::TS)]
pub struct Tenant {
    /// The tenant id as text (uuid, text or integer in the database). Readable everywhere ([`Tenant::id`]),
    /// writable only inside this crate: a resolved tenant cannot be re-pointed by assignment.
    pub(crate) id: String,
    pub(crate) slug: Option<String>,
    pub(crate) name: String,
    #[serde(skip)]
    _resolved: Resolved,
}

/// Proof of resolution: private, so no code outside this crate can make a [`Tenant`] out of thin air.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
struct Resolved;

impl Tenant {
    pub(crate) fn resolved(id: String, slug: Option<String>, name: String) -> Self {
        Tenant {
            id,
            slug,
            name,
            _resolved: Resolved,
        }
    }

    /// The tenant id as text.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its slug, where tenants have one.
    pub fn slug(&self) -> Option<&str> {
        self.slug.as_deref()
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How the tenant reads in messages: its slug when it has one, otherwise its id.
    pub fn label(&self) -> &str {
        self.slug.as_deref().unwrap_or(&self.id)
    }
}

/// A read-only transaction scoped to one tenant. Dropping it rolls back; [`TenantScope::finish`] ends it.
pub struct TenantScope {
    tx: Transaction<'static, Postgres>,
    tenant: Tenant,
    schema: Arc<Schema>,
    statements: crate::sql::Statements,
}

impl TenantScope {
    /// Opens a scope for `tenant` on a connection from the pool.
    #[tracing::instrument(skip(db), fields(tenant = %tenant.id))]
    pub(crate) async fn open(db: &Db, tenant: &Tenant) -> Result<Self> {
        Self::enter(db, db.read_tx().await?, tenant).await
    }

    /// A scope whose statements all see one snapshot (REPEATABLE READ), which it can export to other
    /// connections (a parallel export's slices).
    pub(crate) async fn open_snapshot(db: &Db, tenant: &Tenant) -> Result<Self> {
        Self::enter(db, db.snapshot_tx().await?, tenant).await
    }

    /// A scope on another connection that sees the snapshot `snapshot` exported by a [`Self::open_snapshot`]
    /// scope still open.
    pub(crate) async fn open_in_snapshot(db: &Db, tenant: &Tenant, snapshot: &str) -> Result<Self> {
        let snapshot = crate::sql::SnapshotId::parse(snapshot).ok_or_else(|| {
            Error::InvalidInput(
                "the server returned a snapshot id this program does not read".into(),
            )
        })?;
        let mut tx = db.snapshot_tx().await?;
        crate::sql::set_transaction_snapshot(&mut tx, &snapshot).await?;
        Self::enter(db, tx, tenant).await
    }

    /// Enters `tenant`'s scope on a read-only transaction the caller began (and resolved the tenant in).
    pub(crate) async fn enter(
        db: &Db,
        mut tx: Transaction<'static, Postgres>,
        tenant: &Tenant,
    ) -> Result<Self> {
        db.statements()
            .query("SELECT set_config($1, $2, true), set_config('statement_timeout', $3, true)")
            .bind(db.schema().setting())
            .bind(&tenant.id)
            .bind(format!("{}ms", db.statement_timeout_ms()))
            .execute(&mut *tx)
            .await?;
        Ok(TenantScope {
            tx,
            tenant: tenant.clone(),
            schema: db.schema_arc(),
            statements: db.statements(),
        })
    }

    /// How the scope's queries are sent: kept prepared, or unnamed behind a pooler.
    pub(crate) fn statements(&self) -> crate::sql::Statements {
        self.statements
    }

    /// The tenant this scope reads as.
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    /// The bound mapping, for building the tenant's queries.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The scoped connection. Crate-private: only the query modules run SQL in a scope.
    pub(crate) fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Runs arbitrary SQL inside the scope. For tests only (feature `testing`), which must show that the
    /// database (not the console's predicates) refuses what it should: a write fails, a foreign row stays hidden.
    #[cfg(any(test, feature = "testing"))]
    pub fn raw(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Ends the scope. The transaction is read-only, so ending it changes nothing in the database.
    pub async fn finish(self) -> Result<()> {
        self.tx.commit().await.map_err(Error::from)
    }
}
