//! `tenantctl export-audit`, the real binary against a real database: a file with the database's row count and
//! a summary line, streaming to standard output, columns, time zone and BOM, refusal to overwrite, and the exit
//! codes of bad input.

use crate::common::TestDb;

async fn acme_events(t: &TestDb) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM audit_logs a JOIN tenants t ON t.id = a.tenant_id WHERE t.slug = 'acme'",
    )
    .fetch_one(&t.admin)
    .await
    .unwrap()
}

fn records(bytes: &[u8]) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(bytes)
        .records()
        .map(|r| r.expect("valid CSV"))
        .collect()
}

#[tokio::test]
async fn an_export_to_a_file_has_every_row_a_summary_line_and_an_access_record() {
    let t = TestDb::demo().await;
    let out = t.dirs.path().join("acme.csv");
    let out_s = out.to_str().unwrap();
    let run = t.reader(&["export-audit", "--tenant", "acme", "--out", out_s]);
    assert_eq!(run.code, 0, "{run:?}");
    let expected = acme_events(&t).await;
    let rows = records(&std::fs::read(&out).unwrap());
    assert_eq!(rows.len() as i64, expected);
    // "exported N rows, B bytes in S s (R rows/s) to PATH"
    let size = std::fs::metadata(&out).unwrap().len();
    let summary = format!("exported {expected} rows, {size} bytes in ");
    assert!(run.stderr.contains(&summary), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("rows/s) to {out_s}")),
        "{}",
        run.stderr
    );
    // Recorded, with the file name but not its directory.
    // Recorded before it started (filters, file name), and its end with the row count.
    let details: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT details FROM support_access_log WHERE action LIKE 'export%' ORDER BY id",
    )
    .fetch_all(&t.admin)
    .await
    .unwrap();
    assert_eq!(details.len(), 2);
    assert_eq!(details[0]["file"], "acme.csv");
    assert_eq!(details[1]["file"], "acme.csv");
    assert_eq!(details[1]["rows"], expected);
    assert!(!details[0]
        .to_string()
        .contains(t.dirs.path().to_str().unwrap()));

    // The file exists now: refused (and untouched) without --force, replaced with it.
    std::fs::write(&out, "keep me").unwrap();
    let again = t.reader(&["export-audit", "--tenant", "acme", "--out", out_s]);
    assert_eq!(again.code, 1, "{again:?}");
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me");
    let forced = t.reader(&[
        "export-audit",
        "--tenant",
        "acme",
        "--out",
        out_s,
        "--force",
    ]);
    assert_eq!(forced.code, 0, "{forced:?}");
    assert_eq!(
        records(&std::fs::read(&out).unwrap()).len() as i64,
        expected
    );
}

#[tokio::test]
async fn out_dash_streams_the_chosen_columns_in_the_chosen_zone_with_a_bom() {
    let t = TestDb::demo().await;
    let run = t.reader(&[
        "export-audit",
        "--tenant",
        "acme",
        "--out",
        "-",
        "--columns",
        "occurred_at,action,actor_email",
        "--tz",
        "Europe/Berlin",
        "--bom",
        "--action",
        "auth.",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let bytes = run.stdout.as_bytes();
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "no BOM");
    let body = &bytes[3..];
    let mut r = csv::Reader::from_reader(body);
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        ["occurred_at", "action", "actor_email"]
    );
    let rows = records(body);
    let expected: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_logs a JOIN tenants t ON t.id = a.tenant_id
          WHERE t.slug = 'acme' AND a.action LIKE 'auth.%'",
    )
    .fetch_one(&t.admin)
    .await
    .unwrap();
    assert!(expected > 0);
    assert_eq!(rows.len() as i64, expected);
    for row in &rows {
        let at = chrono::DateTime::parse_from_rfc3339(&row[0])
            .unwrap_or_else(|e| panic!("{:?}: {e}", &row[0]));
        let offset = at.offset().local_minus_utc();
        assert!(
            offset == 3600 || offset == 7200,
            "Berlin offset, not {offset}"
        );
        assert!(row[1].starts_with("auth."));
        assert!(
            row[2].contains('@') || row[2].starts_with("'="),
            "{:?}",
            &row[2]
        );
    }
    assert!(run.stderr.contains("to standard output"), "{}", run.stderr);
}

