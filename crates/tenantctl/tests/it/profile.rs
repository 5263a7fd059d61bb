//! `tenantctl profile ...` for real: the built binary, temporary config and data directories, the real
//! Secret Service, and a private PostgreSQL cluster that checks passwords (scram-sha-256) and serves TLS.
//! The machine's own server trusts every loopback login, so it could not show that the keyring's password
//! is the one that got us in.
//!
//! Run under `scripts/with-keyring.sh` (a private, unlocked gnome-keyring):
//! `scripts/with-keyring.sh cargo test -p tenantctl --test profile_cli`. Without a Secret Service the tests
//! fail and say so.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use rand::distributions::{Alphanumeric, DistString};
use serde_json::Value;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor};
use tenant_console_core::MIGRATOR;
use tenant_console_dev::cluster::{start_for_process, ClusterOptions, ProcessServer};
use tenant_console_dev::seed::{self, SeedKind};

const BIN: &str = env!("CARGO_BIN_EXE_tenantctl");
const DB: &str = "tc_cli";
const FRESH_DB: &str = "tc_cli_fresh";

struct Server {
    pg: ProcessServer,
    /// console_reader's password: random per run, so finding it anywhere can only be a leak.
    reader_pw: String,
    superuser_pw: String,
}

static SERVER: tokio::sync::OnceCell<Server> = tokio::sync::OnceCell::const_new();

fn random_password(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        Alphanumeric.sample_string(&mut rand::thread_rng(), 24)
    )
}

async fn server() -> &'static Server {
    SERVER
        .get_or_init(|| async {
            let superuser_pw = random_password("super");
            let reader_pw = random_password("reader");
            let opts = ClusterOptions {
                tls: true,
                superuser_password: superuser_pw.clone(),
            };
            let pg = tokio::task::spawn_blocking(move || start_for_process(&opts))
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("private PostgreSQL cluster: {e}"));
            let admin = PgConnectOptions::new()
                .socket(&pg.socket_dir)
                .port(pg.port)
                .username("postgres")
                .disable_statement_logging();
            let mut server = admin.clone().database("postgres").connect().await.unwrap();
            for db in [DB, FRESH_DB] {
                server
                    .execute(format!("CREATE DATABASE {db}").as_str())
                    .await
                    .unwrap();
            }
            server.close().await.ok();
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(2)
                .connect_with(admin.database(DB))
                .await
                .unwrap();
            MIGRATOR.run(&pool).await.expect("migrations apply");
            seed::seed(&pool, SeedKind::Demo).await.expect("demo seed");
            pool.execute(format!("ALTER ROLE console_reader PASSWORD '{reader_pw}'").as_str())
                .await
                .unwrap();
            pool.close().await;
            Server {
                pg,
                reader_pw,
                superuser_pw,
            }
        })
        .await
}

impl Server {
    fn reader_url(&self) -> String {
        format!("postgres://console_reader@127.0.0.1:{}/{DB}", self.pg.port)
    }

    fn ca(&self) -> String {
        self.pg
            .ca_file
            .as_ref()
            .expect("TLS cluster")
            .display()
            .to_string()
    }
}

/// Fails unless a Secret Service owns its name on the session bus.
fn require_keyring() {
    let out = Command::new("dbus-send")
        .args([
            "--session",
            "--dest=org.freedesktop.DBus",
            "--print-reply",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            "string:org.freedesktop.secrets",
        ])
        .output()
        .expect("dbus-send runs (Debian package dbus)");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("boolean true"),
        "no Secret Service on the session bus: run these tests under scripts/with-keyring.sh \
         (scripts/with-keyring.sh cargo test -p tenantctl --test profile_cli)"
    );
}

fn secret_tool_lookup(account: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "tenant-console", "username", account])
        .output()
        .expect("secret-tool runs (Debian package libsecret-tools)");
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).unwrap())
}

