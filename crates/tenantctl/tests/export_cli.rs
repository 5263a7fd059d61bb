//! `tenantctl export-audit`, the real binary against a real database: a file with the database's row count and
//! a summary line, streaming to standard output, columns, time zone and BOM, refusal to overwrite, and the exit
//! codes of bad input.

mod common;

use common::TestDb;

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
    let details: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT details FROM support_access_log WHERE action = 'export' ORDER BY id",
    )
    .fetch_all(&t.admin)
    .await
    .unwrap();
    assert_eq!(details.len(), 1);
    assert_eq!(details[0]["file"], "acme.csv");
    assert_eq!(details[0]["rows"], expected);
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
