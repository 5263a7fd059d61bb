//! Audit CSV export against a real PostgreSQL: counts, isolation, safe cells, round trips through two CSV
//! parsers, atomic files on cancel, on an existing target and on a server killed mid-export.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use crate::common::TestDb;
use chrono::{Duration, Utc};
use tenant_console_core::audit::AuditFilter;
use tenant_console_core::export::{export_to_path, export_to_writer, ExportOptions};
use tenant_console_core::{tenants, ConnectSpec, Db, DbOptions, Mapping, TlsMode, MIGRATOR};
use tenant_console_dev::cluster::{free_port, ClusterOptions, LocalCluster};

fn no_cancel() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}

fn read_csv(path: &Path) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records().map(|r| r.unwrap()).collect()
}

async fn db_count(t: &TestDb, slug: &str, extra: &str) -> i64 {
    sqlx::query_scalar(&format!(
        "SELECT count(*) FROM audit_logs a JOIN tenants t ON t.id = a.tenant_id WHERE t.slug = $1 {extra}"
    ))
    .bind(slug)
    .fetch_one(&t.admin)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn exported_row_counts_equal_the_databases_for_each_filter() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let acme = tenants::resolve(&db, "acme").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let since = Utc::now() - Duration::days(10);
    let cases = [
        (AuditFilter::default(), String::new()),
        (
            AuditFilter {
                action: Some("member.".into()),
                ..Default::default()
            },
            "AND a.action LIKE 'member.%'".to_owned(),
        ),
        (
            AuditFilter {
                since: Some(since),
                action: Some("auth.login".into()),
                ..Default::default()
            },
            format!(
                "AND a.action = 'auth.login' AND a.created_at >= '{}'",
                since.to_rfc3339()
            ),
        ),
    ];
    for (i, (filter, sql)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("acme-{i}.csv"));
        let opts = ExportOptions {
            filter,
            ..Default::default()
        };
        let summary = export_to_path(
            &tenant_console_dev::testing::door(&db),
            acme.id(),
            &opts,
            None,
            &path,
            &no_cancel(),
            |_| {},
        )
        .await
        .unwrap();
        let expected = db_count(&t, "acme", &sql).await;
        assert!(expected > 0, "case {i} selects nothing: not a useful case");
        assert_eq!(summary.rows as i64, expected, "case {i}");
        assert_eq!(read_csv(&path).len() as i64, expected, "case {i}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_exports_of_different_tenants_never_contain_a_foreign_row() {
    let t = TestDb::demo().await;
    let db = t.reader_with(4, Mapping::reference()).await;
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let slugs = [
        "acme", "globex", "initech", "umbrella", "soylent", "hooli", "acme", "globex",
    ];
    let mut tasks = Vec::new();
    for (i, slug) in slugs.into_iter().enumerate() {
        let (db, dir) = (db.clone(), dir.clone());
        tasks.push(tokio::spawn(async move {
            let tenant = tenants::resolve(&db, slug).await.unwrap();
            let path = dir.path().join(format!("{i}-{slug}.csv"));
            export_to_path(
                &tenant_console_dev::testing::door(&db),
                tenant.id(),
                &ExportOptions::default(),
                None,
                &path,
                &no_cancel(),
                |_| {},
            )
            .await
            .unwrap();
            (slug, path)
        }));
    }
    for task in tasks {
        let (slug, path) = task.await.unwrap();
        let rows = read_csv(&path);
        assert!(!rows.is_empty());
        for row in rows {
            let meta: serde_json::Value = serde_json::from_str(&row[9]).unwrap();
            assert_eq!(
                meta["tenant"], slug,
                "a row of another tenant in {slug}'s export"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_hostile_cell_of_the_demo_data_is_neutralised() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let acme = tenants::resolve(&db, "acme").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acme.csv");
    export_to_path(
        &tenant_console_dev::testing::door(&db),
        acme.id(),
        &ExportOptions::default(),
        None,
        &path,
        &no_cancel(),
        |_| {},
    )
    .await
    .unwrap();
    let rows = read_csv(&path);
    let mut neutralised = 0;
    for row in &rows {
        // Column 0 is the numeric id we emit ourselves; every other cell is text from the database.
        for cell in row.iter().skip(1) {
            assert!(
                !matches!(
                    cell.as_bytes().first(),
                    Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
                ),
                "unsafe cell {cell:?}"
            );
            if cell.starts_with('\'') {
                neutralised += 1;
            }
        }
    }
    // The demo seed has formula resource ids, user agents and a formula email in acme's data.
    assert!(
        neutralised > 50,
        "only {neutralised} cells were neutralised"
    );
    assert!(rows
        .iter()
        .any(|r| &r[6] == "'=HYPERLINK(\"http://evil.example\",\"click\")"));
    assert!(rows.iter().any(|r| r[3].starts_with("'=cmd|")));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_column_round_trips_through_the_csv_crate_and_pythons_csv_module() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let acme = tenants::resolve(&db, "acme").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acme.csv");
    let opts = ExportOptions {
        bom: true,
        tz: "Europe/Berlin".parse().unwrap(),
        ..Default::default()
    };
    export_to_path(
        &tenant_console_dev::testing::door(&db),
        acme.id(),
        &opts,
        None,
        &path,
        &no_cancel(),
        |_| {},
    )
    .await
    .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "no BOM");
    let mut r = csv::Reader::from_reader(&bytes[3..]);
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();

    // What the database holds, by id.
    let expected: Vec<(String, Option<String>, Option<String>, String)> = sqlx::query_as(
        "SELECT a.id::text, a.resource_id, a.user_agent, a.metadata::text FROM audit_logs a
           JOIN tenants t ON t.id = a.tenant_id WHERE t.slug = 'acme' ORDER BY a.created_at, a.id",
    )
    .fetch_all(&t.admin)
    .await
    .unwrap();
    assert_eq!(rows.len(), expected.len());
    let unneutralise = |s: &str| -> String {
        match s.strip_prefix('\'') {
            Some(rest)
                if matches!(
                    rest.as_bytes().first(),
                    Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
                ) =>
            {
                rest.to_owned()
            }
            _ => s.to_owned(),
        }
    };
    for (row, (id, resource_id, user_agent, metadata)) in rows.iter().zip(&expected) {
        assert_eq!(&row[0], id);
        assert!(
            row[1].ends_with("+01:00") || row[1].ends_with("+02:00"),
            "{}",
            &row[1]
        );
        assert_eq!(
            unneutralise(&row[6]),
            resource_id.clone().unwrap_or_default()
        );
        assert_eq!(
            unneutralise(&row[8]),
            user_agent.clone().unwrap_or_default()
        );
        assert_eq!(&row[9], metadata);
    }

    // Python's csv module reads the same rows and cells.
    let script = r#"
import csv, json, sys
with open(sys.argv[1], newline='', encoding='utf-8-sig') as f:
    rows = list(csv.reader(f))
print(json.dumps(rows[1:]))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script, path.to_str().unwrap()])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let py: Vec<Vec<String>> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(py.len(), rows.len());
    for (p, r) in py.iter().zip(&rows) {
        assert_eq!(p, &r.iter().map(str::to_owned).collect::<Vec<_>>());
    }
}

/// The id (bigint), the actor (uuid) and the address (inet) travel raw in the COPY and are written by the client:
/// the file must hold exactly the server's own text for them (`::text`, `host()`), the server being the judge,
/// for every shape of IPv6 address (runs of zero words anywhere, IPv4-mapped and -compatible) and for NULLs.
#[tokio::test(flavor = "multi_thread")]
async fn raw_fields_are_written_as_the_servers_own_text() {
    use rand::{Rng, SeedableRng};
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let acme = tenants::resolve(&db, "acme").await.unwrap();
    let mut addresses: Vec<Option<String>> = [
        "0.0.0.0",
        "255.255.255.255",
        "10.0.0.1",
        "::",
        "::1",
        "::2",
        "1::",
        "::ffff:1.2.3.4",
        "::ffff:0.0.0.0",
        "::1.2.3.4",
        "::0.0.1.0",
        "1:0:0:2:0:0:0:3",
        "1:0:0:2:0:0:3:4",
        "1:2:3:4:5:6:7:0",
        "0:1:0:1:0:1:0:1",
        "2001:db8::ff00:42:8329",
        "fe80::1%0",
        "::ffff:ffff:ffff",
        "0:0:0:0:0:fffe:102:304",
    ]
    .iter()
    .map(|a| Some(a.split('%').next().unwrap().to_owned()))
    .collect();
    addresses.push(None);
    // Random addresses with many zero words, so that runs of every length fall at every position.
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x1e7);
    for _ in 0..300 {
        let words: Vec<String> = (0..8)
            .map(|_| {
                if rng.gen_bool(0.55) {
                    "0".to_owned()
                } else {
                    format!("{:x}", rng.gen::<u16>())
                }
            })
            .collect();
        addresses.push(Some(words.join(":")));
    }
    let actor: Option<String> = sqlx::query_scalar(
        "SELECT m.user_id::text FROM memberships m JOIN tenants t ON t.id = m.tenant_id WHERE t.slug = 'acme' LIMIT 1",
    )
    .fetch_one(&t.admin)
    .await
    .unwrap();
    for (i, ip) in addresses.iter().enumerate() {
        sqlx::query(
            "INSERT INTO audit_logs (tenant_id, actor_id, action, ip, created_at)
             VALUES (CAST($1 AS uuid), CAST($2 AS uuid), 'wire.test', CAST($3 AS inet), now() - interval '1 day')",
        )
        .bind(acme.id())
        .bind(if i % 3 == 0 { None } else { actor.clone() })
        .bind(ip)
        .execute(&t.admin)
        .await
        .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acme.csv");
    let opts = ExportOptions {
        filter: AuditFilter {
            action: Some("wire.test".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    export_to_path(
        &tenant_console_dev::testing::door(&db),
        acme.id(),
        &opts,
        None,
        &path,
        &no_cancel(),
        |_| {},
    )
    .await
    .unwrap();
    let rows = read_csv(&path);
    let expected: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT a.id::text, a.actor_id::text, host(a.ip) FROM audit_logs a
           JOIN tenants t ON t.id = a.tenant_id WHERE t.slug = 'acme' AND a.action = 'wire.test'
          ORDER BY a.created_at, a.id",
    )
    .fetch_all(&t.admin)
    .await
    .unwrap();
    assert_eq!(rows.len(), addresses.len());
    assert_eq!(rows.len(), expected.len());
    for (row, (id, actor_id, host)) in rows.iter().zip(&expected) {
        assert_eq!(&row[0], id);
        assert_eq!(&row[2], actor_id.as_deref().unwrap_or_default());
        assert_eq!(&row[7], host.as_deref().unwrap_or_default(), "row {id}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_export_leaves_no_file_and_says_so() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let acme = tenants::resolve(&db, "acme").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acme.csv");
    let cancel = Arc::new(AtomicBool::new(true));
    let err = export_to_path(
        &tenant_console_dev::testing::door(&db),
        acme.id(),
        &ExportOptions::default(),
        None,
        &path,
        &cancel,
        |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), "cancelled");
    assert!(!path.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "a temporary file was left"
    );
    // The pool is still usable afterwards (the cancelled connection went back clean or was dropped).
    let page = tenants::list(&db, &Default::default()).await.unwrap();
    assert!(!page.items.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_existing_file_is_untouched_unless_overwriting_is_asked() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let globex = tenants::resolve(&db, "globex").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("globex.csv");
    std::fs::write(&path, "precious").unwrap();
    let err = export_to_path(
        &tenant_console_dev::testing::door(&db),
        globex.id(),
        &ExportOptions::default(),
        None,
        &path,
        &no_cancel(),
        |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), "file_exists");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious");
    let opts = ExportOptions {
        overwrite: true,
        ..Default::default()
    };
    let summary = export_to_path(
        &tenant_console_dev::testing::door(&db),
        globex.id(),
        &opts,
        None,
        &path,
        &no_cancel(),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(read_csv(&path).len() as u64, summary.rows);
}

#[tokio::test(flavor = "multi_thread")]
async fn each_export_is_recorded_in_the_tenants_access_log_without_the_path() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let initech = tenants::resolve(&db, "initech").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("initech-audit.csv");
    let reason = "audit-request:SOC2-2026".parse().unwrap();
    let summary = export_to_path(
        &tenant_console_dev::testing::door(&db),
        initech.id(),
        &ExportOptions::default(),
        Some(&reason),
        &path,
        &no_cancel(),
        |_| {},
    )
    .await
    .unwrap();
    // Two records: the export, written before anything was read, and its end with the counts.
    let records: Vec<(String, String, String, serde_json::Value)> = sqlx::query_as(
        "SELECT l.id::text, l.action, l.detail, l.details FROM support_access_log l JOIN tenants t ON t.id = l.tenant_id
          WHERE t.slug = 'initech' AND l.action LIKE 'export%' ORDER BY l.id",
    )
    .fetch_all(&t.admin)
    .await
    .unwrap();
    assert_eq!(records.len(), 2, "{records:?}");
    let (id, action, detail, details) = &records[0];
    assert_eq!(action, "export");
    assert_eq!(detail, "SOC2-2026");
    assert_eq!(details["file"], "initech-audit.csv");
    assert_eq!(summary.record_id.as_deref(), Some(id.as_str()));
    let (_, action, detail, done) = &records[1];
    assert_eq!(action, "export-complete");
    assert_eq!(detail, "SOC2-2026");
    assert_eq!(done["rows"], summary.rows);
    assert_eq!(done["bytes"], summary.bytes);
    assert_eq!(done["export_record"], id.as_str());
    assert!(!done.to_string().contains(dir.path().to_str().unwrap()));
    assert!(!details.to_string().contains(dir.path().to_str().unwrap()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_killed_mid_export_leaves_no_file_and_a_clear_error() {
    // A private server we may kill: the shared one is not ours to crash.
    let base = tempfile::Builder::new()
        .prefix("tc-kill-")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(base.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let cluster = LocalCluster::open_or_init(
        &base.path().join("pg"),
        &ClusterOptions {
            tls: false,
            superuser_password: "kill-test-superuser".into(),
        },
    )
    .unwrap();
    let port = free_port().unwrap();
    let running = Arc::new(Mutex::new(cluster.start(port).unwrap()));
    let admin_url = format!("postgres://postgres:kill-test-superuser@127.0.0.1:{port}/postgres");
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
    MIGRATOR.run(&admin).await.unwrap();
    tenant_console_dev::seed::seed(&admin, tenant_console_dev::seed::SeedKind::Demo)
        .await
        .unwrap();
    // Enough rows that the export is still running when the server dies.
    sqlx::raw_sql(
        "SET session_replication_role = replica;
         INSERT INTO audit_logs (tenant_id, action, metadata, created_at)
         SELECT (SELECT id FROM tenants WHERE slug = 'acme'), 'bulk.row', jsonb_build_object('pad', repeat('x', 200)),
                now() - g * interval '1 second' FROM generate_series(1, 400000) g;",
    )
    .execute(&admin)
    .await
    .unwrap();
    sqlx::raw_sql("ALTER ROLE console_reader PASSWORD 'kill-test-reader'")
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;

    let spec = ConnectSpec {
        host: "127.0.0.1".into(),
        port,
        database: "postgres".into(),
        user: "console_reader".into(),
        password: Some("kill-test-reader".to_owned().into()),
        tls: TlsMode::Disable,
        ca_file: None,
        connect_timeout: std::time::Duration::from_secs(5),
        password_command: None,
        ssh: None,
    };
    let db = Db::connect(&spec, Mapping::reference(), DbOptions::default())
        .await
        .unwrap();
    let acme = tenants::resolve(&db, "acme").await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("acme.csv");
    std::fs::write(&path, "an earlier export").unwrap();
    let opts = ExportOptions {
        overwrite: true,
        ..Default::default()
    };
    let killer = running.clone();
    let err = export_to_path(
        &tenant_console_dev::testing::door(&db),
        acme.id(),
        &opts,
        None,
        &path,
        &no_cancel(),
        move |p| {
            if p.rows > 0 {
                killer.lock().unwrap().kill();
            }
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err.kind(), "connection_lost" | "database"),
        "unexpected error {err:?}"
    );
    assert!(!err.to_string().is_empty());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "an earlier export");
    let leftovers: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "temporary files left: {leftovers:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_one_column_export_keeps_rows_whose_only_cell_is_empty() {
    let t = TestDb::demo().await;
    // System events: no actor, so no email.
    sqlx::query(
        "INSERT INTO audit_logs (tenant_id, actor_id, action, created_at)
         SELECT id, NULL, 'system.cleanup', now() - interval '1 hour' FROM tenants CROSS JOIN generate_series(1, 3)
          WHERE slug = 'acme'",
    )
    .execute(&t.admin)
    .await
    .unwrap();
    let db = t.reader().await;
    let acme = tenants::resolve(&db, "acme").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("emails.csv");
    let opts = ExportOptions {
        columns: vec![tenant_console_core::export::Column::ActorEmail],
        ..Default::default()
    };
    let summary = export_to_path(
        &tenant_console_dev::testing::door(&db),
        acme.id(),
        &opts,
        None,
        &path,
        &no_cancel(),
        |_| {},
    )
    .await
    .unwrap();
    let expected = db_count(&t, "acme", "").await;
    let rows = read_csv(&path);
    // A blank line would be skipped by every CSV reader: the empty cell is written as "".
    assert_eq!(
        (summary.rows as i64, rows.len() as i64),
        (expected, expected)
    );
    assert_eq!(rows.iter().filter(|r| r[0].is_empty()).count(), 3);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().filter(|l| *l == "\"\"").count(), 3);
}

/// The demo database with 400,000 more events for globex (an export long enough to report progress on the
/// way), read as console_reader, and where to export it.
struct BigGlobex {
    t: TestDb,
    db: Db,
    globex: tenant_console_core::Tenant,
    path: std::path::PathBuf,
    rows: i64,
    _dir: tempfile::TempDir,
}

async fn big_globex() -> BigGlobex {
    let t = TestDb::demo().await;
    sqlx::raw_sql(
        "INSERT INTO audit_logs (tenant_id, actor_id, action, resource_type, resource_id, created_at, metadata)
         SELECT t.id, NULL, 'bulk.event', 'thing', 'res-' || g, now() - g * interval '1 second', '{}'
           FROM tenants t CROSS JOIN generate_series(1, 400000) g WHERE t.slug = 'globex';
         ANALYZE audit_logs;",
    )
    .execute(&t.admin)
    .await
    .unwrap();
    let rows = db_count(&t, "globex", "").await;
    let db = t.reader().await;
    let globex = tenants::resolve(&db, "globex").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    BigGlobex {
        path: dir.path().join("globex.csv"),
        _dir: dir,
        t,
        db,
        globex,
        rows,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn progress_is_reported_while_the_export_runs_and_ends_at_the_files_rows_and_bytes() {
    // (Every field bound: those left to `..` would be dropped here, the database and the directory with them.)
    let BigGlobex {
        t: _t,
        db,
        globex,
        path,
        rows: expected,
        _dir,
    } = big_globex().await;
    let seen = Mutex::new(Vec::new());
    let summary = export_to_path(
        &tenant_console_dev::testing::door(&db),
        globex.id(),
        &ExportOptions::default(),
        None,
        &path,
        &no_cancel(),
        |p| seen.lock().unwrap().push(p),
    )
    .await
    .unwrap();
    let seen = seen.into_inner().unwrap();
    assert_eq!(summary.rows as i64, expected);
    let last = seen.last().expect("progress was reported");
    assert_eq!(last.rows, summary.rows);
    assert_eq!(last.bytes, std::fs::metadata(&path).unwrap().len());
    // Reported on the way, not only at the end; never going backwards; always with the estimate.
    assert!(
        seen.iter().any(|p| p.rows > 0 && p.rows < summary.rows),
        "no report during the export: {seen:?}"
    );
    for pair in seen.windows(2) {
        assert!(pair[0].rows <= pair[1].rows && pair[0].bytes <= pair[1].bytes);
        assert!(pair[0].elapsed_ms <= pair[1].elapsed_ms);
    }
    for p in &seen {
        let est = p.total_estimate.expect("an estimate") as i64;
        assert!(
            est > expected / 2 && est < expected * 2,
            "estimate {est} for {expected} rows"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_mid_export_stops_the_servers_query_and_leaves_no_file() {
    let BigGlobex {
        t,
        db,
        globex,
        path,
        _dir: dir,
        rows: _,
    } = big_globex().await;
    let cancel = no_cancel();
    let err = export_to_path(
        &tenant_console_dev::testing::door(&db),
        globex.id(),
        &ExportOptions::default(),
        None,
        &path,
        &cancel,
        |p| {
            if p.rows > 0 {
                cancel.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), "cancelled");
    assert!(!path.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // The server is not still running the COPY for nobody.
    let copying: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity
          WHERE datname = current_database() AND state = 'active' AND query LIKE 'COPY%'",
    )
    .fetch_one(&t.admin)
    .await
    .unwrap();
    assert_eq!(copying, 0);
}

/// A writer that stalls (a full pipe, a stuck disk) once it has taken `limit` bytes, until the gate opens.
struct StallingWriter {
    taken: usize,
    limit: usize,
    gate: Arc<AtomicBool>,
}

impl std::io::Write for StallingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        while self.taken >= self.limit && !self.gate.load(std::sync::atomic::Ordering::Relaxed) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        self.taken += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The hand-off to the writer never blocks the async loop: while the writer is stuck, progress keeps being
/// reported and a cancel is acknowledged (the export returns `cancelled` with the writer still stuck).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_writer_does_not_stop_progress_or_cancel() {
    let BigGlobex {
        t: _t,
        db,
        globex,
        path: _,
        rows: _,
        _dir,
    } = big_globex().await;
    let gate = Arc::new(AtomicBool::new(false));
    let cancel = no_cancel();
    let seen = Arc::new(Mutex::new(Vec::<std::time::Instant>::new()));
    let export = {
        let (db, gate, cancel, seen) = (db.clone(), gate.clone(), cancel.clone(), seen.clone());
        let id = globex.id().to_owned();
        tokio::spawn(async move {
            export_to_writer(
                &tenant_console_dev::testing::door(&db),
                &id,
                &ExportOptions::default(),
                None,
                Box::new(StallingWriter {
                    taken: 0,
                    limit: 1 << 20,
                    gate,
                }),
                &cancel,
                move |_| seen.lock().unwrap().push(std::time::Instant::now()),
            )
            .await
        })
    };
    // Let the writer stall and the channel fill, then watch progress keep coming.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let before = seen.lock().unwrap().len();
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    let during = seen.lock().unwrap().len() - before;
    assert!(
        during >= 2,
        "progress stopped while the writer was stuck ({during} reports in 1 s)"
    );
    cancel.store(true, std::sync::atomic::Ordering::Relaxed);
    let result = tokio::time::timeout(std::time::Duration::from_secs(20), export)
        .await
        .expect("the cancel was not acknowledged while the writer was stuck")
        .unwrap();
    assert!(
        !gate.load(std::sync::atomic::Ordering::Relaxed),
        "the writer was released early"
    );
    assert_eq!(result.unwrap_err().kind(), "cancelled");
    gate.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// A tenant with enough events to be split (a parallel export needs 50,000 or more).
async fn big_tenant(t: &TestDb, rows: i64) {
    sqlx::query(
        "INSERT INTO audit_logs (tenant_id, action, resource_type, resource_id, user_agent, metadata, created_at)
         SELECT t.id, CASE WHEN g % 97 = 0 THEN '=HYPERLINK(\"x\")' ELSE 'bulk.event' END, 'doc', 'd-' || g,
                'agent, \"quoted\"' || g, jsonb_build_object('n', g, 'nested', jsonb_build_object('s', 'x\ny')),
                now() - interval '1 second' * g
           FROM tenants t, generate_series(1, $1) g WHERE t.slug = 'initech'",
    )
    .bind(rows)
    .execute(&t.admin)
    .await
    .unwrap();
    sqlx::query("ANALYZE audit_logs")
        .execute(&t.admin)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_parallel_export_is_byte_identical_to_a_sequential_one_of_the_same_snapshot() {
    let t = TestDb::demo().await;
    big_tenant(&t, 60_000).await;
    let db = t.reader().await;
    let dir = tempfile::tempdir().unwrap();
    for name in ["initech.csv", "initech.jsonl.gz"] {
        let mut files = Vec::new();
        for jobs in [1, 3] {
            let path = dir.path().join(format!("{jobs}-{name}"));
            let summary = export_to_path(
                &tenant_console_dev::testing::door(&db),
                "initech",
                &ExportOptions {
                    jobs,
                    bom: true,
                    ..Default::default()
                },
                None,
                &path,
                &no_cancel(),
                |_| {},
            )
            .await
            .unwrap();
            assert!(summary.rows > 60_000);
            let v = tenant_console_core::export::verify(&path, None, &[]).unwrap();
            assert!(
                v.problems.iter().all(|p| p.contains("not signed")),
                "{jobs} {name}: {:?}",
                v.problems
            );
            files.push(std::fs::read(&path).unwrap());
        }
        assert!(
            files[0] == files[1],
            "{name}: the parallel file differs from the sequential one"
        );
    }
    // No spool or partial is left beside the files.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tenant-console-partial-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_committed_while_a_parallel_export_runs_are_in_no_slice() {
    let t = TestDb::demo().await;
    big_tenant(&t, 80_000).await;
    let before: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_logs a JOIN tenants t ON t.id = a.tenant_id WHERE t.slug = 'initech'",
    )
    .fetch_one(&t.admin)
    .await
    .unwrap();
    let db = t.reader().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("initech.csv");
    let admin_url = t.admin_url();
    let mut inserted = false;
    let summary = export_to_path(
        &tenant_console_dev::testing::door(&db),
        "initech",
        &ExportOptions {
            jobs: 4,
            ..Default::default()
        },
        None,
        &path,
        &no_cancel(),
        |_| {
            // On the first progress report every slice has opened in the snapshot: commit rows into the middle
            // of the exported range now, from another session.
            if !inserted {
                inserted = true;
                let out = std::process::Command::new("psql")
                    .arg(&admin_url)
                    .args([
                        "-qc",
                        "INSERT INTO audit_logs (tenant_id, action, created_at)
                         SELECT id, 'inserted.during.export', now() - interval '40000 seconds'
                           FROM tenants, generate_series(1, 50) WHERE slug = 'initech'",
                    ])
                    .output()
                    .expect("psql runs");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        },
    )
    .await
    .unwrap();
    assert!(inserted);
    assert_eq!(summary.rows as i64, before);
    let rows = read_csv(&path);
    assert_eq!(rows.len() as i64, before);
    assert!(rows.iter().all(|r| &r[4] != "inserted.during.export"));
    let after: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_logs a JOIN tenants t ON t.id = a.tenant_id WHERE t.slug = 'initech'",
    )
    .fetch_one(&t.admin)
    .await
    .unwrap();
    assert_eq!(
        after,
        before + 50,
        "the rows were committed during the export"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_parallel_export_leaves_no_file_and_no_spool() {
    let t = TestDb::demo().await;
    big_tenant(&t, 60_000).await;
    let db = t.reader().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("initech.csv");
    let cancel = no_cancel();
    let flag = cancel.clone();
    let e = export_to_path(
        &tenant_console_dev::testing::door(&db),
        "initech",
        &ExportOptions {
            jobs: 3,
            ..Default::default()
        },
        None,
        &path,
        &cancel,
        move |_| flag.store(true, std::sync::atomic::Ordering::Relaxed),
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), "cancelled");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file, no partial, no spool"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_administrators_cancel_and_the_exports_time_limit_are_not_the_users_cancel() {
    let BigGlobex {
        t,
        db,
        globex,
        path,
        _dir: dir,
        rows: _,
    } = big_globex().await;
    // Someone else cancels the COPY on the server (pg_cancel_backend) while it runs.
    let admin = t.admin.clone();
    let watcher = tokio::spawn(async move {
        for _ in 0..400 {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity
                  WHERE datname = current_database() AND state = 'active' AND query LIKE 'COPY%'",
            )
            .fetch_one(&admin)
            .await
            .unwrap();
            if n > 0 {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        false
    });
    let err = export_to_path(
        &tenant_console_dev::testing::door(&db),
        globex.id(),
        &ExportOptions::default(),
        None,
        &path,
        &no_cancel(),
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(watcher.await.unwrap(), "the COPY was seen and cancelled");
    assert_eq!(err.kind(), "server_cancelled", "{err}");
    assert!(err.to_string().contains("pg_cancel_backend"), "{err}");
    assert!(!path.exists());

    // The export's own time limit (not the browse timeout): a limit of 1 ms stops the COPY, said as such.
    let tight = tenant_console_core::Db::from_pool(
        t.reader_pool(4).await,
        tenant_console_core::Mapping::reference(),
        tenant_console_core::DbOptions {
            export_timeout: std::time::Duration::from_millis(1),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let err = export_to_path(
        &tenant_console_dev::testing::door(&tight),
        globex.id(),
        &ExportOptions::default(),
        None,
        &path,
        &no_cancel(),
        |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), "export_timeout", "{err}");
    assert!(!path.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
