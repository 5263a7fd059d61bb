//! Support access transparency against a real PostgreSQL: required reasons, where a reason lands, and that
//! one tenant's access history is invisible from another tenant's scope.

use crate::common::TestDb;
use tenant_console_core::access::{
    self, AccessReason, Door, ReasonPolicy, Recorded, DEFAULT_GRANT,
};
use tenant_console_core::Mapping;

#[tokio::test]
async fn a_required_reason_that_is_missing_is_refused_before_anything_is_read_or_written() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let before: i64 = sqlx::query_scalar("SELECT count(*) FROM support_access_log")
        .fetch_one(&t.admin)
        .await
        .unwrap();
    let err = Door::new(db.clone(), ReasonPolicy::Required, DEFAULT_GRANT)
        .open("acme", None)
        .await
        .map(|o| (o.tenant, o.recorded))
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
    let (tenant, recorded) = Door::new(db.clone(), ReasonPolicy::Required, DEFAULT_GRANT)
        .open("umbrella", Some(&reason))
        .await
        .map(|o| (o.tenant, o.recorded))
        .unwrap();
    assert_eq!(recorded, Some(Recorded::Yes));

    let mut scope = tenant_console_dev::testing::scope(&db, &tenant).await;
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
        let mut scope = tenant_console_dev::testing::door(&db)
            .scope(other)
            .await
            .unwrap();
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
    let (_, recorded) = Door::new(db.clone(), ReasonPolicy::Off, DEFAULT_GRANT)
        .open("acme", None)
        .await
        .map(|o| (o.tenant, o.recorded))
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
    let err = Door::new(db.clone(), ReasonPolicy::Required, DEFAULT_GRANT)
        .open("acme", Some(&reason))
        .await
        .map(|o| (o.tenant, o.recorded))
        .unwrap_err();
    assert_eq!(err.kind(), "reason_required");
    assert!(err.to_string().contains("no support-access log"), "{err}");
    // Optional reasons still open the tenant, and say the access was not recorded.
    let (_, recorded) = Door::new(db.clone(), ReasonPolicy::Optional, DEFAULT_GRANT)
        .open("acme", Some(&reason))
        .await
        .map(|o| (o.tenant, o.recorded))
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
    let err = Door::new(db.clone(), ReasonPolicy::Optional, DEFAULT_GRANT)
        .open("acme", Some(&reason))
        .await
        .map(|o| (o.tenant, o.recorded))
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
        let err = Door::new(db.clone(), ReasonPolicy::Required, DEFAULT_GRANT)
            .open("acme", Some(&reason))
            .await
            .map(|o| (o.tenant, o.recorded))
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
        &tenant_console_dev::testing::door(&db),
        tenant.id(),
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

async fn records_for(t: &TestDb, slug: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM support_access_log l JOIN tenants t ON t.id = l.tenant_id WHERE t.slug = $1",
    )
    .bind(slug)
    .fetch_one(&t.admin)
    .await
    .unwrap()
}

