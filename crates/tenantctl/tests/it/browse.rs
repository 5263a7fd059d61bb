//! The real `tenantctl` binary against a real database: the JSON output contract of the browse commands,
//! pagination with `--after`, filters, CSV, `--mapping` on a Prisma-style schema, and exit codes.

use crate::common::TestDb;
use serde_json::Value;

const PRISMA_SQL: &str = include_str!("../../../core/tests/fixtures/prisma.sql");
const PRISMA_TOML: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../core/tests/fixtures/prisma.toml"
);

async fn su(t: &TestDb, sql: &str) -> Vec<String> {
    sqlx::query_scalar(sql)
        .fetch_all(&t.admin)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn ids(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .expect("items is an array")
        .iter()
        .map(|i| {
            i["id"]
                .as_str()
                .expect("every item has a string id")
                .to_owned()
        })
        .collect()
}

/// Runs a list command and follows `next_cursor` with `--after` to the end; returns every item's id.
fn walk(t: &TestDb, args: &[&str]) -> Vec<String> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut a = args.to_vec();
        if let Some(c) = &cursor {
            a.extend(["--after", c.as_str()]);
        }
        let page = t.reader(&a).ok_json();
        all.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return all,
        }
    }
}

#[tokio::test]
async fn tenants_json_is_the_documented_contract_and_after_walks_the_pages() {
    let t = TestDb::demo().await;
    let first = t
        .reader(&["tenants", "--format", "json", "--limit", "4"])
        .ok_json();
    let obj = first.as_object().unwrap();
    assert!(
        obj.contains_key("items") && obj.contains_key("next_cursor"),
        "{first}"
    );
    assert!(
        !obj.contains_key("isolation_warning"),
        "console_reader is isolated"
    );
    for item in first["items"].as_array().unwrap() {
        for field in ["id", "slug", "name", "created_at", "plan", "status"] {
            assert!(item.get(field).is_some(), "item lacks {field}: {item}");
        }
        assert!(item.get("stats").is_none(), "stats only when asked for");
    }
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a cursor after 4 of 6");
    let second = t
        .reader(&[
            "tenants", "--format", "json", "--limit", "4", "--after", cursor,
        ])
        .ok_json();
    assert_eq!(second["items"].as_array().unwrap().len(), 2);
    assert_eq!(second["next_cursor"], Value::Null, "the last page says so");
    let mut all = ids(&first);
    all.extend(ids(&second));
    assert_eq!(
        all,
        su(&t, "SELECT t.id::text FROM tenants t ORDER BY t.name, t.id").await
    );

    // Search, sort and stats.
    let found = t
        .reader(&[
            "tenants", "--format", "json", "--search", "GLOBE", "--stats",
        ])
        .ok_json();
    let items = found["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["slug"], "globex");
    assert_eq!(items[0]["stats"]["members"], 12);
    assert_eq!(items[0]["stats"]["audit_events_30d"]["is_estimate"], false);
    let by_created = t
        .reader(&["tenants", "--format", "json", "--sort", "created_at"])
        .ok_json();
    assert_eq!(
        ids(&by_created),
        su(
            &t,
            "SELECT t.id::text FROM tenants t ORDER BY t.created_at DESC, t.id DESC"
        )
        .await,
        "--sort created_at lists the newest tenants first"
    );
}

#[tokio::test]
async fn members_roles_tenant_and_access_log_print_their_items_with_the_tenant_beside_them() {
    let t = TestDb::demo().await;
    let admins = t
        .reader(&[
            "members", "--tenant", "acme", "--role", "ADMIN", "--format", "json",
        ])
        .ok_json();
    assert_eq!(admins["tenant"]["slug"], "acme");
    let expected = su(
        &t,
        "SELECT m.user_id::text FROM memberships m JOIN users u ON u.id = m.user_id
          WHERE m.tenant_id = md5('tenant:acme')::uuid AND m.role = 'ADMIN' ORDER BY u.email, m.user_id::text",
    )
    .await;
    assert_eq!(ids(&admins), expected);
    for item in admins["items"].as_array().unwrap() {
        for field in ["id", "email", "name", "role", "joined_at"] {
            assert!(item.get(field).is_some(), "member lacks {field}: {item}");
        }
        assert_eq!(item["role"], "ADMIN");
    }
    // Email search, paged by --after.
    let all = walk(
        &t,
        &[
            "members",
            "--tenant",
            "acme",
            "--email",
            "example.com",
            "--limit",
            "5",
            "--format",
            "json",
        ],
    );
    let expected = su(
        &t,
        "SELECT m.user_id::text FROM memberships m JOIN users u ON u.id = m.user_id
          WHERE m.tenant_id = md5('tenant:acme')::uuid AND u.email LIKE '%example.com' ORDER BY u.email, m.user_id::text",
    )
    .await;
    assert_eq!(
        expected.len(),
        11,
        "12 members, one with the evil.example address"
    );
    assert_eq!(all, expected);

    let roles = t
        .reader(&["roles", "--tenant", "acme", "--format", "json"])
        .ok_json();
    assert_eq!(roles["next_cursor"], Value::Null);
    let names = ids(&roles);
    assert_eq!(
        names,
        ["ADMIN", "MEMBER", "OWNER", "VIEWER", "AUDITOR", "BILLING"]
    );
    let total: i64 = roles["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert!(
                r["permissions"].is_array() && r["builtin"].is_boolean(),
                "{r}"
            );
            r["members"].as_i64().unwrap()
        })
        .sum();
    assert_eq!(total, 12);

    let overview = t
        .reader(&["tenant", "--tenant", "globex", "--format", "json"])
        .ok_json();
    assert_eq!(overview["tenant"]["slug"], "globex");
    assert_eq!(overview["stats"]["members"], 12);
    assert!(overview["stats"]["last_activity"].is_string(), "{overview}");

    let access = t
        .reader(&["access-log", "--tenant", "acme", "--format", "json"])
        .ok_json();
    assert_eq!(access["items"].as_array().unwrap().len(), 1);
    assert_eq!(access["items"][0]["detail"], "ZD-1001");
}

