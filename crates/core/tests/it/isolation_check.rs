//! The isolation check on scratch databases: each finding produced by the change that causes it, and gone
//! when the change is reverted; the live probe catching a leak the catalog cannot see.

use crate::common::TestDb;
use sqlx::postgres::PgPoolOptions;
use sqlx::Executor;
use tenant_console_core::isolation::{check, CheckOptions, Report, Severity};
use tenant_console_core::profile::AcceptedFinding;
use tenant_console_core::{Db, DbOptions, Mapping};

async fn run(db: &Db, probe: bool) -> Report {
    check(
        db,
        &CheckOptions {
            probe,
            sample: 3,
            ..Default::default()
        },
    )
    .await
    .expect("the check runs")
}

fn has(report: &Report, code: &str, object_part: &str) -> bool {
    report
        .findings
        .iter()
        .any(|f| f.code == code && f.object.contains(object_part))
}

fn criticals(report: &Report) -> Vec<String> {
    report
        .failing()
        .map(|f| format!("{} {}", f.code, f.object))
        .collect()
}

/// Checks as console_reader after `break_sql`, then after `fix_sql`: the code must come and go.
async fn comes_and_goes(
    t: &TestDb,
    code: &str,
    object: &str,
    break_sql: &str,
    fix_sql: &str,
    probe: bool,
) {
    t.admin.execute(break_sql).await.expect("sabotage applies");
    let broken = run(&t.reader().await, probe).await;
    assert!(
        has(&broken, code, object),
        "{code} on {object} not reported: {:#?}",
        broken.findings
    );
    t.admin.execute(fix_sql).await.expect("fix applies");
    let fixed = run(&t.reader().await, probe).await;
    assert!(
        !has(&fixed, code, object),
        "{code} on {object} still reported after the fix"
    );
}

/// A login role of this test only (roles are cluster-wide; tests run in parallel).
async fn own_login(t: &TestDb, suffix: &str, attrs: &str) -> (String, Db) {
    let role = format!("{}_{suffix}", t.name);
    t.admin
        .execute(
            format!(
                "CREATE ROLE {role} LOGIN {attrs}; GRANT USAGE ON SCHEMA public TO {role};
                 GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};"
            )
            .as_str(),
        )
        .await
        .unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(t.reader_options().username(&role))
        .await
        .unwrap();
    let db = Db::from_pool(pool, Mapping::reference(), DbOptions::default())
        .await
        .unwrap();
    (role, db)
}

async fn drop_login(t: &TestDb, role: &str) {
    let _ = t
        .admin
        .execute(format!("DROP OWNED BY {role}; DROP ROLE {role}").as_str())
        .await;
}

#[tokio::test]
async fn the_clean_reference_schema_gives_no_critical_finding_even_with_the_probe() {
    let t = TestDb::demo().await;
    let report = run(&t.reader().await, true).await;
    assert!(criticals(&report).is_empty(), "{:?}", criticals(&report));
    assert!(report.isolation_enforced);
    assert_eq!(report.probed_tenants.len(), 3);
    for table in ["audit_logs", "memberships", "roles", "support_access_log"] {
        assert!(
            has(&report, "TABLE_ISOLATED", table),
            "{table} not reported as checked"
        );
    }
}

