//! The tenant scope against a real PostgreSQL: isolation per table, unset settings, read-only, pooled
//! connections, a concurrent property test, and proof that these tests fail when RLS is sabotaged.

use crate::common::{TestDb, TENANT_TABLES};
use rand::{Rng, SeedableRng};
use sqlx::{Connection, Executor};
use tenant_console_core::audit::{self, AuditFilter};
use tenant_console_core::{members, roles, tenants, DbOptions, Error, TenantScope};

/// Rows of `table` visible in the scope that belong to another tenant (the database's answer, not ours:
/// this query deliberately has no tenant predicate).
async fn foreign_rows(scope: &mut TenantScope, table: &str) -> i64 {
    let tenant = scope.tenant().id().to_owned();
    sqlx::query_scalar(&format!(
        "SELECT count(*) FROM {table} WHERE tenant_id <> $1::uuid"
    ))
    .bind(tenant)
    .fetch_one(scope.raw())
    .await
    .unwrap()
}

async fn own_rows(scope: &mut TenantScope, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(scope.raw())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_tenants_scope_never_returns_another_tenants_row_in_any_tenant_table() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    for (slug, id) in t.tenant_ids().await {
        let tenant = t.tenant(&db, &slug).await;
        assert_eq!(tenant.id(), id);
        let mut scope = tenant_console_dev::testing::scope(&db, &tenant).await;
        for table in TENANT_TABLES {
            assert_eq!(foreign_rows(&mut scope, table).await, 0, "{slug}: {table}");
            // Not vacuous: the tenant sees exactly its own rows, as the superuser counts them.
            let expected: i64 = sqlx::query_scalar(&format!(
                "SELECT count(*) FROM {table} WHERE tenant_id = $1::uuid"
            ))
            .bind(&id)
            .fetch_one(&t.admin)
            .await
            .unwrap();
            assert_eq!(
                own_rows(&mut scope, table).await,
                expected,
                "{slug}: {table}"
            );
        }
        scope.finish().await.unwrap();
    }
}

#[tokio::test]
async fn an_unset_or_empty_tenant_setting_returns_nothing_and_raises_nothing() {
    let t = TestDb::demo().await;
    let mut conn = sqlx::PgConnection::connect_with(&t.reader_options())
        .await
        .unwrap();
    for setting in [None, Some("")] {
        let mut tx = conn.begin().await.unwrap();
        if let Some(value) = setting {
            sqlx::query("SELECT set_config('app.current_tenant_id', $1, true)")
                .bind(value)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        for table in TENANT_TABLES {
            let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
                .fetch_one(&mut *tx)
                .await
                .unwrap_or_else(|e| panic!("{table} with setting {setting:?} raised: {e}"));
            assert_eq!(n, 0, "{table} with setting {setting:?}");
        }
        tx.rollback().await.unwrap();
    }
}

#[tokio::test]
async fn a_write_inside_a_tenant_scope_fails_with_a_read_only_error() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let acme = t.tenant(&db, "acme").await;
    let mut scope = tenant_console_dev::testing::scope(&db, &acme).await;
    // console_reader may INSERT into the access log in general: only the scope's READ ONLY stops this.
    let err = sqlx::query(
        "INSERT INTO support_access_log (tenant_id, os_user, client_host, category, action)
         VALUES ($1::uuid, 'x', 'y', 'other', 'view')",
    )
    .bind(acme.id())
    .execute(scope.raw())
    .await
    .unwrap_err();
    let err = Error::from(err);
    assert_eq!(err.kind(), "read_only");
    assert!(err.to_string().contains("read-only"), "{err}");
}

