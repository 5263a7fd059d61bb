//! Browsing as the tenant, on a real server as `console_reader`: every list (tenants, members, roles, audit,
//! access history), every filter, the edges of keyset pagination, bad input, counts and stats. The oracle is
//! always the superuser's own SQL on the same database, never a number written into the test.

mod common;

use chrono::{DateTime, Utc};
use common::TestDb;
use sqlx::PgPool;
use tenant_console_core::audit::{self, AuditFilter};
use tenant_console_core::tenants::{self, TenantQuery, TenantSort, EXACT_COUNT_LIMIT};
use tenant_console_core::{access, members, roles, Db, Tenant};

/// The superuser's answer: one text column of `sql` with text binds.
async fn su(admin: &PgPool, sql: &str, binds: &[&str]) -> Vec<String> {
    let mut q = sqlx::query_scalar::<_, String>(sql);
    for b in binds {
        q = q.bind(b.to_string());
    }
    q.fetch_all(admin)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn su_count(admin: &PgPool, sql: &str, binds: &[&str]) -> i64 {
    let mut q = sqlx::query_scalar::<_, i64>(sql);
    for b in binds {
        q = q.bind(b.to_string());
    }
    q.fetch_one(admin)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Walks the whole tenant list page by page; returns the ids in order and the number of pages.
async fn walk_tenants(db: &Db, q: &TenantQuery) -> (Vec<String>, usize) {
    let mut q = q.clone();
    let (mut ids, mut pages) = (Vec::new(), 0);
    loop {
        let page = tenants::list(db, &q).await.unwrap();
        pages += 1;
        assert!(page.items.len() <= q.limit as usize);
        ids.extend(page.items.iter().map(|r| r.tenant.id().to_owned()));
        match page.next_cursor {
            Some(c) => {
                assert_eq!(
                    page.items.len(),
                    q.limit as usize,
                    "a short page has a cursor"
                );
                q.after = Some(c);
            }
            None => return (ids, pages),
        }
        assert!(pages < 10_000, "the walk does not end");
    }
}

async fn walk_members(db: &Db, tenant: &Tenant, q: &members::MemberQuery) -> Vec<String> {
    let mut q = q.clone();
    let mut ids = Vec::new();
    loop {
        let mut scope = tenant_console_dev::testing::scope(db, tenant).await;
        let page = members::list(&mut scope, &q).await.unwrap();
        scope.finish().await.unwrap();
        ids.extend(page.items.iter().map(|m| m.id.clone()));
        match page.next_cursor {
            Some(c) => q.after = Some(c),
            None => return ids,
        }
    }
}

async fn walk_audit(db: &Db, tenant: &Tenant, filter: &AuditFilter, limit: u32) -> Vec<String> {
    let mut after: Option<String> = None;
    let mut ids = Vec::new();
    loop {
        let mut scope = tenant_console_dev::testing::scope(db, tenant).await;
        let page = audit::page(&mut scope, filter, limit, after.as_deref())
            .await
            .unwrap();
        scope.finish().await.unwrap();
        assert!(page.items.len() <= limit as usize);
        ids.extend(page.items.iter().map(|e| e.id.clone()));
        match page.next_cursor {
            Some(c) => after = Some(c),
            None => return ids,
        }
    }
}

/// Adds tenants as the superuser: (slug, name, created_at offset in seconds from a fixed instant).
async fn add_tenants(admin: &PgPool, rows: &[(&str, &str, i64)]) {
    for (slug, name, secs) in rows {
        sqlx::query(
            "INSERT INTO tenants (slug, name, created_at)
             VALUES ($1, $2, timestamptz '2025-06-01 00:00:00+00' + make_interval(secs => $3))",
        )
        .bind(slug)
        .bind(name)
        .bind(*secs as f64)
        .execute(admin)
        .await
        .unwrap();
    }
}

// ---------------------------------------------------------------------------------------------- tenants

#[tokio::test]
async fn the_tenant_list_walks_every_tenant_exactly_once_in_the_superusers_order_for_every_sort() {
    let t = TestDb::demo().await;
    // Ties on every sort key, so only the id tie-break makes the walk total: five tenants share a name, and
    // groups share a created_at to the microsecond.
    let extra: Vec<(String, String, i64)> = (0..30)
        .map(|i| {
            let name = if i < 5 {
                "Twin Company".to_owned()
            } else {
                format!("Extra {i:02}")
            };
            (format!("extra-{i:02}"), name, i / 4)
        })
        .collect();
    let extra_ref: Vec<(&str, &str, i64)> = extra
        .iter()
        .map(|(s, n, c)| (s.as_str(), n.as_str(), *c))
        .collect();
    add_tenants(&t.admin, &extra_ref).await;
    let db = t.reader().await;
    for (sort, order) in [
        (TenantSort::Name, "t.name, t.id"),
        (TenantSort::Slug, "t.slug, t.id"),
        (TenantSort::CreatedAt, "t.created_at DESC, t.id DESC"),
    ] {
        let expected = su(
            &t.admin,
            &format!("SELECT t.id::text FROM tenants t ORDER BY {order}"),
            &[],
        )
        .await;
        assert_eq!(expected.len(), 36);
        let q = TenantQuery {
            sort,
            limit: 7,
            ..Default::default()
        };
        let (ids, pages) = walk_tenants(&db, &q).await;
        assert_eq!(ids, expected, "sort {sort:?}");
        assert_eq!(pages, 6, "36 rows in pages of 7");
    }
}

#[tokio::test]
async fn a_page_exactly_as_long_as_the_remaining_rows_has_no_next_cursor() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let all = tenants::list(
        &db,
        &TenantQuery {
            limit: 6,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(all.items.len(), 6);
    assert_eq!(all.next_cursor, None, "six tenants, a page of six");

    let first = tenants::list(
        &db,
        &TenantQuery {
            limit: 3,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(first.items.len(), 3);
    let second = tenants::list(
        &db,
        &TenantQuery {
            limit: 3,
            after: first.next_cursor.clone(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(first.next_cursor.is_some());
    assert_eq!(second.items.len(), 3);
    assert_eq!(second.next_cursor, None);

    // The same edge on a tenant's members (12) and audit log (600).
    let globex = t.tenant(&db, "globex").await;
    let mut scope = tenant_console_dev::testing::scope(&db, &globex).await;
    let q = |limit, after| members::MemberQuery {
        limit,
        after,
        ..Default::default()
    };
    let whole = members::list(&mut scope, &q(12, None)).await.unwrap();
    assert_eq!(
        (whole.items.len(), whole.next_cursor.as_deref()),
        (12, None)
    );
    let half = members::list(&mut scope, &q(6, None)).await.unwrap();
    let rest = members::list(&mut scope, &q(6, half.next_cursor.clone()))
        .await
        .unwrap();
    assert_eq!((rest.items.len(), rest.next_cursor.as_deref()), (6, None));

    let f = AuditFilter::default();
    let first = audit::page(&mut scope, &f, 400, None).await.unwrap();
    let last = audit::page(&mut scope, &f, 200, first.next_cursor.as_deref())
        .await
        .unwrap();
    assert_eq!(last.items.len(), 200);
    assert_eq!(last.next_cursor, None);
    let past_the_end = audit::page(&mut scope, &f, 10, None).await.unwrap();
    assert!(past_the_end.next_cursor.is_some());
}

#[tokio::test]
async fn tenant_search_matches_substrings_of_slug_name_or_id_in_any_case() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let acme_id = su(
        &t.admin,
        "SELECT id::text FROM tenants WHERE slug = 'acme'",
        &[],
    )
    .await[0]
        .clone();
    let id_part = acme_id[9..18].to_uppercase();
    for (text, must_include) in [
        ("ACME", "acme"),           // name and slug, case-insensitive
        ("corp", "acme"),           // name only
        ("OBE", "globex"),          // slug and name substring
        ("ünited", "soylent"),      // non-ASCII case folding
        (id_part.as_str(), "acme"), // a piece of the id
        ("e", "acme"),              // a short text matches many
    ] {
        let expected = su(
            &t.admin,
            "SELECT t.id::text FROM tenants t
              WHERE strpos(lower(t.name), lower($1)) > 0 OR strpos(lower(t.slug), lower($1)) > 0
                 OR (char_length($1) >= 3 AND strpos(t.id::text, lower($1)) > 0)
              ORDER BY t.name, t.id",
            &[text],
        )
        .await;
        let slug_ids = t.tenant_ids().await;
        let wanted = &slug_ids.iter().find(|(s, _)| s == must_include).unwrap().1;
        assert!(expected.contains(wanted), "oracle for {text:?}");
        let (ids, _) = walk_tenants(
            &db,
            &TenantQuery {
                search: Some(text.to_owned()),
                limit: 2,
                ..Default::default()
            },
        )
        .await;
        assert_eq!(ids, expected, "search {text:?}");
    }
    let none = tenants::list(
        &db,
        &TenantQuery {
            search: Some("no tenant is called this".into()),
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(none.items.is_empty());
    assert_eq!(none.next_cursor, None);
}

#[tokio::test]
async fn hostile_search_text_is_matched_literally_or_refused_clearly() {
    let t = TestDb::demo().await;
    add_tenants(
        &t.admin,
        &[
            ("fifty", "50% off_sale", 0),
            ("backslash", r"Back\slash Ltd", 1),
            ("quote", "O'Reilly; drop table tenants; -- Media", 2),
        ],
    )
    .await;
    let db = t.reader().await;
    for (text, expect_slugs) in [
        ("%", vec!["fifty"]),
        ("_", vec!["fifty"]),
        ("0% o", vec!["fifty"]),
        (r"\", vec!["backslash"]),
        (r"k\s", vec!["backslash"]),
        // Punctuation and spaces are ignored on both sides: the words still have to be there.
        ("'; drop table tenants; --", vec!["quote"]),
        ("; drop table tenants; --", vec!["quote"]),
        ("%%%%", vec![]),
        ("' OR '1'='1", vec![]),
    ] {
        let page = tenants::list(
            &db,
            &TenantQuery {
                search: Some(text.into()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{text:?}: {e}"));
        let slugs: Vec<_> = page
            .items
            .iter()
            .map(|r| r.tenant.slug().map(str::to_owned).unwrap())
            .collect();
        assert_eq!(slugs, expect_slugs, "search {text:?}");
    }
    for (text, says) in [
        ("x".repeat(10 * 1024), "longer than"),
        ("acme\0".to_owned(), "NUL"),
    ] {
        let err = tenants::list(
            &db,
            &TenantQuery {
                search: Some(text.clone()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), "invalid_input");
        assert!(err.to_string().contains(says), "{err}");
    }
    assert_eq!(
        su_count(&t.admin, "SELECT count(*) FROM tenants", &[]).await,
        9,
        "the tenants table is untouched"
    );
}

#[tokio::test]
async fn bad_cursors_are_input_errors_never_database_errors() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let by_name = tenants::list(
        &db,
        &TenantQuery {
            limit: 2,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .next_cursor
    .unwrap();
    let acme = t.tenant(&db, "acme").await;
    let mut scope = tenant_console_dev::testing::scope(&db, &acme).await;
    let members_cursor = members::list(
        &mut scope,
        &members::MemberQuery {
            limit: 2,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .next_cursor
    .unwrap();
    let audit_cursor = audit::page(&mut scope, &AuditFilter::default(), 2, None)
        .await
        .unwrap()
        .next_cursor
        .unwrap();
    scope.finish().await.unwrap();

    let forged_id = tenant_console_core::cursor::encode("tenants:Name", &["Acme", "not-a-uuid"]);
    let forged_time = tenant_console_core::cursor::encode("audit", &["yesterday", "1"]);
    let forged_audit_id =
        tenant_console_core::cursor::encode("audit", &["2026-01-01T00:00:00Z", "1x"]);
    let nul = tenant_console_core::cursor::encode("members", &["a\0", "b"]);
    for bad in [
        "",
        "garbage",
        "!!!",
        &by_name[..by_name.len() - 2],
        &members_cursor,
        &audit_cursor,
        &forged_id,
    ] {
        let err = tenants::list(
            &db,
            &TenantQuery {
                limit: 2,
                after: Some(bad.to_owned()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), "invalid_input", "tenants after {bad:?}");
        assert!(err.to_string().contains("invalid cursor"), "{err}");
    }
    // A cursor of the name sort does not continue the slug sort.
    let err = tenants::list(
        &db,
        &TenantQuery {
            sort: TenantSort::Slug,
            limit: 2,
            after: Some(by_name.clone()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), "invalid_input");

    let mut scope = tenant_console_dev::testing::scope(&db, &acme).await;
    for bad in [
        &by_name,
        &members_cursor,
        &forged_time,
        &forged_audit_id,
        "%%%",
    ] {
        let err = audit::page(&mut scope, &AuditFilter::default(), 5, Some(bad))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "invalid_input", "audit after {bad:?}");
    }
    for bad in [&by_name, &audit_cursor, &nul] {
        let err = members::list(
            &mut scope,
            &members::MemberQuery {
                limit: 2,
                after: Some(bad.to_string()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), "invalid_input", "members after {bad:?}");
    }
    for bad in [&audit_cursor, &members_cursor] {
        let err = access::history(&mut scope, 5, Some(bad)).await.unwrap_err();
        assert_eq!(err.kind(), "invalid_input");
    }
    // The scope is still usable after refused input: nothing reached the database.
    assert_eq!(
        audit::page(&mut scope, &AuditFilter::default(), 5, None)
            .await
            .unwrap()
            .items
            .len(),
        5
    );
}

#[tokio::test]
async fn an_unknown_or_malformed_tenant_is_a_clear_error() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    for key in [
        "nope",
        "00000000-0000-0000-0000-000000000000",
        "%",
        "acme'--",
    ] {
        let err = tenant_console_dev::testing::door(&db)
            .scope(key)
            .await
            .err()
            .expect("refused");
        assert_eq!(err.kind(), "unknown_tenant", "{key}");
        assert!(err.to_string().contains(key), "{err}");
    }
    for key in ["acme\0", &"a".repeat(10 * 1024)] {
        let err = tenant_console_dev::testing::door(&db)
            .scope(key)
            .await
            .err()
            .expect("refused");
        assert_eq!(err.kind(), "invalid_input", "{key:?}");
    }
    // By id works as well as by slug, and names the same tenant.
    let acme = t.tenant(&db, "acme").await;
    assert_eq!(tenants::resolve(&db, acme.id()).await.unwrap(), acme);
    assert_eq!(
        tenants::resolve(&db, &acme.id().to_uppercase())
            .await
            .unwrap()
            .id(),
        acme.id()
    );
}

// ---------------------------------------------------------------------------------------------- members

#[tokio::test]
async fn members_walk_in_email_order_and_match_the_superusers_rows() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    for (slug, id) in t.tenant_ids().await {
        let tenant = t.tenant(&db, &slug).await;
        let expected = su(
            &t.admin,
            "SELECT m.user_id::text FROM memberships m LEFT JOIN users u ON u.id = m.user_id
              WHERE m.tenant_id = $1::uuid ORDER BY coalesce(u.email, ''), m.user_id::text",
            &[&id],
        )
        .await;
        assert_eq!(expected.len(), 12);
        let ids = walk_members(
            &db,
            &tenant,
            &members::MemberQuery {
                limit: 7,
                ..Default::default()
            },
        )
        .await;
        assert_eq!(ids, expected, "{slug}");
    }
    // Each row carries the user's email, name, role and join time as the superuser sees them.
    let acme = t.tenant(&db, "acme").await;
    let mut scope = tenant_console_dev::testing::scope(&db, &acme).await;
    let page = members::list(
        &mut scope,
        &members::MemberQuery {
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    for m in &page.items {
        let row: (String, String, String, DateTime<Utc>) = sqlx::query_as(
            "SELECT u.email, u.display_name, m.role, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id
              WHERE m.tenant_id = $1::uuid AND m.user_id = $2::uuid",
        )
        .bind(acme.id())
        .bind(&m.id)
        .fetch_one(&t.admin)
        .await
        .unwrap();
        assert_eq!(
            (
                m.email.clone().unwrap(),
                m.name.clone().unwrap(),
                m.role.clone().unwrap(),
                m.joined_at.unwrap()
            ),
            row
        );
    }
}

#[tokio::test]
async fn members_filter_by_role_and_by_email_substring() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let acme = t.tenant(&db, "acme").await;
    let cases: Vec<(Option<&str>, Option<&str>, &str)> = vec![
        (Some("ADMIN"), None, "m.role = 'ADMIN'"),
        (Some("BILLING"), None, "m.role = 'BILLING'"),
        (Some("admin"), None, "m.role = 'admin'"), // roles are exact
        (Some("NOPE"), None, "false"),
        (None, Some("USER1"), "u.email ILIKE '%user1%'"),
        (None, Some("@example.com"), "u.email LIKE '%@example.com'"),
        (None, Some("evil"), "u.email LIKE '%evil%'"),
        (None, Some("%"), "strpos(u.email, '%') > 0"),
        (None, Some("_"), "strpos(u.email, '_') > 0"),
        (
            Some("MEMBER"),
            Some("user"),
            "m.role = 'MEMBER' AND u.email LIKE '%user%'",
        ),
    ];
    let mut non_empty = 0;
    for (role, email, cond) in cases {
        let expected = su(
            &t.admin,
            &format!(
                "SELECT m.user_id::text FROM memberships m LEFT JOIN users u ON u.id = m.user_id
                  WHERE m.tenant_id = $1::uuid AND {cond} ORDER BY coalesce(u.email, ''), m.user_id::text"
            ),
            &[acme.id()],
        )
        .await;
        non_empty += usize::from(!expected.is_empty());
        let ids = walk_members(
            &db,
            &acme,
            &members::MemberQuery {
                role: role.map(Into::into),
                email: email.map(Into::into),
                limit: 3,
                after: None,
                ..Default::default()
            },
        )
        .await;
        assert_eq!(ids, expected, "role {role:?} email {email:?}");
    }
    assert!(non_empty >= 6, "the cases are not vacuous");

    let mut scope = tenant_console_dev::testing::scope(&db, &acme).await;
    let long = "y".repeat(10_000);
    for (role, email) in [
        (Some("A\0"), None),
        (None, Some("x\0")),
        (None, Some(long.as_str())),
    ] {
        let err = members::list(
            &mut scope,
            &members::MemberQuery {
                role: role.map(Into::into),
                email: email.map(Into::into),
                limit: 3,
                after: None,
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), "invalid_input");
    }
}

// ---------------------------------------------------------------------------------------------- roles

#[tokio::test]
async fn roles_show_builtin_and_custom_roles_with_permissions_and_member_counts() {
    let t = TestDb::demo().await;
    let db = t.reader().await;
    for (slug, id) in t.tenant_ids().await {
        let tenant = t.tenant(&db, &slug).await;
        let mut scope = tenant_console_dev::testing::scope(&db, &tenant).await;
        let list = roles::list(&mut scope).await.unwrap();
        let expected: Vec<(String, Vec<String>, bool, i64)> = sqlx::query_as(
            "SELECT r.name, r.permissions, r.is_builtin,
                    (SELECT count(*) FROM memberships m WHERE m.tenant_id = r.tenant_id AND m.role = r.name)
               FROM roles r WHERE r.tenant_id = $1::uuid ORDER BY r.is_builtin DESC, r.name",
        )
        .bind(&id)
        .fetch_all(&t.admin)
        .await
        .unwrap();
        let got: Vec<(String, Vec<String>, bool, i64)> = list
            .iter()
            .map(|r| (r.id.clone(), r.permissions.clone(), r.builtin, r.members))
            .collect();
        assert_eq!(got, expected, "{slug}");
        assert!(list.iter().all(|r| !r.global));
        let total: i64 = list.iter().map(|r| r.members).sum();
        assert_eq!(total, 12, "{slug}: every member is counted under one role");
    }
    let acme = t.tenant(&db, "acme").await;
    let mut scope = tenant_console_dev::testing::scope(&db, &acme).await;
    let names: Vec<String> = roles::list(&mut scope)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| !r.builtin)
        .map(|r| r.id)
        .collect();
    assert_eq!(names, ["AUDITOR", "BILLING"]);
}

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

/// Legacy databases still run with `standard_conforming_strings = off`, where `'\'` is not a backslash: search
/// and prefix filters must work there too, and still match wildcards literally.
#[tokio::test]
async fn search_and_filters_work_with_standard_conforming_strings_off() {
    let t = TestDb::demo().await;
    sqlx::raw_sql(&format!(
        "ALTER DATABASE {} SET standard_conforming_strings = off",
        t.name
    ))
    .execute(&t.admin)
    .await
    .unwrap();
    let db = t.reader().await;
    let off: String = sqlx::query_scalar("SHOW standard_conforming_strings")
        .fetch_one(db.catalog_pool())
        .await
        .unwrap();
    assert_eq!(off, "off", "the setting did not take");
    let door = tenant_console_dev::testing::door(&db);
    let page = door
        .tenants(&TenantQuery {
            search: Some("acm".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].tenant.slug(), Some("acme"));
    let none = door
        .tenants(&TenantQuery {
            // A wildcard would find "Acme" (a…e); ignored as punctuation it is "ae", in no name.
            search: Some("a%e".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(
        none.items.is_empty(),
        "a % in the search text must be literal"
    );
    let mut scope = door.scope("acme").await.unwrap();
    let events = audit::page(
        &mut scope,
        &AuditFilter {
            action: Some("member.".into()),
            ..Default::default()
        },
        50,
        None,
    )
    .await
    .unwrap();
    assert!(!events.items.is_empty());
    assert!(events
        .items
        .iter()
        .all(|e| e.action.as_deref().unwrap().starts_with("member.")));
    let members = tenant_console_core::members::list(
        &mut scope,
        &tenant_console_core::members::MemberQuery {
            email: Some("user1".into()),
            limit: 50,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(!members.items.is_empty());
    scope.finish().await.unwrap();
}

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

/// Tenant search ignores accents and case: "societe" finds "Société Générale", "ZURICH" finds "Zürich Ärzte",
/// "ÉLAN" finds "elan systems"; on the reference schema it reads the folded-name trigram index.
#[tokio::test(flavor = "multi_thread")]
async fn tenant_search_is_accent_and_case_insensitive_and_index_backed() {
    let t = TestDb::demo().await;
    for (slug, name) in [
        ("societe-generale", "Société Générale"),
        ("zurich-arzte", "Zürich Ärzte"),
        ("elan", "elan systems"),
        ("lodz", "Łódź Dział"),
    ] {
        sqlx::query("INSERT INTO tenants (slug, name) VALUES ($1, $2)")
            .bind(slug)
            .bind(name)
            .execute(&t.admin)
            .await
            .unwrap();
    }
    let db = t.reader().await;
    for (search, want) in [
        // The demo's own "Société Soylent Ünited" too, in name order.
        ("societe", &["societe-generale", "soylent"][..]),
        ("GÉNÉRALE", &["societe-generale"]),
        ("united", &["soylent"]),
        ("zurich", &["zurich-arzte"]),
        ("ARZTE", &["zurich-arzte"]),
        ("ÉLAN", &["elan"]),
        ("lodz", &["lodz"]),
        ("dzial", &["lodz"]),
        // 1-2 letters: no trigram to use, every name tested (folded only where it has a non-ASCII letter).
        ("dź", &["lodz"]),
        ("ZÜ", &["zurich-arzte"]),
    ] {
        let page = tenants::list(
            &db,
            &TenantQuery {
                search: Some(search.into()),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let slugs: Vec<String> = page
            .items
            .iter()
            .map(|r| r.tenant.slug().map(str::to_owned).unwrap_or_default())
            .collect();
        assert_eq!(slugs, want, "search {search:?}");
    }
    // Literal text stays literal: a % or _ typed is not a wildcard, folded or not.
    let page = tenants::list(
        &db,
        &TenantQuery {
            search: Some("soci_t".into()),
            limit: 50,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(page.items.is_empty());
    // The reference schema's folded-name index serves that expression (the core's unit test checks the
    // expression is character for character the one the search sends).
    let migration =
        include_str!("../../../migrations/20261126000020_folded_search_and_member_sorts.sql");
    let start = migration.find("(CASE WHEN octet_length(name)").unwrap();
    let expr = &migration[start..start + migration[start..].find(" gin_trgm_ops").unwrap()];
    let mut tx = t.admin.begin().await.unwrap();
    // A handful of tenants: every plan but the index's priced out, so the plan says whether the index serves.
    for off in ["enable_seqscan", "enable_indexscan", "enable_indexonlyscan"] {
        sqlx::query(&format!("SET LOCAL {off} = off"))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    let plan: Vec<String> = sqlx::query_scalar(&format!(
        "EXPLAIN SELECT 1 FROM tenants WHERE {expr} LIKE '%societe%'"
    ))
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    assert!(
        plan.iter().any(|l| l.contains("tenants_name_folded_trgm")),
        "{plan:#?}"
    );
}

/// Tenant search ignores white space and punctuation as well: "Globex Inc" finds "Globex, Inc.", typed
/// quotes and ampersands do not have to match the name's, and the reference schema's index serves it.
#[tokio::test(flavor = "multi_thread")]
async fn tenant_search_ignores_spaces_and_punctuation_and_is_index_backed() {
    let t = TestDb::demo().await;
    // The demo's globex is "Globex, Inc.".
    for (slug, name) in [("att", "AT&T  Services"), ("obrien", "O’Brien   & Söhne")] {
        sqlx::query("INSERT INTO tenants (slug, name) VALUES ($1, $2)")
            .bind(slug)
            .bind(name)
            .execute(&t.admin)
            .await
            .unwrap();
    }
    let db = t.reader().await;
    for (search, want) in [
        ("Globex Inc", &["globex"][..]),
        ("globex, inc.", &["globex"]),
        ("GLOBEXINC", &["globex"]),
        ("at&t services", &["att"]),
        ("att serv", &["att"]),
        ("O'Brien", &["obrien"]),
        ("obrien sohne", &["obrien"]),
        ("o brien", &["obrien"]),
        ("Globex  Incorporated", &[]),
    ] {
        let page = tenants::list(
            &db,
            &TenantQuery {
                search: Some(search.into()),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let slugs: Vec<String> = page
            .items
            .iter()
            .map(|r| r.tenant.slug().map(str::to_owned).unwrap_or_default())
            .collect();
        assert_eq!(slugs, want, "search {search:?}");
    }
    let migration =
        include_str!("../../../migrations/20261207000060_search_ignores_punctuation.sql");
    assert!(migration.contains("search_name text GENERATED ALWAYS AS (translate("));
    let expr = "search_name";
    let mut tx = t.admin.begin().await.unwrap();
    for off in ["enable_seqscan", "enable_indexscan", "enable_indexonlyscan"] {
        sqlx::query(&format!("SET LOCAL {off} = off"))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    let plan: Vec<String> = sqlx::query_scalar(&format!(
        "EXPLAIN SELECT 1 FROM tenants WHERE {expr} LIKE '%globexinc%'"
    ))
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    assert!(
        plan.iter().any(|l| l.contains("tenants_search_name_trgm")),
        "{plan:#?}"
    );
}

/// A 1-2 letter search has no trigram: the reference schema's letters and letter pairs (search_grams) narrow it
/// through their own index, and it finds exactly what the searchable name holds, no more and no fewer: the
/// superuser's plain LIKE over search_name is the oracle. The column is the search_name's grams on every tenant
/// (the two copies of the searchable expression agree), and its index serves the pair.
#[tokio::test(flavor = "multi_thread")]
async fn short_searches_use_letter_pairs_and_find_what_the_name_holds() {
    let t = TestDb::demo().await;
    for (slug, name) in [
        ("zq-labs", "ZQ Labs"),
        ("o-brien", "O’Brien & Söhne, Ltd."),
        ("lodz", "Łódź  Dział"),
        ("a-b", "A.B."),
        ("x9", "x"),
    ] {
        sqlx::query("INSERT INTO tenants (slug, name) VALUES ($1, $2)")
            .bind(slug)
            .bind(name)
            .execute(&t.admin)
            .await
            .unwrap();
    }
    let differ: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM tenants WHERE search_grams IS DISTINCT FROM tc_search_grams(search_name) \
         OR search_name IS DISTINCT FROM tc_searchable(name) || ' ' || tc_searchable(slug)",
    )
    .fetch_one(&t.admin)
    .await
    .unwrap();
    assert_eq!(differ, 0, "search_grams and search_name disagree");
    let db = t.reader().await;
    for search in [
        "zq", "ZQ", "z q", "q", "Ö", "öh", "dź", "b", "ab", "a.b", "9", "x", "’b", "nl", "",
    ] {
        let page = tenants::list(
            &db,
            &TenantQuery {
                search: Some(search.into()),
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let got: Vec<String> = page
            .items
            .iter()
            .map(|r| r.tenant.slug().map(str::to_owned).unwrap_or_default())
            .collect();
        let stripped: String = search
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect();
        let want: Vec<String> = sqlx::query_scalar(
            "SELECT slug FROM tenants WHERE search_name LIKE '%' || tc_searchable($1) || '%' \
             ORDER BY name, id",
        )
        .bind(&stripped)
        .fetch_all(&t.admin)
        .await
        .unwrap();
        assert_eq!(got, want, "search {search:?}");
        if !stripped.is_empty() {
            assert!(
                !want.is_empty() || search == "nl",
                "search {search:?} found nothing"
            );
        }
    }
    let mut tx = t.admin.begin().await.unwrap();
    for off in ["enable_seqscan", "enable_indexscan", "enable_indexonlyscan"] {
        sqlx::query(&format!("SET LOCAL {off} = off"))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN SELECT 1 FROM tenants WHERE search_grams @> ARRAY['zq'] AND search_name LIKE '%zq%'",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    assert!(
        plan.iter().any(|l| l.contains("tenants_search_grams")),
        "{plan:#?}"
    );
}

/// Members sort by email, name, role or joined date, either way, in keyset pages of 3: the walk is the
/// superuser's own ORDER BY, whole and without repeats; a cursor of one order is refused by another.
#[tokio::test(flavor = "multi_thread")]
async fn members_sort_by_each_key_both_ways_in_keyset_pages() {
    use members::MemberSort::*;
    let t = TestDb::demo().await;
    let db = t.reader().await;
    let acme = tenants::resolve(&db, "acme").await.unwrap();
    // Two members who joined at the same instant and a member without a name: ties and NULLs are walked too.
    sqlx::query(
        "UPDATE memberships SET created_at = '2026-01-01T00:00:00Z'
          WHERE tenant_id = CAST($1 AS uuid) AND user_id IN
                (SELECT user_id FROM memberships WHERE tenant_id = CAST($1 AS uuid) ORDER BY user_id LIMIT 2)",
    )
    .bind(acme.id())
    .execute(&t.admin)
    .await
    .unwrap();
    for (sort, key) in [
        (Email, "coalesce(u.email, '')"),
        (Name, "coalesce(u.display_name, '')"),
        (Role, "m.role"),
        (Joined, "coalesce(m.created_at, '-infinity')"),
    ] {
        for desc in [false, true] {
            let dir = if desc { "DESC" } else { "ASC" };
            let expected = su(
                &t.admin,
                &format!(
                    "SELECT m.user_id::text FROM memberships m LEFT JOIN users u ON u.id = m.user_id
                      WHERE m.tenant_id = CAST($1 AS uuid) ORDER BY {key} {dir}, m.user_id::text {dir}"
                ),
                &[acme.id()],
            )
            .await;
            let q = members::MemberQuery {
                limit: 3,
                sort,
                descending: desc,
                ..Default::default()
            };
            let ids = walk_members(&db, &acme, &q).await;
            assert_eq!(ids, expected, "{sort:?} desc={desc}");
        }
    }
    // A cursor of the email order is not a cursor of the joined order.
    let mut scope = tenant_console_dev::testing::scope(&db, &acme).await;
    let first = members::list(
        &mut scope,
        &members::MemberQuery {
            limit: 2,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let err = members::list(
        &mut scope,
        &members::MemberQuery {
            limit: 2,
            sort: Joined,
            after: first.next_cursor,
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), "invalid_input");
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
