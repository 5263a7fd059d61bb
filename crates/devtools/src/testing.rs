//! Test support (feature `testing`): a fresh, migrated database per test on a real PostgreSQL server, and pools
//! for the superuser (set-up and sabotage only) and for `console_reader` (every tenant read).
//!
//! The server is `TC_TEST_DATABASE_URL` (a superuser URL), by default the machine's own at 127.0.0.1:5432.
//! There is no fallback and no skipping: without a server, every test fails and says why.

use std::time::Duration;

use crate::seed;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Executor};
pub use tenant_console_core::testing::{door, scope};
use tenant_console_core::{tenants, Db, DbOptions, Mapping, Tenant, MIGRATOR};

/// The password the harness gives `console_reader` (ignored by a trust-auth server).
pub const READER_PASSWORD: &str = "console-reader-test";

pub fn admin_url() -> String {
    std::env::var("TC_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Superuser connect options for the test server.
pub fn admin_options() -> PgConnectOptions {
    admin_url()
        .parse::<PgConnectOptions>()
        .expect("TC_TEST_DATABASE_URL is a postgres URL")
        .disable_statement_logging()
}

/// A fresh database for one test.
pub struct TestDb {
    pub name: String,
    /// Superuser pool on the test database: set-up and sabotage only, never tenant reads.
    pub admin: PgPool,
}

impl TestDb {
    /// A new, migrated, empty database.
    pub async fn empty() -> Self {
        let name = format!("tc_test_{}", uuid::Uuid::new_v4().simple());
        let mut server = admin_options().connect().await.unwrap_or_else(|e| {
            panic!(
                "no PostgreSQL at {} for the tests: {e}",
                redacted(&admin_url())
            )
        });
        server
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create test database");
        let admin = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(admin_options().database(&name))
            .await
            .expect("connect to test database");
        MIGRATOR.run(&admin).await.expect("migrations apply");
        // Role attributes are cluster-wide and tests run in parallel (several processes, too): concurrent
        // ALTER ROLE on one role fails with "tuple concurrently updated", so take a server-wide lock first.
        // Other processes (older checkouts, other tools) may not take the lock: retry the loser of the race.
        let mut attempt = 0u64;
        loop {
            let mut tx = admin.begin().await.expect("begin");
            sqlx::query("SELECT pg_advisory_xact_lock(7342001)")
                .execute(&mut *tx)
                .await
                .expect("lock");
            let altered = tx
                .execute(format!("ALTER ROLE console_reader PASSWORD '{READER_PASSWORD}'").as_str())
                .await;
            match altered {
                Ok(_) => {
                    tx.commit().await.expect("commit");
                    break;
                }
                Err(e) => {
                    attempt += 1;
                    assert!(attempt < 20, "set reader password: {e}");
                    drop(tx);
                    tokio::time::sleep(Duration::from_millis(25 * attempt)).await;
                }
            }
        }
        TestDb { name, admin }
    }

    /// A new database with the demo data.
    pub async fn demo() -> Self {
        let db = Self::empty().await;
        seed::seed(&db.admin, seed::SeedKind::Demo)
            .await
            .expect("demo seed");
        db
    }

    /// Connect options for `console_reader` on this database.
    pub fn reader_options(&self) -> PgConnectOptions {
        // (Role passwords are cluster-wide; every TestDb sets the same one.)
        admin_options()
            .database(&self.name)
            .username("console_reader")
            .password(READER_PASSWORD)
    }

    /// A pool of `console_reader` connections.
    pub async fn reader_pool(&self, max: u32) -> PgPool {
        PgPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(self.reader_options())
            .await
            .expect("console_reader connects")
    }

    /// The core's handle as `console_reader` on the reference schema.
    pub async fn reader(&self) -> Db {
        self.reader_with(8, Mapping::reference()).await
    }

    pub async fn reader_with(&self, max: u32, mapping: Mapping) -> Db {
        Db::from_pool(self.reader_pool(max).await, mapping, DbOptions::default())
            .await
            .expect("bind reference mapping")
    }

    /// The core's handle as the superuser (for tests of the bypass guard).
    pub async fn superuser(&self, options: DbOptions) -> Db {
        Db::from_pool(self.admin.clone(), Mapping::reference(), options)
            .await
            .expect("bind reference mapping")
    }

    pub async fn tenant(&self, db: &Db, slug: &str) -> Tenant {
        tenants::resolve(db, slug)
            .await
            .expect("demo tenant exists")
    }

    /// Every tenant's id, by slug.
    pub async fn tenant_ids(&self) -> Vec<(String, String)> {
        sqlx::query_as("SELECT slug, id::text FROM tenants ORDER BY slug")
            .fetch_all(&self.admin)
            .await
            .unwrap()
    }
}

fn redacted(url: &str) -> String {
    match url.find('@') {
        Some(at) => format!("postgres://…{}", &url[at..]),
        None => url.to_owned(),
    }
}

impl TestDb {
    /// A `postgres://` URL for `console_reader` on this database (for CLI and app tests).
    pub fn reader_url(&self) -> String {
        let o = admin_options();
        format!(
            "postgres://console_reader:{READER_PASSWORD}@{}:{}/{}",
            o.get_host(),
            o.get_port(),
            self.name
        )
    }

    /// A superuser URL on this database.
    pub fn admin_url(&self) -> String {
        let mut u = url::Url::parse(&admin_url()).expect("admin URL parses");
        u.set_path(&format!("/{}", self.name));
        u.to_string()
    }
}

/// The tenant tables of the reference schema.
pub const TENANT_TABLES: [&str; 4] = ["roles", "memberships", "audit_logs", "support_access_log"];

/// A private primary with the demo data in database `app` (`console_reader`'s password set to the one given)
/// and a streaming hot standby made from it with `pg_basebackup -R`, both running for the rest of the process.
/// Creates `db` on a private server (over its socket, as the superuser), applies the migrations, seeds the
/// demo data and sets `console_reader`'s password.
#[cfg(unix)]
pub async fn prepare_demo_database(
    socket: &std::path::Path,
    port: u16,
    db: &str,
    reader_password: &str,
) {
    let mut server = PgConnectOptions::new()
        .socket(socket)
        .port(port)
        .username("postgres")
        .database("postgres")
        .disable_statement_logging()
        .connect()
        .await
        .unwrap();
    server
        .execute(format!("CREATE DATABASE {db}").as_str())
        .await
        .unwrap();
    let admin = socket_admin(socket, port, db).await;
    MIGRATOR.run(&admin).await.expect("migrations apply");
    seed::seed(&admin, seed::SeedKind::Demo)
        .await
        .expect("demo seed");
    admin
        .execute(format!("ALTER ROLE console_reader PASSWORD '{reader_password}'").as_str())
        .await
        .unwrap();
}

/// A private server with password logins (the machine's own trusts loopback, where a password proves nothing),
/// running for the rest of this process: `db` holds the demo data and `console_reader` logs in with
/// `reader_password`, and `role` with `password`, with console_reader's privileges (a password the tests
/// rotate). With its admin pool.
#[cfg(unix)]
pub async fn password_server(
    db: &str,
    reader_password: &str,
    role: &str,
    password: &str,
) -> (crate::cluster::ProcessServer, PgPool) {
    let server = tokio::task::spawn_blocking(|| {
        crate::cluster::start_for_process(&crate::cluster::ClusterOptions {
            tls: false,
            superuser_password: format!("super-{}", uuid::Uuid::new_v4().simple()),
        })
    })
    .await
    .unwrap()
    .expect("a private server");
    prepare_demo_database(&server.socket_dir, server.port, db, reader_password).await;
    let admin = socket_admin(&server.socket_dir, server.port, db).await;
    admin
        .execute(
            format!("CREATE ROLE {role} LOGIN PASSWORD '{password}' IN ROLE console_reader")
                .as_str(),
        )
        .await
        .unwrap();
    (server, admin)
}

/// A small superuser pool on a private server's database, over its socket.
#[cfg(unix)]
pub async fn socket_admin(socket: &std::path::Path, port: u16, db: &str) -> PgPool {
    PgPoolOptions::new()
        .max_connections(2)
        .connect_with(
            PgConnectOptions::new()
                .socket(socket)
                .port(port)
                .username("postgres")
                .database(db)
                .disable_statement_logging(),
        )
        .await
        .unwrap()
}

#[cfg(unix)]
pub struct ReplicaPair {
    pub primary: crate::cluster::ProcessServer,
    pub standby: crate::cluster::ProcessServer,
}

#[cfg(unix)]
impl ReplicaPair {
    /// The database the demo data is in.
    pub const DB: &'static str = "app";

    pub async fn start(reader_password: &str) -> Self {
        use crate::cluster::{start_for_process, start_standby_for_process, ClusterOptions};
        let primary = tokio::task::spawn_blocking(|| {
            start_for_process(&ClusterOptions {
                tls: false,
                superuser_password: "replica-super-pw".into(),
            })
        })
        .await
        .unwrap()
        .expect("private primary");
        prepare_demo_database(&primary.socket_dir, primary.port, Self::DB, reader_password).await;
        let p = primary.clone();
        let standby = tokio::task::spawn_blocking(move || start_standby_for_process(&p))
            .await
            .unwrap()
            .expect("streaming standby (pg_basebackup -R)");
        ReplicaPair { primary, standby }
    }

    /// The superuser over a server's socket, on `database`.
    pub fn superuser(s: &crate::cluster::ProcessServer, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&s.socket_dir)
            .port(s.port)
            .username("postgres")
            .database(database)
            .disable_statement_logging()
    }

    /// A small superuser pool on a server's demo database.
    pub async fn admin(s: &crate::cluster::ProcessServer) -> PgPool {
        PgPoolOptions::new()
            .max_connections(2)
            .connect_with(Self::superuser(s, Self::DB))
            .await
            .unwrap()
    }
}

/// A fake PostgreSQL server that asks every client for its password in clear text and records what it gets:
/// the attacker's server of the tests that prove a password goes only where it was given.
pub struct PasswordTrap {
    pub port: u16,
    received: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl PasswordTrap {
    /// Listens on a free loopback port until the process ends.
    pub fn start() -> Self {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().unwrap().port();
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let got = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let got = got.clone();
                std::thread::spawn(move || {
                    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
                        .ok();
                    let read_message = |s: &mut std::net::TcpStream| -> Option<Vec<u8>> {
                        let mut len = [0u8; 4];
                        s.read_exact(&mut len).ok()?;
                        let n = u32::from_be_bytes(len) as usize;
                        let mut body = vec![0u8; n.checked_sub(4)?];
                        s.read_exact(&mut body).ok()?;
                        Some(body)
                    };
                    let Some(mut first) = read_message(&mut s) else {
                        return;
                    };
                    // SSLRequest: say no, then the startup message follows.
                    if first == [0x04, 0xd2, 0x16, 0x2f] {
                        s.write_all(b"N").ok();
                        match read_message(&mut s) {
                            Some(m) => first = m,
                            None => return,
                        }
                    }
                    let _ = first;
                    // AuthenticationCleartextPassword.
                    s.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3]).ok();
                    let mut tag = [0u8; 1];
                    if s.read_exact(&mut tag).is_err() || tag[0] != b'p' {
                        return;
                    }
                    let Some(body) = read_message(&mut s) else {
                        return;
                    };
                    let pw = String::from_utf8_lossy(body.strip_suffix(&[0]).unwrap_or(&body))
                        .into_owned();
                    got.lock().unwrap().push(pw);
                    let msg = b"SFATAL\0C28P01\0Mpassword authentication failed\0\0";
                    let mut e = vec![b'E'];
                    e.extend_from_slice(&((msg.len() + 4) as u32).to_be_bytes());
                    e.extend_from_slice(msg);
                    s.write_all(&e).ok();
                });
            }
        });
        PasswordTrap { port, received }
    }

    /// Every password a client sent.
    pub fn received(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }
}
