//! `tenantctl check` as a script sees it: exit codes and the finding that names the bypass.

use std::process::Command;

use tenant_console_dev::testing::TestDb;

fn tenantctl(args: &[&str]) -> std::process::Output {
    let config = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .args(args)
        .env("TENANT_CONSOLE_CONFIG_DIR", config.path())
        .env("TENANT_CONSOLE_DATA_DIR", config.path())
        .output()
        .expect("tenantctl runs")
}

#[tokio::test]
async fn check_with_the_probe_exits_0_for_console_reader_and_3_for_a_superuser() {
    let t = TestDb::demo().await;
    let ok = tenantctl(&[
        "check",
        "--probe",
        "--format",
        "json",
        "--url",
        &t.reader_url(),
    ]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(report["isolation_enforced"], true);
    assert_eq!(report["probed_tenants"].as_array().unwrap().len(), 3);
    // The evidence: every tenant table asked in every state, and no foreign row anywhere.
    let evidence = report["evidence"].as_array().unwrap();
    for table in ["audit_logs", "memberships", "roles", "support_access_log"] {
        for state in ["unset", "empty", "unknown-tenant", "tenant"] {
            assert!(
                evidence
                    .iter()
                    .any(|e| e["relation"] == table && e["state"] == state),
                "{table} not probed in state {state}"
            );
        }
    }
    assert!(evidence.iter().all(|e| e["foreign_rows"] == 0));

    // The table output shows the same evidence, not just a verdict.
    let table = tenantctl(&[
        "check",
        "--probe",
        "--format",
        "table",
        "--url",
        &t.reader_url(),
    ]);
    assert_eq!(table.status.code(), Some(0));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("probe evidence ("), "{text}");
    assert!(text.contains(", 0 returned rows they must not"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("unset") && l.contains("audit_logs")),
        "{text}"
    );
    assert!(
        text.contains("isolation is enforced for this login"),
        "{text}"
    );

    let bad = tenantctl(&["check", "--format", "json", "--url", &t.admin_url()]);
    assert_eq!(bad.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("LOGIN_SUPERUSER"), "{stderr}");
    // Exactly one JSON object on standard output: the report.
    let report: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(report["isolation_enforced"], false);
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["code"] == "LOGIN_SUPERUSER" && f["severity"] == "critical"));
}