#[tokio::test]
async fn the_tenant_setting_does_not_survive_on_a_pooled_connection_after_the_scope() {
    let t = TestDb::demo().await;
    let db = t
        .reader_with(1, tenant_console_core::Mapping::reference())
        .await;
    let acme = t.tenant(&db, "acme").await;
    let mut scope = tenant_console_dev::testing::scope(&db, &acme).await;
    assert!(own_rows(&mut scope, "audit_logs").await > 0);
    scope.finish().await.unwrap();

    // The pool has one connection: this is the very connection the scope used.
    let mut conn = db.catalog_pool().acquire().await.unwrap();
    let setting: Option<String> =
        sqlx::query_scalar("SELECT current_setting('app.current_tenant_id', true)")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    assert!(
        setting.as_deref().unwrap_or("").is_empty(),
        "leaked {setting:?}"
    );
    let visible: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_logs")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(visible, 0);

    // A scope dropped without finishing (an error path) rolls back and leaks nothing either.
    drop(conn);
    let scope = tenant_console_dev::testing::scope(&db, &acme).await;
    drop(scope);
    let mut conn = db.catalog_pool().acquire().await.unwrap();
    let visible: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_logs")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(visible, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_random_tenant_switches_on_one_pool_never_show_a_foreign_row() {
    let t = TestDb::demo().await;
    let db = t
        .reader_with(4, tenant_console_core::Mapping::reference())
        .await;
    let mut all = Vec::new();
    for (slug, _) in t.tenant_ids().await {
        all.push(t.tenant(&db, &slug).await);
    }
    // What each tenant's members are, per the superuser: a member shown for tenant X must be one of these.
    let mut members_of = std::collections::HashMap::new();
    for tenant in &all {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT user_id::text FROM memberships WHERE tenant_id = $1::uuid")
                .bind(tenant.id())
                .fetch_all(&t.admin)
                .await
                .unwrap();
        members_of.insert(tenant.id().to_owned(), ids);
    }
    let members_of = std::sync::Arc::new(members_of);
    let mut tasks = Vec::new();
    for task in 0..8u64 {
        let (db, all, members_of) = (db.clone(), all.clone(), members_of.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(task);
            let mut checked = 0u64;
            for _ in 0..400 {
                let tenant = &all[rng.gen_range(0..all.len())];
                let mut scope = tenant_console_dev::testing::scope(&db, tenant).await;
                match rng.gen_range(0..4) {
                    0 => {
                        let page = audit::page(&mut scope, &AuditFilter::default(), 50, None)
                            .await
                            .unwrap();
                        for e in &page.items {
                            assert_eq!(e.metadata["tenant"], tenant.slug().unwrap());
                            checked += 1;
                        }
                    }
                    1 => {
                        let page = members::list(&mut scope, &members::MemberQuery { limit: 100, ..Default::default() })
                            .await
                            .unwrap();
                        assert!(!page.items.is_empty());
                        for m in &page.items {
                            assert!(members_of[tenant.id()].contains(&m.id), "{} not in {}", m.id, tenant.label());
                            checked += 1;
                        }
                    }
                    2 => {
                        for r in roles::list(&mut scope).await.unwrap() {
                            let custom_elsewhere = matches!(
                                (r.id.as_str(), tenant.label()),
                                ("BILLING" | "AUDITOR", l) if l != "acme"
                            ) || matches!((r.id.as_str(), tenant.label()), ("SUPPORT", l) if l != "globex");
                            assert!(!custom_elsewhere, "{} shown for {}", r.id, tenant.label());
                            checked += 1;
                        }
                    }
                    _ => {
                        let ids: Vec<String> =
                            sqlx::query_scalar("SELECT DISTINCT tenant_id::text FROM audit_logs")
                                .fetch_all(scope.raw())
                                .await
                                .unwrap();
                        assert_eq!(ids, vec![tenant.id().to_owned()]);
                        checked += 1;
                    }
                }
                // Every few rounds, leave a scope unfinished (dropped mid-way) like an error path would.
                if rng.gen_bool(0.1) {
                    drop(scope);
                } else {
                    scope.finish().await.unwrap();
                }
            }
            checked
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    assert!(
        total > 10_000,
        "the property test checked only {total} rows"
    );
}

#[tokio::test]
async fn the_isolation_tests_notice_an_open_policy() {
    let t = TestDb::demo().await;
    // Sabotage: an always-true permissive policy ORs with the tenant policy and opens every row.
    t.admin
        .execute("CREATE POLICY open_door ON audit_logs FOR SELECT USING (true)")
        .await
        .unwrap();
    let db = t.reader().await;
    let acme = t.tenant(&db, "acme").await;
    let mut scope = tenant_console_dev::testing::scope(&db, &acme).await;
    assert!(foreign_rows(&mut scope, "audit_logs").await > 0);
    // ... while the console's own predicate still keeps its pages clean (defence in depth).
    let page = audit::page(&mut scope, &AuditFilter::default(), 500, None)
        .await
        .unwrap();
    assert!(page.items.iter().all(|e| e.metadata["tenant"] == "acme"));
}

#[tokio::test]
async fn the_isolation_tests_notice_rls_turned_off() {
    let t = TestDb::demo().await;
    t.admin
        .execute("ALTER TABLE memberships DISABLE ROW LEVEL SECURITY")
        .await
        .unwrap();
    let db = t.reader().await;
    let acme = t.tenant(&db, "acme").await;
    let mut scope = tenant_console_dev::testing::scope(&db, &acme).await;
    assert!(foreign_rows(&mut scope, "memberships").await > 0);
}

#[tokio::test]
async fn an_owner_without_forced_rls_is_refused_a_tenant_scope() {
    let t = TestDb::demo().await;
    t.admin
        .execute("ALTER TABLE audit_logs OWNER TO console_reader; ALTER TABLE audit_logs NO FORCE ROW LEVEL SECURITY")
        .await
        .unwrap();
    let db = t.reader().await;
    let acme = t.tenant(&db, "acme").await;
    let err = tenant_console_dev::testing::door(&db)
        .scope(acme.id())
        .await
        .err()
        .expect("refused");
    assert_eq!(err.kind(), "isolation_not_enforced");
    assert!(err.to_string().contains("audit_logs"), "{err}");
    // Put it back: roles are cluster-wide, and other tests' databases are unaffected by this one's tables.
    t.admin
        .execute("ALTER TABLE audit_logs OWNER TO postgres")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_superuser_login_is_refused_unless_bypass_is_allowed_and_then_it_says_so() {
    let t = TestDb::demo().await;
    let db = t.superuser(DbOptions::default()).await;
    let acme = t.tenant(&db, "acme").await;
    let err = tenant_console_dev::testing::door(&db)
        .scope(acme.id())
        .await
        .err()
        .expect("refused");
    assert_eq!(err.kind(), "isolation_not_enforced");
    assert!(err.to_string().contains("superuser"), "{err}");

    let db = t
        .superuser(DbOptions {
            allow_bypass: true,
            ..Default::default()
        })
        .await;
    assert!(db.bypass_accepted());
    let mut scope = tenant_console_dev::testing::scope(&db, &acme).await;
    // RLS does not apply to a superuser: the database would hand out foreign rows ...
    assert!(foreign_rows(&mut scope, "audit_logs").await > 0);
    // ... and only the console's predicates keep the pages to the tenant.
    let page = audit::page(&mut scope, &AuditFilter::default(), 1000, None)
        .await
        .unwrap();
    assert!(page.items.iter().all(|e| e.metadata["tenant"] == "acme"));
}

#[tokio::test]
async fn an_unknown_tenant_is_a_clear_error() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    for key in [
        "no-such-tenant",
        "00000000-0000-0000-0000-000000000000",
        "'; DROP TABLE tenants; --",
    ] {
        let err = tenants::resolve(&db, key).await.unwrap_err();
        assert_eq!(err.kind(), "unknown_tenant", "{key}");
        assert!(err.to_string().contains("unknown tenant"), "{err}");
    }
    let err = tenants::resolve(&db, "  ").await.unwrap_err();
    assert_eq!(err.kind(), "invalid_input");
    let row: (i64,) = sqlx::query_as("SELECT count(*) FROM tenants")
        .fetch_one(&t.admin)
        .await
        .unwrap();
    assert_eq!(row.0, 6, "the hostile key did not touch the tenants table");
}