#[tokio::test]
async fn bad_export_input_is_a_usage_error_or_a_clear_one_and_writes_nothing() {
    let t = TestDb::demo().await;
    let out = t.dirs.path().join("x.csv");
    let out_s = out.to_str().unwrap();
    for (args, code, says) in [
        (vec!["--tz", "Mars/Olympus"], 2, "unknown time zone"),
        (
            vec!["--columns", "id,colour"],
            2,
            "unknown column \"colour\"",
        ),
        (
            vec!["--since", "yesterday"],
            2,
            "cannot read \"yesterday\" as a time",
        ),
        (
            vec!["--since", "2026-02-01", "--until", "2026-01-01"],
            2,
            "the time range is empty",
        ),
    ] {
        let mut all = vec!["export-audit", "--tenant", "acme", "--out", out_s];
        all.extend(args.iter().copied());
        let run = t.reader(&all);
        assert_eq!(run.code, code, "{args:?}: {run:?}");
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
        assert!(!out.exists(), "{args:?} left a file");
    }
    let unknown = t.reader(&["export-audit", "--tenant", "no-such", "--out", out_s]);
    assert_eq!(unknown.code, 1, "{unknown:?}");
    assert!(unknown.stderr.contains("no-such"), "{}", unknown.stderr);
    assert!(!out.exists());
    // Nothing beside the target either (no temporary file left behind).
    let left: Vec<_> = std::fs::read_dir(t.dirs.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("export"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// An export to standard output is recorded before its first byte: when the record cannot be written, nothing
/// is streamed.
#[tokio::test]
async fn a_stdout_export_whose_record_fails_streams_nothing() {
    let t = TestDb::demo().await;
    sqlx::raw_sql("REVOKE INSERT ON support_access_log FROM console_reader")
        .execute(&t.admin)
        .await
        .unwrap();
    let run = t.reader(&["export-audit", "--tenant", "acme", "--out", "-"]);
    assert_eq!(run.code, 1, "{run:?}");
    // Standard output is the data: not one byte there, neither of the CSV nor of the error, whose JSON goes to
    // standard error.
    assert_eq!(run.stdout, "", "{run:?}");
    let err: serde_json::Value = serde_json::from_str(run.stderr.lines().last().unwrap()).unwrap();
    assert_eq!(err["error"]["kind"], "permission_denied", "{run:?}");
    assert!(run.stderr.contains("support-access log"), "{}", run.stderr);
}

/// 400,000 more events for globex: an export long enough to be signalled in the middle.
async fn big_globex(t: &TestDb) {
    sqlx::raw_sql(
        "INSERT INTO audit_logs (tenant_id, actor_id, action, created_at)
         SELECT t.id, NULL, 'bulk.event', now() - g * interval '1 second'
           FROM tenants t CROSS JOIN generate_series(1, 400000) g WHERE t.slug = 'globex';
         ANALYZE audit_logs;",
    )
    .execute(&t.admin)
    .await
    .unwrap();
}

fn partials(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tenant-console-partial-"))
        .collect()
}

/// Starts an export of globex into `dir` and returns the process once its partial file exists.
fn export_until_partial(t: &TestDb, dir: &std::path::Path) -> std::process::Child {
    let url = t.url("console_reader");
    let out = dir.join("globex.csv");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .args(["--url", &url, "export-audit", "--tenant", "globex", "--out"])
        .arg(&out)
        .env("TENANT_CONSOLE_CONFIG_DIR", t.dirs.path().join("config"))
        .env("TENANT_CONSOLE_DATA_DIR", t.dirs.path().join("data"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while partials(dir).is_empty() {
        assert!(started.elapsed().as_secs() < 30, "no partial file appeared");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child
}

fn signal(child: &std::process::Child, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_and_sighup_end_an_export_like_ctrl_c_with_no_partial_left() {
    let t = TestDb::demo().await;
    big_globex(&t).await;
    for sig in ["-TERM", "-HUP", "-INT"] {
        let dir = tempfile::tempdir().unwrap();
        let child = export_until_partial(&t, dir.path());
        signal(&child, sig);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{sig}: {stderr}");
        assert!(stderr.contains("cancelled"), "{sig}: {stderr}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert!(left.is_empty(), "{sig} left {left:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn after_a_kill_9_the_next_export_into_that_folder_removes_the_stale_partial() {
    let t = TestDb::demo().await;
    big_globex(&t).await;
    let dir = tempfile::tempdir().unwrap();
    let mut child = export_until_partial(&t, dir.path());
    signal(&child, "-KILL");
    child.wait().unwrap();
    let stale = partials(dir.path());
    assert_eq!(stale.len(), 1, "kill -9 leaves its partial: {stale:?}");
    // Its name does not look like an export: hidden, and no spreadsheet's extension.
    assert!(
        stale[0].starts_with('.') && stale[0].ends_with(".tmp"),
        "{stale:?}"
    );
    let out = dir.path().join("acme.csv");
    let run = t.reader(&[
        "export-audit",
        "--tenant",
        "acme",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        partials(dir.path()).is_empty(),
        "the stale partial is still there"
    );
    assert!(out.exists());
}

#[tokio::test]
async fn with_out_dash_a_failure_never_lands_in_the_data_and_a_missing_signing_key_is_named_as_such(
) {
    let t = TestDb::demo().await;
    // Standard output is the data: a refused export writes nothing there, its JSON error goes to stderr.
    let refused = t.reader(&[
        "--format",
        "json",
        "export-audit",
        "--tenant",
        "no-such-tenant",
        "--out",
        "-",
    ]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert_eq!(refused.stdout, "", "the error reached the data stream");
    let err: serde_json::Value =
        serde_json::from_str(refused.stderr.lines().last().unwrap()).unwrap();
    assert_eq!(err["error"]["kind"], "unknown_tenant");

    // No keyring, so no signing key: the message names the signing key and --unsigned, not a password.
    let run = |extra: &[&str]| {
        let mut args = vec![
            "--url".to_owned(),
            t.url("console_reader"),
            "export-audit".into(),
            "--tenant".into(),
            "acme".into(),
            "--out".into(),
            "-".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        crate::common::Run::from(
            std::process::Command::new(env!("CARGO_BIN_EXE_tenantctl"))
                .args(&args)
                .env("TENANT_CONSOLE_CONFIG_DIR", t.dirs.path().join("config"))
                .env("TENANT_CONSOLE_DATA_DIR", t.dirs.path().join("data"))
                .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
                .env_remove("PGPASSWORD")
                .output()
                .unwrap(),
        )
    };
    let manifest = t.dirs.path().join("stream.manifest.json");
    let manifest = manifest.to_str().unwrap();
    let locked = run(&["--manifest", manifest]);
    assert_eq!(locked.code, 1, "{locked:?}");
    assert_eq!(locked.stdout, "");
    assert!(
        locked.stderr.contains("signing") && locked.stderr.contains("--unsigned"),
        "{}",
        locked.stderr
    );
    assert!(!locked.stderr.contains("password"), "{}", locked.stderr);
    let unsigned = run(&["--manifest", manifest, "--unsigned"]);
    assert_eq!(unsigned.code, 0, "{unsigned:?}");
    assert!(unsigned.stdout.lines().count() > 1);
}
