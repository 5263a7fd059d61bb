//! Consent and masking through the real `tenantctl` binary on a real server: `access request` and `access
//! status` in JSON and table, a tenant that requires consent refused (`consent_required`) by every read and by
//! the export until the tenant approves, and masked columns named and shown as masked.

use crate::common::TestDb;

async fn su(t: &TestDb, sql: &str) {
    sqlx::raw_sql(sql).execute(&t.admin).await.unwrap();
}

#[tokio::test]
async fn access_request_and_status_walk_from_none_to_approved_to_revoked() {
    let t = TestDb::demo().await;
    su(
        &t,
        "UPDATE tenants SET support_consent = 'required' WHERE slug = 'globex'",
    )
    .await;
    let st = t
        .reader(&["access", "status", "--tenant", "globex", "--format", "json"])
        .ok_json();
    assert_eq!(st["state"], "none");
    assert_eq!(st["consent_required"], true);

    // Every read is refused before anything is read, naming how to ask.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("globex.csv");
    for args in [
        vec!["tenant", "--tenant", "globex"],
        vec!["members", "--tenant", "globex"],
        vec!["audit", "--tenant", "globex"],
        vec![
            "export-audit",
            "--tenant",
            "globex",
            "--unsigned",
            "--out",
            out.to_str().unwrap(),
        ],
    ] {
        let mut a = args.clone();
        a.extend(["--format", "json"]);
        let r = t.reader(&a);
        assert_eq!(r.code, 1, "{args:?}: {r:?}");
        let e: serde_json::Value = serde_json::from_str(r.stdout.trim())
            .or_else(|_| serde_json::from_str(r.stderr.trim()))
            .unwrap_or_else(|_| panic!("{r:?}"));
        assert_eq!(e["error"]["kind"], "consent_required", "{args:?}: {e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("tenantctl access request --tenant globex"),
            "{e}"
        );
    }
    assert!(!out.exists());

    // No reason, no request.
    let r = t.reader(&["access", "request", "--tenant", "globex", "--minutes", "30"]);
    assert_eq!(r.code, 2, "{r:?}");
    let req = t
        .reader(&[
            "access",
            "request",
            "--tenant",
            "globex",
            "--reason",
            "support-ticket:ZD-77",
            "--minutes",
            "30",
            "--scope",
            "export",
            "--format",
            "json",
        ])
        .ok_json();
    assert_eq!(req["state"], "pending");
    assert_eq!(req["scope"], "export");
    let st = t
        .reader(&["access", "status", "--tenant", "globex", "--format", "json"])
        .ok_json();
    assert_eq!(st["state"], "pending");
    assert_eq!(st["request_id"], req["request_id"]);

    // The product answers, as the application's role.
    su(
        &t,
        "SET ROLE tenant_app;
         INSERT INTO support_access_approvals (tenant_id, request_id, grantee, approved_by, expires_at, scope)
         SELECT tenant_id, id, 'console_reader', 'ops@globex.example', now() + interval '30 minutes', 'export'
           FROM support_access_requests ORDER BY id DESC LIMIT 1;
         RESET ROLE;",
    )
    .await;
    let st = t
        .reader(&["access", "status", "--tenant", "globex", "--format", "json"])
        .ok_json();
    assert_eq!(st["state"], "approved");
    assert_eq!(st["approved_by"], "ops@globex.example");
    assert!(st["expires_at"].as_str().is_some());
    assert!(st["minutes_left"].as_i64().unwrap() <= 30);
    let table = t.reader(&[
        "access", "status", "--tenant", "globex", "--format", "table",
    ]);
    assert!(table.stdout.contains("state: approved"), "{table:?}");
    assert!(
        table.stdout.contains("approved_by: ops@globex.example"),
        "{table:?}"
    );

    let members = t
        .reader(&["members", "--tenant", "globex", "--format", "json"])
        .ok_json();
    assert!(!members["items"].as_array().unwrap().is_empty());
    let r = t.reader(&[
        "export-audit",
        "--tenant",
        "globex",
        "--unsigned",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("globex.csv.manifest.json")).unwrap(),
    )
    .unwrap();
    assert!(manifest["approval_id"].as_str().is_some(), "{manifest}");

    su(&t, "UPDATE support_access_approvals SET revoked_at = now()").await;
    let st = t
        .reader(&["access", "status", "--tenant", "globex", "--format", "json"])
        .ok_json();
    assert_eq!(st["state"], "revoked");
    let r = t.reader(&["audit", "--tenant", "globex", "--format", "json"]);
    assert_eq!(r.json()["error"]["kind"], "consent_required", "{r:?}");
}

#[tokio::test]
async fn masked_columns_are_named_in_json_and_shown_as_masked_in_tables() {
    let t = TestDb::demo().await;
    su(
        &t,
        "REVOKE SELECT ON users FROM console_reader;
         GRANT SELECT (id, display_name, created_at) ON users TO console_reader;
         REVOKE SELECT ON audit_logs FROM console_reader;
         GRANT SELECT (id, tenant_id, actor_id, action, resource_type, resource_id, created_at, metadata)
            ON audit_logs TO console_reader;",
    )
    .await;
    let m = t
        .reader(&["members", "--tenant", "acme", "--format", "json"])
        .ok_json();
    assert_eq!(m["masked_columns"], serde_json::json!(["users.email"]));
    let items = m["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items
        .iter()
        .all(|i| i["email"].is_null() && i["name"].is_string()));
    let table = t.reader(&["members", "--tenant", "acme", "--format", "table"]);
    assert_eq!(table.code, 0, "{table:?}");
    assert!(table.stdout.contains("‹masked›"), "{}", table.stdout);

    let a = t
        .reader(&["audit", "--tenant", "acme", "--format", "json"])
        .ok_json();
    let masked: Vec<String> = serde_json::from_value(a["masked_columns"].clone()).unwrap();
    for c in ["audit_logs.ip", "audit_logs.user_agent", "users.email"] {
        assert!(masked.contains(&c.to_owned()), "{masked:?}");
    }
    assert!(a["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["ip"].is_null()));
    // A filter on a masked column is refused in words.
    let r = t.reader(&[
        "audit",
        "--tenant",
        "acme",
        "--actor",
        "someone@example.com",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("masked"));
}
