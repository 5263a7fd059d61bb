//! Set-up commands: migrate and seed a reference database.

use clap::Args;
use sqlx::postgres::PgPoolOptions;
use tenant_console_core::db::Route;
use tenant_console_core::{Error, MIGRATOR};
use tenant_console_dev::seed::{self, SeedKind};

use crate::ctx::{url_spec, Global};
use crate::output::{print_object, Failure};

fn admin_url(g: &Global) -> Result<String, Failure> {
    g.url
        .clone()
        .ok_or_else(|| Failure::usage("give the database as --url postgres://OWNER@HOST:PORT/DB"))
}

/// A small pool for set-up work, and the route it goes through (an SSH tunnel lives as long as it).
async fn admin_pool(g: &Global) -> Result<(sqlx::PgPool, Route), Failure> {
    // Through ConnectSpec like every other connection: the password (URL, --password-stdin, PGPASSWORD or
    // --password-command) stays in a SecretString and the options are never logged; --ssh goes through SSH.
    let spec = url_spec(g, &admin_url(g)?)?;
    // One probe connection for a clear diagnosis, then a small pool.
    let (probe, route) = spec.connect_once().await?;
    drop(probe);
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(route.options().await?)
        .await
        .map_err(Error::from)?;
    Ok((pool, route))
}

#[derive(Args, Debug)]
pub struct MigrateArgs {}

pub async fn migrate(g: &Global, _a: MigrateArgs) -> Result<(), Failure> {
    let (pool, _route) = admin_pool(g).await?;
    MIGRATOR
        .run(&pool)
        .await
        .map_err(|e| Failure::with_exit("migrate", format!("migration failed: {e}"), 1))?;
    print_object(g.format(), &serde_json::json!({"migrated": true}))
}

#[derive(Args, Debug)]
pub struct SeedArgs {
    /// A handful of named tenants with members, roles and a few thousand audit events.
    #[arg(long, conflicts_with = "bench", required_unless_present = "bench")]
    pub demo: bool,
    /// 10,000 tenants and 10,000,000 audit rows (three tenants of 1,000,000): takes minutes.
    #[arg(long)]
    pub bench: bool,
}

pub async fn seed(g: &Global, a: SeedArgs) -> Result<(), Failure> {
    let (pool, _route) = admin_pool(g).await?;
    let kind = if a.bench {
        SeedKind::Bench
    } else {
        SeedKind::Demo
    };
    let started = std::time::Instant::now();
    seed::seed(&pool, kind).await?;
    print_object(
        g.format(),
        &serde_json::json!({"seeded": format!("{kind:?}").to_lowercase(), "seconds": started.elapsed().as_secs_f64()}),
    )
}