#[tokio::test]
async fn a_superuser_login_is_critical_and_cannot_be_accepted() {
    let t = TestDb::demo().await;
    let db = t.superuser(DbOptions::default()).await;
    let report = check(
        &db,
        &CheckOptions {
            accepted: vec![AcceptedFinding {
                code: "LOGIN_SUPERUSER".into(),
                object: db.login().user.clone(),
                reason: "we know".into(),
            }],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(has(&report, "LOGIN_SUPERUSER", ""));
    assert!(!report.isolation_enforced);
    assert!(report.findings.iter().all(|f| f.accepted.is_none()));
}

#[tokio::test]
async fn a_bypassrls_login_comes_and_goes_with_the_attribute() {
    let t = TestDb::demo().await;
    let (role, db) = own_login(&t, "bypass", "BYPASSRLS").await;
    assert!(has(&run(&db, false).await, "LOGIN_BYPASSRLS", &role));
    t.admin
        .execute(format!("ALTER ROLE {role} NOBYPASSRLS").as_str())
        .await
        .unwrap();
    let pool = PgPoolOptions::new()
        .connect_with(t.reader_options().username(&role))
        .await
        .unwrap();
    let db = Db::from_pool(pool, Mapping::reference(), DbOptions::default())
        .await
        .unwrap();
    let report = run(&db, true).await;
    assert!(!has(&report, "LOGIN_BYPASSRLS", &role));
    assert!(report.isolation_enforced, "{:?}", criticals(&report));
    drop(db);
    drop_login(&t, &role).await;
}

#[tokio::test]
async fn a_set_role_path_to_a_bypassing_role_is_critical() {
    let t = TestDb::demo().await;
    let (login, db) = own_login(&t, "login", "").await;
    let admin_role = format!("{}_admin", t.name);
    t.admin
        .execute(
            format!("CREATE ROLE {admin_role} NOLOGIN BYPASSRLS; GRANT {admin_role} TO {login}")
                .as_str(),
        )
        .await
        .unwrap();
    let report = run(&db, false).await;
    let f = report
        .findings
        .iter()
        .find(|f| f.code == "SET_ROLE_BYPASS")
        .expect("reported");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.object, admin_role);
    assert!(!report.isolation_enforced);
    t.admin
        .execute(format!("REVOKE {admin_role} FROM {login}").as_str())
        .await
        .unwrap();
    assert!(!has(&run(&db, false).await, "SET_ROLE_BYPASS", &admin_role));
    drop(db);
    drop_login(&t, &login).await;
    let _ = t
        .admin
        .execute(format!("DROP ROLE {admin_role}").as_str())
        .await;
}

#[tokio::test]
async fn an_owner_is_critical_with_or_without_force() {
    let t = TestDb::demo().await;
    let (login, _) = own_login(&t, "owner", "").await;
    t.admin
        .execute(format!("ALTER TABLE audit_logs OWNER TO {login}; ALTER TABLE audit_logs NO FORCE ROW LEVEL SECURITY").as_str())
        .await
        .unwrap();
    let as_owner = || async {
        let pool = PgPoolOptions::new()
            .connect_with(t.reader_options().username(&login))
            .await
            .unwrap();
        Db::from_pool(pool, Mapping::reference(), DbOptions::default())
            .await
            .unwrap()
    };
    let report = run(&as_owner().await, false).await;
    assert!(has(&report, "OWNER_NOT_FORCED", "audit_logs"));
    t.admin
        .execute("ALTER TABLE audit_logs FORCE ROW LEVEL SECURITY")
        .await
        .unwrap();
    let report = run(&as_owner().await, false).await;
    assert!(!has(&report, "OWNER_NOT_FORCED", "audit_logs"));
    // Forced RLS applies to the owner today, but the owner can switch it off: a leaked password opens it all.
    assert!(has(&report, "LOGIN_OWNS_TABLE", "audit_logs"));
    assert!(!report.isolation_enforced);
    t.admin
        .execute("ALTER TABLE audit_logs OWNER TO postgres")
        .await
        .unwrap();
    assert!(!has(
        &run(&as_owner().await, false).await,
        "LOGIN_OWNS_TABLE",
        "audit_logs"
    ));
    drop_login(&t, &login).await;
}

#[tokio::test]
async fn rls_disabled_on_a_table_is_critical() {
    let t = TestDb::demo().await;
    comes_and_goes(
        &t,
        "RLS_DISABLED",
        "memberships",
        "ALTER TABLE memberships DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE memberships ENABLE ROW LEVEL SECURITY",
        false,
    )
    .await;
}

#[tokio::test]
async fn rls_not_forced_is_a_warning_for_a_login_that_does_not_own_the_table() {
    let t = TestDb::demo().await;
    comes_and_goes(
        &t,
        "RLS_NOT_FORCED",
        "roles",
        "ALTER TABLE roles NO FORCE ROW LEVEL SECURITY",
        "ALTER TABLE roles FORCE ROW LEVEL SECURITY",
        false,
    )
    .await;
}

#[tokio::test]
async fn a_readable_partition_without_rls_is_critical() {
    let t = TestDb::demo().await;
    t.admin
        .execute(
            "CREATE TABLE events (tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE, body text)
               PARTITION BY HASH (tenant_id);
             CREATE TABLE events_p0 PARTITION OF events FOR VALUES WITH (MODULUS 2, REMAINDER 0);
             CREATE TABLE events_p1 PARTITION OF events FOR VALUES WITH (MODULUS 2, REMAINDER 1);
             CREATE INDEX ON events (tenant_id);
             ALTER TABLE events ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
             CREATE POLICY tenant_isolation ON events
               USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid);
             ALTER TABLE events_p0 ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
             ALTER TABLE events_p1 ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
             CREATE POLICY tenant_isolation ON events_p0
               USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid);
             CREATE POLICY tenant_isolation ON events_p1
               USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid);
             GRANT SELECT ON events, events_p0, events_p1 TO console_reader;",
        )
        .await
        .unwrap();
    comes_and_goes(
        &t,
        "PARTITION_RLS_DISABLED",
        "events_p1",
        "ALTER TABLE events_p1 DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE events_p1 ENABLE ROW LEVEL SECURITY",
        false,
    )
    .await;
}