/// The password the keyring holds for a profile, and the server it is bound to.
fn stored_password(account: &str) -> Option<(String, String)> {
    let raw = secret_tool_lookup(account)?;
    let v: serde_json::Value = serde_json::from_str(&raw).expect("a bound secret is JSON");
    Some((
        v["password"].as_str()?.to_owned(),
        v["for"].as_str()?.to_owned(),
    ))
}

#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        let first = self.stdout.lines().next().unwrap_or("");
        serde_json::from_str(first).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }

    /// The `{"error": {...}}` line of a failed command.
    fn error_kind(&self) -> String {
        self.stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find_map(|v| v["error"]["kind"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("no error object: {self:?}"))
    }
}

/// One user's tenantctl: its own config and data directories; every output kept for the leak checks.
struct Cli {
    config: tempfile::TempDir,
    data: tempfile::TempDir,
    outputs: Mutex<Vec<String>>,
}

impl Cli {
    fn new() -> Self {
        Cli {
            config: tempfile::tempdir().unwrap(),
            data: tempfile::tempdir().unwrap(),
            outputs: Mutex::new(Vec::new()),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(["--format", "json"])
            .args(args)
            .env("TENANT_CONSOLE_CONFIG_DIR", self.config.path())
            .env("TENANT_CONSOLE_DATA_DIR", self.data.path())
            .env_remove("PGPASSWORD")
            .env_remove("TENANTCTL_PROFILE")
            .env_remove("TENANTCTL_LOG");
        cmd
    }

    fn run(&self, args: &[&str]) -> Out {
        self.run_with(self.command(args), None)
    }

    fn run_stdin(&self, args: &[&str], stdin: &str) -> Out {
        self.run_with(self.command(args), Some(stdin))
    }

    fn run_with(&self, mut cmd: Command, stdin: Option<&str>) -> Out {
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("tenantctl starts");
        if let Some(text) = stdin {
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(text.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        let out = Out {
            code: out.status.code().expect("exited"),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        self.outputs
            .lock()
            .unwrap()
            .push(format!("{}\n{}", out.stdout, out.stderr));
        out
    }

    /// Every file under the config and data directories that contains `needle`.
    fn files_containing(&self, needle: &str) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for root in [self.config.path(), self.data.path()] {
            walk(root, &mut |p| {
                let bytes = std::fs::read(p).unwrap();
                if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                    found.push(p.to_path_buf());
                }
            });
        }
        found
    }

    fn all_files(&self) -> Vec<PathBuf> {
        let mut all = Vec::new();
        for root in [self.config.path(), self.data.path()] {
            walk(root, &mut |p| all.push(p.to_path_buf()));
        }
        all
    }

    /// Asserts that `secret` appears in no file and in no output of any command run so far.
    fn assert_never_leaked(&self, secret: &str) {
        assert_eq!(
            self.files_containing(secret),
            Vec::<PathBuf>::new(),
            "the password is in a file"
        );
        for out in self.outputs.lock().unwrap().iter() {
            assert!(!out.contains(secret), "the password is in an output: {out}");
        }
    }
}

fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, f);
        } else {
            f(&p);
        }
    }
}

