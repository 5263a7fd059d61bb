//! Browsing a database the console did not create, through a mapping file: a Prisma-style schema (quoted
//! CamelCase names in their own schema, cuid text ids, timestamps without time zone, enums, jsonb permissions,
//! global roles) and a tiny one with integer ids. Also: names that do not exist are reported where they were
//! looked for, and a hostile name in the mapping is only ever a name.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::common::{walk_audit, TestDb};
use chrono::{DateTime, TimeZone, Utc};
use sqlx::PgPool;
use tenant_console_core::audit::{self, AuditFilter};
use tenant_console_core::export::{export_to_path, Column, ExportOptions};
use tenant_console_core::tenants::{self, TenantQuery, TenantSort};
use tenant_console_core::{access, members, roles, Db, DbOptions, Mapping, Tenant};

const PRISMA_SQL: &str = include_str!("../fixtures/prisma.sql");
const PRISMA_TOML: &str = include_str!("../fixtures/prisma.toml");
const INTCO_SQL: &str = include_str!("../fixtures/intco.sql");
const INTCO_TOML: &str = include_str!("../fixtures/intco.toml");

async fn su(admin: &PgPool, sql: &str, binds: &[&str]) -> Vec<String> {
    let mut q = sqlx::query_scalar::<_, String>(sql);
    for b in binds {
        q = q.bind(b.to_string());
    }
    q.fetch_all(admin)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// A fresh database holding the Prisma schema next to the reference one.
async fn prisma_db() -> (TestDb, Db) {
    let t = TestDb::empty().await;
    sqlx::raw_sql(PRISMA_SQL)
        .execute(&t.admin)
        .await
        .expect("prisma schema");
    let db = t
        .reader_with(4, Mapping::from_toml(PRISMA_TOML).expect("mapping parses"))
        .await;
    (t, db)
}

async fn walk_tenants(db: &Db, mut q: TenantQuery) -> Vec<String> {
    let mut ids = Vec::new();
    loop {
        let page = tenants::list(db, &q).await.unwrap();
        ids.extend(page.items.iter().map(|r| r.tenant.id().to_owned()));
        match page.next_cursor {
            Some(c) => q.after = Some(c),
            None => return ids,
        }
    }
}

async fn walk_members(db: &Db, tenant: &Tenant, mut q: members::MemberQuery) -> Vec<String> {
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

#[tokio::test]
async fn prisma_tenants_are_listed_sorted_searched_and_paginated_through_the_mapping() {
    let (t, db) = prisma_db().await;
    for (sort, order) in [
        (TenantSort::Name, r#""name", "id""#),
        (TenantSort::Slug, r#""slug", "id""#),
        (
            TenantSort::CreatedAt,
            r#""createdAt" DESC NULLS LAST, "id" DESC"#,
        ),
    ] {
        let expected = su(
            &t.admin,
            &format!(r#"SELECT "id" FROM app."Tenant" t ORDER BY {order}"#),
            &[],
        )
        .await;
        assert_eq!(expected.len(), 4);
        for limit in [1, 2, 3, 4] {
            let ids = walk_tenants(
                &db,
                TenantQuery {
                    sort,
                    limit,
                    ..Default::default()
                },
            )
            .await;
            assert_eq!(ids, expected, "{sort:?} by {limit}");
        }
    }
    let acme_id = su(
        &t.admin,
        r#"SELECT "id" FROM app."Tenant" WHERE "slug" = 'acme'"#,
        &[],
    )
    .await[0]
        .clone();
    for (text, slugs) in [
        ("globex", vec!["globex", "umbrella"]), // slug of one, name of both
        ("PRISMA", vec!["acme"]),
        (&acme_id[5..15], vec!["acme"]), // a piece of the cuid
        ("%", vec![]),
    ] {
        let slugs: Vec<String> = slugs.iter().map(|s| s.to_string()).collect();
        // In list order (name, then id: both "Globex" tenants tie on name).
        let slugs = su(
            &t.admin,
            r#"SELECT t."slug" FROM app."Tenant" t WHERE t."slug" = ANY (string_to_array($1, ',')) ORDER BY t."name", t."id""#,
            &[&slugs.join(",")],
        )
        .await;
        let page = tenants::list(
            &db,
            &TenantQuery {
                search: Some(text.to_owned()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let got: Vec<_> = page
            .items
            .iter()
            .map(|r| r.tenant.slug().map(str::to_owned).unwrap())
            .collect();
        assert_eq!(got, slugs, "search {text:?}");
    }
    // Resolving by slug and by cuid names the same tenant; created_at is read as UTC.
    let by_slug = tenants::resolve(&db, "acme").await.unwrap();
    assert_eq!(tenants::resolve(&db, &acme_id).await.unwrap(), by_slug);
    let page = tenants::list(
        &db,
        &TenantQuery {
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let acme = page
        .items
        .iter()
        .find(|r| r.tenant.id() == acme_id)
        .unwrap();
    assert_eq!(
        acme.created_at,
        Some(
            Utc.with_ymd_and_hms(2024, 1, 1, 10, 0, 0).unwrap()
                + chrono::Duration::milliseconds(123)
        )
    );
    let err = tenants::resolve(&db, "no-such").await.unwrap_err();
    assert_eq!(err.kind(), "unknown_tenant");
}

#[tokio::test]
async fn prisma_members_and_roles_are_read_as_the_tenant_through_the_mapping() {
    let (t, db) = prisma_db().await;
    let acme = tenants::resolve(&db, "acme").await.unwrap();
    for (role, email, cond) in [
        (None, None, "true"),
        (Some("ADMIN"), None, r#"m."role" = 'ADMIN'"#),
        (Some("BILLING"), None, r#"m."role" = 'BILLING'"#),
        (Some("NOPE"), None, "false"),
        (None, Some("PERSON1"), r#"u."email" LIKE 'person1%'"#),
        (Some("MEMBER"), Some("@prisma"), r#"m."role" = 'MEMBER'"#),
    ] {
        let expected = su(
            &t.admin,
            &format!(
                r#"SELECT m."userId" FROM app."TenantMembership" m LEFT JOIN app."User" u ON u."id" = m."userId"
                    WHERE m."tenantId" = $1 AND {cond} ORDER BY coalesce(u."email", ''), m."userId""#
            ),
            &[acme.id()],
        )
        .await;
        let ids = walk_members(
            &db,
            &acme,
            members::MemberQuery {
                role: role.map(Into::into),
                email: email.map(Into::into),
                limit: 3,
                after: None,
                ..Default::default()
            },
        )
        .await;
        assert_eq!(ids, expected, "role {role:?} email {email:?}");
        if cond == "true" {
            assert_eq!(ids.len(), 8);
        }
    }
    let mut scope = tenant_console_dev::testing::scope(&db, &acme).await;
    let page = members::list(
        &mut scope,
        &members::MemberQuery {
            limit: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let m = &page.items[0];
    assert!(m.email.as_deref().unwrap().ends_with("@prisma.example"));
    assert_eq!(
        (m.name.as_deref(), m.joined_at),
        (None, None),
        "not mapped, so not shown"
    );

    // Roles: the global ones (null tenant) and the tenant's own; another tenant's custom role never shows.
    let list = roles::list(&mut scope).await.unwrap();
    let got: Vec<(String, Vec<String>, bool, i64)> = list
        .iter()
        .map(|r| (r.id.clone(), r.permissions.clone(), r.global, r.members))
        .collect();
    let count = |role: &str| {
        let admin = t.admin.clone();
        let (tenant, role) = (acme.id().to_owned(), role.to_owned());
        async move {
            sqlx::query_scalar::<_, i64>(
                r#"SELECT count(*) FROM app."TenantMembership" WHERE "tenantId" = $1 AND "role"::text = $2"#,
            )
            .bind(tenant)
            .bind(role)
            .fetch_one(&admin)
            .await
            .unwrap()
        }
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        got,
        vec![
            (
                "ADMIN".into(),
                s(&["members:manage", "audit:read"]),
                true,
                count("ADMIN").await
            ),
            (
                "BILLING".into(),
                s(&["billing:manage"]),
                false,
                count("BILLING").await
            ),
            (
                "MEMBER".into(),
                s(&["data:read"]),
                true,
                count("MEMBER").await
            ),
            (
                "OWNER".into(),
                s(&["tenant:manage", "members:manage", "audit:read"]),
                true,
                count("OWNER").await
            ),
        ]
    );
    assert_eq!(got.iter().map(|r| r.3).sum::<i64>(), 8);
    scope.finish().await.unwrap();
    // Permissions that are not a JSON array show as none, rather than failing the list.
    let globex = tenants::resolve(&db, "globex").await.unwrap();
    let mut scope = tenant_console_dev::testing::scope(&db, &globex).await;
    let odd = roles::list(&mut scope).await.unwrap();
    let odd = odd
        .iter()
        .find(|r| r.id == "ODD")
        .expect("globex's own role");
    assert!(odd.permissions.is_empty() && !odd.global);
    // There is no access log in this schema: said so, not a database error.
    let err = access::history(&mut scope, 10, None).await.unwrap_err();
    assert_eq!(err.kind(), "mapping");
}

#[tokio::test]
async fn prisma_audit_pages_and_filters_match_the_superusers_rows() {
    let (t, db) = prisma_db().await;
    let acme = tenants::resolve(&db, "acme").await.unwrap();
    let person = |n: u32| {
        let admin = t.admin.clone();
        async move {
            su(
                &admin,
                r#"SELECT "id" FROM app."User" WHERE "email" = $1"#,
                &[&format!("person{n}@prisma.example")],
            )
            .await[0]
                .clone()
        }
    };
    let p1 = person(1).await;
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    let f = AuditFilter::default;
    let cases: Vec<(AuditFilter, String)> = vec![
        (f(), "true".into()),
        (
            AuditFilter {
                since: Some(at("2025-12-31T23:00:00.250Z")),
                ..f()
            },
            r#""createdAt" >= '2025-12-31 23:00:00.250'"#.into(),
        ),
        (
            AuditFilter {
                until: Some(at("2025-12-31T23:30:00.250Z")),
                ..f()
            },
            r#""createdAt" < '2025-12-31 23:30:00.250'"#.into(),
        ),
        (
            AuditFilter {
                since: Some(at("2025-12-31T23:10:00Z")),
                until: Some(at("2026-01-01T00:00:00Z")),
                ..f()
            },
            r#""createdAt" >= '2025-12-31 23:10:00' AND "createdAt" < '2026-01-01 00:00:00'"#
                .into(),
        ),
        (
            AuditFilter {
                action: Some("auth.login".into()),
                ..f()
            },
            r#""action" = 'auth.login'"#.into(),
        ),
        (
            AuditFilter {
                action: Some("member.".into()),
                ..f()
            },
            r#""action" LIKE 'member.%'"#.into(),
        ),
        (
            AuditFilter {
                action: Some("member.*".into()),
                ..f()
            },
            r#""action" LIKE 'member.%'"#.into(),
        ),
        (
            AuditFilter {
                actor: Some(p1.clone()),
                ..f()
            },
            format!(r#""userId" = '{p1}'"#),
        ),
        (
            AuditFilter {
                actor: Some("Person1@Prisma.Example".into()),
                ..f()
            },
            format!(r#""userId" = '{p1}'"#),
        ),
        (
            AuditFilter {
                resource_type: Some("project".into()),
                ..f()
            },
            r#""resource" = 'project'"#.into(),
        ),
        (
            AuditFilter {
                resource_type: Some("not-an-enum-value".into()),
                ..f()
            },
            "false".into(),
        ),
        (
            AuditFilter {
                resource_id: Some("res-3".into()),
                ..f()
            },
            r#""resourceId" = 'res-3'"#.into(),
        ),
    ];
    for (filter, cond) in &cases {
        let expected = su(
            &t.admin,
            &format!(
                r#"SELECT "id" FROM app."AuditLog" WHERE "tenantId" = $1 AND {cond} ORDER BY "createdAt" DESC, "id" DESC"#
            ),
            &[acme.id()],
        )
        .await;
        assert_eq!(walk_audit(&db, &acme, filter, 7).await, expected, "{cond}");
        let mut scope = tenant_console_dev::testing::scope(&db, &acme).await;
        let count = audit::count(&mut scope, filter).await.unwrap();
        assert_eq!(
            (count.value, count.is_estimate),
            (expected.len() as i64, false),
            "{cond}"
        );
    }
    // An event in full: actor email through the mapped users, metadata as JSON, times as UTC.
    let mut scope = tenant_console_dev::testing::scope(&db, &acme).await;
    let page = audit::page(&mut scope, &AuditFilter::default(), 3, None)
        .await
        .unwrap();
    let e = &page.items[0];
    assert_eq!(
        e.occurred_at,
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::milliseconds(250)
    );
    assert_eq!(e.metadata["tenant"], "acme");
    let email = su(
        &t.admin,
        r#"SELECT "email" FROM app."User" WHERE "id" = $1"#,
        &[e.actor_id.as_deref().unwrap()],
    )
    .await;
    assert_eq!(e.actor_email.as_deref(), Some(email[0].as_str()));
    // Stats through the mapping: members, events in the window, last activity.
    let stats = tenants::stats_as_of(&mut scope, at("2026-01-15T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(stats.members, 8);
    assert_eq!(
        (
            stats.audit_events_30d.value,
            stats.audit_events_30d.is_estimate
        ),
        (150, false)
    );
    assert_eq!(stats.last_activity, Some(e.occurred_at));
    let later = tenants::stats_as_of(&mut scope, at("2026-03-01T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(later.audit_events_30d.value, 0);
}

#[tokio::test]
async fn timestamps_without_time_zone_are_read_as_utc_whatever_the_session_zone() {
    let (t, db) = prisma_db().await;
    let acme = tenants::resolve(&db, "acme").await.unwrap();
    sqlx::query(
        r#"INSERT INTO app."AuditLog" ("id", "tenantId", "action", "createdAt", "metadata")
           VALUES ('cwallclock', $1, 'clock.check', '2030-07-04 12:34:56.789', '{}')"#,
    )
    .bind(acme.id())
    .execute(&t.admin)
    .await
    .unwrap();
    let mut scope = tenant_console_dev::testing::scope(&db, &acme).await;
    // The driver starts sessions in UTC; a session elsewhere must not shift wall-clock values either.
    sqlx::query("SET LOCAL TimeZone = 'America/New_York'")
        .execute(scope.raw())
        .await
        .unwrap();
    let zone: String = sqlx::query_scalar("SELECT current_setting('TimeZone')")
        .fetch_one(scope.raw())
        .await
        .unwrap();
    assert_eq!(
        zone, "America/New_York",
        "the test's premise: the session is not in UTC"
    );
    let page = audit::page(
        &mut scope,
        &AuditFilter {
            action: Some("clock.check".into()),
            ..Default::default()
        },
        5,
        None,
    )
    .await
    .unwrap();
    assert_eq!(page.items.len(), 1);
    let expected =
        Utc.with_ymd_and_hms(2030, 7, 4, 12, 34, 56).unwrap() + chrono::Duration::milliseconds(789);
    assert_eq!(page.items[0].occurred_at, expected);
    // A UTC time filter meets the stored wall-clock value exactly at its edge.
    for (since, until, n) in [
        (expected, expected + chrono::Duration::milliseconds(1), 1),
        (
            expected + chrono::Duration::milliseconds(1),
            expected + chrono::Duration::hours(1),
            0,
        ),
        (expected - chrono::Duration::hours(4), expected, 0),
    ] {
        let filter = AuditFilter {
            since: Some(since),
            until: Some(until),
            action: Some("clock.check".into()),
            ..Default::default()
        };
        assert_eq!(
            audit::page(&mut scope, &filter, 5, None)
                .await
                .unwrap()
                .items
                .len(),
            n,
            "{since}..{until}"
        );
    }
}

#[tokio::test]
async fn a_name_that_does_not_exist_is_reported_with_its_section_table_and_column() {
    let t = TestDb::empty().await;
    sqlx::raw_sql(PRISMA_SQL).execute(&t.admin).await.unwrap();
    for (from, to, says) in [
        (
            r#"created_at = "createdAt"
metadata"#,
            r#"created_at = "created_at"
metadata"#,
            vec!["[audit_logs]", "created_at", r#""app"."AuditLog""#],
        ),
        (
            r#"table = "app.TenantMembership""#,
            r#"table = "app.Membership""#,
            vec!["[members]", r#""app"."Membership""#, "does not exist"],
        ),
        (
            r#"table = "app.Tenant""#,
            r#"table = "Tenant""#,
            vec!["[tenants]", r#""Tenant""#, "does not exist"],
        ),
        (
            r#"email = "email""#,
            r#"email = "Email""#,
            vec!["[users]", "email", r#""Email""#, r#""app"."User""#],
        ),
        (
            r#"permissions = "permissions""#,
            r#"permissions = "name""#,
            vec!["[roles]", "permissions", "text[] or a json array"],
        ),
        (
            r#"user_id = "userId""#,
            r#"user_id = "userid""#,
            vec!["[members]", "user_id", r#""userid""#],
        ),
    ] {
        assert!(PRISMA_TOML.contains(from), "{from}");
        let mapping = Mapping::from_toml(&PRISMA_TOML.replacen(from, to, 1)).unwrap();
        let err = Db::from_pool(t.reader_pool(1).await, mapping, DbOptions::default())
            .await
            .expect_err("refused");
        assert_eq!(err.kind(), "mapping", "{err}");
        for s in says {
            assert!(err.to_string().contains(s), "{err} should say {s}");
        }
    }
}

#[tokio::test]
async fn a_hostile_name_in_the_mapping_cannot_inject_sql() {
    let t = TestDb::empty().await;
    sqlx::raw_sql(PRISMA_SQL).execute(&t.admin).await.unwrap();
    sqlx::raw_sql(
        "CREATE TABLE t (x int); INSERT INTO t VALUES (1); GRANT ALL ON t TO console_reader;",
    )
    .execute(&t.admin)
    .await
    .unwrap();
    for (from, to) in [
        (
            r#"table = "app.Tenant""#,
            r#"table = "x\"; DROP TABLE t; --""#,
        ),
        (
            r#"table = "app.AuditLog""#,
            r#"table = "app.AuditLog\"; DROP TABLE t; --""#,
        ),
        (
            r#"name = "name""#,
            r#"name = "name\" FROM app.\"Tenant\"; DROP TABLE t; --""#,
        ),
        (
            r#"action = "action""#,
            r#"action = "action\" = '' OR true; DROP TABLE t; --""#,
        ),
    ] {
        let text = PRISMA_TOML.replacen(from, to, 1);
        let result = match Mapping::from_toml(&text) {
            Ok(mapping) => Db::from_pool(t.reader_pool(1).await, mapping, DbOptions::default())
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        };
        let err = result.expect_err("a hostile name is at most a missing name");
        assert_eq!(err.kind(), "mapping", "{to}: {err}");
        assert!(
            err.to_string().contains("does not exist") || err.to_string().contains("has no column"),
            "{to}: {err}"
        );
    }
    // A hostile setting name is refused before any SQL.
    let text = PRISMA_TOML.replace("app.current_tenant_id", "app.x', true); DROP TABLE t; --");
    assert_eq!(Mapping::from_toml(&text).unwrap_err().kind(), "mapping");
    let still: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
        .fetch_one(&t.admin)
        .await
        .unwrap();
    assert_eq!(still, 1, "table t is still there");
}

#[tokio::test]
async fn integer_tenant_ids_work_through_a_mapping() {
    let t = TestDb::empty().await;
    sqlx::raw_sql(INTCO_SQL).execute(&t.admin).await.unwrap();
    let db = t
        .reader_with(2, Mapping::from_toml(INTCO_TOML).unwrap())
        .await;
    // Twelve tenants of one name: the order is the numeric id (1, 2, ..., 10, 11, 12), never "1", "10", ...
    // (Qualified: a bare `org_id` in ORDER BY would be the output column, the id as text.)
    let expected = su(
        &t.admin,
        "SELECT o.org_id::text FROM intco.orgs o ORDER BY o.title, o.org_id",
        &[],
    )
    .await;
    assert_eq!(expected[..3], ["1", "2", "3"]);
    for limit in [1, 5, 12] {
        let ids = walk_tenants(
            &db,
            TenantQuery {
                limit,
                ..Default::default()
            },
        )
        .await;
        assert_eq!(ids, expected, "limit {limit}");
    }
    // Search by a piece of the id; no slug and no created_at to sort by, said so.
    let page = tenants::list(
        &db,
        &TenantQuery {
            search: Some("11".into()),
            limit: 20,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        page.items.iter().map(|r| r.tenant.id()).collect::<Vec<_>>(),
        ["11"]
    );
    for sort in [TenantSort::Slug, TenantSort::CreatedAt] {
        let err = tenants::list(
            &db,
            &TenantQuery {
                sort,
                limit: 5,
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), "invalid_input");
    }
    // Resolve by number; a non-number is not an id and there are no slugs.
    let org10 = tenants::resolve(&db, "10").await.unwrap();
    assert_eq!((org10.id(), org10.slug()), ("10", None));
    assert_eq!(
        tenants::resolve(&db, "99").await.unwrap_err().kind(),
        "unknown_tenant"
    );
    assert_eq!(
        tenants::resolve(&db, "acme").await.unwrap_err().kind(),
        "invalid_input"
    );

    let mut scope = tenant_console_dev::testing::scope(&db, &org10).await;
    let seats = su(
        &t.admin,
        "SELECT s.person::text FROM intco.seats s WHERE s.org_id = 10 ORDER BY s.person::text",
        &[],
    )
    .await;
    let page = members::list(
        &mut scope,
        &members::MemberQuery {
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        page.items.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
        seats
    );
    assert!(page.items.iter().all(|m| m.email.is_none()));
    // Without a roles table, roles are the members' distinct roles with their counts.
    let list = roles::list(&mut scope).await.unwrap();
    let got: Vec<(String, i64)> = list.iter().map(|r| (r.id.clone(), r.members)).collect();
    assert_eq!(
        got,
        vec![
            ("owner".to_owned(), 1),
            ("seat".to_owned(), seats.len() as i64 - 1)
        ]
    );
    scope.finish().await.unwrap();

    let expected = su(
        &t.admin,
        "SELECT e.seq::text FROM intco.events e WHERE e.org_id = 10 ORDER BY e.at DESC, e.seq DESC",
        &[],
    )
    .await;
    assert_eq!(expected.len(), 30);
    assert_eq!(
        walk_audit(&db, &org10, &AuditFilter::default(), 4).await,
        expected
    );
    let filter = AuditFilter {
        action: Some("invoice.".into()),
        actor: Some("3".into()),
        ..Default::default()
    };
    let expected = su(
        &t.admin,
        "SELECT e.seq::text FROM intco.events e WHERE e.org_id = 10 AND e.verb LIKE 'invoice.%' AND e.who = 3 ORDER BY e.at DESC, e.seq DESC",
        &[],
    )
    .await;
    assert!(!expected.is_empty());
    assert_eq!(walk_audit(&db, &org10, &filter, 4).await, expected);
    // Filters that need unmapped columns are refused with a reason.
    let mut scope = tenant_console_dev::testing::scope(&db, &org10).await;
    let err = audit::page(
        &mut scope,
        &AuditFilter {
            resource_type: Some("x".into()),
            ..Default::default()
        },
        5,
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), "invalid_input");
    let err = members::list(
        &mut scope,
        &members::MemberQuery {
            email: Some("x".into()),
            limit: 5,
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), "invalid_input");
}

#[tokio::test]
async fn prisma_exports_match_the_superusers_rows_also_for_a_tenant_id_with_quotes() {
    let (t, db) = prisma_db().await;
    // A text tenant id with a quote and a backslash: the export writes tenant ids into its COPY as literals, so
    // this one must come back as exactly its own rows (and a wrong quoting would be an error or other rows).
    sqlx::raw_sql(
        r#"INSERT INTO app."Tenant" ("id", "slug", "name", "createdAt")
                VALUES ('o''brien\x', 'obrien', 'O''Brien', '2024-04-01 00:00:00');
           INSERT INTO app."AuditLog" ("id", "tenantId", "userId", "action", "resource", "resourceId", "createdAt", "metadata")
           SELECT 'ob-' || g, 'o''brien\x', NULL, 'auth.login', 'session', 'res-1',
                  timestamp '2026-01-01 00:00:00' - g * interval '1 minute', '{}'
             FROM generate_series(1, 5) g;"#,
    )
    .execute(&t.admin)
    .await
    .unwrap();
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    let f = AuditFilter::default;
    let cases: Vec<(AuditFilter, &str)> = vec![
        (f(), "true"),
        (
            AuditFilter {
                since: Some(at("2025-12-31T23:10:00Z")),
                until: Some(at("2025-12-31T23:58:00.250Z")),
                ..f()
            },
            r#""createdAt" >= '2025-12-31 23:10:00' AND "createdAt" < '2025-12-31 23:58:00.250'"#,
        ),
        (
            AuditFilter {
                action: Some("member.".into()),
                ..f()
            },
            r#""action" LIKE 'member.%'"#,
        ),
        (
            AuditFilter {
                actor: Some("Person1@Prisma.Example".into()),
                ..f()
            },
            r#""userId" IN (SELECT "id" FROM app."User" WHERE "email" = 'person1@prisma.example')"#,
        ),
        (
            AuditFilter {
                resource_type: Some("session".into()),
                ..f()
            },
            r#""resource" = 'session'"#,
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for slug in ["acme", "obrien"] {
        let tenant = tenants::resolve(&db, slug).await.unwrap();
        let mut non_empty = 0;
        for (i, (filter, cond)) in cases.iter().enumerate() {
            // Oldest first, each row's id, time (timestamp without time zone, read as UTC) and actor email.
            let expected = su(
                &t.admin,
                &format!(
                    r#"SELECT concat_ws('|', a."id", to_char(a."createdAt", 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
                                     coalesce(u."email", ''))
                         FROM app."AuditLog" a LEFT JOIN app."User" u ON u."id" = a."userId"
                        WHERE a."tenantId" = $1 AND {cond} ORDER BY a."createdAt", a."id""#
                ),
                &[tenant.id()],
            )
            .await;
            non_empty += usize::from(!expected.is_empty());
            let path = dir.path().join(format!("{slug}-{i}.csv"));
            let opts = ExportOptions {
                filter: filter.clone(),
                columns: vec![Column::Id, Column::OccurredAt, Column::ActorEmail],
                ..Default::default()
            };
            let summary = export_to_path(
                &tenant_console_dev::testing::door(&db),
                tenant.id(),
                &opts,
                None,
                &path,
                &Arc::new(AtomicBool::new(false)),
                |_| {},
            )
            .await
            .unwrap_or_else(|e| panic!("{slug} {cond}: {e}"));
            let got: Vec<String> = csv::Reader::from_path(&path)
                .unwrap()
                .records()
                .map(|r| r.unwrap().iter().collect::<Vec<_>>().join("|"))
                .collect();
            assert_eq!(got, expected, "{slug}: {cond}");
            assert_eq!(summary.rows as usize, expected.len(), "{slug}: {cond}");
        }
        assert!(
            non_empty >= 2,
            "{slug}: the cases select too little to prove anything"
        );
    }
}
