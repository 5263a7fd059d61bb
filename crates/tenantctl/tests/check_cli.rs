//! `tenantctl check` as a script sees it: exit codes and the finding that names the bypass.

use std::process::Command;

use tenant_console_core::testing::TestDb;

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
