//! The isolation verdict against the truth, scenario by scenario (in the spirit of splinter's `test/sql`: each
//! class with positive cases in several shapes and its safe twins).
//!
//! Each scenario is SQL applied by the superuser to a fresh copy of the demo database, a least-privileged login
//! of its own (SELECT on the tenant tables, INSERT on the access log, like `console_reader`), the findings the
//! check must report, and an *escape*: SQL run as that login, on a fresh connection, in a transaction that is
//! rolled back, which returns rows only if the login really got past isolation (read another tenant's row, or
//! erased the access log); statements before the last must return no rows (`SET LOCAL`, not `set_config`). No
//! verdict is assumed: the test runs the escape, and the check's
//! `isolation_enforced` must be its negation. A safe twin must also raise no critical finding at all.
//!
//! Placeholders: `{login}` the scenario's login, `{p}` a prefix for roles it creates (roles are cluster-wide),
//! `{a}` and `{b}` the ids of tenants acme and globex, `{db}` the database, `{host}`/`{port}`/`{su}` the server
//! and its superuser.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, Executor, PgConnection};
use tenant_console_core::isolation::{check, CheckOptions, Report, Severity};
use tenant_console_core::{Db, DbOptions, Mapping};
use tenant_console_dev::testing::{admin_options, TestDb};
use tokio::sync::OnceCell;

use Severity::{Critical, Info, Warning};

struct Scenario {
    setup: &'static str,
    escape: &'static str,
    /// What the author expects the escape to show: a guard against a scenario that proves nothing.
    leaks: bool,
    expect: &'static [(&'static str, Severity, &'static str)],
    probe: bool,
}

const OTHER_AUDIT: &str = "SELECT 1 FROM audit_logs WHERE tenant_id <> '{a}'::uuid LIMIT 1";

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// The demo database, seeded once per test process, used as the template of every scenario's copy.
async fn template() -> &'static str {
    TEMPLATE
        .get_or_init(|| async {
            let t = TestDb::demo().await;
            // Some access records, for the scenarios that try to erase them.
            t.admin
                .execute(
                    "INSERT INTO support_access_log (tenant_id, os_user, client_host, category, detail, action)
                     SELECT id, 'tester', 'test-host', 'support-ticket', 'T-1', 'view' FROM tenants",
                )
                .await
                .expect("access records");
            t.admin.close().await;
            t.name.clone()
        })
        .await
}

struct Copy {
    db: String,
    p: String,
    login: String,
    a: String,
    b: String,
}

impl Copy {
    fn fill(&self, sql: &str) -> String {
        let o = admin_options();
        sql.replace("{login}", &self.login)
            .replace("{p}", &self.p)
            .replace("{a}", &self.a)
            .replace("{b}", &self.b)
            .replace("{db}", &self.db)
            .replace("{host}", o.get_host())
            .replace("{port}", &o.get_port().to_string())
            .replace("{su}", o.get_username())
    }

    fn login_options(&self) -> sqlx::postgres::PgConnectOptions {
        admin_options()
            .database(&self.db)
            .username(&self.login)
            .password("scenario")
    }
}

async fn server() -> PgConnection {
    PgConnection::connect_with(&admin_options())
        .await
        .expect("test server")
}

