//! `tenantctl` reaching databases where they live: through SSH on a real topology (network namespaces, two
//! OpenSSH servers, an agent; the database only on the inner host), with password commands against a
//! server whose role's password the test rotates, with profiles imported from libpq's own files, and never
//! sending a stored password to a server it was not given for (a fake server that asks for it in clear).

use crate::common::Cli;
use tenant_console_dev::sshlab::{Identity, Known, Lab, DB, READER_PASSWORD};
use tenant_console_dev::testing::PasswordTrap;

static LAB: tokio::sync::OnceCell<Lab> = tokio::sync::OnceCell::const_new();

async fn lab() -> &'static Lab {
    LAB.get_or_init(|| async {
        let lab = Lab::start().await.expect("the SSH lab");
        lab.seed_demo().await;
        lab
    })
    .await
}

/// A private server with password logins, the demo data, and `token_user` (password `tok-1`).
struct Server {
    server: tenant_console_dev::cluster::ProcessServer,
}

static SERVER: tokio::sync::OnceCell<Server> = tokio::sync::OnceCell::const_new();

async fn server() -> &'static Server {
    SERVER
        .get_or_init(|| async {
            let (server, _) = tenant_console_dev::testing::password_server(
                DB,
                READER_PASSWORD,
                "token_user",
                "tok-1",
            )
            .await;
            Server { server }
        })
        .await
}

async fn admin(s: &tenant_console_dev::cluster::ProcessServer) -> sqlx::PgPool {
    tenant_console_dev::testing::socket_admin(&s.socket_dir, s.port, DB).await
}

fn require_keyring() {
    let out = std::process::Command::new("dbus-send")
        .args([
            "--session",
            "--dest=org.freedesktop.DBus",
            "--print-reply",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            "string:org.freedesktop.secrets",
        ])
        .output()
        .expect("dbus-send runs (Debian package dbus)");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("boolean true"),
        "these tests need the Secret Service: run them under scripts/with-keyring.sh"
    );
}