#[tokio::test]
async fn a_profile_connects_with_its_password_held_only_by_the_keyring() {
    require_keyring();
    let s = server().await;
    let cli = Cli::new();
    let pw_line = format!("{}\n", s.reader_pw);
    let trace = |args: &[&str]| {
        // Everything logged, to the file and to stderr: a leak at any level would show.
        let mut cmd = cli.command(&[&["-v"], args].concat());
        cmd.env("TENANTCTL_LOG", "trace");
        cmd
    };

    let add = cli.run_with(
        trace(&[
            "profile",
            "add",
            "demo",
            "--url",
            &s.reader_url(),
            "--tls",
            "verify-full",
            "--ca",
            &s.ca(),
            "--password-stdin",
        ]),
        Some(&pw_line),
    );
    assert_eq!(add.code, 0, "{add:?}");
    let id = add.json()["id"].as_str().expect("profile id").to_owned();
    assert_eq!(add.json()["tls"], "verify-full");
    let (stored, bound_to) =
        stored_password(&id).expect("the password is in the keyring under the profile id");
    assert_eq!(stored, s.reader_pw);
    assert!(
        bound_to.contains("tls=verify-full") && bound_to.contains("/tc_cli "),
        "{bound_to}"
    );

    let list = cli.run_with(trace(&["profile", "list"]), None);
    assert_eq!(list.code, 0, "{list:?}");
    let items = list.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["name"], "demo");
    assert_eq!(items[0]["id"], id.as_str());
    assert_eq!(items[0]["password_stored"], true);

    let test = cli.run_with(trace(&["profile", "test", "demo"]), None);
    assert_eq!(test.code, 0, "{test:?}");
    let report = test.json();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["login"]["user"], "console_reader");
    assert_eq!(report["login"]["superuser"], false);
    assert_eq!(report["login"]["bypassrls"], false);
    assert!(report["server_version"].as_str().is_some(), "{report}");

    let tenants = cli.run_with(trace(&["tenants", "--profile", "demo"]), None);
    assert_eq!(tenants.code, 0, "{tenants:?}");
    let slugs: Vec<String> = tenants.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap().to_owned())
        .collect();
    assert!(slugs.contains(&"acme".to_owned()), "{slugs:?}");

    let remove = cli.run_with(trace(&["profile", "remove", "demo"]), None);
    assert_eq!(remove.code, 0, "{remove:?}");
    assert_eq!(
        secret_tool_lookup(&id),
        None,
        "removing deletes the keyring item"
    );
    assert_eq!(
        cli.run(&["profile", "list"]).json()["items"],
        Value::Array(vec![])
    );

    // The log was written (so searching it means something), and nothing anywhere holds the password.
    let logs: Vec<PathBuf> = cli
        .all_files()
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("tenantctl.log"))
        .collect();
    assert!(!logs.is_empty(), "a log file in the data directory");
    let log_text: String = logs
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(log_text.contains("connected"), "{log_text}");
    assert!(
        test.stderr.contains("TRACE") || test.stderr.contains("DEBUG"),
        "{}",
        test.stderr
    );
    cli.assert_never_leaked(&s.reader_pw);
}

#[tokio::test]
async fn a_wrong_password_fails_with_the_authentication_diagnosis() {
    require_keyring();
    let s = server().await;
    let cli = Cli::new();
    let wrong = random_password("wrong");
    let add = cli.run_stdin(
        &[
            "profile",
            "add",
            "bad",
            "--url",
            &s.reader_url(),
            "--password-stdin",
        ],
        &wrong,
    );
    assert_eq!(add.code, 0, "{add:?}");

    let test = cli.run(&["-v", "profile", "test", "bad"]);
    assert_eq!(test.code, 1, "{test:?}");
    // One JSON result on standard output: the report, whose diagnosis says what failed (no second object).
    assert_eq!(test.stdout.trim().lines().count(), 1, "{test:?}");
    assert_eq!(test.json()["diagnosis"]["kind"], "auth");
    assert!(
        test.stderr
            .contains("password authentication failed for user \"console_reader\""),
        "{}",
        test.stderr
    );

    let tenants = cli.run(&["-v", "tenants", "--profile", "bad"]);
    assert_eq!(tenants.code, 1, "{tenants:?}");
    assert_eq!(tenants.error_kind(), "connect_auth");

    cli.run(&["profile", "remove", "bad"]);
    cli.assert_never_leaked(&wrong);
}

