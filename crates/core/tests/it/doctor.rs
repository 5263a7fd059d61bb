//! The connection doctor, for real: every diagnosis produced by a real failure, against private PostgreSQL
//! clusters that check passwords (scram-sha-256) and serve TLS with a CA made for them. The machine's own
//! server trusts every loopback login, so it could not tell a wrong password from a right one.
//!
//! Two clusters start once for this test binary (a few seconds of initdb) and stop when it exits: one with
//! TLS, one without (for "require" against a server that has no TLS).

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor, PgConnection};
use tenant_console_core::db::{test_connection, ConnectionReport};
use tenant_console_core::doctor::DiagnosisKind;
use tenant_console_core::{ConnectSpec, Db, DbOptions, Error, Mapping, TlsMode, MIGRATOR};
use tenant_console_dev::cluster::{start_for_process, ClusterOptions, ProcessServer};

const DB: &str = "tc_doctor";
/// The reference schema, owned by a login that is neither superuser nor BYPASSRLS; RLS on audit_logs unforced.
const OWNED_DB: &str = "tc_owned";
/// A database whose CONNECT privilege was revoked from PUBLIC.
const CLOSED_DB: &str = "tc_closed";
const READER_PW: &str = "reader-pw-9f3a";
const LOGIN_PW: &str = "login-pw-51c2";
const SUPER_PW: &str = "super-pw-77d0";

struct Servers {
    tls: ProcessServer,
    plain: ProcessServer,
    server_version: String,
}

static SERVERS: tokio::sync::OnceCell<Servers> = tokio::sync::OnceCell::const_new();

async fn servers() -> &'static Servers {
    SERVERS.get_or_init(set_up).await
}

fn start(tls: bool) -> ProcessServer {
    start_for_process(&ClusterOptions {
        tls,
        superuser_password: SUPER_PW.into(),
    })
    .unwrap_or_else(|e| panic!("private PostgreSQL cluster (tls {tls}): {e}"))
}

async fn superuser(s: &ProcessServer, database: &str) -> PgConnection {
    PgConnectOptions::new()
        .socket(&s.socket_dir)
        .port(s.port)
        .username("postgres")
        .database(database)
        .disable_statement_logging()
        .connect()
        .await
        .expect("superuser over the socket")
}

async fn migrate(s: &ProcessServer, database: &str) -> PgConnection {
    let mut server = superuser(s, "postgres").await;
    server
        .execute(format!("CREATE DATABASE {database}").as_str())
        .await
        .unwrap();
    let mut conn = superuser(s, database).await;
    MIGRATOR.run(&mut conn).await.expect("migrations apply");
    conn
}

async fn set_up() -> Servers {
    let (tls, plain) = tokio::task::spawn_blocking(|| (start(true), start(false)))
        .await
        .unwrap();
    let mut conn = migrate(&tls, DB).await;
    let all_but_audit = "tenants, users, roles, memberships, support_access_log";
    for sql in [
        format!("ALTER ROLE console_reader PASSWORD '{READER_PW}'"),
        // Everything but audit_logs: the doctor must name the table it may not read.
        format!("CREATE ROLE no_audit LOGIN PASSWORD '{LOGIN_PW}'"),
        "GRANT USAGE ON SCHEMA public TO no_audit".into(),
        format!("GRANT SELECT ON {all_but_audit} TO no_audit"),
        format!("CREATE ROLE bypasser LOGIN BYPASSRLS PASSWORD '{LOGIN_PW}'"),
        "GRANT USAGE ON SCHEMA public TO bypasser".into(),
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO bypasser".into(),
        format!("CREATE ROLE table_owner LOGIN PASSWORD '{LOGIN_PW}'"),
        format!("CREATE ROLE outsider LOGIN PASSWORD '{LOGIN_PW}'"),
    ] {
        conn.execute(sql.as_str()).await.unwrap();
    }
    let server_version: String = sqlx::query_scalar("SELECT current_setting('server_version')")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.ok();

    let mut owned = migrate(&tls, OWNED_DB).await;
    for t in [
        "tenants",
        "users",
        "roles",
        "memberships",
        "audit_logs",
        "support_access_log",
    ] {
        owned
            .execute(format!("ALTER TABLE {t} OWNER TO table_owner").as_str())
            .await
            .unwrap();
    }
    owned
        .execute("ALTER TABLE audit_logs NO FORCE ROW LEVEL SECURITY")
        .await
        .unwrap();
    owned.close().await.ok();

    let mut closed = migrate(&tls, CLOSED_DB).await;
    closed
        .execute(format!("REVOKE CONNECT ON DATABASE {CLOSED_DB} FROM PUBLIC").as_str())
        .await
        .unwrap();
    closed.close().await.ok();

    Servers {
        tls,
        plain,
        server_version,
    }
}