async fn make_copy() -> Copy {
    let tpl = template().await;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let db = format!("tc_test_sc_{}", &id[..16]);
    let p = format!("tcs{}_", &id[..10]);
    let login = format!("{p}login");
    let mut s = server().await;
    // A template must have no other session; a concurrent copy of it may briefly hold one.
    let mut tries = 0;
    loop {
        match s
            .execute(format!("CREATE DATABASE {db} TEMPLATE {tpl}").as_str())
            .await
        {
            Ok(_) => break,
            Err(e) if tries < 50 => {
                tries += 1;
                tracing_sleep(&e, tries).await;
            }
            Err(e) => panic!("copy the template: {e}"),
        }
    }
    s.execute(
        format!("CREATE ROLE {login} LOGIN PASSWORD 'scenario' NOSUPERUSER NOBYPASSRLS").as_str(),
    )
    .await
    .expect("scenario login");
    let mut admin = PgConnection::connect_with(&admin_options().database(&db))
        .await
        .expect("connect to the copy");
    admin
        .execute(
            format!(
                "GRANT USAGE ON SCHEMA public TO {login};
                 GRANT SELECT ON tenants, users, roles, memberships, audit_logs, support_access_log TO {login};
                 GRANT INSERT ON support_access_log TO {login};"
            )
            .as_str(),
        )
        .await
        .expect("grants");
    let ids: Vec<(String, String)> = sqlx::query_as(
        "SELECT slug, id::text FROM tenants WHERE slug IN ('acme', 'globex') ORDER BY slug",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    admin.close().await.ok();
    Copy {
        db,
        p,
        login,
        a: ids[0].1.clone(),
        b: ids[1].1.clone(),
    }
}

async fn tracing_sleep(e: &sqlx::Error, tries: u64) {
    eprintln!("retrying the template copy ({e})");
    tokio::time::sleep(Duration::from_millis(50 * tries)).await;
}

async fn drop_copy(c: &Copy) {
    let mut s = server().await;
    let _ = s
        .execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", c.db).as_str())
        .await;
    let roles: Vec<String> =
        sqlx::query_scalar("SELECT rolname::text FROM pg_roles WHERE starts_with(rolname, $1)")
            .bind(&c.p)
            .fetch_all(&mut s)
            .await
            .unwrap_or_default();
    for r in roles {
        let _ = s.execute(format!("DROP ROLE IF EXISTS {r}").as_str()).await;
    }
}

/// Runs the escape as the login on a fresh connection, rolled back. True when it returned a row.
async fn escape(c: &Copy, sql: &str) -> bool {
    let mut conn = PgConnection::connect_with(&c.login_options())
        .await
        .expect("the login connects");
    let mut tx = conn.begin().await.unwrap();
    let rows = sqlx::raw_sql(&c.fill(sql)).fetch_all(&mut *tx).await;
    tx.rollback().await.ok();
    conn.close().await.ok();
    match rows {
        Ok(rows) => !rows.is_empty(),
        Err(e) => {
            eprintln!("the escape failed, so it did not escape: {e}");
            false
        }
    }
}

async fn verdict(c: &Copy, probe: bool) -> Report {
    let pool = PgPoolOptions::new()
        .max_connections(3)
        .connect_with(c.login_options())
        .await
        .expect("the login's pool");
    let db = Db::from_pool(pool.clone(), Mapping::reference(), DbOptions::default())
        .await
        .expect("binds");
    let report = check(
        &db,
        &CheckOptions {
            probe,
            sample: 3,
            ..Default::default()
        },
    )
    .await
    .expect("the check runs");
    drop(db);
    pool.close().await;
    report
}

fn summary(r: &Report) -> String {
    r.findings
        .iter()
        .filter(|f| f.severity != Info)
        .map(|f| format!("{:?} {} {} — {}", f.severity, f.code, f.object, f.problem))
        .collect::<Vec<_>>()
        .join("\n  ")
}

async fn run(sc: Scenario) {
    let c = make_copy().await;
    let result = std::panic::AssertUnwindSafe(async {
        let mut admin = PgConnection::connect_with(&admin_options().database(&c.db))
            .await
            .unwrap();
        sqlx::raw_sql(&c.fill(sc.setup))
            .execute(&mut admin)
            .await
            .expect("the scenario's SQL applies");
        admin.close().await.ok();

        let report = verdict(&c, sc.probe).await;
        let escaped = escape(&c, sc.escape).await;
        assert_eq!(
            escaped,
            sc.leaks,
            "the scenario is wrong: its escape {} (findings:\n  {})",
            if escaped {
                "got through"
            } else {
                "did not get through"
            },
            summary(&report)
        );
        assert_eq!(
            report.isolation_enforced,
            !escaped,
            "the verdict contradicts the escape (escaped: {escaped}); findings:\n  {}",
            summary(&report)
        );
        for (code, severity, object) in sc.expect {
            assert!(
                report.findings.iter().any(|f| f.code == *code
                    && f.severity == *severity
                    && f.object.contains(object)),
                "expected {severity:?} {code} on {object}; findings:\n  {}",
                summary(&report)
            );
        }
        if !escaped {
            let critical: Vec<_> = report.failing().map(|f| f.code).collect();
            assert!(
                critical.is_empty(),
                "a safe twin flagged critical: {critical:?}"
            );
        }
        report
    });
    let outcome = futures_catch(result).await;
    drop_copy(&c).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn futures_catch<F: std::future::Future>(
    f: std::panic::AssertUnwindSafe<F>,
) -> std::thread::Result<F::Output> {
    use futures::FutureExt;
    f.catch_unwind().await
}

macro_rules! scenarios {
    ($($name:ident: $sc:expr;)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                run($sc).await;
            }
        )*
    };
}

const NONE: &[(&str, Severity, &str)] = &[];