#[tokio::test]
async fn a_profile_without_a_stored_password_asks_for_it_again() {
    require_keyring();
    let s = server().await;
    let cli = Cli::new();
    let add = cli.run(&["profile", "add", "nopw", "--url", &s.reader_url()]);
    assert_eq!(add.code, 0, "{add:?}");
    let list = cli.run(&["profile", "list"]);
    assert_eq!(list.json()["items"][0]["password_stored"], false);

    let tenants = cli.run(&["tenants", "--profile", "nopw"]);

    assert_eq!(tenants.code, 1, "{tenants:?}");
    assert_eq!(tenants.error_kind(), "secret_missing");
    assert!(tenants.stderr.contains("\"nopw\""), "{}", tenants.stderr);
    assert!(
        tenants
            .stderr
            .contains("tenantctl profile set-password nopw"),
        "{}",
        tenants.stderr
    );

    // Doing what the message says fixes it.
    let set = cli.run_stdin(
        &["profile", "set-password", "nopw", "--password-stdin"],
        &s.reader_pw,
    );
    assert_eq!(set.code, 0, "{set:?}");
    assert_eq!(cli.run(&["tenants", "--profile", "nopw"]).code, 0);

    cli.run(&["profile", "remove", "nopw"]);
    cli.assert_never_leaked(&s.reader_pw);
}

#[tokio::test]
async fn renaming_a_profile_keeps_its_password() {
    require_keyring();
    let s = server().await;
    let cli = Cli::new();
    let add = cli.run_stdin(
        &[
            "profile",
            "add",
            "staging",
            "--url",
            &s.reader_url(),
            "--password-stdin",
        ],
        &s.reader_pw,
    );
    let id = add.json()["id"].as_str().unwrap().to_owned();

    let rename = cli.run(&["profile", "rename", "staging", "staging-eu"]);

    assert_eq!(rename.code, 0, "{rename:?}");
    assert_eq!(rename.json()["id"], id.as_str());
    let test = cli.run(&["profile", "test", "staging-eu"]);
    assert_eq!(test.code, 0, "{test:?}");
    let old = cli.run(&["profile", "test", "staging"]);
    assert_eq!(old.code, 1);
    assert_eq!(old.error_kind(), "unknown_profile");

    cli.run(&["profile", "remove", "staging-eu"]);
    assert_eq!(secret_tool_lookup(&id), None);
}

#[tokio::test]
async fn without_a_session_bus_the_keyring_is_unavailable_and_the_message_says_what_to_do() {
    let s = server().await;
    let cli = Cli::new();
    let runtime = tempfile::tempdir().unwrap();
    let no_bus = |args: &[&str]| {
        let mut cmd = cli.command(args);
        cmd.env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("DISPLAY")
            .env("XDG_RUNTIME_DIR", runtime.path());
        cmd
    };

    let add = cli.run_with(
        no_bus(&[
            "profile",
            "add",
            "p",
            "--url",
            &s.reader_url(),
            "--password-stdin",
        ]),
        Some(&s.reader_pw),
    );

    assert_eq!(add.code, 1, "{add:?}");
    assert_eq!(add.error_kind(), "keyring_unavailable");
    assert!(
        add.stderr.contains("locked or unavailable"),
        "{}",
        add.stderr
    );
    assert!(add.stderr.contains("--password-stdin"), "{}", add.stderr);
    let list = cli.run_with(no_bus(&["profile", "list"]), None);
    assert_eq!(
        list.json()["items"],
        Value::Array(vec![]),
        "nothing half-saved"
    );

    // A profile without a password needs no keyring; the password then serves this session only.
    let add = cli.run_with(
        no_bus(&["profile", "add", "p", "--url", &s.reader_url()]),
        None,
    );
    assert_eq!(add.code, 0, "{add:?}");
    let list = cli.run_with(no_bus(&["profile", "list"]), None);
    assert_eq!(
        list.json()["items"][0]["password_stored"],
        Value::Null,
        "unknown, not false"
    );
    let tenants = cli.run_with(
        no_bus(&["tenants", "--profile", "p", "--password-stdin"]),
        Some(&s.reader_pw),
    );
    assert_eq!(tenants.code, 0, "{tenants:?}");
    cli.assert_never_leaked(&s.reader_pw);
}

