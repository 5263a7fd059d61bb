//! `tenantctl demo`: the private demo database (Unix: it runs PostgreSQL's own `initdb` and `postgres`, and as
//! root hands the server to the `postgres` user).

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use clap::Args;
use rand::distributions::{Alphanumeric, DistString};
use secrecy::SecretString;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::ConnectOptions;
use tenant_console_core::access::ReasonPolicy;
use tenant_console_core::profile::{data_dir, Profile, ProfileStore};
use tenant_console_core::secret::Secrets;
use tenant_console_core::{Error, TlsMode, MIGRATOR};
use tenant_console_dev::cluster::{self, free_port, ClusterOptions, LocalCluster};
use tenant_console_dev::seed::{self, SeedKind};

use crate::ctx::Global;
use crate::output::{Failure, EXIT_ERROR};

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
        // As root (containers) the server runs as `postgres`, which cannot enter /root: a shared place instead.
        None if cluster::runs_as_postgres_user() => {
            let d = PathBuf::from("/var/tmp/tenant-console-demo");
            let cannot = |e: std::io::Error| {
                Failure::with_exit(
                    "io",
                    format!("cannot prepare {}: {e}", d.display()),
                    EXIT_ERROR,
                )
            };
            std::fs::create_dir_all(&d).map_err(cannot)?;
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).map_err(cannot)?;
            d
        }
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
    seed::create_database_if_missing(&mut server, DEMO_DB).await?;
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(admin.clone().database(DEMO_DB))
        .await
        .map_err(Error::from)?;
    MIGRATOR
        .run(&pool)
        .await
        .map_err(|e| Failure::with_exit("migrate", format!("migration failed: {e}"), 1))?;
    if seed::tenant_count(&pool).await? == 0 {
        eprintln!("tenantctl: seeding demo tenants");
        seed::seed(&pool, SeedKind::Demo).await?;
    }
    // A fresh password each start: it exists only in the server and the keyring.
    let password = Alphanumeric.sample_string(&mut rand::thread_rng(), 32);
    seed::set_role_password(&pool, "console_reader", &password).await?;
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
    profile
        .store_password(&Secrets::system()?, SecretString::from(password))
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