scenarios! {
    // --- The reference schema itself.
    the_reference_schema_is_enforced_and_proven: Scenario {
        setup: "",
        escape: OTHER_AUDIT,
        leaks: false,
        expect: &[("TABLE_ISOLATED", Info, "audit_logs"), ("TABLE_ISOLATED", Info, "support_access_log")],
        probe: true,
    };

    // --- SECURITY DEFINER functions, judged by their owner's power.
    a_definer_function_owned_by_a_superuser_leaks: Scenario {
        setup: "CREATE FUNCTION all_events() RETURNS SETOF audit_logs LANGUAGE sql SECURITY DEFINER AS 'SELECT * FROM audit_logs';",
        escape: "SELECT 1 FROM all_events() WHERE tenant_id <> '{a}'::uuid",
        leaks: true,
        expect: &[("DEFINER_FUNCTION_BYPASS", Critical, "all_events")],
        probe: false,
    };
    a_definer_function_naming_the_table_in_upper_case_leaks: Scenario {
        setup: "CREATE FUNCTION all_events() RETURNS SETOF audit_logs LANGUAGE sql SECURITY DEFINER AS 'SELECT * FROM PUBLIC.AUDIT_LOGS';",
        escape: "SELECT 1 FROM all_events() WHERE tenant_id <> '{a}'::uuid",
        leaks: true,
        expect: &[("DEFINER_FUNCTION_BYPASS", Critical, "all_events")],
        probe: false,
    };
    a_definer_function_quoting_the_table_leaks: Scenario {
        setup: r#"CREATE FUNCTION "All Events"() RETURNS SETOF audit_logs LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN RETURN QUERY SELECT * FROM "public"."audit_logs"; END $$;"#,
        escape: r#"SELECT 1 FROM "All Events"() WHERE tenant_id <> '{a}'::uuid"#,
        leaks: true,
        expect: &[("DEFINER_FUNCTION_BYPASS", Critical, "All Events")],
        probe: false,
    };
    a_definer_function_with_dynamic_sql_leaks: Scenario {
        setup: "CREATE FUNCTION any_table(t text) RETURNS SETOF audit_logs LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN RETURN QUERY EXECUTE format('SELECT * FROM %I', t); END $$;",
        escape: "SELECT 1 FROM any_table('audit' || '_logs') WHERE tenant_id <> '{a}'::uuid",
        leaks: true,
        expect: &[("DEFINER_FUNCTION_DYNAMIC", Critical, "any_table")],
        probe: false,
    };
    a_definer_function_with_a_sql_standard_body_leaks: Scenario {
        setup: "CREATE FUNCTION all_events() RETURNS SETOF audit_logs LANGUAGE sql SECURITY DEFINER BEGIN ATOMIC SELECT * FROM audit_logs; END;",
        escape: "SELECT 1 FROM all_events() WHERE tenant_id <> '{a}'::uuid",
        leaks: true,
        expect: &[("DEFINER_FUNCTION_BYPASS", Critical, "all_events")],
        probe: false,
    };
    a_definer_function_calling_an_invoker_helper_leaks: Scenario {
        setup: "CREATE FUNCTION helper() RETURNS SETOF audit_logs LANGUAGE sql AS 'SELECT * FROM audit_logs';
                CREATE FUNCTION front() RETURNS SETOF audit_logs LANGUAGE sql SECURITY DEFINER AS 'SELECT * FROM helper()';",
        escape: "SELECT 1 FROM front() WHERE tenant_id <> '{a}'::uuid",
        leaks: true,
        expect: &[("DEFINER_FUNCTION_BYPASS", Critical, "front")],
        probe: false,
    };
    a_definer_function_running_query_to_xml_leaks: Scenario {
        setup: "CREATE FUNCTION report() RETURNS text LANGUAGE sql SECURITY DEFINER AS $$ SELECT query_to_xml('select tenant_id from audit_logs', true, false, '')::text $$;",
        escape: "SELECT 1 FROM (SELECT report() AS x) s WHERE x LIKE '%{b}%'",
        leaks: true,
        expect: &[("DEFINER_FUNCTION_DYNAMIC", Critical, "report")],
        probe: false,
    };
    a_definer_function_reading_through_a_view_leaks: Scenario {
        setup: "CREATE VIEW everything AS SELECT tenant_id, action FROM audit_logs;
                CREATE FUNCTION via_view() RETURNS SETOF everything LANGUAGE sql SECURITY DEFINER AS 'SELECT * FROM Everything';",
        escape: "SELECT 1 FROM via_view() WHERE tenant_id <> '{a}'::uuid",
        leaks: true,
        expect: &[("DEFINER_FUNCTION_BYPASS", Critical, "via_view")],
        probe: false,
    };
    safe_twin_a_definer_function_owned_by_a_role_under_forced_rls: Scenario {
        setup: "CREATE ROLE {p}app NOLOGIN; GRANT USAGE ON SCHEMA public TO {p}app; GRANT SELECT ON audit_logs TO {p}app;
                CREATE FUNCTION all_events() RETURNS SETOF audit_logs LANGUAGE sql SECURITY DEFINER AS 'SELECT * FROM audit_logs';
                ALTER FUNCTION all_events() OWNER TO {p}app;",
        escape: "SET LOCAL app.current_tenant_id = '{a}'; SELECT 1 FROM all_events() WHERE tenant_id <> '{a}'::uuid",
        leaks: false,
        expect: NONE,
        probe: true,
    };
    safe_twin_dynamic_sql_owned_by_a_role_under_forced_rls: Scenario {
        setup: "CREATE ROLE {p}app NOLOGIN; GRANT USAGE ON SCHEMA public TO {p}app; GRANT SELECT ON audit_logs TO {p}app;
                CREATE FUNCTION any_table(t text) RETURNS SETOF audit_logs LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN RETURN QUERY EXECUTE format('SELECT * FROM %I', t); END $$;
                ALTER FUNCTION any_table(text) OWNER TO {p}app;",
        escape: "SET LOCAL app.current_tenant_id = '{a}'; SELECT 1 FROM any_table('audit_logs') WHERE tenant_id <> '{a}'::uuid",
        leaks: false,
        expect: NONE,
        probe: false,
    };
    safe_twin_a_definer_function_the_login_may_not_execute: Scenario {
        setup: "CREATE FUNCTION all_events() RETURNS SETOF audit_logs LANGUAGE sql SECURITY DEFINER AS 'SELECT * FROM audit_logs';
                REVOKE EXECUTE ON FUNCTION all_events() FROM PUBLIC;",
        escape: "SELECT 1 FROM all_events() WHERE tenant_id <> '{a}'::uuid",
        leaks: false,
        expect: NONE,
        probe: false,
    };
    safe_twin_a_superuser_definer_function_reading_only_global_tables: Scenario {
        setup: "CREATE FUNCTION tenant_count() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS 'SELECT count(*) FROM tenants';",
        escape: OTHER_AUDIT,
        leaks: false,
        expect: NONE,
        probe: false,
    };

    // --- Views, followed through pg_depend at any depth.
    a_definer_view_reached_through_another_view_leaks: Scenario {
        setup: "CREATE VIEW inner_v AS SELECT * FROM audit_logs; CREATE VIEW outer_v AS SELECT * FROM inner_v;
                GRANT SELECT ON outer_v TO {login};",
        escape: "SELECT 1 FROM outer_v WHERE tenant_id <> '{a}'::uuid",
        leaks: true,
        expect: &[("DEFINER_VIEW_BYPASS", Critical, "outer_v")],
        probe: false,
    };
    a_definer_view_three_deep_behind_an_invoker_view_leaks: Scenario {
        setup: "CREATE VIEW v1 AS SELECT * FROM audit_logs; CREATE VIEW v2 AS SELECT * FROM v1;
                CREATE VIEW v3 WITH (security_invoker = on) AS SELECT * FROM v2;
                GRANT SELECT ON v2, v3 TO {login};",
        escape: "SELECT 1 FROM v3 WHERE tenant_id <> '{a}'::uuid",
        leaks: true,
        expect: &[("DEFINER_VIEW_BYPASS", Critical, "v3"), ("DEFINER_VIEW_BYPASS", Critical, "v2")],
        probe: false,
    };
    a_definer_view_granted_by_column_leaks: Scenario {
        setup: "CREATE VIEW slim AS SELECT tenant_id, action FROM audit_logs; GRANT SELECT (tenant_id, action) ON slim TO {login};",
        escape: "SELECT 1 FROM slim WHERE tenant_id <> '{a}'::uuid",
        leaks: true,
        expect: &[("DEFINER_VIEW_BYPASS", Critical, "slim")],
        probe: true,
    };
    a_definer_view_over_a_join_leaks: Scenario {
        setup: r#"CREATE SCHEMA "Reports"; CREATE VIEW "Reports"."Member Emails" AS SELECT m.tenant_id, u.email FROM memberships m JOIN users u ON u.id = m.user_id;
                GRANT USAGE ON SCHEMA "Reports" TO {login}; GRANT SELECT ON "Reports"."Member Emails" TO {login};"#,
        escape: r#"SELECT 1 FROM "Reports"."Member Emails" WHERE tenant_id <> '{a}'::uuid"#,
        leaks: true,
        expect: &[("DEFINER_VIEW_BYPASS", Critical, "Member Emails")],
        probe: false,
    };
    a_definer_view_whose_owner_has_an_open_policy_leaks: Scenario {
        setup: "CREATE ROLE {p}rep NOLOGIN; GRANT USAGE ON SCHEMA public TO {p}rep; GRANT SELECT ON audit_logs TO {p}rep;
                CREATE POLICY reporting ON audit_logs FOR SELECT TO {p}rep USING (true);
                CREATE VIEW report AS SELECT * FROM audit_logs; ALTER VIEW report OWNER TO {p}rep;
                GRANT SELECT ON report TO {login};",
        escape: "SET LOCAL app.current_tenant_id = '{a}'; SELECT 1 FROM report WHERE tenant_id <> '{a}'::uuid",
        leaks: true,
        expect: &[("DEFINER_VIEW_BYPASS", Critical, "report")],
        probe: false,
    };
    safe_twin_an_invoker_view: Scenario {
        setup: "CREATE VIEW mine WITH (security_invoker = true) AS SELECT * FROM audit_logs; GRANT SELECT ON mine TO {login};",
        escape: "SET LOCAL app.current_tenant_id = '{a}'; SELECT 1 FROM mine WHERE tenant_id <> '{a}'::uuid",
        leaks: false,
        expect: NONE,
        probe: true,
    };
    safe_twin_a_view_owned_by_the_table_owner_under_force: Scenario {
        setup: "CREATE ROLE {p}owner NOLOGIN; ALTER TABLE audit_logs OWNER TO {p}owner;
                CREATE VIEW owned AS SELECT * FROM audit_logs; ALTER VIEW owned OWNER TO {p}owner;
                GRANT SELECT ON owned TO {login};",
        escape: "SET LOCAL app.current_tenant_id = '{a}'; SELECT 1 FROM owned WHERE tenant_id <> '{a}'::uuid",
        leaks: false,
        expect: NONE,
        probe: true,
    };
    safe_twin_a_definer_view_the_login_may_not_read: Scenario {
        setup: "CREATE VIEW hidden AS SELECT * FROM audit_logs;",
        escape: "SELECT 1 FROM hidden WHERE tenant_id <> '{a}'::uuid",
        leaks: false,
        expect: NONE,
        probe: false,
    };

    // --- Materialized views: copies RLS never guards.
    a_materialized_view_of_tenant_data_leaks: Scenario {
        setup: "CREATE MATERIALIZED VIEW snapshot AS SELECT tenant_id, action FROM audit_logs; GRANT SELECT ON snapshot TO {login};",
        escape: "SELECT 1 FROM snapshot WHERE tenant_id <> '{a}'::uuid",
        leaks: true,
        expect: &[("MATVIEW_TENANT_DATA", Critical, "snapshot")],
        probe: true,
    };
    a_view_over_a_materialized_view_leaks: Scenario {
        setup: "CREATE MATERIALIZED VIEW snapshot AS SELECT tenant_id, action FROM audit_logs;
                CREATE VIEW front WITH (security_invoker = true) AS SELECT * FROM snapshot;
                GRANT SELECT ON snapshot, front TO {login};",
        escape: "SELECT 1 FROM front WHERE tenant_id <> '{a}'::uuid",
        leaks: true,
        expect: &[("MATVIEW_TENANT_DATA", Critical, "snapshot"), ("DEFINER_VIEW_BYPASS", Critical, "front")],
        probe: false,
    };

    // --- Partitions and inheritance children, by table or column privilege.
    an_inheritance_child_without_rls_leaks: Scenario {
        setup: "CREATE TABLE audit_archive () INHERITS (audit_logs);
                INSERT INTO audit_archive SELECT * FROM ONLY audit_logs;
                GRANT SELECT ON audit_archive TO {login};",
        escape: "SELECT 1 FROM audit_archive WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: true,
        expect: &[("PARTITION_RLS_DISABLED", Critical, "audit_archive")],
        probe: true,
    };
    an_inheritance_child_granted_by_column_leaks: Scenario {
        setup: "CREATE TABLE audit_archive () INHERITS (audit_logs);
                INSERT INTO audit_archive SELECT * FROM ONLY audit_logs;
                GRANT SELECT (tenant_id, action) ON audit_archive TO {login};",
        escape: "SELECT 1 FROM audit_archive WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: true,
        expect: &[("PARTITION_RLS_DISABLED", Critical, "audit_archive")],
        probe: false,
    };
    a_partition_without_rls_granted_by_column_leaks: Scenario {
        setup: "CREATE TABLE events (tenant_id uuid NOT NULL REFERENCES tenants, at timestamptz NOT NULL, what text)
                  PARTITION BY RANGE (at);
                CREATE TABLE events_all PARTITION OF events DEFAULT;
                CREATE INDEX ON events (tenant_id);
                ALTER TABLE events ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
                CREATE POLICY tenant_isolation ON events USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid);
                INSERT INTO events SELECT tenant_id, created_at, action FROM audit_logs;
                GRANT SELECT ON events TO {login}; GRANT SELECT (tenant_id) ON events_all TO {login};",
        escape: "SELECT 1 FROM events_all WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: true,
        expect: &[("PARTITION_RLS_DISABLED", Critical, "events_all")],
        probe: true,
    };
    safe_twin_a_partition_without_rls_read_only_through_its_parent: Scenario {
        setup: "CREATE TABLE events (tenant_id uuid NOT NULL REFERENCES tenants, at timestamptz NOT NULL, what text)
                  PARTITION BY RANGE (at);
                CREATE TABLE events_all PARTITION OF events DEFAULT;
                CREATE INDEX ON events (tenant_id);
                ALTER TABLE events ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
                CREATE POLICY tenant_isolation ON events USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid);
                INSERT INTO events SELECT tenant_id, created_at, action FROM audit_logs;
                GRANT SELECT ON events TO {login};",
        escape: "SET LOCAL app.current_tenant_id = '{a}'; SELECT 1 FROM events WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: false,
        expect: NONE,
        probe: true,
    };
    safe_twin_a_child_with_its_own_forced_tenant_policy: Scenario {
        setup: "CREATE TABLE audit_archive () INHERITS (audit_logs);
                INSERT INTO audit_archive SELECT * FROM ONLY audit_logs;
                CREATE INDEX ON audit_archive (tenant_id);
                ALTER TABLE audit_archive ADD FOREIGN KEY (tenant_id) REFERENCES tenants;
                ALTER TABLE audit_archive ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
                CREATE POLICY tenant_isolation ON audit_archive USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid);
                GRANT SELECT (tenant_id, action) ON audit_archive TO {login};",
        escape: "SET LOCAL app.current_tenant_id = '{a}'; SELECT 1 FROM audit_archive WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: false,
        expect: NONE,
        probe: true,
    };
    a_copy_table_with_a_tenant_column_and_no_rls_leaks: Scenario {
        setup: "CREATE TABLE audit_backup AS SELECT * FROM audit_logs; GRANT SELECT ON audit_backup TO {login};",
        escape: "SELECT 1 FROM audit_backup WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: true,
        expect: &[("RLS_DISABLED", Critical, "audit_backup")],
        probe: true,
    };

    // --- Foreign tables: RLS cannot apply.
    a_foreign_table_through_a_superuser_mapping_leaks: Scenario {
        setup: "CREATE EXTENSION IF NOT EXISTS postgres_fdw;
                CREATE SERVER loop FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '{host}', port '{port}', dbname '{db}');
                CREATE USER MAPPING FOR {login} SERVER loop OPTIONS (user '{su}', password_required 'false');
                CREATE FOREIGN TABLE mirror_audit (tenant_id uuid, action text) SERVER loop OPTIONS (table_name 'audit_logs');
                GRANT SELECT ON mirror_audit TO {login};",
        escape: "SELECT 1 FROM mirror_audit WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: true,
        expect: &[("FOREIGN_TABLE_TENANT_DATA", Critical, "mirror_audit")],
        probe: false,
    };
    a_foreign_table_without_a_tenant_column_pointing_at_a_tenant_table_leaks: Scenario {
        setup: "CREATE EXTENSION IF NOT EXISTS postgres_fdw;
                CREATE SERVER loop FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '{host}', port '{port}', dbname '{db}');
                CREATE USER MAPPING FOR {login} SERVER loop OPTIONS (user '{su}', password_required 'false');
                CREATE FOREIGN TABLE actions (id bigint, action text) SERVER loop OPTIONS (table_name 'audit_logs');
                GRANT SELECT ON actions TO {login};",
        escape: "SET LOCAL app.current_tenant_id = '{a}';
                 SELECT 1 WHERE (SELECT count(*) FROM actions) > (SELECT count(*) FROM audit_logs)",
        leaks: true,
        expect: &[("FOREIGN_TABLE_TENANT_DATA", Critical, "actions")],
        probe: false,
    };
    safe_twin_a_foreign_table_the_login_may_not_read: Scenario {
        setup: "CREATE EXTENSION IF NOT EXISTS postgres_fdw;
                CREATE SERVER loop FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '{host}', port '{port}', dbname '{db}');
                CREATE USER MAPPING FOR {login} SERVER loop OPTIONS (user '{su}', password_required 'false');
                CREATE FOREIGN TABLE mirror_audit (tenant_id uuid, action text) SERVER loop OPTIONS (table_name 'audit_logs');",
        escape: "SELECT 1 FROM mirror_audit WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: false,
        expect: NONE,
        probe: false,
    };

    // --- Policies that leak in one state of the setting: the probe, on dedicated connections.
    a_policy_open_when_the_setting_is_unset_is_caught_by_the_probe: Scenario {
        setup: "DROP POLICY tenant_isolation ON audit_logs;
                CREATE POLICY tenant_isolation ON audit_logs USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid
                    OR current_setting('app.current_tenant_id', true) IS NULL);",
        escape: "SELECT 1 FROM audit_logs LIMIT 1",
        leaks: true,
        expect: &[("PROBE_UNSET_SETTING_ROWS", Critical, "audit_logs")],
        probe: true,
    };
    a_policy_open_when_the_setting_is_empty_is_caught_by_the_probe: Scenario {
        setup: "DROP POLICY tenant_isolation ON memberships;
                CREATE POLICY tenant_isolation ON memberships USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid
                    OR current_setting('app.current_tenant_id', true) = '');",
        escape: "SET LOCAL app.current_tenant_id = ''; SELECT 1 FROM memberships LIMIT 1",
        leaks: true,
        expect: &[("PROBE_EMPTY_SETTING_ROWS", Critical, "memberships")],
        probe: true,
    };
    a_policy_open_for_a_tenant_that_does_not_exist_is_caught_by_the_probe: Scenario {
        setup: "DROP POLICY tenant_isolation ON roles;
                CREATE POLICY tenant_isolation ON roles USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid
                    OR NOT EXISTS (SELECT 1 FROM tenants WHERE id::text = current_setting('app.current_tenant_id', true)));",
        escape: "SET LOCAL app.current_tenant_id = '00000000-0000-4000-8000-0000000c0ffe'; SELECT 1 FROM roles LIMIT 1",
        leaks: true,
        expect: &[("PROBE_UNKNOWN_TENANT_ROWS", Critical, "roles")],
        probe: true,
    };
    a_policy_that_only_checks_a_tenant_is_set_is_caught_by_the_probe: Scenario {
        setup: "DROP POLICY tenant_isolation ON audit_logs;
                CREATE POLICY tenant_isolation ON audit_logs USING (tenant_id IS NOT NULL AND current_setting('app.current_tenant_id', true) <> '');",
        escape: "SET LOCAL app.current_tenant_id = '{a}'; SELECT 1 FROM audit_logs WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: true,
        expect: &[("PROBE_FOREIGN_ROWS", Critical, "audit_logs")],
        probe: true,
    };
    a_leaky_policy_of_a_role_the_login_can_set_is_caught_by_the_probe: Scenario {
        setup: "CREATE ROLE {p}grp NOLOGIN; GRANT {p}grp TO {login}; GRANT SELECT ON audit_logs TO {p}grp;
                CREATE POLICY grp_unset ON audit_logs FOR SELECT TO {p}grp
                    USING (current_setting('app.current_tenant_id', true) IS NULL);
                ALTER ROLE {login} NOINHERIT;",
        escape: "SET ROLE {p}grp; SELECT 1 FROM audit_logs LIMIT 1",
        leaks: true,
        expect: &[("PROBE_UNSET_SETTING_ROWS", Critical, "audit_logs")],
        probe: true,
    };
    a_setting_preset_on_the_login_is_caught_by_the_probe: Scenario {
        setup: "ALTER ROLE {login} IN DATABASE {db} SET app.current_tenant_id = '{b}';",
        escape: "SELECT 1 FROM audit_logs WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: true,
        expect: &[("PROBE_SETTING_PRESET", Critical, "app.current_tenant_id")],
        probe: true,
    };

    // --- Permissive policies count only where they apply.
    a_permissive_always_true_policy_for_public_leaks: Scenario {
        setup: "CREATE POLICY everyone ON audit_logs FOR SELECT USING (true);",
        escape: "SET LOCAL app.current_tenant_id = '{a}'; SELECT 1 FROM audit_logs WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: true,
        expect: &[("PERMISSIVE_POLICY_OPEN", Critical, "everyone"), ("PROBE_FOREIGN_ROWS", Critical, "audit_logs")],
        probe: true,
    };
    a_permissive_policy_on_row_data_alone_leaks: Scenario {
        setup: "CREATE POLICY public_events ON audit_logs FOR SELECT USING (action LIKE '%.%');",
        escape: "SET LOCAL app.current_tenant_id = '{a}'; SELECT 1 FROM audit_logs WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: true,
        expect: &[("PERMISSIVE_POLICY_OPEN", Critical, "public_events")],
        probe: false,
    };
    safe_twin_an_always_true_policy_for_another_role_only: Scenario {
        setup: "CREATE ROLE {p}other NOLOGIN; CREATE POLICY others ON audit_logs FOR SELECT TO {p}other USING (true);",
        escape: "SET LOCAL app.current_tenant_id = '{a}'; SELECT 1 FROM audit_logs WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: false,
        expect: NONE,
        probe: true,
    };
    an_always_true_policy_for_a_role_the_login_inherits_leaks: Scenario {
        setup: "CREATE ROLE {p}grp NOLOGIN; GRANT {p}grp TO {login};
                CREATE POLICY grp_all ON audit_logs FOR SELECT TO {p}grp USING (true);",
        escape: "SET LOCAL app.current_tenant_id = '{a}'; SELECT 1 FROM audit_logs WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: true,
        expect: &[("PERMISSIVE_POLICY_OPEN", Critical, "grp_all")],
        probe: true,
    };
    an_always_true_policy_for_a_role_a_noinherit_login_can_set_leaks: Scenario {
        setup: "ALTER ROLE {login} NOINHERIT; CREATE ROLE {p}grp NOLOGIN; GRANT {p}grp TO {login};
                GRANT SELECT ON audit_logs TO {p}grp;
                CREATE POLICY grp_all ON audit_logs FOR SELECT TO {p}grp USING (true);",
        escape: "SET ROLE {p}grp; SELECT 1 FROM audit_logs WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: true,
        expect: &[("PERMISSIVE_POLICY_OPEN", Critical, "grp_all")],
        probe: true,
    };
    safe_twin_an_open_permissive_policy_under_a_restrictive_tenant_policy: Scenario {
        setup: "CREATE POLICY everyone ON audit_logs FOR SELECT USING (true);
                CREATE POLICY tenant_only ON audit_logs AS RESTRICTIVE USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid);",
        escape: "SET LOCAL app.current_tenant_id = '{a}'; SELECT 1 FROM audit_logs WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: false,
        expect: NONE,
        probe: true,
    };
    safe_twin_no_policy_applies_to_the_login_is_a_warning: Scenario {
        setup: "CREATE ROLE {p}app NOLOGIN; DROP POLICY tenant_isolation ON memberships;
                CREATE POLICY tenant_isolation ON memberships TO {p}app USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid);",
        escape: "SELECT 1 FROM memberships WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: false,
        expect: &[("NO_POLICY_FOR_LOGIN", Warning, "memberships")],
        probe: true,
    };
    safe_twin_rls_without_any_policy_is_a_warning: Scenario {
        setup: "DROP POLICY tenant_isolation ON roles;",
        escape: "SELECT 1 FROM roles WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: false,
        expect: &[("RLS_NO_POLICY", Warning, "roles")],
        probe: true,
    };
    rls_disabled_on_a_mapped_table_leaks: Scenario {
        setup: "ALTER TABLE roles DISABLE ROW LEVEL SECURITY;",
        escape: "SELECT 1 FROM roles WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: true,
        expect: &[("RLS_DISABLED", Critical, "roles"), ("PROBE_FOREIGN_ROWS", Critical, "roles")],
        probe: true,
    };

    // --- The role graph: every role the login can become.
    a_noinherit_member_of_the_owner_role_switches_rls_off: Scenario {
        setup: "CREATE ROLE {p}owner NOLOGIN; ALTER TABLE audit_logs OWNER TO {p}owner;
                ALTER TABLE support_access_log OWNER TO {p}owner;
                ALTER ROLE {login} NOINHERIT; GRANT {p}owner TO {login};",
        escape: "SET ROLE {p}owner; ALTER TABLE audit_logs NO FORCE ROW LEVEL SECURITY;
                 SELECT 1 FROM audit_logs WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: true,
        expect: &[("ROLE_OWNS_TENANT_TABLE", Critical, "audit_logs"), ("ROLE_OWNS_TENANT_TABLE", Critical, "support_access_log")],
        probe: true,
    };
    a_noinherit_member_of_the_owner_role_erases_the_access_log: Scenario {
        setup: "CREATE ROLE {p}owner NOLOGIN; ALTER TABLE support_access_log OWNER TO {p}owner;
                ALTER ROLE {login} NOINHERIT; GRANT {p}owner TO {login};",
        escape: "SET ROLE {p}owner; ALTER TABLE support_access_log NO FORCE ROW LEVEL SECURITY;
                 DELETE FROM support_access_log RETURNING 1",
        leaks: true,
        expect: &[("ROLE_OWNS_TENANT_TABLE", Critical, "support_access_log"), ("ACCESS_LOG_ERASABLE", Critical, "support_access_log")],
        probe: false,
    };
    an_inheriting_member_of_the_owner_role_switches_rls_off: Scenario {
        setup: "CREATE ROLE {p}owner NOLOGIN; ALTER TABLE memberships OWNER TO {p}owner; GRANT {p}owner TO {login};",
        escape: "ALTER TABLE memberships DISABLE ROW LEVEL SECURITY; SELECT 1 FROM memberships WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: true,
        expect: &[("ROLE_OWNS_TENANT_TABLE", Critical, "memberships")],
        probe: true,
    };
    a_login_owning_a_table_without_force_reads_everything: Scenario {
        setup: "ALTER TABLE audit_logs OWNER TO {login}; ALTER TABLE audit_logs NO FORCE ROW LEVEL SECURITY;",
        escape: OTHER_AUDIT,
        leaks: true,
        expect: &[("OWNER_NOT_FORCED", Critical, "audit_logs"), ("LOGIN_OWNS_TABLE", Critical, "audit_logs")],
        probe: true,
    };
    a_login_owning_a_forced_table_can_unforce_it: Scenario {
        setup: "ALTER TABLE audit_logs OWNER TO {login};",
        escape: "ALTER TABLE audit_logs NO FORCE ROW LEVEL SECURITY; SELECT 1 FROM audit_logs WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: true,
        expect: &[("LOGIN_OWNS_TABLE", Critical, "audit_logs")],
        probe: true,
    };
    a_set_role_path_to_a_bypassrls_role_leaks: Scenario {
        setup: "CREATE ROLE {p}admin NOLOGIN BYPASSRLS; GRANT SELECT ON audit_logs TO {p}admin;
                ALTER ROLE {login} NOINHERIT; GRANT {p}admin TO {login};",
        escape: "SET ROLE {p}admin; SELECT 1 FROM audit_logs WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: true,
        expect: &[("SET_ROLE_BYPASS", Critical, "admin")],
        probe: true,
    };
    a_two_hop_path_to_a_superuser_role_leaks: Scenario {
        setup: "CREATE ROLE {p}root NOLOGIN SUPERUSER; CREATE ROLE {p}mid NOLOGIN NOINHERIT;
                GRANT {p}root TO {p}mid; GRANT {p}mid TO {login};",
        escape: "SET ROLE {p}root; SELECT 1 FROM audit_logs WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: true,
        expect: &[("SET_ROLE_BYPASS", Critical, "root")],
        probe: true,
    };
    a_createrole_login_grants_itself_the_owner: Scenario {
        setup: "CREATE ROLE {p}owner NOLOGIN; ALTER TABLE audit_logs OWNER TO {p}owner; ALTER ROLE {login} CREATEROLE;",
        escape: "GRANT {p}owner TO {login}; SET ROLE {p}owner; ALTER TABLE audit_logs NO FORCE ROW LEVEL SECURITY;
                 SELECT 1 FROM audit_logs WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: true,
        expect: &[("ROLE_CREATEROLE", Critical, "login")],
        probe: false,
    };
    a_login_that_runs_programs_as_the_server_reads_everything: Scenario {
        setup: "GRANT pg_execute_server_program TO {login};",
        escape: "CREATE TEMP TABLE stolen (t text);
                 COPY stolen FROM PROGRAM 'psql -h {host} -p {port} -U {su} -d {db} -Atc \"select tenant_id from audit_logs\"';
                 SELECT 1 FROM stolen WHERE t <> '{a}' LIMIT 1",
        leaks: true,
        expect: &[("ROLE_SERVER_FILES", Critical, "pg_execute_server_program")],
        probe: false,
    };
    safe_twin_pg_read_all_data_still_obeys_rls: Scenario {
        setup: "GRANT pg_read_all_data TO {login};",
        escape: "SET LOCAL app.current_tenant_id = '{a}'; SELECT 1 FROM audit_logs WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: false,
        expect: NONE,
        probe: true,
    };
    safe_twin_a_role_the_login_can_set_that_rls_applies_to: Scenario {
        setup: "CREATE ROLE {p}support NOLOGIN; GRANT SELECT ON audit_logs, memberships TO {p}support;
                ALTER ROLE {login} NOINHERIT; GRANT {p}support TO {login};",
        escape: "SET ROLE {p}support; SELECT 1 FROM audit_logs WHERE tenant_id <> '{a}'::uuid LIMIT 1",
        leaks: false,
        expect: NONE,
        probe: true,
    };

    // --- The access log: its traces must not be erasable, and what could swallow them is reported.
    a_login_that_may_delete_from_the_access_log_can_erase_its_traces: Scenario {
        setup: "GRANT DELETE ON support_access_log TO {login};",
        escape: "SET LOCAL app.current_tenant_id = '{a}'; DELETE FROM support_access_log RETURNING 1",
        leaks: true,
        expect: &[("ACCESS_LOG_ERASABLE", Critical, "support_access_log")],
        probe: false,
    };
    a_role_the_login_can_set_that_may_truncate_the_access_log: Scenario {
        setup: "CREATE ROLE {p}ops NOLOGIN; GRANT TRUNCATE ON support_access_log TO {p}ops; GRANT {p}ops TO {login};",
        escape: "SET LOCAL app.current_tenant_id = '{a}'; TRUNCATE support_access_log;
                 SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM support_access_log)",
        leaks: true,
        expect: &[("ACCESS_LOG_ERASABLE", Critical, "support_access_log")],
        probe: false,
    };
    safe_twin_a_rule_on_the_access_log_is_a_warning: Scenario {
        setup: "CREATE RULE swallow AS ON INSERT TO support_access_log DO INSTEAD NOTHING;",
        escape: OTHER_AUDIT,
        leaks: false,
        expect: &[("ACCESS_LOG_RULE", Warning, "swallow")],
        probe: false,
    };
    safe_twin_a_trigger_on_the_access_log_is_a_warning: Scenario {
        setup: "CREATE FUNCTION drop_it() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
                CREATE TRIGGER drop_it BEFORE INSERT ON support_access_log FOR EACH ROW EXECUTE FUNCTION drop_it();",
        escape: OTHER_AUDIT,
        leaks: false,
        expect: &[("ACCESS_LOG_TRIGGER", Warning, "drop_it")],
        probe: false,
    };
}

