//! Harness for running the real `tenantctl` binary: a fresh, migrated database per test on the real server,
//! and temporary config/data directories so no test reads or writes the user's own profiles or logs.
//!
//! The server is `TC_TEST_DATABASE_URL` (a superuser URL), by default the machine's own at 127.0.0.1:5432.
//! There is no fallback and no skipping: without a server, every test here fails and says why.
#![allow(dead_code)]

use std::process::{Command, Output};

use sqlx::postgres::PgPool;
use tenant_console_dev::testing;

pub use testing::admin_url;

/// A fresh database (the core's test support makes and migrates it), with temporary directories for the
/// binary's config and data.
pub struct TestDb {
    pub name: String,
    /// Superuser pool on the test database: set-up and oracle queries only.
    pub admin: PgPool,
    pub dirs: tempfile::TempDir,
    _db: testing::TestDb,
}

impl TestDb {
    /// A new database with the reference schema migrated and nothing in it.
    pub async fn empty() -> Self {
        Self::wrap(testing::TestDb::empty().await)
    }

    /// A new database with the demo data.
    pub async fn demo() -> Self {
        Self::wrap(testing::TestDb::demo().await)
    }

    fn wrap(db: testing::TestDb) -> Self {
        TestDb {
            name: db.name.clone(),
            admin: db.admin.clone(),
            dirs: tempfile::tempdir().expect("temp dir"),
            _db: db,
        }
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

/// Runs `tenantctl` with its own config and data directories (not tied to a test database), optional
/// environment and standard input: for tests of profiles against servers of their own.
pub struct Cli {
    pub dirs: tempfile::TempDir,
}

impl Cli {
    pub fn new() -> Self {
        Cli {
            dirs: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[], None)
    }

    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
        use std::io::Write;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tenantctl"));
        cmd.args(args)
            .env("TENANT_CONSOLE_CONFIG_DIR", self.dirs.path().join("config"))
            .env("TENANT_CONSOLE_DATA_DIR", self.dirs.path().join("data"))
            .env_remove("TENANTCTL_PROFILE")
            .env_remove("TENANTCTL_LOG")
            .env_remove("PGPASSWORD")
            .env_remove("PGSERVICEFILE")
            .env_remove("PGPASSFILE")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("tenantctl runs");
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        Run::from(child.wait_with_output().expect("tenantctl ends"))
    }

    /// The profile file as written.
    pub fn profiles_file(&self) -> std::path::PathBuf {
        self.dirs.path().join("config").join("profiles.toml")
    }
}