fn slugs(json: &serde_json::Value) -> Vec<String> {
    json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["slug"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ssh_profile_is_refused_until_its_host_keys_are_accepted_then_pinned_and_keeps_its_password(
) {
    require_keyring();
    let lab = lab().await;
    let cfg = lab.ssh_config(Identity::File, &lab.known_hosts(Known::None));
    let cfg = cfg.to_str().unwrap();
    let cli = Cli::new();
    let url = format!("postgres://console_reader@db.internal:5432/{DB}?sslmode=disable");
    let add = cli.run_with(
        &[
            "--format",
            "json",
            "profile",
            "add",
            "lab",
            "--url",
            &url,
            "--ssh",
            "inner",
            "--ssh-config",
            cfg,
            "--password-stdin",
        ],
        &[],
        Some(&format!("{READER_PASSWORD}\n")),
    );
    let p = add.ok_json();
    assert_eq!(p["ssh"], "inner");

    // No terminal to ask on: refused, both fingerprints printed, and the flag to accept them.
    let refused = cli.run(&["--format", "json", "--profile", "lab", "tenants"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    for fp in [lab.bastion_fingerprint(), lab.inner_fingerprint()] {
        assert!(refused.stderr.contains(&fp), "{}", refused.stderr);
        assert!(
            refused.stderr.contains(&format!("--ssh-accept {fp}")),
            "{}",
            refused.stderr
        );
    }
    let err = refused.json();
    assert_eq!(err["error"]["kind"], "connect_ssh_host_key_unknown");
    assert_eq!(
        err["error"]["ssh"]["unknown_keys"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Accepted for one run.
    let once = cli.run(&[
        "--format",
        "json",
        "--profile",
        "lab",
        "--ssh-accept",
        &lab.bastion_fingerprint(),
        "--ssh-accept",
        &lab.inner_fingerprint(),
        "tenants",
    ]);
    assert!(slugs(&once.ok_json()).contains(&"acme".to_owned()));
    assert_eq!(
        cli.run(&["--profile", "lab", "tenants"]).code,
        1,
        "not pinned by a run"
    );

    // Pinned in the profile: every later run trusts exactly those keys, with the stored password.
    let set = cli.run(&[
        "--format",
        "json",
        "profile",
        "set",
        "lab",
        "--ssh-accept",
        &lab.bastion_fingerprint(),
        "--ssh-accept",
        &lab.inner_fingerprint(),
    ]);
    let pinned = set.ok_json()["ssh_host_keys"].clone();
    assert_eq!(
        pinned[format!("{}:22", lab.bastion_ip)],
        lab.bastion_fingerprint()
    );
    assert_eq!(pinned["inner.internal:22"], lab.inner_fingerprint());
    let after = cli.run(&["--format", "json", "--profile", "lab", "tenants"]);
    assert!(
        slugs(&after.ok_json()).contains(&"globex".to_owned()),
        "{after:?}"
    );
    let tested = cli
        .run(&["--format", "json", "profile", "test", "lab"])
        .ok_json();
    assert_eq!(tested["route"]["via"], "ssh");
    assert_eq!(tested["route"]["hops"][1]["trusted_by"], "pinned");
    cli.run(&["profile", "remove", "lab"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_url_goes_through_jump_hosts_and_a_changed_key_is_refused_everywhere() {
    let lab = lab().await;
    let cli = Cli::new();
    let good = lab.ssh_config(Identity::Agent, &lab.known_hosts(Known::Both));
    let url = format!("postgres://console_reader@127.0.0.1:5432/{DB}");
    let jump = format!("root@{}", lab.bastion_ip);
    let ok = cli.run_with(
        &[
            "--format",
            "json",
            "--url",
            &url,
            "--ssh",
            "root@inner.internal",
            "--ssh-jump",
            &jump,
            "--ssh-config",
            good.to_str().unwrap(),
            "tenants",
            "--search",
            "acme",
        ],
        &[("PGPASSWORD", READER_PASSWORD)],
        None,
    );
    assert_eq!(slugs(&ok.ok_json()), ["acme"]);

    let changed = lab.ssh_config(Identity::Agent, &lab.known_hosts(Known::BastionChanged));
    let refused = cli.run_with(
        &[
            "--format",
            "json",
            "--url",
            &url,
            "--ssh",
            "inner",
            "--ssh-config",
            changed.to_str().unwrap(),
            "--ssh-accept",
            &lab.bastion_fingerprint(),
            "tenants",
        ],
        &[("PGPASSWORD", READER_PASSWORD)],
        None,
    );
    assert_eq!(refused.code, 1);
    let e = refused.json();
    assert_eq!(e["error"]["kind"], "connect_ssh_host_key_changed");
    assert_eq!(
        e["error"]["ssh"]["presented_fingerprint"],
        lab.bastion_fingerprint()
    );
    assert!(refused.stderr.contains("HAS CHANGED"), "{}", refused.stderr);
    assert!(!refused.stdout.contains("acme"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_command_gives_each_connection_a_fresh_token_and_nothing_is_stored() {
    require_keyring();
    let s = server().await;
    let cli = Cli::new();
    let token = cli.dirs.path().join("token");
    std::fs::write(&token, "tok-1\n").unwrap();
    let cmd = format!("cat '{}'", token.display());
    let url = format!("postgres://token_user@127.0.0.1:{}/{DB}", s.server.port);
    let run = |cli: &Cli| {
        cli.run(&[
            "--format",
            "json",
            "--url",
            &url,
            "--password-command",
            &cmd,
            "tenants",
        ])
    };
    assert!(slugs(&run(&cli).ok_json()).contains(&"acme".to_owned()));

    // The token rotates between runs: the next run reads the new one.
    sqlx::query("ALTER ROLE token_user PASSWORD 'tok-2'")
        .execute(&admin(&s.server).await)
        .await
        .unwrap();
    let stale = run(&cli);
    assert_eq!(stale.code, 1);
    assert_eq!(stale.json()["error"]["kind"], "connect_auth");
    std::fs::write(&token, "tok-2\n").unwrap();
    assert_eq!(run(&cli).code, 0);

    // As a profile: the command is kept, no password is.
    let add = cli.run(&[
        "--format",
        "json",
        "profile",
        "add",
        "tok",
        "--url",
        &url,
        "--password-command",
        &cmd,
    ]);
    let id = add.ok_json()["id"].as_str().unwrap().to_owned();
    let listed = cli.run(&["--format", "json", "profile", "list"]).ok_json();
    assert_eq!(listed["items"][0]["password_stored"], false);
    let stored = std::process::Command::new("secret-tool")
        .args(["lookup", "service", "tenant-console", "username", &id])
        .output()
        .unwrap();
    assert!(
        !stored.status.success(),
        "nothing in the keyring for a token profile"
    );
    let file = std::fs::read_to_string(cli.profiles_file()).unwrap();
    assert!(
        file.contains("password_command") && !file.contains("tok-2"),
        "{file}"
    );
    assert_eq!(cli.run(&["--profile", "tok", "tenants"]).code, 0);
    cli.run(&["profile", "remove", "tok"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_libpq_service_is_imported_and_its_pgpass_password_moves_to_the_keyring() {
    require_keyring();
    let s = server().await;
    let cli = Cli::new();
    let d = cli.dirs.path();
    let service_file = d.join("pg_service.conf");
    std::fs::write(
        &service_file,
        format!(
            "[other]\nhost=elsewhere\n\n[prod-ro]\n# the read-only support login\nhost=127.0.0.1\nport={}\ndbname={DB}\nuser=console_reader\nsslmode=disable\n",
            s.server.port
        ),
    )
    .unwrap();
    let pgpass = d.join("pgpass");
    let pgpass_text = format!(
        "127.0.0.1:{}:{DB}:console_reader:{READER_PASSWORD}\n",
        s.server.port
    );
    std::fs::write(&pgpass, &pgpass_text).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let env = [
        ("PGSERVICEFILE", service_file.to_str().unwrap()),
        ("PGPASSFILE", pgpass.to_str().unwrap()),
        ("PGSYSCONFDIR", d.to_str().unwrap()),
    ];
    let imported = cli.run_with(
        &[
            "--format",
            "json",
            "profile",
            "import",
            "--service",
            "prod-ro",
            "--as",
            "prod",
        ],
        &env,
        None,
    );
    let j = imported.ok_json();
    assert_eq!(j["profile"]["name"], "prod");
    assert_eq!(j["profile"]["port"], s.server.port);
    assert_eq!(j["profile"]["tls"], "disable");
    assert!(j["password_from"].as_str().unwrap().ends_with(":1"), "{j}");
    assert!(
        imported.stderr.contains("left as it was"),
        "{}",
        imported.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&pgpass).unwrap(),
        pgpass_text,
        "the file is untouched"
    );
    assert!(!std::fs::read_to_string(cli.profiles_file())
        .unwrap()
        .contains(READER_PASSWORD));
    // The keyring's password, not the file's, is what connects now.
    std::fs::remove_file(&pgpass).unwrap();
    assert_eq!(cli.run(&["--profile", "prod", "tenants"]).code, 0);

    // A password file others can read is ignored, as libpq ignores it; an unknown service names the files.
    std::fs::write(&pgpass, &pgpass_text).unwrap();
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
    let loose = cli.run_with(
        &["profile", "import", "--service", "prod-ro", "--as", "prod2"],
        &env,
        None,
    );
    assert_eq!(loose.code, 0, "{loose:?}");
    assert!(
        loose.stderr.contains("was not read") && loose.stderr.contains("0600"),
        "{}",
        loose.stderr
    );
    let none = cli.run_with(&["profile", "import", "--service", "nope"], &env, None);
    assert_eq!(none.code, 2, "{none:?}");
    assert!(none.stderr.contains("pg_service.conf"), "{}", none.stderr);
    cli.run(&["profile", "remove", "prod"]);
    cli.run(&["profile", "remove", "prod2"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stored_password_never_reaches_a_server_it_was_not_given_for() {
    require_keyring();
    let s = server().await;
    let trap = PasswordTrap::start();
    let cli = Cli::new();
    let real = format!("postgres://console_reader@127.0.0.1:{}/{DB}", s.server.port);
    let fake = format!("postgres://console_reader@127.0.0.1:{}/{DB}", trap.port);
    cli.run_with(
        &["profile", "add", "prod", "--url", &real, "--password-stdin"],
        &[],
        Some(&format!("{READER_PASSWORD}\n")),
    )
    .ok_json();
    assert_eq!(cli.run(&["--profile", "prod", "tenants"]).code, 0);

    // Re-pointed by the CLI without a new password.
    let moved = cli.run(&["profile", "add", "prod", "--url", &fake]);
    assert_eq!(moved.code, 0, "{moved:?}");
    assert!(
        moved.stderr.contains("will not be sent"),
        "{}",
        moved.stderr
    );
    let refused = cli.run(&["--format", "json", "--profile", "prod", "tenants"]);
    assert_eq!(
        refused.json()["error"]["kind"],
        "secret_missing",
        "{refused:?}"
    );
    assert!(
        refused.stderr.contains("another server"),
        "{}",
        refused.stderr
    );

    // Re-pointed by editing the file by hand (the port of the real server back, then the trap's).
    // Pointed back at the server the password was given for, it is sent there again.
    assert_eq!(cli.run(&["profile", "add", "prod", "--url", &real]).code, 0);
    assert_eq!(cli.run(&["--profile", "prod", "tenants"]).code, 0);
    let file = cli.profiles_file();
    cli.run_with(
        &["profile", "set-password", "prod", "--password-stdin"],
        &[],
        Some(&format!("{READER_PASSWORD}\n")),
    );
    assert_eq!(cli.run(&["--profile", "prod", "tenants"]).code, 0);
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace(
            &format!("port = {}", s.server.port),
            &format!("port = {}", trap.port),
        ),
    )
    .unwrap();
    let refused = cli.run(&["--profile", "prod", "tenants"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    // A typed password goes where it is typed for.
    let typed = cli.run_with(
        &["--profile", "prod", "--password-stdin", "tenants"],
        &[],
        Some("typed-for-the-trap\n"),
    );
    assert_eq!(typed.code, 1);
    assert_eq!(
        trap.received(),
        ["typed-for-the-trap"],
        "only the password typed for it reached the fake server"
    );
    cli.run(&["profile", "remove", "prod"]);
}

#[test]
fn tenantctl_turns_core_dumps_off_before_it_reads_a_password() {
    use std::os::unix::process::CommandExt;
    let cli = Cli::new();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tenantctl"));
    cmd.args([
        "profile",
        "add",
        "x",
        "--url",
        "postgres://u@127.0.0.1:9/d",
        "--password-stdin",
    ])
    .env("TENANT_CONSOLE_CONFIG_DIR", cli.dirs.path().join("config"))
    .env("TENANT_CONSOLE_DATA_DIR", cli.dirs.path().join("data"))
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null());
    // Started as with `ulimit -c unlimited`.
    // SAFETY: setrlimit in the child before exec, on its own limits.
    unsafe {
        cmd.pre_exec(|| {
            let all = libc::rlimit {
                rlim_cur: libc::RLIM_INFINITY,
                rlim_max: libc::RLIM_INFINITY,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &all);
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    // It waits for the password on standard input: look at it then.
    let limits = format!("/proc/{}/limits", child.id());
    let mut line = String::new();
    for _ in 0..200 {
        line = std::fs::read_to_string(&limits)
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with("Max core file size"))
            .unwrap_or_default()
            .to_owned();
        if line.split_whitespace().nth(4) == Some("0") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.kill().ok();
    child.wait().ok();
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields.get(4..6), Some(&["0", "0"][..]), "{line}");
}
