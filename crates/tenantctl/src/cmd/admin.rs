//! Set-up commands: migrate and seed a reference database, and the private demo database.

use std::path::PathBuf;

use clap::Args;
use rand::distributions::{Alphanumeric, DistString};
use secrecy::SecretString;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Executor};
use tenant_console_core::access::ReasonPolicy;
use tenant_console_core::cluster::{free_port, ClusterOptions, LocalCluster};
use tenant_console_core::profile::{data_dir, Profile, ProfileStore};
use tenant_console_core::secret::Secrets;
use tenant_console_core::seed::{self, SeedKind};
use tenant_console_core::{Error, TlsMode, MIGRATOR};

use crate::ctx::{url_spec, Global};
use crate::output::{print_object, Failure};

fn admin_url(g: &Global) -> Result<String, Failure> {
    g.url
        .clone()
        .ok_or_else(|| Failure::usage("give the database as --url postgres://OWNER@HOST:PORT/DB"))
}

async fn admin_pool(g: &Global) -> Result<sqlx::PgPool, Failure> {
    // Through ConnectSpec like every other connection: the password (URL, --password-stdin or PGPASSWORD)
    // stays in a SecretString and the options are never logged.
    let spec = url_spec(g, &admin_url(g)?)?;
    // One probe connection for a clear diagnosis, then a small pool.
    drop(spec.connect_once().await?);
    Ok(PgPoolOptions::new()
        .max_connections(2)
        .connect_with(spec.pg_options())
        .await
        .map_err(Error::from)?)
}

#[derive(Args, Debug)]
pub struct MigrateArgs {}

pub async fn migrate(g: &Global, _a: MigrateArgs) -> Result<(), Failure> {
    let pool = admin_pool(g).await?;
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
    let pool = admin_pool(g).await?;
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

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Where the demo cluster lives (default: the data directory's demo/).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Start this app binary on the demo database, and stop the database when it exits.
    #[arg(long)]
    pub app: Option<PathBuf>,
    /// Port for the demo server (default: a free one).
    #[arg(long)]
    pub port: Option<u16>,
}

const DEMO_DB: &str = "tenant_console_demo";
const DEMO_PROFILE: &str = "demo";

/// Creates (first time) and starts the demo cluster, seeds it, stores the `demo` profile with a fresh
/// console_reader password in the keyring, then runs the app (or waits for Ctrl-C).
pub async fn demo(_g: &Global, a: DemoArgs) -> Result<(), Failure> {
    let dir = match a.data_dir {
        Some(d) => d,
        None => data_dir()?.join("demo"),
    };
    let pg_dir = dir.join("pg");
    eprintln!("tenantctl: demo database in {}", pg_dir.display());
    let cluster = LocalCluster::open_or_init(
        &pg_dir,
        &ClusterOptions {
            tls: false,
            superuser_password: Alphanumeric.sample_string(&mut rand::thread_rng(), 32),
        },
    )?;
    let port = match a.port {
        Some(p) => p,
        None => free_port()?,
    };
    // Started from this (the main) thread: the server stops when tenantctl exits.
    let running = cluster.start(port)?;
    let admin = PgConnectOptions::new()
        .socket(&running.socket_dir)
        .port(port)
        .username("postgres")
        .database("postgres")
        .disable_statement_logging();
    let mut server = admin.connect().await.map_err(Error::from)?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(DEMO_DB)
            .fetch_one(&mut server)
            .await
            .map_err(Error::from)?;
    if !exists {
        server
            .execute(format!("CREATE DATABASE {DEMO_DB}").as_str())
            .await
            .map_err(Error::from)?;
    }
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(admin.clone().database(DEMO_DB))
        .await
        .map_err(Error::from)?;
    MIGRATOR
        .run(&pool)
        .await
        .map_err(|e| Failure::with_exit("migrate", format!("migration failed: {e}"), 1))?;
    let tenants: i64 = sqlx::query_scalar("SELECT count(*) FROM tenants")
        .fetch_one(&pool)
        .await
        .map_err(Error::from)?;
    if tenants == 0 {
        eprintln!("tenantctl: seeding demo tenants");
        seed::seed(&pool, SeedKind::Demo).await?;
    }
    // A fresh password each start: it exists only in the server and the keyring.
    let password = Alphanumeric.sample_string(&mut rand::thread_rng(), 32);
    let alter: String =
        sqlx::query_scalar("SELECT format('ALTER ROLE console_reader PASSWORD %L', $1::text)")
            .bind(&password)
            .fetch_one(&pool)
            .await
            .map_err(Error::from)?;
    pool.execute(alter.as_str()).await.map_err(Error::from)?;
    drop(pool);

    let store = ProfileStore::open_default()?;
    let mut profile = store
        .list()?
        .into_iter()
        .find(|p| p.name == DEMO_PROFILE)
        .unwrap_or_else(|| {
            Profile::new(DEMO_PROFILE, "127.0.0.1", port, DEMO_DB, "console_reader")
        });
    profile.host = "127.0.0.1".into();
    profile.port = port;
    profile.database = DEMO_DB.into();
    profile.user = "console_reader".into();
    profile.tls = TlsMode::Disable;
    if profile.access_reason == ReasonPolicy::Off {
        profile.access_reason = ReasonPolicy::Optional;
    }
    Secrets::system()?
        .set(&profile.id, SecretString::from(password))
        .await?;
    store.save(&profile)?;
    eprintln!(
        "tenantctl: demo database ready on 127.0.0.1:{port}; profile {DEMO_PROFILE:?} (password in the system keyring)"
    );

    match a.app {
        Some(app) => {
            let status = tokio::process::Command::new(&app)
                .env("TENANT_CONSOLE_PROFILE", DEMO_PROFILE)
                .status()
                .await
                .map_err(|e| {
                    Failure::with_exit("io", format!("cannot start {}: {e}", app.display()), 1)
                })?;
            eprintln!("tenantctl: app exited ({status}); stopping the demo database");
        }
        None => {
            eprintln!("tenantctl: press Ctrl-C to stop the demo database");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    drop(running);
    Ok(())
}
