//! Demo and benchmark data for the reference schema, generated set-based inside PostgreSQL.
//!
//! Seeding writes under FORCE'd row-level security, so it must run as a superuser (or a BYPASSRLS owner) on a
//! freshly migrated database; it is never used on a customer's database and nothing else in the core writes.

use sqlx::PgPool;

use tenant_console_core::error::{Error, Result};

/// Which data set to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedKind {
    /// Six named tenants with members, custom roles and a few thousand audit events, some of them hostile text.
    Demo,
    /// 10,000 tenants, 200,000 users, 300,000 memberships, 10,000,000 audit rows (three tenants of 1,000,000).
    Bench,
}

/// Loads a data set into an empty, migrated reference database.
#[tracing::instrument(skip(pool))]
pub async fn seed(pool: &PgPool, kind: SeedKind) -> Result<()> {
    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM tenants")
        .fetch_one(pool)
        .await?;
    if existing > 0 {
        return Err(Error::InvalidInput(format!(
            "the database already has {existing} tenants; seed a freshly migrated database"
        )));
    }
    let script = match kind {
        SeedKind::Demo => include_str!("seed/demo.sql"),
        SeedKind::Bench => include_str!("seed/bench.sql"),
    };
    sqlx::raw_sql(script).execute(pool).await?;
    if kind == SeedKind::Bench {
        sqlx::raw_sql("VACUUM ANALYZE").execute(pool).await?;
    }
    Ok(())
}
