//! The audit log, counts, stats and the access history: walks in both orders, filters, ties, two tenants
//! interleaved.

use super::*;

// ---------------------------------------------------------------------------------------------- audit

/// An audit event as the superuser reads it, in [`audit::AuditEvent`] field order (after the id).
type EventRow = (
    DateTime<Utc>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    serde_json::Value,
);

#[tokio::test]
async fn the_audit_log_walks_newest_first_and_returns_every_row_exactly_once() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let globex = t.tenant(&db, "globex").await;
    let expected = su(
        &t.admin,
        "SELECT a.id::text FROM audit_logs a WHERE a.tenant_id = $1::uuid ORDER BY a.created_at DESC, a.id DESC",
        &[globex.id()],
    )
    .await;
    assert_eq!(expected.len(), 600);
    let ids = walk_audit(&db, &globex, &AuditFilter::default(), 7).await;
    assert_eq!(ids, expected);

    // Every field of an event is what the superuser reads, the actor's email included.
    let mut scope = tenant_console_dev::testing::scope(&db, &globex).await;
    let page = audit::page(&mut scope, &AuditFilter::default(), 50, None)
        .await
        .unwrap();
    for e in &page.items {
        let row: EventRow = sqlx::query_as(
                "SELECT a.created_at, a.actor_id::text, u.email, a.action, a.resource_type, a.resource_id,
                        host(a.ip), a.user_agent, a.metadata
                   FROM audit_logs a LEFT JOIN users u ON u.id = a.actor_id
                  WHERE a.tenant_id = $1::uuid AND a.id = $2::bigint",
            )
            .bind(globex.id())
            .bind(&e.id)
            .fetch_one(&t.admin)
            .await
            .unwrap();
        assert_eq!(
            (
                e.occurred_at,
                e.actor_id.clone(),
                e.actor_email.clone(),
                e.action.clone().unwrap(),
                e.resource_type.clone(),
                e.resource_id.clone(),
                e.ip.clone(),
                e.user_agent.clone(),
                e.metadata.clone()
            ),
            row
        );
        assert_eq!(e.metadata["tenant"], "globex");
    }
}

#[tokio::test]
async fn audit_rows_with_the_same_time_are_ordered_by_id_across_page_boundaries() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let soylent = t.tenant(&db, "soylent").await;
    // 23 events in one microsecond, newer than everything else, and 9 more at another shared instant.
    sqlx::query(
        "INSERT INTO audit_logs (tenant_id, action, created_at, metadata)
         SELECT $1::uuid, 'tie.test', CASE WHEN g <= 23 THEN timestamptz '2030-01-01 00:00:00.123456+00'
                                           ELSE timestamptz '2020-05-05 05:05:05+00' END,
                jsonb_build_object('g', g)
           FROM generate_series(1, 32) g",
    )
    .bind(soylent.id())
    .execute(&t.admin)
    .await
    .unwrap();
    let expected = su(
        &t.admin,
        "SELECT a.id::text FROM audit_logs a WHERE a.tenant_id = $1::uuid AND a.action = 'tie.test'
          ORDER BY a.created_at DESC, a.id DESC",
        &[soylent.id()],
    )
    .await;
    assert_eq!(expected.len(), 32);
    let filter = AuditFilter {
        action: Some("tie.test".into()),
        ..Default::default()
    };
    assert_eq!(walk_audit(&db, &soylent, &filter, 7).await, expected);
    // Unfiltered, the tied rows sit among all others and the walk is still exact.
    let all = su(
        &t.admin,
        "SELECT a.id::text FROM audit_logs a WHERE a.tenant_id = $1::uuid ORDER BY a.created_at DESC, a.id DESC",
        &[soylent.id()],
    )
    .await;
    assert_eq!(
        walk_audit(&db, &soylent, &AuditFilter::default(), 7).await,
        all
    );
    // The ids within the tie really descend (the tie-break is on id, newest id first).
    let first: Vec<i64> = expected[..23].iter().map(|s| s.parse().unwrap()).collect();
    assert!(first.windows(2).all(|w| w[0] > w[1]));
}

