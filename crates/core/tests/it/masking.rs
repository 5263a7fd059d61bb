//! Masked columns against a real PostgreSQL: the login's column grants are taken away one column at a time, on
//! users, memberships and audit_logs, and every page and the export still work, read the column as null (empty
//! in the file), and name it (`masked_columns`). Columns a read cannot do without are refused in words.

use crate::common::TestDb;
use tenant_console_core::access::{Door, ReasonPolicy, DEFAULT_GRANT};
use tenant_console_core::audit::{self, AuditFilter};
use tenant_console_core::export::{export_to_path, ExportOptions};
use tenant_console_core::glance;
use tenant_console_core::members::{self, MemberQuery};

/// Takes SELECT on `column` of `table` away from the login, leaving every other column granted.
async fn withhold(t: &TestDb, table: &str, column: &str) {
    let others: Vec<String> = sqlx::query_scalar(
        "SELECT quote_ident(attname) FROM pg_attribute
          WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attname <> $2",
    )
    .bind(table)
    .bind(column)
    .fetch_all(&t.admin)
    .await
    .unwrap();
    let sql = format!(
        "REVOKE SELECT ON {table} FROM console_reader; REVOKE SELECT ({column}) ON {table} FROM console_reader; GRANT SELECT ({}) ON {table} TO console_reader",
        others.join(", ")
    );
    sqlx::raw_sql(&sql).execute(&t.admin).await.unwrap();
}

async fn restore(t: &TestDb, table: &str) {
    sqlx::raw_sql(&format!("GRANT SELECT ON {table} TO console_reader"))
        .execute(&t.admin)
        .await
        .unwrap();
}