#[tokio::test]
async fn a_locked_keyring_is_reported_and_the_password_can_be_given_for_the_session() {
    let s = server().await;
    let cli = Cli::new();
    // A keyring of its own (this test locks it), inside its own private session.
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/with-keyring.sh");
    let inner = r#"
        set -u
        printf '%s\n' "$TC_PW" | "$TC_BIN" --format json profile add locked --url "$TC_URL" --password-stdin >/dev/null || exit 10
        dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
            org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null || exit 11
        "$TC_BIN" --format json tenants --profile locked
        echo "LOCKED_EXIT=$?"
        printf '%s\n' "$TC_PW" | "$TC_BIN" --format json tenants --profile locked --password-stdin >/dev/null
        echo "STDIN_EXIT=$?"
    "#;
    let mut cmd = Command::new(script);
    cmd.args(["bash", "-c", inner])
        .env("TC_PW", &s.reader_pw)
        .env("TC_BIN", BIN)
        .env("TC_URL", s.reader_url())
        .env("TENANT_CONSOLE_CONFIG_DIR", cli.config.path())
        .env("TENANT_CONSOLE_DATA_DIR", cli.data.path())
        .env_remove("DISPLAY");

    let out = cli.run_with(cmd, None);

    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("LOCKED_EXIT=1"), "{out:?}");
    assert_eq!(out.error_kind(), "keyring_unavailable");
    assert!(out.stderr.contains("unlock it"), "{}", out.stderr);
    assert!(out.stdout.contains("STDIN_EXIT=0"), "{out:?}");
    cli.assert_never_leaked(&s.reader_pw);
}

#[tokio::test]
async fn passwords_in_urls_and_pgpassword_reach_no_log_and_no_file() {
    require_keyring();
    let s = server().await;
    let cli = Cli::new();
    let port = s.pg.port;
    let verbose = |args: &[&str]| {
        let mut cmd = cli.command(&[&["-v"], args].concat());
        cmd.env("TENANTCTL_LOG", "trace");
        cmd
    };

    // An admin command with the superuser's password inline, as people paste it.
    let migrate = cli.run_with(
        verbose(&[
            "migrate",
            "--url",
            &format!(
                "postgres://postgres:{}@127.0.0.1:{port}/{FRESH_DB}",
                s.superuser_pw
            ),
        ]),
        None,
    );
    assert_eq!(migrate.code, 0, "{migrate:?}");
    assert_eq!(migrate.json()["migrated"], true);
    // The same with a wrong inline password: the failure does not echo it.
    let wrong = random_password("inline-wrong");
    let failed = cli.run_with(
        verbose(&[
            "migrate",
            "--url",
            &format!("postgres://postgres:{wrong}@127.0.0.1:{port}/{FRESH_DB}"),
        ]),
        None,
    );
    assert_eq!(failed.code, 1, "{failed:?}");
    assert_eq!(failed.error_kind(), "connect_auth");

    // A reader with PGPASSWORD.
    let mut cmd = verbose(&["tenants", "--url", &s.reader_url()]);
    cmd.env("PGPASSWORD", &s.reader_pw);
    let tenants = cli.run_with(cmd, None);
    assert_eq!(tenants.code, 0, "{tenants:?}");

    // A profile added from a URL with the password inline: warned, and the password goes to the keyring.
    let add = cli.run_with(
        verbose(&[
            "profile",
            "add",
            "inline",
            "--url",
            &format!(
                "postgres://console_reader:{}@127.0.0.1:{port}/{DB}",
                s.reader_pw
            ),
        ]),
        None,
    );
    assert_eq!(add.code, 0, "{add:?}");
    assert!(add.stderr.contains("shell history"), "{}", add.stderr);
    let id = add.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        stored_password(&id).map(|(p, _)| p),
        Some(s.reader_pw.clone())
    );
    assert_eq!(cli.run(&["profile", "test", "inline"]).code, 0);
    cli.run(&["profile", "remove", "inline"]);

    cli.assert_never_leaked(&s.superuser_pw);
    cli.assert_never_leaked(&wrong);
    cli.assert_never_leaked(&s.reader_pw);
}