#[tokio::test]
async fn a_table_with_no_policy_or_a_policy_on_another_setting_is_reported() {
    let t = TestDb::demo().await;
    t.admin
        .execute(
            "CREATE TABLE notes (tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE, body text);
             CREATE INDEX ON notes (tenant_id);
             ALTER TABLE notes ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
             GRANT SELECT ON notes TO console_reader;",
        )
        .await
        .unwrap();
    let report = run(&t.reader().await, false).await;
    assert!(has(&report, "RLS_NO_POLICY", "notes"));
    comes_and_goes(
        &t,
        "NO_TENANT_POLICY",
        "notes",
        "CREATE POLICY other ON notes USING (tenant_id = NULLIF(current_setting('app.org', true), '')::uuid)",
        "DROP POLICY other ON notes; CREATE POLICY tenant_isolation ON notes
           USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid)",
        false,
    )
    .await;
}

#[tokio::test]
async fn a_permissive_always_true_policy_is_critical() {
    let t = TestDb::demo().await;
    comes_and_goes(
        &t,
        "PERMISSIVE_POLICY_OPEN",
        "audit_logs policy open_door",
        "CREATE POLICY open_door ON audit_logs FOR SELECT USING (true)",
        "DROP POLICY open_door ON audit_logs",
        false,
    )
    .await;
}

#[tokio::test]
async fn a_view_running_as_a_bypassing_owner_is_critical_until_it_runs_as_the_invoker() {
    let t = TestDb::demo().await;
    t.admin
        .execute("CREATE VIEW all_audit AS SELECT * FROM audit_logs; GRANT SELECT ON all_audit TO console_reader")
        .await
        .unwrap();
    comes_and_goes(
        &t,
        "DEFINER_VIEW_BYPASS",
        "all_audit",
        "SELECT 1",
        "ALTER VIEW all_audit SET (security_invoker = true)",
        false,
    )
    .await;
}

#[tokio::test]
async fn a_readable_materialized_view_of_tenant_data_is_critical() {
    let t = TestDb::demo().await;
    comes_and_goes(
        &t,
        "MATVIEW_TENANT_DATA",
        "audit_summary",
        "CREATE MATERIALIZED VIEW audit_summary AS SELECT tenant_id, count(*) FROM audit_logs GROUP BY 1;
         GRANT SELECT ON audit_summary TO console_reader",
        "DROP MATERIALIZED VIEW audit_summary",
        false,
    )
    .await;
}