#[tokio::test]
async fn every_page_and_the_export_work_with_any_one_column_masked_and_say_which() {
    let t = TestDb::demo().await;
    let cases: &[(&str, &str)] = &[
        ("users", "email"),
        ("users", "display_name"),
        ("users", "id"),
        ("memberships", "role"),
        ("memberships", "created_at"),
        ("audit_logs", "actor_id"),
        ("audit_logs", "action"),
        ("audit_logs", "resource_type"),
        ("audit_logs", "resource_id"),
        ("audit_logs", "ip"),
        ("audit_logs", "user_agent"),
        ("audit_logs", "metadata"),
    ];
    for (table, column) in cases {
        withhold(&t, table, column).await;
        let db = t.reader().await;
        let door = Door::new(db.clone(), ReasonPolicy::Optional, DEFAULT_GRANT);
        let case = format!("{table}.{column}");
        door.open("globex", None).await.unwrap();

        let mut scope = door.scope("globex").await.unwrap();
        let m = members::list(
            &mut scope,
            &MemberQuery {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{case}: members: {e}"));
        assert!(!m.items.is_empty(), "{case}");
        let a = audit::page(&mut scope, &AuditFilter::default(), 200, None)
            .await
            .unwrap_or_else(|e| panic!("{case}: audit: {e}"));
        assert!(!a.items.is_empty(), "{case}");
        let g = glance::glance(&mut scope, chrono::Utc::now())
            .await
            .unwrap_or_else(|e| panic!("{case}: glance: {e}"));
        scope.finish().await.unwrap();

        // Named where it would have shown, and null there.
        match (*table, *column) {
            ("users", c) => {
                assert!(
                    m.masked_columns.contains(&case),
                    "{case}: {:?}",
                    m.masked_columns
                );
                if c != "display_name" {
                    assert!(m.items.iter().all(|x| x.email.is_none()), "{case}");
                    assert!(
                        a.masked_columns.contains(&"users.email".to_owned()),
                        "{case}"
                    );
                    assert!(a.items.iter().all(|e| e.actor_email.is_none()), "{case}");
                } else {
                    assert!(
                        m.items
                            .iter()
                            .all(|x| x.name.is_none() && x.email.is_some()),
                        "{case}"
                    );
                }
            }
            ("memberships", "role") => {
                assert!(m.masked_columns.contains(&case));
                assert!(m.items.iter().all(|x| x.role.is_none()));
                let mut scope = door.scope("globex").await.unwrap();
                let e = members::list(
                    &mut scope,
                    &MemberQuery {
                        limit: 5,
                        role: Some("admin".into()),
                        ..Default::default()
                    },
                )
                .await
                .unwrap_err();
                assert_eq!(e.kind(), "invalid_input");
                assert!(e.to_string().contains("masked"), "{e}");
            }
            ("memberships", _) => {
                assert!(m.masked_columns.contains(&case));
                assert!(m.items.iter().all(|x| x.joined_at.is_none()));
            }
            ("audit_logs", c) => {
                assert!(
                    a.masked_columns.contains(&case),
                    "{case}: {:?}",
                    a.masked_columns
                );
                assert!(g.masked_columns.contains(&case), "{case}");
                let v = serde_json::to_value(&a.items).unwrap();
                assert!(
                    v.as_array().unwrap().iter().all(|e| e[c].is_null()),
                    "{case}: {v}"
                );
                if c == "action" {
                    assert!(g.failed_logins.masked);
                    let e = audit::page(
                        &mut door.scope("globex").await.unwrap(),
                        &AuditFilter {
                            action: Some("member.".into()),
                            ..Default::default()
                        },
                        5,
                        None,
                    )
                    .await
                    .unwrap_err();
                    assert!(e.to_string().contains("masked"), "{e}");
                }
                if c == "actor_id" {
                    assert!(g.active_actors.masked);
                }
            }
            _ => unreachable!(),
        }

        // The export: the column is empty in every row, and the manifest lists it.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("globex.csv");
        let summary = export_to_path(
            &door,
            "globex",
            &ExportOptions::default(),
            None,
            &path,
            &Default::default(),
            |_| {},
        )
        .await
        .unwrap_or_else(|e| panic!("{case}: export: {e}"));
        assert!(summary.rows > 0);
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(summary.manifest.unwrap()).unwrap()).unwrap();
        let listed: Vec<String> =
            serde_json::from_value(manifest["masked_columns"].clone()).unwrap();
        let mut r = csv::Reader::from_path(&path).unwrap();
        let headers = r.headers().unwrap().clone();
        let field = match (*table, *column) {
            ("audit_logs", c) => Some(c.to_owned()),
            ("users", "email" | "id") => Some("actor_email".to_owned()),
            _ => None,
        };
        if let Some(field) = field {
            let i = headers.iter().position(|h| h == field).unwrap();
            let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
            assert!(rows.iter().all(|row| row[i].is_empty()), "{case}: {field}");
            let expect = if *table == "users" {
                "users.email".to_owned()
            } else {
                case.clone()
            };
            assert!(listed.contains(&expect), "{case}: {listed:?}");
        } else {
            assert!(listed.is_empty(), "{case}: {listed:?}");
        }
        db.close().await;
        restore(&t, table).await;
    }
}

#[tokio::test]
async fn a_column_a_read_cannot_do_without_is_refused_in_words_before_anything_is_recorded() {
    let t = TestDb::demo().await;
    for column in ["tenant_id", "created_at", "id"] {
        withhold(&t, "audit_logs", column).await;
        let db = t.reader().await;
        let door = Door::new(db.clone(), ReasonPolicy::Optional, DEFAULT_GRANT);
        let mut scope = door.scope("globex").await.unwrap();
        let e = audit::page(&mut scope, &AuditFilter::default(), 5, None)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), "permission_denied");
        assert!(
            e.to_string().contains(&format!("audit_logs.{column}")),
            "{e}"
        );
        drop(scope);
        let before: i64 = sqlx::query_scalar("SELECT count(*) FROM support_access_log")
            .fetch_one(&t.admin)
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let e = export_to_path(
            &door,
            "globex",
            &ExportOptions::default(),
            None,
            &dir.path().join("x.csv"),
            &Default::default(),
            |_| {},
        )
        .await
        .unwrap_err();
        assert_eq!(e.kind(), "permission_denied", "{e}");
        let after: i64 = sqlx::query_scalar("SELECT count(*) FROM support_access_log")
            .fetch_one(&t.admin)
            .await
            .unwrap();
        assert_eq!(before, after, "{column}");
        db.close().await;
        restore(&t, "audit_logs").await;
    }
}