#[tokio::test]
async fn under_required_no_read_passes_the_door_before_the_tenant_is_opened_with_a_reason() {
    let t = TestDb::demo().await;
    let door = Door::new(t.reader().await, ReasonPolicy::Required, DEFAULT_GRANT);
    let before = records_for(&t, "acme").await;
    // A page asked for directly (as a script calling the IPC would): refused, nothing read, nothing written.
    let err = door.scope("acme").await.err().expect("refused");
    assert_eq!(err.kind(), "reason_required");
    assert!(
        err.to_string().contains("open acme with a reason first"),
        "{err}"
    );
    let err = door
        .export("acme", None, serde_json::json!({}))
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), "reason_required");
    assert!(door
        .stats(&[t.tenant(&door.db().clone(), "acme").await.id().to_owned()])
        .await
        .unwrap()
        .is_empty());
    assert_eq!(records_for(&t, "acme").await, before);

    // Opened with a reason: one record for the grant, however many pages follow.
    let reason: AccessReason = "support-ticket:ZD-77".parse().unwrap();
    let opened = door.open("acme", Some(&reason)).await.unwrap();
    assert_eq!(opened.recorded, Some(Recorded::Yes));
    assert_eq!(opened.grant_seconds, Some(30 * 60));
    for _ in 0..3 {
        let mut scope = door.scope("acme").await.unwrap();
        tenant_console_core::members::list(&mut scope, &Default::default())
            .await
            .unwrap();
        scope.finish().await.unwrap();
    }
    let again = door.open("acme", None).await.unwrap();
    assert_eq!(again.recorded, None, "a live grant needs no new record");
    assert_eq!(records_for(&t, "acme").await, before + 1);
    // The grant is for acme only.
    assert_eq!(
        door.scope("globex").await.err().unwrap().kind(),
        "reason_required"
    );
    // Stats of the list: only the granted tenant's.
    let ids: Vec<String> = t.tenant_ids().await.into_iter().map(|(_, id)| id).collect();
    let stats = door.stats(&ids).await.unwrap();
    assert_eq!(stats.len(), 1);
    assert_eq!(stats[0].tenant_id, opened.tenant.id());
    // An export under the grant takes its reason, and is recorded before it starts.
    let pass = door
        .export("acme", None, serde_json::json!({"file": "x.csv"}))
        .await
        .unwrap();
    assert!(pass.record_id().is_some());
    let detail: String =
        sqlx::query_scalar("SELECT detail FROM support_access_log WHERE id::text = $1")
            .bind(pass.record_id().unwrap())
            .fetch_one(&t.admin)
            .await
            .unwrap();
    assert_eq!(detail, "ZD-77");
}

#[tokio::test]
async fn an_expired_grant_refuses_the_next_read() {
    let t = TestDb::demo().await;
    let door = Door::new(
        t.reader().await,
        ReasonPolicy::Required,
        std::time::Duration::from_millis(1200),
    );
    let before = records_for(&t, "globex").await;
    let reason: AccessReason = "incident:INC-5".parse().unwrap();
    door.open("globex", Some(&reason)).await.unwrap();
    door.scope("globex").await.unwrap().finish().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let err = door.scope("globex").await.err().expect("expired");
    assert_eq!(err.kind(), "reason_required");
    // A new reason makes a new grant, and a new record.
    door.open("globex", Some(&reason)).await.unwrap();
    door.scope("globex").await.unwrap().finish().await.unwrap();
    assert_eq!(records_for(&t, "globex").await, before + 2);
}

#[tokio::test]
async fn a_bypassing_login_gets_no_tenant_list_and_no_scope_unless_acknowledged() {
    use tenant_console_core::tenants::TenantQuery;
    use tenant_console_core::DbOptions;
    let t = TestDb::demo().await;
    let door = Door::new(
        t.superuser(DbOptions::default()).await,
        ReasonPolicy::Off,
        DEFAULT_GRANT,
    );
    let q = TenantQuery {
        limit: 5,
        ..Default::default()
    };
    assert_eq!(
        door.tenants(&q).await.err().unwrap().kind(),
        "isolation_not_enforced"
    );
    assert_eq!(
        door.open("acme", None).await.err().unwrap().kind(),
        "isolation_not_enforced"
    );
    assert_eq!(
        door.stats(&["acme".into()]).await.err().unwrap().kind(),
        "isolation_not_enforced"
    );
    let acknowledged = Door::new(
        t.superuser(DbOptions {
            allow_bypass: true,
            ..Default::default()
        })
        .await,
        ReasonPolicy::Off,
        DEFAULT_GRANT,
    );
    assert_eq!(acknowledged.tenants(&q).await.unwrap().items.len(), 5);
}

