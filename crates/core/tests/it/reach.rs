//! Reaching a database where it lives.
//!
//! Through SSH, on a real topology made by the test: network namespaces, Debian's OpenSSH server as bastion
//! and inner host, keys and known_hosts per run, a real ssh-agent, and a PostgreSQL that listens only on the
//! inner host's loopback (see `tenant_console_dev::sshlab`). From here that database cannot be reached
//! directly; every SSH test goes through two hops.
//!
//! With a password command, against a private server with password logins, whose role's password the test
//! rotates between connections.

use std::path::Path;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use tenant_console_core::access::{Door, ReasonPolicy, DEFAULT_GRANT};
use tenant_console_core::db::RouteStatus;
use tenant_console_core::doctor::DiagnosisKind;
use tenant_console_core::reach::SshRoute;
use tenant_console_core::{ConnectSpec, Db, DbOptions, Error, Mapping, TlsMode};
use tenant_console_dev::sshlab::{Identity, Known, Lab, DB, READER_PASSWORD};

static LAB: tokio::sync::OnceCell<Lab> = tokio::sync::OnceCell::const_new();

/// One lab for this test binary, seeded once, marked so a test can tell its database from any other.
async fn lab() -> &'static Lab {
    LAB.get_or_init(|| async {
        let lab = Lab::start().await.expect("the SSH lab");
        lab.seed_demo().await;
        sqlx::query(&format!(
            "COMMENT ON DATABASE {DB} IS 'ssh-lab {}'",
            lab.tag()
        ))
        .execute(&lab.admin().await)
        .await
        .unwrap();
        lab
    })
    .await
}

fn spec(host: &str, port: u16, route: SshRoute) -> ConnectSpec {
    ConnectSpec {
        host: host.into(),
        port,
        database: DB.into(),
        user: "console_reader".into(),
        password: Some(SecretString::from(READER_PASSWORD)),
        tls: TlsMode::Disable,
        ca_file: None,
        connect_timeout: Duration::from_secs(8),
        password_command: None,
        ssh: Some(route),
    }
}

fn alias_route(config: &Path, dest: &str) -> SshRoute {
    let mut r = SshRoute::new(dest, &[]);
    r.config = Some(config.to_path_buf());
    r
}

/// Which database a connection reached: the comment the lab put on its own.
async fn marker(db: &Db) -> String {
    let door = Door::new(db.clone(), ReasonPolicy::Off, DEFAULT_GRANT);
    // A tenant read through the door (and the route's readying) first, then the mark on the same pool.
    let scope = door.scope("acme").await.expect("acme through the tunnel");
    drop(scope);
    let m: Option<String> = sqlx::query_scalar(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()",
    )
    .fetch_one(db.catalog_pool())
    .await
    .unwrap();
    m.unwrap_or_default()
}