/// The probe runs each state on its own new connection: a policy that leaks only with the setting unset is
/// caught on every run, not when a pooled connection happens to be fresh.
#[tokio::test]
async fn the_probe_catches_a_policy_open_when_unset_on_every_run() {
    let c = make_copy().await;
    let outcome = futures_catch(std::panic::AssertUnwindSafe(async {
        let mut admin = PgConnection::connect_with(&admin_options().database(&c.db))
            .await
            .unwrap();
        admin
            .execute(
                "DROP POLICY tenant_isolation ON audit_logs;
                 CREATE POLICY tenant_isolation ON audit_logs USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid
                     OR current_setting('app.current_tenant_id', true) IS NULL);",
            )
            .await
            .unwrap();
        admin.close().await.ok();
        for run in 0..10 {
            let report = verdict(&c, true).await;
            assert!(!report.isolation_enforced, "run {run}: the leak was missed");
            assert!(
                report.findings.iter().any(|f| f.code == "PROBE_UNSET_SETTING_ROWS" && f.object == "audit_logs"),
                "run {run}: {}",
                summary(&report)
            );
            let unset = report
                .evidence
                .iter()
                .find(|e| e.state == "unset" && e.relation == "audit_logs")
                .expect("the unset state was probed");
            assert!(unset.foreign_rows > 0);
        }
    }))
    .await;
    drop_copy(&c).await;
    if let Err(p) = outcome {
        std::panic::resume_unwind(p);
    }
}