#[tokio::test]
async fn audit_filters_count_and_pages_through_the_cli() {
    let t = TestDb::demo().await;
    // One instant for both sides (an age like "10d" would move between the two queries).
    let since = su(
        &t,
        r#"SELECT to_char((now() - interval '10 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"#,
    )
    .await
    .remove(0);
    let expected = su(
        &t,
        &format!(
            "SELECT a.id::text FROM audit_logs a WHERE a.tenant_id = md5('tenant:acme')::uuid
                AND a.action LIKE 'member.%' AND a.created_at >= '{since}'
                AND a.actor_id = md5('user:2')::uuid AND a.resource_type = 'session'
              ORDER BY a.created_at DESC, a.id DESC"
        ),
    )
    .await;
    assert!(
        expected.len() > 10,
        "the filter finds rows ({})",
        expected.len()
    );
    let args = [
        "audit",
        "--tenant",
        "acme",
        "--action",
        "member.*",
        "--since",
        &since,
        "--actor",
        "USER2@example.com",
        "--resource-type",
        "session",
        "--limit",
        "10",
        "--count",
        "--format",
        "json",
    ];
    let first = t.reader(&args).ok_json();
    assert_eq!(first["count"], expected.len() as i64);
    assert_eq!(first["count_is_estimate"], false);
    let mut got = ids(&first);
    let mut cursor = first["next_cursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let mut more = args.to_vec();
        more.extend(["--after", &c]);
        let page = t.reader(&more).ok_json();
        got.extend(ids(&page));
        cursor = page["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(got, expected);
    let item = &first["items"][0];
    for field in [
        "id",
        "occurred_at",
        "actor_id",
        "actor_email",
        "action",
        "resource_type",
        "resource_id",
        "ip",
        "user_agent",
        "metadata",
    ] {
        assert!(item.get(field).is_some(), "event lacks {field}: {item}");
    }
    assert_eq!(
        item["metadata"]["tenant"], "acme",
        "metadata is JSON, not a string"
    );
    assert_eq!(item["actor_email"], "user2@example.com");

    // Exact action, resource id, and an empty result.
    let one = t
        .reader(&[
            "audit",
            "--tenant",
            "acme",
            "--resource-id",
            "res-42",
            "--action",
            "auth.logout",
            "--format",
            "json",
        ])
        .ok_json();
    let expected = su(
        &t,
        "SELECT a.id::text FROM audit_logs a WHERE a.tenant_id = md5('tenant:acme')::uuid
            AND a.resource_id = 'res-42' AND a.action = 'auth.logout' ORDER BY a.created_at DESC, a.id DESC",
    )
    .await;
    assert_eq!(ids(&one), expected);
    let none = t
        .reader(&[
            "audit",
            "--tenant",
            "acme",
            "--action",
            "no.such.action",
            "--format",
            "json",
        ])
        .ok_json();
    assert_eq!(
        (
            none["items"].as_array().unwrap().len(),
            &none["next_cursor"]
        ),
        (0, &Value::Null)
    );
}

#[tokio::test]
async fn csv_output_has_a_header_and_neutralises_formulas() {
    let t = TestDb::demo().await;
    let run = t.reader(&[
        "audit",
        "--tenant",
        "acme",
        "--resource-id",
        "=HYPERLINK(\"http://evil.example\",\"click\")",
        "--limit",
        "3",
        "--format",
        "csv",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let mut r = csv::Reader::from_reader(run.stdout.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(
        header,
        [
            "id",
            "occurred_at",
            "actor",
            "action",
            "resource_type",
            "resource_id",
            "ip"
        ]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert_eq!(
            &row[5], "'=HYPERLINK(\"http://evil.example\",\"click\")",
            "{row:?}"
        );
    }
    // The table format prints the same rows for a person, one line per row.
    let table = t.reader(&["members", "--tenant", "acme", "--format", "table"]);
    assert_eq!(table.code, 0, "{table:?}");
    assert!(
        table.stdout.contains("user_id") && table.stdout.contains("end of list"),
        "{}",
        table.stdout
    );
}

#[tokio::test]
async fn a_mapping_file_browses_a_prisma_database() {
    let t = TestDb::empty().await;
    sqlx::raw_sql(PRISMA_SQL).execute(&t.admin).await.unwrap();
    let tenants = t
        .reader(&[
            "--mapping",
            PRISMA_TOML,
            "tenants",
            "--format",
            "json",
            "--sort",
            "slug",
        ])
        .ok_json();
    assert_eq!(
        ids(&tenants),
        su(
            &t,
            r#"SELECT t."id" FROM app."Tenant" t ORDER BY t."slug", t."id""#
        )
        .await
    );
    let audit = t
        .reader(&[
            "--mapping",
            PRISMA_TOML,
            "audit",
            "--tenant",
            "acme",
            "--action",
            "member.",
            "--limit",
            "7",
            "--format",
            "json",
        ])
        .ok_json();
    let expected = su(
        &t,
        r#"SELECT a."id" FROM app."AuditLog" a JOIN app."Tenant" t ON t."id" = a."tenantId"
            WHERE t."slug" = 'acme' AND a."action" LIKE 'member.%' ORDER BY a."createdAt" DESC, a."id" DESC LIMIT 7"#,
    )
    .await;
    assert_eq!(ids(&audit), expected);
    assert!(audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["metadata"]["tenant"] == "acme"));
    let members = t
        .reader(&[
            "--mapping",
            PRISMA_TOML,
            "members",
            "--tenant",
            "globex",
            "--format",
            "json",
        ])
        .ok_json();
    assert_eq!(ids(&members).len(), 8);
    let roles = t
        .reader(&[
            "--mapping",
            PRISMA_TOML,
            "roles",
            "--tenant",
            "acme",
            "--format",
            "json",
        ])
        .ok_json();
    assert_eq!(ids(&roles), ["ADMIN", "BILLING", "MEMBER", "OWNER"]);

    // A mapping that names a missing column: exit 1, and the message says where it was looked for.
    let bad = t.dirs.path().join("bad.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(PRISMA_TOML)
            .unwrap()
            .replace("\"resourceId\"", "\"resource_id\""),
    )
    .unwrap();
    let run = t.reader(&[
        "--mapping",
        bad.to_str().unwrap(),
        "tenants",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.json()["error"]["kind"], "mapping");
    let msg = run.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        msg.contains("[audit_logs]") && msg.contains("resource_id") && msg.contains("AuditLog"),
        "{msg}"
    );
}

#[tokio::test]
async fn exit_codes_say_usage_error_unknown_tenant_or_isolation_not_enforced() {
    let t = TestDb::demo().await;
    // 2: the command line is wrong (a bad time, an empty range, a bad cursor, a limit out of range).
    for args in [
        &[
            "audit",
            "--tenant",
            "acme",
            "--since",
            "yesterday",
            "--format",
            "json",
        ][..],
        &[
            "audit",
            "--tenant",
            "acme",
            "--since",
            "2026-01-02",
            "--until",
            "2026-01-01",
            "--format",
            "json",
        ],
        &[
            "audit",
            "--tenant",
            "acme",
            "--after",
            "not-a-cursor",
            "--format",
            "json",
        ],
        &["tenants", "--after", "bm90IGEgY3Vyc29y", "--format", "json"],
        &["tenants", "--sort", "size", "--format", "json"],
        &[
            "tenants",
            "--search",
            &"x".repeat(10 * 1024),
            "--format",
            "json",
        ],
    ] {
        let run = t.reader(args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(
            !run.stderr.trim().is_empty() && run.stderr.trim().lines().count() == 1,
            "{run:?}"
        );
        if args.contains(&"json") {
            assert_eq!(run.json()["error"]["kind"], "invalid_input", "{args:?}");
        }
    }
    // clap's own usage errors (a limit out of range, an unknown flag) exit 2 as well.
    for args in [
        &["tenants", "--limit", "0"][..],
        &["audit", "--tenant", "acme", "--limit", "1001"],
        &["tenants", "--nope"],
    ] {
        let run = t.reader(args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
    }
    // A cursor of another list is a usage error too, not a database error.
    let members = t
        .reader(&[
            "members", "--tenant", "acme", "--limit", "2", "--format", "json",
        ])
        .ok_json();
    let foreign = members["next_cursor"].as_str().unwrap();
    let run = t.reader(&[
        "audit", "--tenant", "acme", "--after", foreign, "--format", "json",
    ]);
    assert_eq!(
        (run.code, &run.json()["error"]["kind"]),
        (2, &Value::from("invalid_input"))
    );

    // 1: the tenant does not exist (the command was well-formed; the database said no).
    let run = t.reader(&["members", "--tenant", "no-such-tenant", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let err = run.json();
    assert_eq!(err["error"]["kind"], "unknown_tenant");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no-such-tenant"));
    assert!(
        err.get("items").is_none(),
        "errors are never mixed into items"
    );

    // 3: a superuser login reads past RLS, so it is refused ...
    let su_url = t.url("postgres");
    for args in [
        &[
            "--url", &su_url, "members", "--tenant", "acme", "--format", "json",
        ][..],
        &["--url", &su_url, "tenants", "--format", "json"],
    ] {
        let run = t.run(args);
        assert_eq!(run.code, 3, "{args:?}: {run:?}");
        assert_eq!(run.json()["error"]["kind"], "isolation_not_enforced");
        assert!(run.stderr.contains("superuser"), "{run:?}");
    }
    // ... unless bypass is accepted, and then every output carries the warning.
    for cmd in [
        &["members", "--tenant", "acme"][..],
        &["tenants"],
        &["audit", "--tenant", "acme", "--limit", "3"],
    ] {
        let mut args = vec![
            "--url",
            su_url.as_str(),
            "--allow-bypass",
            "--format",
            "json",
        ];
        args.extend_from_slice(cmd);
        let run = t.run(&args);
        let v = run.ok_json();
        let warning = v["isolation_warning"]
            .as_str()
            .unwrap_or_else(|| panic!("{cmd:?}: {v}"));
        assert!(warning.contains("superuser"), "{warning}");
        assert!(run.stderr.contains("WARNING"), "{run:?}");
        assert!(!v["items"].as_array().unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_reader_that_stops_early_ends_tenantctl_quietly_not_with_a_panic() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let t = TestDb::demo().await;
    // A page of 1,000 events is far more than a pipe holds: the writes after `head` has gone must fail.
    let mut child = Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .args(["--url", &t.url("console_reader")])
        .args([
            "audit", "--tenant", "acme", "--limit", "1000", "--format", "csv",
        ])
        .env("TENANT_CONSOLE_CONFIG_DIR", t.dirs.path().join("config"))
        .env("TENANT_CONSOLE_DATA_DIR", t.dirs.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 64];
    child.stdout.take().unwrap().read_exact(&mut head).unwrap();
    // (the read end is dropped here, like `| head -c 64`)
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        head.starts_with(b"id,"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(141), "{stderr}");
}

/// A database that swallows the support-access record (here a rule that does nothing instead) must not get a
/// read out of the console: the command fails naming the log, and prints no tenant data.
#[tokio::test]
async fn a_read_whose_access_record_is_swallowed_fails_and_prints_nothing() {
    let t = TestDb::demo().await;
    sqlx::raw_sql("CREATE RULE swallow AS ON INSERT TO support_access_log DO INSTEAD NOTHING")
        .execute(&t.admin)
        .await
        .unwrap();
    let run = t.reader(&[
        "members",
        "--tenant",
        "acme",
        "--reason",
        "incident:INC-9",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("did not record"), "{}", run.stderr);
    assert!(
        !run.stdout.contains("@"),
        "member data was printed: {}",
        run.stdout
    );
    let out = t.dirs.path().join("acme.csv");
    let export = t.reader(&[
        "export-audit",
        "--tenant",
        "acme",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(export.code, 1, "{export:?}");
    assert!(
        export.stderr.contains("did not record"),
        "{}",
        export.stderr
    );
    assert!(!out.exists());
}

/// Tenant names and audit actions with terminal escapes (retitle the window, clear the screen, write the
/// clipboard with OSC 52, a C1 CSI, a right-to-left override) reach a real terminal as visible text. The
/// commands run on a pseudo-terminal (`script`), where the default output is the table.
#[tokio::test]
async fn hostile_text_reaches_a_terminal_as_visible_escapes() {
    let t = TestDb::demo().await;
    sqlx::raw_sql(
        "INSERT INTO tenants (slug, name) VALUES ('evil', E'Evil\\x1b]0;owned\\x07 \\x1b[2J Corp \\x1b]52;c;ZXZpbA==\\x07 \\u202Egpj.exe');
         INSERT INTO roles (tenant_id, name, is_builtin) SELECT id, 'OWNER', true FROM tenants WHERE slug = 'evil';
         INSERT INTO audit_logs (tenant_id, action) SELECT id, E'login\\u009b31m.red' FROM tenants WHERE slug = 'evil';",
    )
    .execute(&t.admin)
    .await
    .unwrap();
    let url = t.url("console_reader");
    for args in [
        format!("--url {url} tenants --search evil"),
        format!("--url {url} audit --tenant evil"),
        format!("--url {url} tenant --tenant evil"),
    ] {
        let cmd = format!("{} {args}", env!("CARGO_BIN_EXE_tenantctl"));
        let out = std::process::Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .env("TENANT_CONSOLE_CONFIG_DIR", t.dirs.path().join("config"))
            .env("TENANT_CONSOLE_DATA_DIR", t.dirs.path().join("data"))
            .env_remove("PGPASSWORD")
            .output()
            .expect("script runs");
        let screen = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{args}: {screen}");
        assert!(
            !out.stdout.contains(&0x1b),
            "{args}: an ESC byte reached the terminal: {screen:?}"
        );
        assert!(
            !screen.contains('\u{9b}'),
            "{args}: a C1 CSI reached the terminal"
        );
        assert!(
            !screen.contains('\u{202e}'),
            "{args}: a bidi override reached the terminal"
        );
        // Shown, as text: `\x1b]0;owned` (a cell) or `\u001b]0;owned` (an object printed as JSON).
        assert!(
            screen.contains("]0;owned") || screen.contains("\\x9b31m"),
            "{args}: the escapes are not shown as text: {screen}"
        );
    }
}

/// Times out of range are the user's mistake (exit 2, with what is accepted), never a panic (101) or a
/// database error.
#[tokio::test]
async fn out_of_range_times_are_usage_errors() {
    let t = TestDb::demo().await;
    for since in [
        "100000000d",
        "0000-01-01",
        "99999999999999m",
        "10000-01-01T00:00:00Z",
    ] {
        let run = t.reader(&[
            "audit", "--tenant", "acme", "--since", since, "--format", "json",
        ]);
        assert_eq!(run.code, 2, "{since}: {run:?}");
        assert_eq!(run.json()["error"]["kind"], "invalid_input", "{since}");
        assert!(
            run.stderr.contains("0001-01-01 to 9999-12-31"),
            "{since}: {}",
            run.stderr
        );
    }
}