#[test]
fn a_profile_for_a_remote_host_verifies_tls_unless_told_otherwise() {
    let cli = Cli::new();
    let add = |name: &str, extra: &[&str]| {
        let out = cli.run(&[&["profile", "add", name], extra].concat());
        assert_eq!(out.code, 0, "{out:?}");
        out.json()["tls"].as_str().unwrap().to_owned()
    };

    assert_eq!(
        add("remote", &["--url", "postgres://u@db.example/app"]),
        "verify-full"
    );
    assert_eq!(
        add("local", &["--url", "postgres://u@127.0.0.1/app"]),
        "disable"
    );
    let ca = cli.config.path().join("ca.crt");
    std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\n").unwrap();
    let ca = ca.display().to_string();
    assert_eq!(
        add(
            "local-ca",
            &["--url", "postgres://u@127.0.0.1/app", "--ca", &ca]
        ),
        "verify-full"
    );
    let missing = cli.run(&[
        "profile",
        "add",
        "no-ca",
        "--url",
        "postgres://u@db.example/app",
        "--ca",
        "/nonexistent/ca.crt",
    ]);
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(
        missing.stderr.contains("no such file"),
        "{}",
        missing.stderr
    );
    assert_eq!(
        add(
            "url-mode",
            &["--url", "postgres://u@db.example/app?sslmode=require"]
        ),
        "require"
    );
    assert_eq!(
        add(
            "flag",
            &["--url", "postgres://u@db.example/app", "--tls", "disable"]
        ),
        "disable"
    );
    let file = std::fs::read_to_string(cli.config.path().join("profiles.toml")).unwrap();
    assert!(file.contains("tls = \"verify-full\""), "{file}");
}

/// On a profile that requires reasons, `tenants --stats` reads every listed tenant's data: refused without a
/// reason (exit 2, saying what to add), and with one, each listed tenant is opened with it (one record each).
#[tokio::test]
async fn tenants_stats_on_a_required_profile_needs_a_reason_and_records_each_tenant() {
    let t = tenant_console_dev::testing::TestDb::demo().await;
    let cli = Cli::new();
    let url = t.reader_url();
    let pw = format!("{}\n", tenant_console_dev::testing::READER_PASSWORD);
    let add = cli.run_stdin(
        &[
            "profile",
            "add",
            "strict",
            "--url",
            &url,
            "--tls",
            "disable",
            "--access-reason",
            "required",
            "--access-grant-minutes",
            "5",
            "--password-stdin",
        ],
        &pw,
    );
    assert_eq!(add.code, 0, "{add:?}");
    assert_eq!(add.json()["access_grant_minutes"], 5);
    let records = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM support_access_log")
            .fetch_one(&t.admin)
            .await
            .unwrap()
    };
    let before = records().await;
    let refused = cli.run_stdin(
        &[
            "tenants",
            "--stats",
            "--profile",
            "strict",
            "--password-stdin",
        ],
        &pw,
    );
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(refused.stderr.contains("--reason"), "{}", refused.stderr);
    assert_eq!(records().await, before);
    // Without --stats the list reads only the tenants table: no reason needed.
    let plain = cli.run_stdin(&["tenants", "--profile", "strict", "--password-stdin"], &pw);
    assert_eq!(plain.code, 0, "{plain:?}");
    let listed = cli.run_stdin(
        &[
            "tenants",
            "--stats",
            "--profile",
            "strict",
            "--password-stdin",
            "--reason",
            "audit-request:AR-1",
        ],
        &pw,
    );
    assert_eq!(listed.code, 0, "{listed:?}");
    let items = listed.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 6);
    assert!(items.iter().all(|i| i["stats"]["members"] == 12));
    assert_eq!(
        records().await,
        before + 6,
        "one access record per listed tenant"
    );
    // Remove it, and its password from the keyring with it.
    assert_eq!(cli.run(&["profile", "remove", "strict"]).code, 0);
}