#[tokio::test]
async fn a_security_definer_function_reading_tenant_data_as_a_superuser_is_critical() {
    let t = TestDb::demo().await;
    comes_and_goes(
        &t,
        "DEFINER_FUNCTION_BYPASS",
        "count_all_events",
        "CREATE FUNCTION count_all_events() RETURNS bigint LANGUAGE sql SECURITY DEFINER
           AS 'SELECT count(*) FROM audit_logs'",
        "DROP FUNCTION count_all_events()",
        false,
    )
    .await;
}

#[tokio::test]
async fn policies_that_raise_on_an_unset_or_empty_setting_are_warnings() {
    let t = TestDb::demo().await;
    t.admin
        .execute(
            "DROP POLICY tenant_isolation ON roles;
             CREATE POLICY tenant_isolation ON roles USING (tenant_id = current_setting('app.current_tenant_id')::uuid)",
        )
        .await
        .unwrap();
    let report = run(&t.reader().await, false).await;
    assert!(has(&report, "POLICY_SETTING_NOT_MISSING_OK", "roles"));
    assert!(has(&report, "POLICY_CAST_WITHOUT_NULLIF", "roles"));
    assert!(criticals(&report).is_empty(), "{:?}", criticals(&report));
}

#[tokio::test]
async fn weak_tenant_columns_and_global_unique_constraints_are_warnings() {
    let t = TestDb::demo().await;
    t.admin
        .execute(
            "CREATE TABLE widgets (tenant_id uuid, code text UNIQUE);
             ALTER TABLE widgets ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
             CREATE POLICY tenant_isolation ON widgets
               USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid);
             GRANT SELECT ON widgets TO console_reader;",
        )
        .await
        .unwrap();
    let report = run(&t.reader().await, false).await;
    for code in [
        "TENANT_COLUMN_NULLABLE",
        "TENANT_COLUMN_NO_FK",
        "NO_TENANT_INDEX",
        "UNIQUE_WITHOUT_TENANT",
    ] {
        assert!(has(&report, code, "widgets"), "{code} missing");
    }
    t.admin
        .execute(
            "ALTER TABLE widgets ALTER COLUMN tenant_id SET NOT NULL;
             ALTER TABLE widgets ADD FOREIGN KEY (tenant_id) REFERENCES tenants;
             ALTER TABLE widgets DROP CONSTRAINT widgets_code_key;
             CREATE UNIQUE INDEX ON widgets (tenant_id, code);",
        )
        .await
        .unwrap();
    let report = run(&t.reader().await, false).await;
    assert!(
        has(&report, "TABLE_ISOLATED", "widgets"),
        "{:#?}",
        report.findings
    );
}

#[tokio::test]
async fn a_policy_that_ors_in_a_category_of_rows_is_named_by_the_catalog_and_proven_by_the_probe() {
    let t = TestDb::demo().await;
    // A policy that reads the setting, and so looks right, but ORs in a whole category of rows.
    t.admin
        .execute(
            "DROP POLICY tenant_isolation ON audit_logs;
             CREATE POLICY tenant_isolation ON audit_logs
               USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid
                      OR resource_type = 'session')",
        )
        .await
        .unwrap();
    let db = t.reader().await;
    // The catalog names the branch that does not pin the tenant (it no longer trusts a policy for reading the
    // setting somewhere) ...
    let static_only = run(&db, false).await;
    assert!(
        static_only
            .findings
            .iter()
            .any(|f| f.code == "POLICY_BRANCH_OPEN" && f.problem.contains("resource_type")),
        "{:?}",
        criticals(&static_only)
    );
    // ... and the probe proves it with rows.
    let probed = run(&db, true).await;
    let leak = probed
        .findings
        .iter()
        .find(|f| f.code == "PROBE_FOREIGN_ROWS")
        .expect("the probe finds the leak");
    assert_eq!(leak.object, "audit_logs");
    assert_eq!(leak.severity, Severity::Critical);
    assert!(!probed.isolation_enforced);
    // The unset-setting probe sees the shared category too.
    assert!(has(&probed, "PROBE_UNSET_SETTING_ROWS", "audit_logs"));
}

