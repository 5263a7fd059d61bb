//! Demo and benchmark data for the reference schema, generated set-based inside PostgreSQL.
//!
//! Seeding writes under FORCE'd row-level security, so it must run as a superuser (or a BYPASSRLS owner) on a
//! freshly migrated database; it is never used on a customer's database and nothing else in the core writes.

use sqlx::{Executor, PgConnection, PgPool};

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
    let existing = tenant_count(pool).await?;
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

/// How many tenants a reference database holds (0 right after `migrate`).
pub async fn tenant_count(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM tenants")
        .fetch_one(pool)
        .await?)
}

/// Creates the database `name` on the server `conn` is connected to, unless it exists. `name` is quoted.
pub async fn create_database_if_missing(conn: &mut PgConnection, name: &str) -> Result<()> {
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut *conn)
            .await?;
    if !exists {
        let quoted: String = sqlx::query_scalar("SELECT format('CREATE DATABASE %I', $1::text)")
            .bind(name)
            .fetch_one(&mut *conn)
            .await?;
        conn.execute(quoted.as_str()).await?;
    }
    Ok(())
}

/// Gives the role `role` the password `password` (quoted by the server's own `format(%I, %L)`: ALTER ROLE takes
/// no parameters).
pub async fn set_role_password(pool: &PgPool, role: &str, password: &str) -> Result<()> {
    let alter: String =
        sqlx::query_scalar("SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)")
            .bind(role)
            .bind(password)
            .fetch_one(pool)
            .await?;
    pool.execute(alter.as_str()).await?;
    Ok(())
}