#[tokio::test]
async fn audit_filters_return_exactly_the_rows_of_the_superusers_where_clause() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let acme = t.tenant(&db, "acme").await;
    let times = su(
        &t.admin,
        "SELECT created_at::text FROM audit_logs WHERE tenant_id = $1::uuid ORDER BY created_at DESC, id DESC",
        &[acme.id()],
    )
    .await;
    let ts = |i: usize| -> DateTime<Utc> {
        DateTime::parse_from_str(&format!("{}00", &times[i]), "%Y-%m-%d %H:%M:%S%.f%z")
            .unwrap()
            .with_timezone(&Utc)
    };
    let (newer, older) = (ts(100), ts(900));
    let user1: String = su(
        &t.admin,
        "SELECT id::text FROM users WHERE email = 'user1@example.com'",
        &[],
    )
    .await[0]
        .clone();
    let hostile_email = su(
        &t.admin,
        "SELECT email FROM users WHERE id = md5('user:7')::uuid",
        &[],
    )
    .await[0]
        .clone();
    assert!(hostile_email.starts_with("=cmd"));

    let f = AuditFilter::default;
    let cases: Vec<(AuditFilter, String)> = vec![
        (AuditFilter { since: Some(older), ..f() }, format!("created_at >= '{older}'")),
        (AuditFilter { until: Some(newer), ..f() }, format!("created_at < '{newer}'")),
        (AuditFilter { since: Some(older), until: Some(newer), ..f() }, format!("created_at >= '{older}' AND created_at < '{newer}'")),
        (AuditFilter { action: Some("member.invited".into()), ..f() }, "action = 'member.invited'".into()),
        (AuditFilter { action: Some("member".into()), ..f() }, "action = 'member'".into()),
        (AuditFilter { action: Some("member.".into()), ..f() }, "action LIKE 'member.%'".into()),
        (AuditFilter { action: Some("member.*".into()), ..f() }, "action LIKE 'member.%'".into()),
        (AuditFilter { action: Some("auth*".into()), ..f() }, "action LIKE 'auth%'".into()),
        (AuditFilter { action: Some("%.".into()), ..f() }, "false".into()),
        (AuditFilter { action: Some("_ember.*".into()), ..f() }, "false".into()),
        (AuditFilter { actor: Some(user1.clone()), ..f() }, format!("actor_id = '{user1}'")),
        (AuditFilter { actor: Some("USER1@Example.com".into()), ..f() }, format!("actor_id = '{user1}'")),
        (AuditFilter { actor: Some(hostile_email.clone()), ..f() }, "actor_id = md5('user:7')::uuid".into()),
        (AuditFilter { actor: Some("nobody@example.com".into()), ..f() }, "false".into()),
        (AuditFilter { resource_type: Some("invoice".into()), ..f() }, "resource_type = 'invoice'".into()),
        (AuditFilter { resource_id: Some("res-42".into()), ..f() }, "resource_id = 'res-42'".into()),
        (AuditFilter { resource_id: Some("=HYPERLINK(\"http://evil.example\",\"click\")".into()), ..f() }, "resource_id LIKE '=HYPERLINK%'".into()),
        (
            AuditFilter { since: Some(older), action: Some("member.".into()), actor: Some("user3@example.com".into()), resource_type: Some("member".into()), ..f() },
            format!("created_at >= '{older}' AND action LIKE 'member.%' AND actor_id = md5('user:3')::uuid AND resource_type = 'member'"),
        ),
    ];
    let mut non_empty = 0;
    for (filter, cond) in &cases {
        let expected = su(
            &t.admin,
            &format!(
                "SELECT a.id::text FROM audit_logs a WHERE a.tenant_id = $1::uuid AND {cond} ORDER BY a.created_at DESC, a.id DESC"
            ),
            &[acme.id()],
        )
        .await;
        non_empty += usize::from(!expected.is_empty());
        let ids = walk_audit(&db, &acme, filter, 250).await;
        assert_eq!(ids.len(), expected.len(), "{cond}");
        assert_eq!(ids, expected, "{cond}");
        let mut scope = tenant_console_dev::testing::scope(&db, &acme).await;
        let count = audit::count(&mut scope, filter).await.unwrap();
        assert_eq!(
            (count.value, count.is_estimate),
            (expected.len() as i64, false),
            "{cond}"
        );
    }
    assert!(non_empty >= 13, "most cases find rows ({non_empty})");
}