#[tokio::test]
async fn an_accepted_finding_is_shown_with_its_reason_and_no_longer_fails() {
    let t = TestDb::demo().await;
    t.admin
        .execute("CREATE MATERIALIZED VIEW audit_summary AS SELECT tenant_id, count(*) FROM audit_logs GROUP BY 1;
                  GRANT SELECT ON audit_summary TO console_reader")
        .await
        .unwrap();
    let db = t.reader().await;
    assert!(!run(&db, false).await.isolation_enforced);
    let report = check(
        &db,
        &CheckOptions {
            accepted: vec![AcceptedFinding {
                code: "MATVIEW_TENANT_DATA".into(),
                object: "audit_summary".into(),
                reason: "counts only, reviewed in SEC-12".into(),
            }],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let f = report
        .findings
        .iter()
        .find(|f| f.code == "MATVIEW_TENANT_DATA")
        .unwrap();
    assert_eq!(
        f.accepted.as_deref(),
        Some("counts only, reviewed in SEC-12")
    );
    assert!(report.isolation_enforced);
}

#[tokio::test]
async fn a_database_without_an_access_log_gets_a_warning_with_the_sql_that_adds_one() {
    let t = TestDb::demo().await;
    let mut mapping = Mapping::reference();
    mapping.access_log = None;
    let db = t.reader_with(2, mapping).await;
    let report = run(&db, false).await;
    let f = report
        .findings
        .iter()
        .find(|f| f.code == "NO_ACCESS_LOG")
        .expect("reported");
    assert_eq!(f.severity, Severity::Warning);
    assert!(f
        .fix_sql
        .as_deref()
        .unwrap()
        .contains("CREATE TABLE support_access_log"));
}

/// `users` has no tenant column and tenant rows point at it. Read whole by the login, every tenant's members are
/// one SELECT away: the verdict must see it, proven with rows. The reference schema's policy closes it.
#[tokio::test]
async fn a_global_table_tenant_rows_point_at_is_judged_by_what_the_login_reads_of_it() {
    let t = TestDb::demo().await;
    // As the login, by hand: with a tenant set, only its members; with none, nobody.
    let reader = t.reader_pool(1).await;
    let acme: String = sqlx::query_scalar("SELECT id::text FROM tenants WHERE slug = 'acme'")
        .fetch_one(&t.admin)
        .await
        .unwrap();
    let members: i64 = sqlx::query_scalar("SELECT count(*) FROM memberships m JOIN tenants t ON t.id = m.tenant_id WHERE t.slug = 'acme'")
        .fetch_one(&t.admin)
        .await
        .unwrap();
    let all_users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&t.admin)
        .await
        .unwrap();
    assert!(
        all_users > members,
        "the demo data has users of other tenants"
    );
    let mut tx = reader.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.current_tenant_id', $1, true)")
        .bind(&acme)
        .execute(&mut *tx)
        .await
        .unwrap();
    let seen: i64 = sqlx::query_scalar("SELECT count(email) FROM users")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(seen, members);
    let unset: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&reader)
        .await
        .unwrap();
    assert_eq!(unset, 0);

    let report = run(&t.reader().await, false).await;
    assert!(
        !has(&report, "GLOBAL_TABLE_READABLE", "users"),
        "{:?}",
        report.findings
    );
    assert!(report.isolation_enforced);

    // The policy gone: the whole table readable, a critical finding naming the links and personal columns.
    sqlx::raw_sql("DROP POLICY members_of_current_tenant ON users; ALTER TABLE users DISABLE ROW LEVEL SECURITY")
        .execute(&t.admin)
        .await
        .unwrap();
    let report = run(&t.reader().await, false).await;
    let f = report
        .findings
        .iter()
        .find(|f| f.code == "GLOBAL_TABLE_READABLE" && f.object.contains("users"))
        .expect("users readable whole is reported");
    assert_eq!(f.severity, Severity::Critical, "{f:?}");
    assert!(
        f.problem.contains("memberships.user_id") && f.problem.contains("email"),
        "{f:?}"
    );
    assert!(
        f.problem
            .contains(&format!("reads {} of its rows", all_users - members)),
        "{f:?}"
    );
    assert!(
        f.fix_sql.as_deref().unwrap_or("").contains("CREATE POLICY"),
        "{f:?}"
    );
    assert!(!report.isolation_enforced);
}

/// A tenant policy with a second branch the login controls (a setting it can set itself) opens every tenant,
/// which the probe's fixed states cannot see: the branch is named, critical, and the escape works as the login.
/// A policy that can never be true opens nothing and is not reported.
#[tokio::test]
async fn a_policy_branch_the_login_controls_is_critical_and_a_never_true_policy_is_nothing() {
    let t = TestDb::demo().await;
    sqlx::raw_sql(
        "ALTER POLICY tenant_isolation ON audit_logs
           USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid
                  OR current_setting('app.bypass_rls', true) = 'on')",
    )
    .execute(&t.admin)
    .await
    .unwrap();
    let report = run(&t.reader().await, true).await;
    let f = report
        .findings
        .iter()
        .find(|f| f.code == "POLICY_BRANCH_OPEN" && f.object.contains("audit_logs"))
        .expect("the branch is reported");
    assert_eq!(f.severity, Severity::Critical);
    assert!(f.problem.contains("app.bypass_rls"), "{f:?}");
    assert!(!report.isolation_enforced);
    // The escape, as the login: its own setting opens the other tenants' events.
    let reader = t.reader_pool(1).await;
    let mut tx = reader.begin().await.unwrap();
    let foreign: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_logs, (SELECT set_config('app.current_tenant_id', (SELECT id::text FROM tenants WHERE slug = 'acme'), true),
                                                  set_config('app.bypass_rls', 'on', true)) s
          WHERE tenant_id <> (SELECT id FROM tenants WHERE slug = 'acme')",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert!(foreign > 0, "the escape works, so the verdict must say so");

    // Back to the tenant policy alone, plus permissive policies that can never be true: nothing is opened.
    sqlx::raw_sql(
        "ALTER POLICY tenant_isolation ON audit_logs
           USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid);
         CREATE POLICY never_a ON audit_logs USING (false);
         CREATE POLICY never_b ON audit_logs USING (1 = 0);
         CREATE POLICY never_c ON audit_logs USING (NULL)",
    )
    .execute(&t.admin)
    .await
    .unwrap();
    let report = run(&t.reader().await, false).await;
    assert!(
        !report
            .findings
            .iter()
            .any(|f| matches!(f.code, "PERMISSIVE_POLICY_OPEN" | "POLICY_BRANCH_OPEN")),
        "{:?}",
        report.findings
    );
    assert!(report.isolation_enforced, "{:?}", report.findings);
}