/// The evidence names every tenant and table probed, the rows seen in scope and the foreign rows (0).
#[tokio::test]
async fn the_probe_reports_its_evidence_for_every_tenant_and_table() {
    let c = make_copy().await;
    let report = verdict(&c, true).await;
    drop_copy(&c).await;
    assert!(report.isolation_enforced, "{}", summary(&report));
    assert_eq!(report.probed_tenants.len(), 3);
    for tenant in &report.probed_tenants {
        for table in ["audit_logs", "memberships", "roles", "support_access_log"] {
            let e = report
                .evidence
                .iter()
                .find(|e| {
                    e.state == "tenant"
                        && e.tenant.as_deref() == Some(tenant)
                        && e.relation == table
                })
                .unwrap_or_else(|| panic!("no evidence for {tenant} / {table}"));
            assert_eq!(e.foreign_rows, 0);
            assert!(e.error.is_none());
        }
    }
    // The demo tenants have members and events: the scope really saw the tenant's own rows.
    assert!(report
        .evidence
        .iter()
        .any(|e| e.relation == "audit_logs" && e.rows_in_scope.unwrap_or(0) > 0));
    for state in ["unset", "empty", "unknown-tenant"] {
        assert!(report
            .evidence
            .iter()
            .any(|e| e.state == state && e.foreign_rows == 0));
    }
}
