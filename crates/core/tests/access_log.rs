//! Support access transparency against a real PostgreSQL: required reasons, where a reason lands, and that
//! one tenant's access history is invisible from another tenant's scope.

mod common;

use common::TestDb;
use tenant_console_core::access::{self, AccessAction, AccessReason, ReasonPolicy, Recorded};
use tenant_console_core::Mapping;

#[tokio::test]
async fn a_required_reason_that_is_missing_is_refused_before_anything_is_read_or_written() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM support_access_log")
        .fetch_one(&t.admin)
        .await
        .unwrap();
    let err = access::open_tenant(
        &db,
        "acme",
        ReasonPolicy::Required,
        None,
        &AccessAction::View,
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), "reason_required");
    assert!(err.to_string().contains("support-ticket:ZD-1234"), "{err}");
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM support_access_log")
        .fetch_one(&t.admin)
        .await
        .unwrap();
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_given_reason_lands_under_the_right_tenant_and_is_invisible_from_another_tenants_scope() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let reason: AccessReason = "incident:INC-4711".parse().unwrap();
    let (tenant, recorded) = access::open_tenant(
        &db,
        "umbrella",
        ReasonPolicy::Required,
        Some(&reason),
        &AccessAction::View,
    )
    .await
    .unwrap();
    assert_eq!(recorded, Some(Recorded::Yes));

    let mut scope = db.scope(&tenant).await.unwrap();
    let mine = access::history(&mut scope, 50, None).await.unwrap();
    scope.finish().await.unwrap();
    let entry = mine
        .items
        .iter()
        .find(|e| e.detail == "INC-4711")
        .expect("recorded for umbrella");
    assert_eq!(entry.category, "incident");
    assert_eq!(entry.action, "view");
    assert_eq!(entry.db_user, "console_reader");
    assert!(!entry.os_user.is_empty() && !entry.client_host.is_empty());

    for other in ["acme", "globex", "initech"] {
        let mut scope = db.open_scope(other).await.unwrap();
        let theirs = access::history(&mut scope, 1000, None).await.unwrap();
        assert!(
            theirs.items.iter().all(|e| e.detail != "INC-4711"),
            "umbrella's access shows in {other}'s history"
        );
        let raw: i64 =
            sqlx::query_scalar("SELECT count(*) FROM support_access_log WHERE detail = 'INC-4711'")
                .fetch_one(scope.raw())
                .await
                .unwrap();
        assert_eq!(raw, 0, "RLS let {other} see umbrella's access row");
    }
}

#[tokio::test]
async fn browsing_under_the_policy_off_writes_nothing() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let (_, recorded) =
        access::open_tenant(&db, "acme", ReasonPolicy::Off, None, &AccessAction::View)
            .await
            .unwrap();
    assert_eq!(recorded, None);
}

#[tokio::test]
async fn a_profile_that_requires_reasons_cannot_open_tenants_without_an_access_log() {
    let t = TestDb::demo().await;
    let mut mapping = Mapping::reference();
    mapping.access_log = None;
    let db = t.reader_with(2, mapping).await;
    let reason: AccessReason = "support-ticket:ZD-1".parse().unwrap();
    let err = access::open_tenant(
        &db,
        "acme",
        ReasonPolicy::Required,
        Some(&reason),
        &AccessAction::View,
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), "reason_required");
    assert!(err.to_string().contains("no support-access log"), "{err}");
    // Optional reasons still open the tenant, and say the access was not recorded.
    let (_, recorded) = access::open_tenant(
        &db,
        "acme",
        ReasonPolicy::Optional,
        Some(&reason),
        &AccessAction::View,
    )
    .await
    .unwrap();
    assert_eq!(recorded, Some(Recorded::NoLogTable));
}

#[tokio::test]
async fn when_recording_fails_the_tenant_is_not_opened() {
    let t = TestDb::demo().await;
    sqlx::query("REVOKE INSERT ON support_access_log FROM console_reader")
        .execute(&t.admin)
        .await
        .unwrap();
    let db = t.reader().await;
    let reason: AccessReason = "support-ticket:ZD-2".parse().unwrap();
    let err = access::open_tenant(
        &db,
        "acme",
        ReasonPolicy::Optional,
        Some(&reason),
        &AccessAction::View,
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), "permission_denied");
    assert!(err.to_string().contains("support-access log"), "{err}");
}
