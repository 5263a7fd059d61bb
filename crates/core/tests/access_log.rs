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

/// Ways a database can swallow, move or remove a record while the insert itself "succeeds".
const SWALLOWERS: [(&str, &str); 4] = [
    (
        "a rule that does nothing instead",
        "CREATE RULE swallow AS ON INSERT TO support_access_log DO INSTEAD NOTHING",
    ),
    (
        "a BEFORE trigger that returns NULL",
        "CREATE FUNCTION drop_it() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
         CREATE TRIGGER drop_it BEFORE INSERT ON support_access_log FOR EACH ROW EXECUTE FUNCTION drop_it()",
    ),
    (
        "an AFTER trigger that deletes the row as its owner",
        "CREATE FUNCTION erase_it() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
           BEGIN DELETE FROM support_access_log WHERE id = NEW.id; RETURN NULL; END $$;
         CREATE TRIGGER erase_it AFTER INSERT ON support_access_log FOR EACH ROW EXECUTE FUNCTION erase_it()",
    ),
    (
        "a rule that copies the insert elsewhere instead",
        "CREATE TABLE shadow_log (LIKE support_access_log);
         CREATE RULE divert AS ON INSERT TO support_access_log DO INSTEAD
           INSERT INTO shadow_log (id, tenant_id, db_user, os_user, client_host, category, detail, action, details, created_at)
           VALUES (0, NEW.tenant_id, NEW.db_user, NEW.os_user, NEW.client_host, NEW.category, NEW.detail, NEW.action, NEW.details, now())
           RETURNING shadow_log.*",
    ),
];

#[tokio::test]
async fn a_record_the_database_swallows_fails_the_open_and_says_the_log_did_not_record() {
    for (what, sql) in SWALLOWERS {
        let t = TestDb::demo().await;
        sqlx::raw_sql(sql).execute(&t.admin).await.expect(what);
        let db = t.reader().await;
        let reason: AccessReason = "incident:INC-1".parse().unwrap();
        let err = access::open_tenant(
            &db,
            "acme",
            ReasonPolicy::Required,
            Some(&reason),
            &AccessAction::View,
        )
        .await
        .expect_err(what);
        assert_eq!(err.kind(), "access_not_recorded", "{what}: {err}");
        assert!(err.to_string().contains("did not record"), "{what}: {err}");
    }
}

#[tokio::test]
async fn a_swallowed_export_record_leaves_no_file() {
    use tenant_console_core::export::{self, ExportOptions};
    let t = TestDb::demo().await;
    sqlx::raw_sql(SWALLOWERS[1].1)
        .execute(&t.admin)
        .await
        .unwrap();
    let db = t.reader().await;
    let tenant = t.tenant(&db, "acme").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acme.csv");
    let err = export::export_to_path(
        &db,
        &tenant,
        &ExportOptions::default(),
        None,
        &path,
        &Default::default(),
        |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), "access_not_recorded", "{err}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
}