#[tokio::test]
async fn the_login_cannot_write_a_record_in_anothers_name_or_in_the_past() {
    let t = TestDb::demo().await;
    let reader = t.reader_pool(1).await;
    let acme: String = sqlx::query_scalar("SELECT id::text FROM tenants WHERE slug = 'acme'")
        .fetch_one(&t.admin)
        .await
        .unwrap();
    let mut tx = reader.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.current_tenant_id', $1, true)")
        .bind(&acme)
        .execute(&mut *tx)
        .await
        .unwrap();
    // As the console's login, by hand: another's name and a date in the past are refused by the database.
    for forged in [
        "INSERT INTO support_access_log (tenant_id, db_user, os_user, client_host, category, detail, action)
         VALUES (current_setting('app.current_tenant_id')::uuid, 'postgres', 'x', 'x', 'other', 'forged', 'view')",
        "INSERT INTO support_access_log (tenant_id, os_user, client_host, category, detail, action, created_at)
         VALUES (current_setting('app.current_tenant_id')::uuid, 'x', 'x', 'other', 'forged', 'view', '2025-01-01')",
    ] {
        let e = sqlx::query(forged).execute(&mut *tx).await.unwrap_err();
        let code = e.as_database_error().and_then(|d| d.code()).unwrap_or_default();
        assert_eq!(code, "42501", "{forged}: {e}");
        tx.rollback().await.unwrap();
        tx = reader.begin().await.unwrap();
        sqlx::query("SELECT set_config('app.current_tenant_id', $1, true)")
            .bind(&acme)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    // What it may write gets the login's own name and the server's clock, not a value of its choosing.
    let (who, fresh): (String, bool) = sqlx::query_as(
        "INSERT INTO support_access_log (tenant_id, os_user, client_host, category, detail, action)
         VALUES (current_setting('app.current_tenant_id')::uuid, 'x', 'x', 'other', 'honest', 'view')
         RETURNING db_user, created_at > now() - interval '1 minute'",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!((who.as_str(), fresh), ("console_reader", true));
    // No UPDATE, no DELETE: append-only for the login.
    for erase in [
        "UPDATE support_access_log SET detail = 'rewritten'",
        "DELETE FROM support_access_log",
    ] {
        let e = sqlx::query(erase).execute(&reader).await.unwrap_err();
        assert_eq!(
            e.as_database_error()
                .and_then(|d| d.code())
                .unwrap_or_default(),
            "42501",
            "{erase}"
        );
    }

    // The check says so when a login may write who or when itself, and not for the reference schema.
    let clean = tenant_console_core::isolation::check(&t.reader().await, &Default::default())
        .await
        .unwrap();
    assert!(
        !clean
            .findings
            .iter()
            .any(|f| f.code == "ACCESS_LOG_FORGEABLE"),
        "{:?}",
        clean.findings
    );
    sqlx::query("GRANT INSERT ON support_access_log TO console_reader")
        .execute(&t.admin)
        .await
        .unwrap();
    let loose = tenant_console_core::isolation::check(&t.reader().await, &Default::default())
        .await
        .unwrap();
    let f = loose
        .findings
        .iter()
        .find(|f| f.code == "ACCESS_LOG_FORGEABLE")
        .expect("a forgeable log is reported");
    assert!(
        f.problem.contains("db_user") && f.problem.contains("created_at"),
        "{f:?}"
    );
}

#[tokio::test]
async fn a_named_access_log_that_cannot_be_found_refuses_every_read() {
    let t = TestDb::demo().await;
    let mut mapping = Mapping::reference();
    mapping.access_log.as_mut().unwrap().table = "support_acces_log".into();
    let db = t.reader_with(2, mapping).await;
    let reason: AccessReason = "support-ticket:ZD-7".parse().unwrap();
    for policy in [
        ReasonPolicy::Off,
        ReasonPolicy::Optional,
        ReasonPolicy::Required,
    ] {
        let door = Door::new(db.clone(), policy, DEFAULT_GRANT);
        let e = door
            .open("acme", Some(&reason))
            .await
            .map(|o| o.tenant)
            .unwrap_err();
        assert_eq!(e.kind(), "access_not_recorded", "{policy:?}: {e}");
        assert!(e.to_string().contains("support_acces_log"), "{e}");
        let Err(e) = door.scope("acme").await else {
            panic!("{policy:?}: a scope opened without a log to record in")
        };
        assert_eq!(e.kind(), "access_not_recorded");
        let e = door
            .tenants(&Default::default())
            .await
            .map(|_| ())
            .unwrap_err();
        assert_eq!(e.kind(), "access_not_recorded");
    }
    // Said explicitly, reads go on without a log (and say they are not recorded).
    let mut none = Mapping::reference();
    none.access_log = None;
    let db = t.reader_with(2, none).await;
    let opened = Door::new(db, ReasonPolicy::Optional, DEFAULT_GRANT)
        .open("acme", Some(&reason))
        .await
        .unwrap();
    assert_eq!(opened.recorded, Some(Recorded::NoLogTable));
}