#[tokio::test]
async fn bad_audit_filters_are_input_errors() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let acme = t.tenant(&db, "acme").await;
    let mut scope = tenant_console_dev::testing::scope(&db, &acme).await;
    let at = audit::parse_time("2026-01-01").unwrap();
    let f = AuditFilter::default;
    for (filter, says) in [
        (
            AuditFilter {
                since: Some(at),
                until: Some(at),
                ..f()
            },
            "time range is empty",
        ),
        (
            AuditFilter {
                since: Some(at),
                until: Some(at - chrono::Duration::days(1)),
                ..f()
            },
            "time range is empty",
        ),
        (
            AuditFilter {
                action: Some("a\0".into()),
                ..f()
            },
            "NUL",
        ),
        (
            AuditFilter {
                actor: Some("x".repeat(10 * 1024)),
                ..f()
            },
            "longer than",
        ),
        (
            AuditFilter {
                resource_id: Some("\0".into()),
                ..f()
            },
            "NUL",
        ),
    ] {
        for err in [
            audit::page(&mut scope, &filter, 10, None)
                .await
                .unwrap_err(),
            audit::count(&mut scope, &filter).await.unwrap_err(),
        ] {
            assert_eq!(err.kind(), "invalid_input", "{filter:?}");
            assert!(err.to_string().contains(says), "{err}");
        }
    }
    for bad in [
        "yesterday",
        "2026-02-30",
        "30",
        "-1d",
        "2026-01-01T25:00:00Z",
        "'; drop table audit_logs; --",
    ] {
        let err = audit::parse_time(bad).unwrap_err();
        assert_eq!(err.kind(), "invalid_input", "{bad}");
    }
}

#[tokio::test]
async fn counts_are_exact_up_to_ten_thousand_and_labelled_estimates_beyond() {
    let t = TestDb::demo().await;
    // Hooli gets 12,000 more events in the last ten days (set-based, as the superuser).
    sqlx::query(
        "INSERT INTO audit_logs (tenant_id, action, resource_type, created_at, metadata)
         SELECT md5('tenant:hooli')::uuid, 'bulk.event', 'bulk', now() - g * interval '1 minute', '{}'
           FROM generate_series(1, 12000) g",
    )
    .execute(&t.admin)
    .await
    .unwrap();
    sqlx::query("ANALYZE audit_logs")
        .execute(&t.admin)
        .await
        .unwrap();
    let db = t.reader().await;

    let acme = t.tenant(&db, "acme").await;
    let mut scope = tenant_console_dev::testing::scope(&db, &acme).await;
    let c = audit::count(&mut scope, &AuditFilter::default())
        .await
        .unwrap();
    assert_eq!((c.value, c.is_estimate), (3000, false));
    scope.finish().await.unwrap();

    let hooli = t.tenant(&db, "hooli").await;
    let exact = su_count(
        &t.admin,
        "SELECT count(*) FROM audit_logs WHERE tenant_id = md5('tenant:hooli')::uuid",
        &[],
    )
    .await;
    assert_eq!(exact, 12_600);
    let mut scope = tenant_console_dev::testing::scope(&db, &hooli).await;
    let c = audit::count(&mut scope, &AuditFilter::default())
        .await
        .unwrap();
    assert!(c.is_estimate, "{c:?}");
    assert!(c.value > EXACT_COUNT_LIMIT, "{c:?}");
    // The estimate is the planner's, under RLS: in the right order of magnitude, not a wild number.
    assert!(
        c.value >= EXACT_COUNT_LIMIT && c.value < 10 * exact,
        "{c:?}"
    );
    // A filter that narrows below the limit is exact again.
    let narrow = AuditFilter {
        action: Some("member.invited".into()),
        ..Default::default()
    };
    let c = audit::count(&mut scope, &narrow).await.unwrap();
    let expected = su_count(
        &t.admin,
        "SELECT count(*) FROM audit_logs WHERE tenant_id = md5('tenant:hooli')::uuid AND action = 'member.invited'",
        &[],
    )
    .await;
    assert_eq!((c.value, c.is_estimate), (expected, false));
    let stats = tenants::stats(&mut scope).await.unwrap();
    assert!(stats.audit_events_30d.is_estimate);
    assert!(stats.audit_events_30d.value > EXACT_COUNT_LIMIT);
}

