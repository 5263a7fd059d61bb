//! `tenantctl` on a real streaming replica: a private primary seeded with the demo data and a hot standby made
//! from it with `pg_basebackup -R`. An export to standard output that must be recorded is refused before a byte
//! is streamed; with the primary named by the profile's `record_to` (its password in the real keyring), the same
//! command streams the CSV and the records land on the primary. Runs under scripts/with-keyring.sh.

use std::io::Write;
use std::process::{Command, Stdio};

use tenant_console_dev::cluster::ProcessServer;
use tenant_console_dev::testing::ReplicaPair;

const BIN: &str = env!("CARGO_BIN_EXE_tenantctl");
const DB: &str = ReplicaPair::DB;
const READER_PW: &str = "replica-cli-reader-pw";

fn url(s: &ProcessServer) -> String {
    format!("postgres://console_reader@127.0.0.1:{}/{DB}", s.port)
}

struct Out {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

fn run(config: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Out {
    let mut child = Command::new(BIN)
        .args(["--format", "json"])
        .args(args)
        .env("TENANT_CONSOLE_CONFIG_DIR", config)
        .env("TENANT_CONSOLE_DATA_DIR", config.join("data"))
        .env_remove("PGPASSWORD")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Out {
        code: out.status.code().unwrap(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

async fn records(primary: &ProcessServer, detail: &str) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT t.slug, l.action FROM support_access_log l JOIN tenants t ON t.id = l.tenant_id
          WHERE l.detail = $1 ORDER BY l.id",
    )
    .bind(detail)
    .fetch_all(&ReplicaPair::admin(primary).await)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_export_from_a_standby_streams_nothing_unrecorded_and_records_on_the_named_primary() {
    let p = ReplicaPair::start(READER_PW).await;
    let config = tempfile::tempdir().unwrap();
    let cfg = config.path();

    // --url to the standby, with a reason: the export must be recorded, and cannot be there.
    let standby_url = url(&p.standby);
    let refused = run(
        cfg,
        &[
            "--url",
            &standby_url,
            "--password-stdin",
            "export-audit",
            "--tenant",
            "acme",
            "--out",
            "-",
            "--reason",
            "support-ticket:CLI-1",
        ],
        Some(READER_PW),
    );
    assert_ne!(refused.code, 0);
    // Standard output is the data: empty, not a byte of CSV nor the error; the JSON error is on standard error.
    assert!(
        refused.stdout.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&refused.stdout)
    );
    let stderr = &refused.stderr;
    let error: serde_json::Value = serde_json::from_str(stderr.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("not one JSON error ({e}): {stderr:?}"));
    assert_eq!(error["error"]["kind"], "standby", "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("record_to"),
        "{error}"
    );
    assert!(records(&p.primary, "CLI-1").await.is_empty());

    // Profiles: the primary, and the replica recording on it. Both passwords go to the keyring.
    let primary_url = url(&p.primary);
    let add = run(
        cfg,
        &[
            "profile",
            "add",
            "prod-primary",
            "--url",
            &primary_url,
            "--password-stdin",
        ],
        Some(READER_PW),
    );
    assert_eq!(add.code, 0, "{}", add.stderr);
    let add = run(
        cfg,
        &[
            "profile",
            "add",
            "prod-replica",
            "--url",
            &standby_url,
            "--password-stdin",
            "--access-reason",
            "required",
            "--record-to",
            "prod-primary",
        ],
        Some(READER_PW),
    );
    assert_eq!(add.code, 0, "{}", add.stderr);
    let test = run(cfg, &["profile", "test", "prod-replica"], None);
    assert_eq!(test.code, 0, "{}", test.stderr);
    let report: serde_json::Value = serde_json::from_slice(&test.stdout).unwrap();
    assert_eq!(report["server"]["standby"], true, "{report}");

    let done = run(
        cfg,
        &[
            "--profile",
            "prod-replica",
            "export-audit",
            "--tenant",
            "acme",
            "--out",
            "-",
            "--reason",
            "support-ticket:CLI-2",
        ],
        None,
    );
    assert_eq!(done.code, 0, "{}", done.stderr);
    let mut csv = csv::Reader::from_reader(done.stdout.as_slice());
    assert!(csv.records().count() > 0);
    assert_eq!(
        records(&p.primary, "CLI-2").await,
        [
            ("acme".to_owned(), "export".to_owned()),
            ("acme".to_owned(), "export-complete".to_owned())
        ]
    );

    // A record target that does not exist is named, and nothing is read.
    let bad = run(
        cfg,
        &[
            "profile",
            "add",
            "other",
            "--url",
            &standby_url,
            "--record-to",
            "nope",
        ],
        None,
    );
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("nope"), "{}", bad.stderr);
}