fn spec(port: u16, database: &str, user: &str, password: &str) -> ConnectSpec {
    ConnectSpec {
        host: "127.0.0.1".into(),
        port,
        database: database.into(),
        user: user.into(),
        password: Some(SecretString::from(password)),
        tls: TlsMode::Disable,
        ca_file: None,
        connect_timeout: Duration::from_secs(20),
        password_command: None,
        ssh: None,
    }
}

fn reader(s: &ProcessServer) -> ConnectSpec {
    spec(s.port, DB, "console_reader", READER_PW)
}

fn ca_file(s: &ProcessServer) -> PathBuf {
    s.ca_file.clone().expect("the TLS cluster has a CA")
}

/// The report of a connection that must fail, and its diagnosis.
async fn failing(spec: &ConnectSpec) -> (ConnectionReport, tenant_console_core::doctor::Diagnosis) {
    let report = test_connection(spec, Mapping::reference()).await;
    assert!(!report.ok, "expected a failure: {report:?}");
    let d = report
        .diagnosis
        .clone()
        .expect("a failed test has a diagnosis");
    (report, d)
}

/// `Db::connect` (every command's way in) fails with the same diagnosis as the doctor.
async fn connect_kind(spec: &ConnectSpec) -> String {
    match Db::connect(spec, Mapping::reference(), DbOptions::default()).await {
        Ok(_) => panic!("expected {} to fail", spec.redacted_url()),
        Err(e) => e.kind().to_owned(),
    }
}

#[tokio::test]
async fn the_right_password_connects_and_the_report_says_who_the_login_is() {
    let s = servers().await;

    let report = test_connection(&reader(&s.tls), Mapping::reference()).await;

    assert!(report.ok, "{report:?}");
    assert_eq!(report.diagnosis, None);
    assert_eq!(
        report.server_version.as_deref(),
        Some(s.server_version.as_str())
    );
    let login = report.login.expect("login info");
    assert_eq!(login.user, "console_reader");
    assert_eq!(login.database, DB);
    assert_eq!(login.server_version, s.server_version);
    assert!(!login.superuser);
    assert!(!login.bypassrls);
    assert!(login.owns_tenant_tables.is_empty(), "{login:?}");
    assert!(
        report.bypass_reasons.is_empty(),
        "{:?}",
        report.bypass_reasons
    );
    assert!(!report.target.contains(READER_PW));
}

#[tokio::test]
async fn a_superuser_login_is_reported_as_bypassing_row_level_security() {
    let s = servers().await;

    let report = test_connection(
        &spec(s.tls.port, DB, "postgres", SUPER_PW),
        Mapping::reference(),
    )
    .await;

    assert!(report.ok, "{report:?}");
    let login = report.login.unwrap();
    assert!(login.superuser);
    assert!(
        report
            .bypass_reasons
            .iter()
            .any(|r| r.contains("superuser")),
        "{:?}",
        report.bypass_reasons
    );
}

#[tokio::test]
async fn a_bypassrls_login_is_reported_as_such() {
    let s = servers().await;

    let report = test_connection(
        &spec(s.tls.port, DB, "bypasser", LOGIN_PW),
        Mapping::reference(),
    )
    .await;

    assert!(report.ok, "{report:?}");
    let login = report.login.unwrap();
    assert!(!login.superuser);
    assert!(login.bypassrls);
    assert!(
        report
            .bypass_reasons
            .iter()
            .any(|r| r.contains("BYPASSRLS")),
        "{:?}",
        report.bypass_reasons
    );
}

#[tokio::test]
async fn the_owner_of_the_tenant_tables_is_named_and_an_unforced_table_is_a_bypass() {
    let s = servers().await;

    let report = test_connection(
        &spec(s.tls.port, OWNED_DB, "table_owner", LOGIN_PW),
        Mapping::reference(),
    )
    .await;

    assert!(report.ok, "{report:?}");
    let login = report.login.unwrap();
    assert!(!login.superuser && !login.bypassrls);
    let mut owned = login.owns_tenant_tables.clone();
    owned.sort();
    assert_eq!(
        owned,
        ["audit_logs", "memberships", "roles", "support_access_log"]
    );
    assert_eq!(login.owns_unforced, ["audit_logs"]);
    assert_eq!(
        report.bypass_reasons.len(),
        1,
        "{:?}",
        report.bypass_reasons
    );
    assert!(report.bypass_reasons[0].contains("audit_logs"));
    assert!(report.bypass_reasons[0].contains("not FORCED"));
}