fn diagnosis(e: Error) -> tenant_console_core::doctor::Diagnosis {
    match e {
        Error::Connect(d) => d,
        other => panic!("expected a connection diagnosis, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hops_of_the_ssh_configuration_reach_a_database_only_the_inner_host_can_see() {
    let lab = lab().await;
    assert!(
        !lab.database_reachable_directly(),
        "the database must not be reachable from the test's namespace"
    );
    let cfg = lab.ssh_config(Identity::File, &lab.known_hosts(Known::Both));
    // db.internal resolves only on the inner host: the name is resolved at the far end.
    let db = Db::connect(
        &spec("db.internal", 5432, alias_route(&cfg, "inner")),
        Mapping::reference(),
        DbOptions::default(),
    )
    .await
    .expect("through bastion and inner host");

    assert_eq!(marker(&db).await, format!("ssh-lab {}", lab.tag()));
    let route = db.route_info();
    assert_eq!(route.via, "ssh");
    let hops: Vec<(&str, &str, &str)> = route
        .hops
        .iter()
        .map(|h| {
            (
                h.hop.as_str(),
                h.fingerprint.as_str(),
                h.trusted_by.as_str(),
            )
        })
        .collect();
    assert_eq!(
        hops,
        [
            (
                format!("{}:22", lab.bastion_ip).as_str(),
                lab.bastion_fingerprint().as_str(),
                "known_hosts"
            ),
            (
                "inner.internal:22",
                lab.inner_fingerprint().as_str(),
                "known_hosts"
            ),
        ]
    );
    assert!(
        route.describe().contains(&lab.inner_fingerprint()),
        "{}",
        route.describe()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn jump_hosts_given_without_an_alias_reach_the_inner_hosts_own_loopback() {
    let lab = lab().await;
    let cfg = lab.ssh_config(Identity::File, &lab.known_hosts(Known::Both));
    let mut route = SshRoute::new("root@inner.internal", &[format!("root@{}", lab.bastion_ip)]);
    route.config = Some(cfg);
    // 127.0.0.1 here is this machine's own server: through the tunnel it must be the inner host's.
    let db = Db::connect(
        &spec("127.0.0.1", 5432, route),
        Mapping::reference(),
        DbOptions::default(),
    )
    .await
    .expect("through --ssh-jump");
    assert_eq!(marker(&db).await, format!("ssh-lab {}", lab.tag()));
    assert_eq!(db.route_info().hops.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_only_the_agent_holds_is_enough() {
    let lab = lab().await;
    let cfg = lab.ssh_config(Identity::Agent, &lab.known_hosts(Known::Both));
    let db = Db::connect(
        &spec("db.internal", 5432, alias_route(&cfg, "inner")),
        Mapping::reference(),
        DbOptions::default(),
    )
    .await
    .expect("agent key");
    assert_eq!(marker(&db).await, format!("ssh-lab {}", lab.tag()));
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_host_keys_are_refused_with_their_fingerprints_until_accepted_or_pinned() {
    let lab = lab().await;
    let cfg = lab.ssh_config(Identity::File, &lab.known_hosts(Known::None));
    let err = Db::connect(
        &spec("db.internal", 5432, alias_route(&cfg, "inner")),
        Mapping::reference(),
        DbOptions::default(),
    )
    .await
    .unwrap_err();
    let d = diagnosis(err);
    assert_eq!(d.kind, DiagnosisKind::SshHostKeyUnknown, "{d}");
    let unknown: Vec<String> = d
        .ssh
        .as_ref()
        .unwrap()
        .unknown_keys
        .iter()
        .map(|k| k.fingerprint.clone())
        .collect();
    assert!(unknown.contains(&lab.bastion_fingerprint()), "{d}");
    assert!(d.cause.contains(&lab.bastion_fingerprint()), "{d}");

    // Accepting only the bastion's still leaves the inner host unknown.
    let mut route = alias_route(&cfg, "inner");
    route.accept = vec![lab.bastion_fingerprint()];
    let d = diagnosis(
        Db::connect(
            &spec("db.internal", 5432, route.clone()),
            Mapping::reference(),
            DbOptions::default(),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(d.kind, DiagnosisKind::SshHostKeyUnknown, "{d}");
    let ssh = d.ssh.unwrap();
    assert_eq!(ssh.unknown_keys.len(), 1, "{ssh:?}");
    assert_eq!(ssh.unknown_keys[0].hop, "inner.internal:22");
    assert_eq!(ssh.unknown_keys[0].fingerprint, lab.inner_fingerprint());

    // Both accepted for this run.
    route.accept.push(lab.inner_fingerprint());
    let db = Db::connect(
        &spec("db.internal", 5432, route),
        Mapping::reference(),
        DbOptions::default(),
    )
    .await
    .expect("accepted keys");
    assert!(db
        .route_info()
        .hops
        .iter()
        .all(|h| h.trusted_by == "accepted"));

    // Pinned in the profile, by hop.
    let mut route = alias_route(&cfg, "inner");
    route
        .host_keys
        .insert(format!("{}:22", lab.bastion_ip), lab.bastion_fingerprint());
    route
        .host_keys
        .insert("inner.internal:22".into(), lab.inner_fingerprint());
    let db = Db::connect(
        &spec("db.internal", 5432, route),
        Mapping::reference(),
        DbOptions::default(),
    )
    .await
    .expect("pinned keys");
    assert!(db
        .route_info()
        .hops
        .iter()
        .all(|h| h.trusted_by == "pinned"));
    assert_eq!(marker(&db).await, format!("ssh-lab {}", lab.tag()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_key_that_changed_is_refused_loudly_with_both_fingerprints() {
    let lab = lab().await;
    let cfg = lab.ssh_config(Identity::File, &lab.known_hosts(Known::BastionChanged));
    let mut route = alias_route(&cfg, "inner");
    // Accepting the presented key for this run does not override a key that changed.
    route.accept = vec![lab.bastion_fingerprint()];
    let d = diagnosis(
        Db::connect(
            &spec("db.internal", 5432, route),
            Mapping::reference(),
            DbOptions::default(),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(d.kind, DiagnosisKind::SshHostKeyChanged, "{d}");
    let ssh = d.ssh.clone().unwrap();
    assert_eq!(
        ssh.presented_fingerprint.as_deref(),
        Some(lab.bastion_fingerprint().as_str())
    );
    let expected = ssh.expected_fingerprint.unwrap();
    assert!(
        expected.starts_with("SHA256:") && expected != lab.bastion_fingerprint(),
        "{d}"
    );
    assert!(
        d.cause.contains("HAS CHANGED") && d.cause.contains(&expected),
        "{d}"
    );

    // A pin that differs from what known_hosts accepts is a changed key too.
    let cfg = lab.ssh_config(Identity::File, &lab.known_hosts(Known::Both));
    let mut route = alias_route(&cfg, "inner");
    route
        .host_keys
        .insert("inner.internal:22".into(), lab.bastion_fingerprint());
    let d = diagnosis(
        Db::connect(
            &spec("db.internal", 5432, route),
            Mapping::reference(),
            DbOptions::default(),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(d.kind, DiagnosisKind::SshHostKeyChanged, "{d}");
    assert_eq!(d.ssh.unwrap().hop.as_deref(), Some("inner.internal:22"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passphrase_key_without_the_agent_says_to_add_it_and_works_once_added() {
    let lab = lab().await;
    let cfg = lab.ssh_config(Identity::Passphrase, &lab.known_hosts(Known::Both));
    let d = diagnosis(
        Db::connect(
            &spec("db.internal", 5432, alias_route(&cfg, "inner")),
            Mapping::reference(),
            DbOptions::default(),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(d.kind, DiagnosisKind::SshAuth, "{d}");
    assert!(d.cause.contains(&lab.bastion_ip), "names the hop: {d}");
    assert!(
        d.hint.contains("passphrase") && d.hint.contains("ssh-add"),
        "{d}"
    );

    lab.add_passphrase_key_to_agent().unwrap();
    let db = Db::connect(
        &spec("db.internal", 5432, alias_route(&cfg, "inner")),
        Mapping::reference(),
        DbOptions::default(),
    )
    .await
    .expect("the passphrase key from the agent");
    assert_eq!(marker(&db).await, format!("ssh-lab {}", lab.tag()));
}

#[tokio::test(flavor = "multi_thread")]
async fn each_failure_names_its_hop() {
    let lab = lab().await;
    let cfg = lab.ssh_config(Identity::File, &lab.known_hosts(Known::Both));
    let jump = |dest: &str| {
        let mut r = SshRoute::new(dest, &[format!("root@{}", lab.bastion_ip)]);
        r.config = Some(cfg.clone());
        r
    };
    // The bastion cannot reach a next hop where nothing listens.
    let d = diagnosis(
        Db::connect(
            &spec("db.internal", 5432, jump("ssh://root@inner.internal:2222")),
            Mapping::reference(),
            DbOptions::default(),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(d.kind, DiagnosisKind::SshHop, "{d}");
    assert!(
        d.cause.contains(&lab.bastion_ip) && d.cause.contains("inner.internal:2222"),
        "{d}"
    );

    // The tunnel works, the database's port does not answer at the far end.
    let d = diagnosis(
        Db::connect(
            &spec("db.internal", 5439, jump("root@inner.internal")),
            Mapping::reference(),
            DbOptions::default(),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(d.kind, DiagnosisKind::SshTarget, "{d}");
    assert!(
        d.cause.contains("inner.internal:22") && d.cause.contains("db.internal:5439"),
        "{d}"
    );

    // The database itself refuses the password behind a working tunnel: its own error.
    let mut wrong = spec("db.internal", 5432, jump("root@inner.internal"));
    wrong.password = Some(SecretString::from("not-the-password"));
    let d = diagnosis(
        Db::connect(&wrong, Mapping::reference(), DbOptions::default())
            .await
            .unwrap_err(),
    );
    assert_eq!(d.kind, DiagnosisKind::Auth, "{d}");

    // A key the hops do not know.
    let stranger = lab.dir.path().join("stranger");
    let out = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&stranger)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        &lab.dir.path().join("id_file").display().to_string(),
        &stranger.display().to_string(),
    );
    let stranger_cfg = lab.dir.path().join("ssh_config_stranger");
    std::fs::write(&stranger_cfg, text).unwrap();
    let d = diagnosis(
        Db::connect(
            &spec("db.internal", 5432, alias_route(&stranger_cfg, "inner")),
            Mapping::reference(),
            DbOptions::default(),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(d.kind, DiagnosisKind::SshAuth, "{d}");
    assert!(d.cause.contains(&lab.bastion_ip), "{d}");
    assert!(!d.hint.contains("passphrase"), "{d}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tunnel_that_dies_is_reopened_for_the_next_query() {
    let lab = lab().await;
    let cfg = lab.ssh_config(Identity::File, &lab.known_hosts(Known::Both));
    let db = Db::connect(
        &spec("db.internal", 5432, alias_route(&cfg, "inner")),
        Mapping::reference(),
        DbOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(marker(&db).await, format!("ssh-lab {}", lab.tag()));
    let route = db.route().unwrap().clone();
    let mut status = route.watch();
    let tunnel = route.tunnel().unwrap().clone();
    tunnel.kill();
    for _ in 0..50 {
        if !tunnel.is_up() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!tunnel.is_up());

    assert_eq!(
        marker(&db).await,
        format!("ssh-lab {}", lab.tag()),
        "the next query goes through"
    );
    assert_eq!(tunnel.restarts(), 1);
    assert!(status.has_changed().unwrap());
    assert_eq!(*status.borrow_and_update(), RouteStatus::Up);
}

/// Runs last in its own lab: stopping the bastion would break the others' shared one.
#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_bastion_fails_within_the_connect_timeout_naming_it() {
    let mut lab = Lab::start().await.expect("a second lab");
    let cfg = lab.ssh_config(Identity::File, &lab.known_hosts(Known::Both));
    lab.stop_bastion();
    let started = Instant::now();
    let d = diagnosis(
        Db::connect(
            &spec("db.internal", 5432, alias_route(&cfg, "inner")),
            Mapping::reference(),
            DbOptions::default(),
        )
        .await
        .unwrap_err(),
    );
    // A guard against a hang, not a speed measurement: the connect timeout is 8 s.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(d.kind, DiagnosisKind::SshUnreachable, "{d}");
    assert!(d.cause.contains(&lab.bastion_ip), "{d}");
    let report = tenant_console_core::db::test_connection(
        &spec("db.internal", 5432, alias_route(&cfg, "inner")),
        Mapping::reference(),
    )
    .await;
    assert_eq!(
        report.diagnosis.unwrap().kind,
        DiagnosisKind::SshUnreachable
    );
    drop(lab);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_export_manifest_and_the_access_record_name_the_route_with_each_hops_key() {
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    use tenant_console_core::export::{export_to_path, read_manifest, ExportOptions};
    let lab = lab().await;
    let cfg = lab.ssh_config(Identity::File, &lab.known_hosts(Known::Both));
    let db = Db::connect(
        &spec("db.internal", 5432, alias_route(&cfg, "inner")),
        Mapping::reference(),
        DbOptions::default(),
    )
    .await
    .unwrap();
    let door = Door::new(db, ReasonPolicy::Off, DEFAULT_GRANT);
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("globex.csv");
    let summary = export_to_path(
        &door,
        "globex",
        &ExportOptions::default(),
        None,
        &path,
        &Arc::new(AtomicBool::new(false)),
        |_| {},
    )
    .await
    .expect("an export through two hops");
    assert!(summary.rows > 0);

    let manifest = read_manifest(&summary.manifest.unwrap()).unwrap();
    let route = manifest.route.expect("the manifest names the route");
    assert_eq!(route.via, "ssh");
    let fps: Vec<&str> = route.hops.iter().map(|h| h.fingerprint.as_str()).collect();
    assert_eq!(fps, [lab.bastion_fingerprint(), lab.inner_fingerprint()]);

    let record_id = summary.record_id.expect("recorded");
    let details: serde_json::Value =
        sqlx::query_scalar("SELECT details FROM support_access_log WHERE id::text = $1")
            .bind(&record_id)
            .fetch_one(&lab.admin().await)
            .await
            .unwrap();
    let hops = details["route"]["hops"]
        .as_array()
        .expect("the record names the route");
    assert_eq!(hops.len(), 2);
    assert_eq!(hops[0]["fingerprint"], lab.bastion_fingerprint());
    assert_eq!(hops[1]["hop"], "inner.internal:22");
}

/// A private server with password logins, the demo data, and a role whose password is a "token".
struct TokenServer {
    server: tenant_console_dev::cluster::ProcessServer,
    dir: tempfile::TempDir,
}

static TOKENS: tokio::sync::OnceCell<TokenServer> = tokio::sync::OnceCell::const_new();

async fn token_server() -> &'static TokenServer {
    TOKENS
        .get_or_init(|| async {
            let (server, _) = tenant_console_dev::testing::password_server(
                DB,
                READER_PASSWORD,
                "token_user",
                "tok-1",
            )
            .await;
            TokenServer {
                server,
                dir: tempfile::tempdir().unwrap(),
            }
        })
        .await
}

impl TokenServer {
    async fn rotate(&self, password: &str, write_to_file: bool) {
        let admin = tenant_console_dev::testing::socket_admin(
            &self.server.socket_dir,
            self.server.port,
            DB,
        )
        .await;
        sqlx::query(&format!("ALTER ROLE token_user PASSWORD '{password}'"))
            .execute(&admin)
            .await
            .unwrap();
        if write_to_file {
            std::fs::write(self.dir.path().join("token"), format!("{password}\n")).unwrap();
        }
        // An hour later: the server (or a pooler) has closed every connection the console had.
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'token_user'",
        )
        .execute(&admin)
        .await
        .unwrap();
    }

    fn runs(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("runs"))
            .unwrap_or_default()
            .lines()
            .count()
    }

    fn spec(&self) -> ConnectSpec {
        let d = self.dir.path();
        let cmd = format!(
            "echo run >> '{}'; cat '{}'",
            d.join("runs").display(),
            d.join("token").display()
        );
        ConnectSpec {
            host: "127.0.0.1".into(),
            port: self.server.port,
            database: DB.into(),
            user: "token_user".into(),
            password: None,
            tls: TlsMode::Disable,
            ca_file: None,
            connect_timeout: Duration::from_secs(10),
            password_command: Some(tenant_console_core::reach::PasswordCommand::new(&cmd).unwrap()),
            ssh: None,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_lived_pool_runs_the_password_command_again_and_picks_up_a_rotated_token() {
    let t = token_server().await;
    t.rotate("tok-1", true).await;
    let db = Db::connect(&t.spec(), Mapping::reference(), DbOptions::default())
        .await
        .expect("connects with the command's token");
    assert_eq!(db.route_info().via, "direct");
    assert!(db.route_info().password_command);
    let door = Door::new(db.clone(), ReasonPolicy::Off, DEFAULT_GRANT);
    door.scope("acme")
        .await
        .expect("a read with the first token");
    let after_first = t.runs();
    assert!(
        after_first >= 2,
        "once to connect, once for the pool: {after_first}"
    );

    // The token rotates; the connections the pool had are gone.
    t.rotate("tok-2", true).await;
    door.scope("globex")
        .await
        .expect("a read with the rotated token, nothing asked");
    assert!(
        t.runs() > after_first,
        "the command ran again for the new connection"
    );

    // A command that still prints an old token: the server's refusal, in the doctor's words.
    t.rotate("tok-3", false).await;
    let Err(e) = door.scope("acme").await else {
        panic!("an old token must be refused")
    };
    assert_eq!(e.kind(), "connect_auth", "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_password_command_is_its_own_error_and_nothing_connects() {
    let t = token_server().await;
    let mut spec = t.spec();
    spec.password_command = Some(
        tenant_console_core::reach::PasswordCommand::new(
            "echo 'token expired: run aws sso login' >&2; exit 255",
        )
        .unwrap(),
    );
    let e = Db::connect(&spec, Mapping::reference(), DbOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "connect_password_command", "{e}");
    assert!(e.to_string().contains("aws sso login"), "{e}");
    let report = tenant_console_core::db::test_connection(&spec, Mapping::reference()).await;
    assert_eq!(
        report.diagnosis.unwrap().kind,
        DiagnosisKind::PasswordCommand
    );
}
