//! Harness for running the real `tenantctl` binary: a fresh, migrated database per test on the real server,
//! and temporary config/data directories so no test reads or writes the user's own profiles or logs.
//!
//! The server is `TC_TEST_DATABASE_URL` (a superuser URL), by default the machine's own at 127.0.0.1:5432.
//! There is no fallback and no skipping: without a server, every test here fails and says why.
#![allow(dead_code)]

use std::process::{Command, Output};

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Executor};
use tenant_console_core::{seed, MIGRATOR};

pub fn admin_url() -> String {
    std::env::var("TC_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn admin_options() -> PgConnectOptions {
    admin_url()
        .parse::<PgConnectOptions>()
        .expect("TC_TEST_DATABASE_URL is a postgres URL")
        .disable_statement_logging()
}

/// A fresh database, with temporary directories for the binary's config and data.
pub struct TestDb {
    pub name: String,
    /// Superuser pool on the test database: set-up and oracle queries only.
    pub admin: PgPool,
    pub dirs: tempfile::TempDir,
}

impl TestDb {
    /// A new database with the reference schema migrated and nothing in it.
    pub async fn empty() -> Self {
        let name = format!(
            "tc_test_cli_{}",
            rand::Rng::gen::<u64>(&mut rand::thread_rng())
        );
        let mut server = admin_options().connect().await.unwrap_or_else(|e| {
            panic!(
                "no PostgreSQL for the tests ({}): {e}",
                redacted(&admin_url())
            )
        });
        server
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create test database");
        let admin = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(admin_options().database(&name))
            .await
            .expect("connect to test database");
        MIGRATOR.run(&admin).await.expect("migrations apply");
        TestDb {
            name,
            admin,
            dirs: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A new database with the demo data.
    pub async fn demo() -> Self {
        let db = Self::empty().await;
        seed::seed(&db.admin, seed::SeedKind::Demo)
            .await
            .expect("demo seed");
        db
    }

    /// The URL of this database for `user` (no password: the test server trusts loopback, or reads PGPASSWORD).
    pub fn url(&self, user: &str) -> String {
        let mut u = url::Url::parse(&admin_url()).expect("admin URL parses");
        u.set_username(user).expect("URL takes a user");
        u.set_password(None).expect("URL drops the password");
        u.set_path(&self.name);
        u.to_string()
    }

    /// Runs `tenantctl ARGS` with this test's directories and no inherited profile or password.
    pub fn run(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_tenantctl"))
            .args(args)
            .env("TENANT_CONSOLE_CONFIG_DIR", self.dirs.path().join("config"))
            .env("TENANT_CONSOLE_DATA_DIR", self.dirs.path().join("data"))
            .env_remove("TENANTCTL_PROFILE")
            .env_remove("TENANTCTL_LOG")
            .env_remove("PGPASSWORD")
            .output()
            .expect("tenantctl runs");
        Run::from(out)
    }

    /// Runs `tenantctl --url <console_reader URL> ARGS`.
    pub fn reader(&self, args: &[&str]) -> Run {
        let url = self.url("console_reader");
        let mut all = vec!["--url", url.as_str()];
        all.extend_from_slice(args);
        self.run(&all)
    }
}

/// What a run of the binary left behind.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().expect("exited, not killed"),
            stdout: String::from_utf8(o.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(o.stderr).expect("stderr is UTF-8"),
        }
    }
}

impl Run {
    /// The one JSON object on standard output.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {self:?}"))
    }

    /// Asserts success and returns the JSON.
    pub fn ok_json(&self) -> serde_json::Value {
        assert_eq!(self.code, 0, "{self:?}");
        self.json()
    }
}

fn redacted(url: &str) -> String {
    match url.find('@') {
        Some(at) => format!("postgres://…{}", &url[at..]),
        None => url.to_owned(),
    }
}