#[tokio::test]
async fn a_wrong_password_is_an_authentication_failure_that_never_repeats_the_password() {
    let s = servers().await;
    let wrong = "not-the-password-3e1";
    let spec = spec(s.tls.port, DB, "console_reader", wrong);

    let (report, d) = failing(&spec).await;

    assert_eq!(d.kind, DiagnosisKind::Auth);
    assert!(d.cause.contains("password authentication failed"), "{d}");
    assert!(d.cause.contains("console_reader"), "{d}");
    // In words both the app and the command line can use: no command in the core's hint.
    assert!(d.hint.contains("check the password"), "{d}");
    assert!(!d.hint.contains("tenantctl"), "{d}");
    let everything = format!("{report:?} {}", serde_json::to_string(&report).unwrap());
    assert!(!everything.contains(wrong), "{everything}");
    assert_eq!(connect_kind(&spec).await, "connect_auth");
}

#[tokio::test]
async fn an_unknown_user_is_an_authentication_failure_too() {
    let s = servers().await;

    let (_, d) = failing(&spec(s.tls.port, DB, "nobody_here", LOGIN_PW)).await;

    assert_eq!(d.kind, DiagnosisKind::Auth);
}

#[tokio::test]
async fn a_missing_database_is_named() {
    let s = servers().await;
    let spec = spec(s.tls.port, "no_such_database", "console_reader", READER_PW);

    let (_, d) = failing(&spec).await;

    assert_eq!(d.kind, DiagnosisKind::DatabaseMissing);
    assert!(d.cause.contains("\"no_such_database\""), "{d}");
    assert_eq!(connect_kind(&spec).await, "connect_database_missing");
}

#[tokio::test]
async fn a_login_without_connect_on_the_database_lacks_privileges() {
    let s = servers().await;
    let spec = spec(s.tls.port, CLOSED_DB, "outsider", LOGIN_PW);

    let (_, d) = failing(&spec).await;

    assert_eq!(d.kind, DiagnosisKind::Privileges);
    assert!(d.hint.contains("GRANT CONNECT"), "{d}");
    assert_eq!(connect_kind(&spec).await, "connect_privileges");
}

#[tokio::test]
async fn a_login_without_select_on_a_mapped_table_is_told_which_table() {
    let s = servers().await;

    let (report, d) = failing(&spec(s.tls.port, DB, "no_audit", LOGIN_PW)).await;

    assert_eq!(d.kind, DiagnosisKind::Privileges);
    assert!(d.cause.contains("audit_logs"), "{d}");
    assert!(d.hint.contains("GRANT SELECT"), "{d}");
    // It got far enough to know the server.
    assert_eq!(
        report.server_version.as_deref(),
        Some(s.server_version.as_str())
    );
}

#[tokio::test]
async fn a_host_name_that_does_not_resolve_is_a_dns_failure() {
    let mut spec = spec(5432, DB, "console_reader", READER_PW);
    spec.host = "no-such-host.tenant-console.invalid".into();

    let (_, d) = failing(&spec).await;

    assert_eq!(d.kind, DiagnosisKind::Dns, "{d}");
    assert!(
        d.cause.contains("no-such-host.tenant-console.invalid"),
        "{d}"
    );
    assert_eq!(connect_kind(&spec).await, "connect_dns");
}

#[tokio::test]
async fn a_port_nobody_listens_on_refuses_the_connection() {
    // Bound and closed again: free now, and nothing of ours will listen there.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let spec = spec(port, DB, "console_reader", READER_PW);

    let (_, d) = failing(&spec).await;

    assert_eq!(d.kind, DiagnosisKind::Refused, "{d}");
    assert!(d.cause.contains(&format!("127.0.0.1:{port}")), "{d}");
    assert_eq!(connect_kind(&spec).await, "connect_refused");
}

#[tokio::test]
async fn a_server_that_accepts_and_never_answers_times_out() {
    // Accepts every connection and keeps it open without a word: a black hole behind a firewall or a hung server.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    for tls in [TlsMode::Disable, TlsMode::Require] {
        let mut spec = spec(port, DB, "console_reader", READER_PW);
        spec.tls = tls;
        spec.connect_timeout = Duration::from_millis(500);

        let (_, d) = failing(&spec).await;

        assert_eq!(d.kind, DiagnosisKind::Timeout, "{tls}: {d}");
        // It accepted the connection: not a firewall, and the diagnosis does not blame one.
        assert!(
            d.cause
                .contains("accepted the connection but did not answer as PostgreSQL does"),
            "{d}"
        );
        assert!(!d.hint.contains("firewall"), "{d}");
        assert_eq!(connect_kind(&spec).await, "connect_timeout");
    }
}