/// Rows of `table` the login reads as `tenant` on its own connection (no console): the escape, run as the login.
async fn login_reads(t: &TestDb, tenant: &str, table: &str, before: &str) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect_with(&t.reader_options())
        .await
        .unwrap();
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.current_tenant_id', (SELECT id::text FROM tenants WHERE slug = $1), true)")
        .bind(tenant)
        .execute(&mut *tx)
        .await
        .unwrap();
    if !before.is_empty() {
        sqlx::raw_sql(before).execute(&mut *tx).await.unwrap();
    }
    let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    n
}

/// Consent in the verdict: a complete setup is proven with rows (information), a tenant table without the
/// restrictive policy is critical and named, and so is a login that can approve itself or turn consent off;
/// each proven by the escape run as the login.
#[tokio::test]
async fn consent_is_proven_with_rows_and_a_gap_in_it_is_critical() {
    let t = TestDb::demo().await;
    sqlx::query("UPDATE tenants SET support_consent = 'required' WHERE slug = 'initech'")
        .execute(&t.admin)
        .await
        .unwrap();
    let report = run(&t.reader().await, true).await;
    assert!(report.isolation_enforced, "{:?}", criticals(&report));
    assert!(
        has(&report, "CONSENT_ENFORCED", "consent"),
        "{:?}",
        report.findings
    );
    assert!(report.probed_tenants.contains(&"initech".to_owned()));
    let personal = report
        .findings
        .iter()
        .find(|f| f.code == "PERSONAL_COLUMNS_READABLE")
        .expect("personal columns listed");
    assert!(personal.problem.contains("users.email"), "{personal:?}");
    assert_eq!(login_reads(&t, "initech", "audit_logs", "").await, 0);

    // One tenant table without the restrictive policy: the rows come back, and the verdict says where.
    sqlx::raw_sql("DROP POLICY support_consent ON memberships")
        .execute(&t.admin)
        .await
        .unwrap();
    assert!(login_reads(&t, "initech", "memberships", "").await > 0);
    let report = run(&t.reader().await, true).await;
    let f = report
        .findings
        .iter()
        .find(|f| f.code == "CONSENT_NOT_ENFORCED")
        .expect("the gap is reported");
    assert_eq!(f.severity, Severity::Critical);
    assert!(
        f.object.contains("memberships") && f.problem.contains("initech"),
        "{f:?}"
    );
    assert!(!report.isolation_enforced);
    assert!(!has(&report, "CONSENT_ENFORCED", "consent"));
    sqlx::raw_sql(
        "CREATE POLICY support_consent ON memberships AS RESTRICTIVE FOR SELECT TO console_reader
           USING (tenant_id NOT IN (SELECT c.id FROM tenants c WHERE c.support_consent = 'required'
             AND NOT EXISTS (SELECT 1 FROM support_access_approvals a WHERE a.tenant_id = c.id
               AND a.grantee = session_user AND a.revoked_at IS NULL AND a.expires_at > now())))",
    )
    .execute(&t.admin)
    .await
    .unwrap();

    // A login that may write approvals approves itself.
    sqlx::raw_sql("GRANT INSERT ON support_access_approvals TO console_reader")
        .execute(&t.admin)
        .await
        .unwrap();
    let escape = "INSERT INTO support_access_approvals (tenant_id, grantee, approved_by, expires_at)
                  VALUES (current_setting('app.current_tenant_id')::uuid, session_user, 'me', now() + interval '1 hour')";
    assert!(login_reads(&t, "initech", "audit_logs", escape).await > 0);
    let report = run(&t.reader().await, false).await;
    assert!(has(
        &report,
        "CONSENT_APPROVALS_WRITABLE",
        "support_access_approvals"
    ));
    assert!(!report.isolation_enforced);
    sqlx::raw_sql("REVOKE INSERT ON support_access_approvals FROM console_reader")
        .execute(&t.admin)
        .await
        .unwrap();

    // A login that may turn the requirement off.
    sqlx::raw_sql("GRANT UPDATE (support_consent) ON tenants TO console_reader")
        .execute(&t.admin)
        .await
        .unwrap();
    let escape = "UPDATE tenants SET support_consent = 'not_required' WHERE slug = 'initech'";
    assert!(login_reads(&t, "initech", "audit_logs", escape).await > 0);
    let report = run(&t.reader().await, false).await;
    assert!(has(&report, "CONSENT_COLUMN_WRITABLE", "tenants"));
    assert!(!report.isolation_enforced);
}
