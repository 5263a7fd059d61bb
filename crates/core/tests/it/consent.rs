//! Consent the database enforces, against a real PostgreSQL: a tenant that requires its own approval is refused
//! by the door before anything is read, and by the database itself to the login with no console in between;
//! allowed while an approval for this login is live; refused again after revocation and after expiry. An
//! approval for another role does not count, and the login cannot write one.

use std::time::Duration;

use crate::common::TestDb;
use sqlx::{Connection, Executor, PgConnection};
use tenant_console_core::access::{
    self, AccessReason, ConsentScope, ConsentState, Door, ReasonPolicy, DEFAULT_GRANT,
};
use tenant_console_core::audit::{self, AuditFilter};
use tenant_console_core::export::{export_to_path, ExportOptions};
use tenant_console_core::members::{self, MemberQuery};

fn reason() -> AccessReason {
    "support-ticket:ZD-4242".parse().unwrap()
}

/// Rows the login itself reads of `table` as `tenant`, with no console in between: its own connection, the
/// tenant set the way any client would, and no tenant predicate (the policies decide).
async fn login_reads(t: &TestDb, tenant_id: &str, table: &str) -> i64 {
    let mut conn = PgConnection::connect_with(&t.reader_options())
        .await
        .unwrap();
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.current_tenant_id', $1, true)")
        .bind(tenant_id)
        .execute(&mut *tx)
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    n
}

async fn approve(t: &TestDb, tenant_id: &str, grantee: &str, scope: &str, lasts: &str) -> String {
    // As the application's own role, as the product would when the tenant's admin answers.
    let mut conn = t.admin.acquire().await.unwrap();
    conn.execute("SET ROLE tenant_app").await.unwrap();
    let id: String = sqlx::query_scalar(
        "INSERT INTO support_access_approvals (tenant_id, grantee, approved_by, expires_at, scope, request_id)
         VALUES ($1::uuid, $2, 'admin@globex.example', now() + $3::interval, $4,
                 (SELECT max(id) FROM support_access_requests WHERE tenant_id = $1::uuid))
         RETURNING id::text",
    )
    .bind(tenant_id)
    .bind(grantee)
    .bind(lasts)
    .bind(scope)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    conn.execute("RESET ROLE").await.unwrap();
    id
}

async fn records(t: &TestDb) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM support_access_log")
        .fetch_one(&t.admin)
        .await
        .unwrap()
}

#[tokio::test]
async fn without_a_live_approval_neither_the_door_nor_the_database_lets_a_row_through() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let globex = t.tenant(&db, "globex").await;
    // What there is to protect: the superuser sees globex's rows.
    let there: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_logs WHERE tenant_id = $1::uuid")
            .bind(globex.id())
            .fetch_one(&t.admin)
            .await
            .unwrap();
    assert!(there > 0);
    assert!(login_reads(&t, globex.id(), "audit_logs").await > 0);

    sqlx::query("UPDATE tenants SET support_consent = 'required' WHERE slug = 'globex'")
        .execute(&t.admin)
        .await
        .unwrap();
    // The database refuses the login by itself, on every tenant table and on users reached through them.
    for table in ["audit_logs", "memberships", "roles", "users"] {
        assert_eq!(login_reads(&t, globex.id(), table).await, 0, "{table}");
    }
    // Another tenant is untouched.
    let acme = t.tenant(&db, "acme").await;
    assert!(login_reads(&t, acme.id(), "audit_logs").await > 0);

    // The door refuses before anything is read or recorded: open, a page, an export.
    let door = Door::new(db.clone(), ReasonPolicy::Optional, DEFAULT_GRANT);
    let before = records(&t).await;
    let e = door.open("globex", Some(&reason())).await.unwrap_err();
    assert_eq!(e.kind(), "consent_required", "{e}");
    assert!(
        e.to_string()
            .contains("tenantctl access request --tenant globex"),
        "{e}"
    );
    assert_eq!(
        door.scope("globex").await.err().unwrap().kind(),
        "consent_required"
    );
    let e = door
        .export("globex", Some(&reason()), serde_json::json!({}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "consent_required");
    let dir = tempfile::tempdir().unwrap();
    let e = export_to_path(
        &door,
        "globex",
        &ExportOptions::default(),
        Some(&reason()),
        &dir.path().join("globex.csv"),
        &Default::default(),
        |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), "consent_required");
    assert!(!dir.path().join("globex.csv").exists());
    assert_eq!(
        records(&t).await,
        before,
        "nothing recorded for refused reads"
    );
    // Stats of a list page leave it out.
    let stats = door.stats(&[globex.id().to_owned()]).await.unwrap();
    assert!(stats.is_empty());

    let st = door.access_status("globex").await.unwrap();
    assert_eq!(st.state, ConsentState::None);
    assert!(st.consent_required);
}