/// A port where another service listens (a web server answers the client's first bytes with its own status
/// line): said as such at once, not after the timeout, and not blamed on the network.
#[tokio::test]
async fn a_web_server_on_the_port_is_named_not_waited_for() {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buf = [0u8; 512];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
                std::thread::sleep(Duration::from_secs(30));
            });
        }
    });
    for tls in [TlsMode::Disable, TlsMode::Require] {
        let mut spec = spec(port, DB, "console_reader", READER_PW);
        spec.tls = tls;
        // Long enough that a diagnosis made at the timeout could not pass for one made at once.
        spec.connect_timeout = Duration::from_secs(60);
        let started = std::time::Instant::now();
        let kind = connect_kind(&spec).await;
        assert_eq!(kind, "connect_not_postgres", "{tls}");
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "it waited for the timeout"
        );
        let (_, d) = failing(&spec).await;
        assert_eq!(d.kind, DiagnosisKind::NotPostgres, "{tls}: {d}");
        assert!(
            d.cause.contains("answered, but it is not PostgreSQL"),
            "{d}"
        );
        assert!(d.cause.contains("HTTP/1.1 400 Bad Request"), "{d}");
        assert!(d.hint.contains("5432"), "{d}");
    }
}

#[tokio::test]
async fn verify_full_without_the_ca_file_rejects_the_self_signed_certificate() {
    let s = servers().await;
    let mut spec = reader(&s.tls);
    spec.tls = TlsMode::VerifyFull;

    let (_, d) = failing(&spec).await;

    assert_eq!(d.kind, DiagnosisKind::Tls, "{d}");
    assert!(d.cause.contains("not signed by a trusted authority"), "{d}");
    assert!(d.hint.contains("CA file"), "{d}");
    assert_eq!(connect_kind(&spec).await, "connect_tls");
}

#[tokio::test]
async fn verify_full_with_the_ca_file_connects() {
    let s = servers().await;
    for host in ["127.0.0.1", "localhost"] {
        let mut spec = reader(&s.tls);
        spec.host = host.into();
        spec.tls = TlsMode::VerifyFull;
        spec.ca_file = Some(ca_file(&s.tls));

        let report = test_connection(&spec, Mapping::reference()).await;

        assert!(report.ok, "{host}: {report:?}");
        let db = Db::connect(&spec, Mapping::reference(), DbOptions::default())
            .await
            .expect("Db::connect under verify-full");
        let ssl: bool =
            sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                .fetch_one(db.catalog_pool())
                .await
                .unwrap();
        assert!(ssl, "the connection is encrypted");
    }
}

#[tokio::test]
async fn verify_full_with_the_wrong_ca_file_is_rejected() {
    let s = servers().await;
    // The other cluster's... has no CA; use a CA of a fresh pair made by openssl for this test.
    let dir = tempfile::tempdir().unwrap();
    let made = std::process::Command::new("openssl")
        .current_dir(dir.path())
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=some other CA",
            "-keyout",
            "other.key",
            "-out",
            "other.crt",
        ])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let mut spec = reader(&s.tls);
    spec.tls = TlsMode::VerifyFull;
    spec.ca_file = Some(dir.path().join("other.crt"));

    let (_, d) = failing(&spec).await;

    assert_eq!(d.kind, DiagnosisKind::Tls, "{d}");
}

#[tokio::test]
async fn require_connects_without_the_ca_file_and_is_encrypted() {
    let s = servers().await;
    let mut spec = reader(&s.tls);
    spec.tls = TlsMode::Require;

    let report = test_connection(&spec, Mapping::reference()).await;

    assert!(report.ok, "{report:?}");
    let (mut conn, _route) = spec.connect_once().await.unwrap();
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(ssl);
}

#[tokio::test]
async fn require_against_a_server_without_tls_says_the_server_does_not_accept_tls() {
    let s = servers().await;
    let mut spec = spec(s.plain.port, "postgres", "postgres", SUPER_PW);
    // The server is there and the password right: without TLS it connects.
    assert!(spec.connect_once().await.is_ok());
    spec.tls = TlsMode::Require;

    let err = spec.connect_once().await.unwrap_err();

    let Error::Connect(d) = &err else {
        panic!("expected a connection diagnosis, got {err:?}")
    };
    assert_eq!(d.kind, DiagnosisKind::Tls, "{d}");
    assert!(d.cause.contains("does not accept TLS"), "{d}");
    assert!(d.hint.contains("ssl"), "{d}");
}

#[tokio::test]
async fn a_database_without_the_mapped_tables_is_a_clear_mapping_problem() {
    let s = servers().await;

    let (_, d) = failing(&spec(s.plain.port, "postgres", "postgres", SUPER_PW)).await;

    assert_eq!(d.kind, DiagnosisKind::Other, "{d}");
    assert!(d.cause.contains("tenants"), "{d}");
    assert!(d.hint.contains("mapping"), "{d}");
}
