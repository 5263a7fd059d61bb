//! Members and roles: walks, filters and sorts against the superuser's rows.

use super::*;

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
