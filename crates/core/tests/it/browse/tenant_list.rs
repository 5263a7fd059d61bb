//! The tenant list: every sort walked whole, search (case, accents, spaces, punctuation, 1-2 letters), hostile
//! text, bad cursors, unknown tenants.

use super::*;

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
        include_str!("../../../../../migrations/20261126000020_folded_search_and_member_sorts.sql");
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
        include_str!("../../../../../migrations/20261207000060_search_ignores_punctuation.sql");
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
