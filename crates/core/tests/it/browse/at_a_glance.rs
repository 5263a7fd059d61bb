//! The tenant at a glance: the tenant's own numbers, and the busy tenant's capped actor ranking.

use super::*;

/// The tenant at a glance, read as the tenant: the newest events are the audit page's first 20; the active actors
/// and their counts are the superuser's own GROUP BY over the same 30 days; the failed sign-ins are the mapped
/// action's; the support accesses are the tenant's. Nothing of another tenant appears anywhere in it.
#[tokio::test(flavor = "multi_thread")]
async fn the_glance_is_the_tenants_own_and_matches_the_superusers_answers() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let now = Utc::now();
    for slug in ["acme", "globex"] {
        let mut scope = tenant_console_dev::testing::door(&db)
            .scope(slug)
            .await
            .unwrap();
        let tid = scope.tenant().id().to_owned();
        let g = tenant_console_core::glance::glance(&mut scope, now)
            .await
            .unwrap();
        let page = audit::page(&mut scope, &AuditFilter::default(), 20, None)
            .await
            .unwrap();
        scope.finish().await.unwrap();
        let ids = |v: &[audit::AuditEvent]| v.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&g.latest), ids(&page.items));
        assert_eq!(g.latest.len(), 20);
        for e in g.latest.iter().chain(&g.failed_logins.latest) {
            assert_eq!(e.metadata["tenant"], slug, "{slug}: a foreign event");
        }
        let since = (now - chrono::Duration::days(30)).to_rfc3339();
        // The superuser's ranking over the same window (the demo tenants are far below the window's cap).
        let truth: Vec<(String, i64)> = sqlx::query_as(
            "SELECT actor_id::text, count(*) FROM audit_logs
              WHERE tenant_id = CAST($1 AS uuid) AND created_at >= CAST($2 AS timestamptz) AND actor_id IS NOT NULL
              GROUP BY actor_id ORDER BY count(*) DESC, max(created_at) DESC LIMIT 5",
        )
        .bind(&tid)
        .bind(&since)
        .fetch_all(&t.admin)
        .await
        .unwrap();
        let got: Vec<(String, i64)> = g
            .active_actors
            .items
            .iter()
            .map(|a| (a.actor_id.clone(), a.events))
            .collect();
        assert_eq!(got, truth, "{slug}");
        assert!(!g.active_actors.capped);
        for a in &g.active_actors.items {
            let email = su(
                &t.admin,
                "SELECT email FROM users WHERE id = CAST($1 AS uuid)",
                &[&a.actor_id],
            )
            .await;
            assert_eq!(a.email.as_deref(), email.first().map(String::as_str));
        }
        let failed = su_count(
            &t.admin,
            "SELECT count(*) FROM audit_logs WHERE tenant_id = CAST($1 AS uuid)
               AND action = 'auth.login_failed' AND created_at >= CAST($2 AS timestamptz)",
            &[&tid, &since],
        )
        .await;
        assert!(failed > 0, "the demo data has failed sign-ins for {slug}");
        assert_eq!(g.failed_logins.count.value, failed);
        assert!(!g.failed_logins.count.is_estimate);
        assert_eq!(g.failed_logins.latest.len(), failed.min(5) as usize);
        assert!(g
            .failed_logins
            .latest
            .iter()
            .all(|e| e.action.as_deref() == Some("auth.login_failed")));
        let accesses = su_count(
            &t.admin,
            "SELECT count(*) FROM support_access_log WHERE tenant_id = CAST($1 AS uuid)",
            &[&tid],
        )
        .await;
        assert_eq!(g.recent_access.len() as i64, accesses.min(5));
    }
}

/// On a tenant with more events in 30 days than the window, the ranking is of the newest events and says so.
#[tokio::test(flavor = "multi_thread")]
async fn active_actors_of_a_busy_tenant_are_counted_over_the_newest_events_and_say_so() {
    let t = TestDb::demo().await;
    let tid = su(
        &t.admin,
        "SELECT id::text FROM tenants WHERE slug = 'globex'",
        &[],
    )
    .await[0]
        .clone();
    let actor = su(
        &t.admin,
        "SELECT user_id::text FROM memberships WHERE tenant_id = CAST($1 AS uuid) LIMIT 1",
        &[&tid],
    )
    .await[0]
        .clone();
    sqlx::query(
        "INSERT INTO audit_logs (tenant_id, actor_id, action, created_at)
         SELECT CAST($1 AS uuid), CAST($2 AS uuid), 'bulk.event', now() - g * interval '1 second'
           FROM generate_series(1, $3) g",
    )
    .bind(&tid)
    .bind(&actor)
    .bind(audit::ACTIVE_ACTORS_WINDOW as i32 + 500)
    .execute(&t.admin)
    .await
    .unwrap();
    let db = t.reader().await;
    let mut scope = tenant_console_dev::testing::door(&db)
        .scope("globex")
        .await
        .unwrap();
    let a = audit::active_actors(&mut scope, Utc::now() - chrono::Duration::days(30), 5)
        .await
        .unwrap();
    assert!(a.capped);
    assert_eq!(a.events_read, audit::ACTIVE_ACTORS_WINDOW);
    // The superuser's ranking of the newest window's events: the bulk actor first, by far.
    let truth: Vec<(String, i64)> = sqlx::query_as(
        "SELECT actor_id::text, count(*) FROM (SELECT actor_id, created_at FROM audit_logs
           WHERE tenant_id = CAST($1 AS uuid) ORDER BY created_at DESC, id DESC LIMIT $2) w
          WHERE actor_id IS NOT NULL GROUP BY actor_id ORDER BY count(*) DESC, max(created_at) DESC LIMIT 5",
    )
    .bind(&tid)
    .bind(audit::ACTIVE_ACTORS_WINDOW)
    .fetch_all(&t.admin)
    .await
    .unwrap();
    let got: Vec<(String, i64)> = a
        .items
        .iter()
        .map(|x| (x.actor_id.clone(), x.events))
        .collect();
    assert_eq!(got, truth);
    assert_eq!(got[0].0, actor);
    assert!(got[0].1 > audit::ACTIVE_ACTORS_WINDOW - 100);
}