#[tokio::test]
async fn tenant_stats_equal_the_superusers_numbers() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let now = Utc::now();
    let since = (now - chrono::Duration::days(30)).to_rfc3339();
    for (slug, id) in t.tenant_ids().await {
        let tenant = t.tenant(&db, &slug).await;
        let mut scope = tenant_console_dev::testing::scope(&db, &tenant).await;
        let stats = tenants::stats_as_of(&mut scope, now).await.unwrap();
        scope.finish().await.unwrap();
        let members = su_count(
            &t.admin,
            "SELECT count(*) FROM memberships WHERE tenant_id = $1::uuid",
            &[&id],
        )
        .await;
        let recent = su_count(
            &t.admin,
            "SELECT count(*) FROM audit_logs WHERE tenant_id = $1::uuid AND created_at >= $2::timestamptz",
            &[&id, &since],
        )
        .await;
        let last: Option<DateTime<Utc>> =
            sqlx::query_scalar("SELECT max(created_at) FROM audit_logs WHERE tenant_id = $1::uuid")
                .bind(&id)
                .fetch_one(&t.admin)
                .await
                .unwrap();
        assert!(
            recent > 0 && recent < 3000,
            "{slug}: the window cuts the data ({recent})"
        );
        assert_eq!(stats.members, members, "{slug}");
        assert_eq!(
            (
                stats.audit_events_30d.value,
                stats.audit_events_30d.is_estimate
            ),
            (recent, false),
            "{slug}"
        );
        assert_eq!(stats.last_activity, last, "{slug}");
    }
    // The page helper reads the same numbers, one scope per tenant.
    let page = tenants::list(
        &db,
        &TenantQuery {
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let list: Vec<Tenant> = page.items.iter().map(|r| r.tenant.clone()).collect();
    let ids: Vec<String> = list.iter().map(|t| t.id().to_owned()).collect();
    let all = tenant_console_dev::testing::door(&db)
        .stats(&ids)
        .await
        .unwrap();
    assert_eq!(all.len(), list.len());
    for (tenant, row) in list.iter().zip(&all) {
        assert_eq!(row.tenant_id, tenant.id());
        let stats = &row.stats;
        let members = su_count(
            &t.admin,
            "SELECT count(*) FROM memberships WHERE tenant_id = $1::uuid",
            &[tenant.id()],
        )
        .await;
        assert_eq!(stats.members, members);
    }
}

// ---------------------------------------------------------------------------------------------- access history

#[tokio::test]
async fn the_access_history_walks_newest_first_with_ties_broken_by_id() {
    let t = TestDb::demo().await;
    sqlx::query(
        "INSERT INTO support_access_log (tenant_id, os_user, client_host, category, detail, action, created_at)
         SELECT md5('tenant:acme')::uuid, 'u' || g, 'h', 'incident', 'INC-' || g, 'view',
                timestamptz '2026-03-01 00:00:00+00' + (g / 4) * interval '1 second'
           FROM generate_series(1, 17) g",
    )
    .execute(&t.admin)
    .await
    .unwrap();
    let db = t.reader().await;
    let acme = t.tenant(&db, "acme").await;
    let expected = su(
        &t.admin,
        "SELECT l.id::text FROM support_access_log l WHERE l.tenant_id = $1::uuid ORDER BY l.created_at DESC, l.id DESC",
        &[acme.id()],
    )
    .await;
    assert_eq!(expected.len(), 18);
    let mut after: Option<String> = None;
    let mut ids = Vec::new();
    loop {
        let mut scope = tenant_console_dev::testing::scope(&db, &acme).await;
        let page = access::history(&mut scope, 7, after.as_deref())
            .await
            .unwrap();
        ids.extend(page.items.iter().map(|e| e.id.clone()));
        assert!(page.items.iter().all(|e| e.action == "view"));
        match page.next_cursor {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    assert_eq!(ids, expected);
    // Another tenant sees only its own (globex has one demo entry).
    let globex = t.tenant(&db, "globex").await;
    let mut scope = tenant_console_dev::testing::scope(&db, &globex).await;
    assert_eq!(
        access::history(&mut scope, 100, None)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

// ---------------------------------------------------------------------------------------------- switching

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn interleaved_calls_for_two_tenants_never_mix_their_results() {
    let t = TestDb::demo().await;
    let db = t
        .reader_with(3, tenant_console_core::Mapping::reference())
        .await;
    let mut members_of = std::collections::HashMap::new();
    for slug in ["acme", "globex"] {
        let ids = su(
            &t.admin,
            "SELECT user_id::text FROM memberships WHERE tenant_id = md5('tenant:' || $1)::uuid",
            &[slug],
        )
        .await;
        members_of.insert(slug, ids);
    }
    let members_of = std::sync::Arc::new(members_of);
    let acme_id = t.tenant(&db, "acme").await.id().to_owned();
    let globex_id = t.tenant(&db, "globex").await.id().to_owned();
    // 300 calls alternating between the two tenants, all in flight at once on a pool of 3 connections (so
    // connections pass from one tenant to the other all the time). Each call names its tenant; its answer
    // must be that tenant's and no other's.
    let calls = (0..300usize).map(|i| {
        let db = db.clone();
        let members_of = members_of.clone();
        let (slug, id) = if i % 2 == 0 {
            ("acme", acme_id.clone())
        } else {
            ("globex", globex_id.clone())
        };
        tokio::spawn(async move {
            let mut scope = tenant_console_dev::testing::door(&db)
                .scope(slug)
                .await
                .unwrap();
            assert_eq!(scope.tenant().id(), id);
            let checked = match i % 3 {
                0 => {
                    let page = audit::page(&mut scope, &AuditFilter::default(), 40, None)
                        .await
                        .unwrap();
                    for e in &page.items {
                        assert_eq!(e.metadata["tenant"], slug, "call {i}");
                    }
                    page.items.len()
                }
                1 => {
                    let page = members::list(
                        &mut scope,
                        &members::MemberQuery {
                            limit: 50,
                            ..Default::default()
                        },
                    )
                    .await
                    .unwrap();
                    let mine = &members_of[slug];
                    for m in &page.items {
                        assert!(
                            mine.contains(&m.id),
                            "call {i}: {} is not a member of {slug}",
                            m.id
                        );
                    }
                    assert_eq!(page.items.len(), mine.len());
                    page.items.len()
                }
                _ => {
                    let stats = tenants::stats(&mut scope).await.unwrap();
                    assert_eq!(stats.members as usize, members_of[slug].len(), "call {i}");
                    let ids: Vec<String> =
                        sqlx::query_scalar("SELECT DISTINCT tenant_id::text FROM audit_logs")
                            .fetch_all(scope.raw())
                            .await
                            .unwrap();
                    assert_eq!(ids, vec![id.clone()], "call {i}");
                    1
                }
            };
            scope.finish().await.unwrap();
            checked
        })
    });
    let checked: usize = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.expect("no call panicked"))
        .sum();
    assert!(checked > 4_000, "only {checked} rows checked");
}

/// The audit log oldest first is the newest-first walk reversed, page by page.
#[tokio::test(flavor = "multi_thread")]
async fn the_audit_log_walks_oldest_first_as_the_reverse_of_newest_first() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let globex = tenants::resolve(&db, "globex").await.unwrap();
    let mut scope = tenant_console_dev::testing::scope(&db, &globex).await;
    let walk = |oldest: bool| {
        let db = db.clone();
        let globex = globex.clone();
        async move {
            let mut scope = tenant_console_dev::testing::scope(&db, &globex).await;
            let (mut ids, mut after) = (Vec::new(), None::<String>);
            loop {
                let p = audit::page_in_order(
                    &mut scope,
                    &AuditFilter::default(),
                    97,
                    after.as_deref(),
                    oldest,
                )
                .await
                .unwrap();
                ids.extend(p.items.iter().map(|e| e.id.clone()));
                match p.next_cursor {
                    Some(c) => after = Some(c),
                    None => break,
                }
            }
            ids
        }
    };
    let newest = walk(false).await;
    let mut oldest = walk(true).await;
    oldest.reverse();
    assert_eq!(newest.len(), 600);
    assert_eq!(oldest, newest);
    // Cursors of one order are not the other's.
    let p = audit::page(&mut scope, &AuditFilter::default(), 5, None)
        .await
        .unwrap();
    let err = audit::page_in_order(
        &mut scope,
        &AuditFilter::default(),
        5,
        p.next_cursor.as_deref(),
        true,
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), "invalid_input");
}