#[tokio::test]
async fn an_approval_opens_the_tenant_until_it_is_revoked_or_expires_and_only_for_its_grantee() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let globex = t.tenant(&db, "globex").await;
    sqlx::query("UPDATE tenants SET support_consent = 'required' WHERE slug = 'globex'")
        .execute(&t.admin)
        .await
        .unwrap();
    let door = Door::new(db.clone(), ReasonPolicy::Optional, DEFAULT_GRANT);

    // Ask: a request the tenant's admins can read, with the login the database saw.
    let (_, req) = door
        .request_access("globex", &reason(), 45, ConsentScope::Read)
        .await
        .unwrap();
    let (db_user, minutes, detail): (String, i32, String) = sqlx::query_as(
        "SELECT db_user, minutes, detail FROM support_access_requests WHERE id = $1::bigint",
    )
    .bind(&req.id)
    .fetch_one(&t.admin)
    .await
    .unwrap();
    assert_eq!(
        (db_user.as_str(), minutes, detail.as_str()),
        ("console_reader", 45, "ZD-4242")
    );
    assert_eq!(
        door.access_status("globex").await.unwrap().state,
        ConsentState::Pending
    );
    // Nonsense is refused in words.
    assert_eq!(
        door.request_access("globex", &reason(), 0, ConsentScope::Read)
            .await
            .unwrap_err()
            .kind(),
        "invalid_input"
    );

    // The login cannot answer its own request, nor turn the requirement off.
    let mut conn = PgConnection::connect_with(&t.reader_options())
        .await
        .unwrap();
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.current_tenant_id', $1, true)")
        .bind(globex.id())
        .execute(&mut *tx)
        .await
        .unwrap();
    let e = sqlx::query(
        "INSERT INTO support_access_approvals (tenant_id, grantee, approved_by, expires_at)
         VALUES ($1::uuid, session_user, 'me', now() + interval '1 hour')",
    )
    .bind(globex.id())
    .execute(&mut *tx)
    .await
    .unwrap_err();
    assert_eq!(
        e.as_database_error().unwrap().code().as_deref(),
        Some("42501")
    );
    tx.rollback().await.unwrap();
    let e = sqlx::query("UPDATE tenants SET support_consent = 'not_required'")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert_eq!(
        e.as_database_error().unwrap().code().as_deref(),
        Some("42501")
    );

    // An approval for another role does not count.
    approve(&t, globex.id(), "someone_else", "export", "1 hour").await;
    assert_eq!(
        door.open("globex", None).await.unwrap_err().kind(),
        "consent_required"
    );
    assert_eq!(login_reads(&t, globex.id(), "audit_logs").await, 0);

    // Approved for this login, to read: the door opens, the record carries the approval, the pages read.
    let approval = approve(&t, globex.id(), "console_reader", "read", "10 minutes").await;
    let opened = door.open("globex", Some(&reason())).await.unwrap();
    assert_eq!(opened.approval.as_ref().unwrap().id, approval);
    let details: serde_json::Value =
        sqlx::query_scalar("SELECT details FROM support_access_log WHERE id = $1::bigint")
            .bind(opened.record_id.as_deref().unwrap())
            .fetch_one(&t.admin)
            .await
            .unwrap();
    assert_eq!(details["approval_id"], approval.as_str());
    let mut scope = door.scope("globex").await.unwrap();
    let page = members::list(
        &mut scope,
        &MemberQuery {
            limit: 50,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(!page.items.is_empty());
    assert!(page.items.iter().all(|m| m.email.is_some()));
    scope.finish().await.unwrap();
    assert!(login_reads(&t, globex.id(), "audit_logs").await > 0);
    let st = door.access_status("globex").await.unwrap();
    assert_eq!(st.state, ConsentState::Approved);
    assert_eq!(st.approval_id.as_deref(), Some(approval.as_str()));
    assert_eq!(st.approved_by.as_deref(), Some("admin@globex.example"));
    assert!(st.seconds_left.unwrap() > 500 && st.seconds_left.unwrap() <= 600);
    // A read approval does not cover an export.
    let e = door
        .export("globex", Some(&reason()), serde_json::json!({}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "consent_required");
    assert!(e.to_string().contains("--scope export"), "{e}");

    // An export approval does; the manifest names it.
    let export_approval = approve(&t, globex.id(), "console_reader", "export", "10 minutes").await;
    let dir = tempfile::tempdir().unwrap();
    let opts = ExportOptions {
        manifest: Some(dir.path().join("globex.manifest.json")),
        ..Default::default()
    };
    let summary = export_to_path(
        &door,
        "globex",
        &opts,
        Some(&reason()),
        &dir.path().join("globex.csv"),
        &Default::default(),
        |_| {},
    )
    .await
    .unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(summary.manifest.expect("a manifest")).unwrap())
            .unwrap();
    assert_eq!(manifest["approval_id"], export_approval.as_str());

    // Revoked: the very next page is refused, and the database returns nothing to the login.
    sqlx::query(
        "UPDATE support_access_approvals SET revoked_at = now() WHERE grantee = 'console_reader'",
    )
    .execute(&t.admin)
    .await
    .unwrap();
    let e = door.scope("globex").await.err().unwrap();
    assert_eq!(e.kind(), "consent_required");
    assert!(e.to_string().contains("revoked"), "{e}");
    assert_eq!(login_reads(&t, globex.id(), "audit_logs").await, 0);
    assert_eq!(
        door.access_status("globex").await.unwrap().state,
        ConsentState::Revoked
    );

    // Expiry: an approval that lasts two seconds opens, then no longer does.
    approve(&t, globex.id(), "console_reader", "read", "2 seconds").await;
    let mut scope = door.scope("globex").await.unwrap();
    let page = audit::page(&mut scope, &AuditFilter::default(), 5, None)
        .await
        .unwrap();
    assert!(!page.items.is_empty());
    scope.finish().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let e = door.scope("globex").await.err().unwrap();
    assert_eq!(e.kind(), "consent_required");
    assert!(e.to_string().contains("expired"), "{e}");
    assert_eq!(login_reads(&t, globex.id(), "memberships").await, 0);
    assert_eq!(
        door.access_status("globex").await.unwrap().state,
        ConsentState::Expired
    );
}

#[tokio::test]
async fn an_approval_written_or_revoked_wakes_a_waiting_console() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let globex = t.tenant(&db, "globex").await;
    let mut watch = access::consent::Watch::start(&db)
        .await
        .unwrap()
        .expect("a direct connection can LISTEN");
    let id = approve(&t, globex.id(), "console_reader", "read", "5 minutes").await;
    let change = tokio::time::timeout(Duration::from_secs(10), watch.next())
        .await
        .expect("the approval is announced")
        .unwrap()
        .unwrap();
    assert_eq!(change.tenant_id, globex.id());
    sqlx::query("UPDATE support_access_approvals SET revoked_at = now() WHERE id = $1::bigint")
        .bind(&id)
        .execute(&t.admin)
        .await
        .unwrap();
    let change = tokio::time::timeout(Duration::from_secs(10), watch.next())
        .await
        .expect("the revocation is announced")
        .unwrap()
        .unwrap();
    assert_eq!(change.tenant_id, globex.id());
}
