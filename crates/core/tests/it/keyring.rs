//! Profile passwords in the real system keyring: the Secret Service on Linux, checked from outside with
//! `secret-tool` (libsecret), the way a user or an admin would look for them.
//!
//! These tests need a running, unlocked Secret Service. Run them under `scripts/with-keyring.sh`, which starts
//! a private one (`scripts/with-keyring.sh cargo test -p tenant-console-core --test keyring`). Without one they
//! fail and say so; they never skip.

use std::process::Command;

use secrecy::{ExposeSecret, SecretString};
use tenant_console_core::profile::{Profile, ProfileStore};
use tenant_console_core::secret::{Keyring, SecretError, Secrets, SERVICE};

/// The system keyring, or a failure that says how to get one.
async fn keyring() -> Secrets {
    let secrets = Secrets::system().unwrap_or_else(|e| {
        panic!(
            "this build has no persistent keyring store ({e}); check the keyring crate's features"
        )
    });
    match secrets
        .get(&format!("probe-{}", uuid::Uuid::new_v4()))
        .await
    {
        Err(SecretError::Missing(_)) => secrets,
        other => panic!(
            "no usable Secret Service ({:?}): run these tests under scripts/with-keyring.sh \
             (e.g. scripts/with-keyring.sh cargo test -p tenant-console-core --test keyring)",
            other.map(|_| "a probe secret exists")
        ),
    }
}

fn fresh_account() -> String {
    format!("test-{}", uuid::Uuid::new_v4())
}

/// What `secret-tool lookup service tenant-console username ACCOUNT` finds: the keyring crate stores the
/// account in the `username` attribute (and `target` = `default`, `application` = `rust-keyring`).
fn secret_tool_lookup(account: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", SERVICE, "username", account])
        .output()
        .expect("secret-tool runs (Debian package libsecret-tools)");
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).expect("utf-8 secret"))
}

/// The attributes of every item of our service, as `secret-tool search --all` prints them.
fn secret_tool_search(account: &str) -> String {
    let out = Command::new("secret-tool")
        .args(["search", "--all", "service", SERVICE, "username", account])
        .output()
        .expect("secret-tool runs");
    // secret-tool prints the attributes on standard error and the secret on standard output.
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test]
async fn a_password_is_stored_in_the_system_keyring_under_the_service_and_profile_id() {
    let secrets = keyring().await;
    let account = fresh_account();
    let password = "pässwörd with spaces & symbols: ;'\"$";

    secrets
        .set(&account, SecretString::from(password))
        .await
        .expect("store the password");

    assert_eq!(secret_tool_lookup(&account).as_deref(), Some(password));
    let attributes = secret_tool_search(&account);
    assert!(
        attributes.contains(&format!("attribute.service = {SERVICE}")),
        "{attributes}"
    );
    assert!(
        attributes.contains(&format!("attribute.username = {account}")),
        "{attributes}"
    );
    assert_eq!(
        secrets.get(&account).await.unwrap().expose_secret(),
        password
    );

    secrets.delete(&account).await.expect("delete");
    assert_eq!(secret_tool_lookup(&account), None);
    assert!(matches!(
        secrets.get(&account).await,
        Err(SecretError::Missing(_))
    ));
}

#[tokio::test]
async fn storing_again_replaces_the_password_instead_of_adding_a_second_item() {
    let secrets = keyring().await;
    let account = fresh_account();
    secrets.set(&account, "first".into()).await.unwrap();
    secrets.set(&account, "second".into()).await.unwrap();

    assert_eq!(secret_tool_lookup(&account).as_deref(), Some("second"));
    let items = secret_tool_search(&account)
        .matches("attribute.username")
        .count();
    assert_eq!(items, 1, "{}", secret_tool_search(&account));
    secrets.delete(&account).await.unwrap();
}

#[tokio::test]
async fn removing_a_profile_and_its_secret_leaves_nothing_in_the_keyring() {
    let secrets = keyring().await;
    let dir = tempfile::tempdir().unwrap();
    let store = ProfileStore::at(dir.path().join("profiles.toml"));
    let profile = Profile::new("prod-replica", "db.example", 5432, "app", "console_reader");
    store.save(&profile).unwrap();
    profile
        .store_password(&secrets, "prod-password".into())
        .await
        .unwrap();
    assert!(secret_tool_lookup(&profile.id).is_some());

    let removed = store.remove("prod-replica").unwrap();
    secrets.delete(&removed.id).await.unwrap();

    assert_eq!(secret_tool_lookup(&profile.id), None);
    assert_eq!(
        store.get("prod-replica").unwrap_err().kind(),
        "unknown_profile"
    );
    let file = std::fs::read_to_string(store.path()).unwrap();
    assert!(!file.contains("prod-password"), "{file}");
}

#[tokio::test]
async fn renaming_a_profile_keeps_its_password() {
    let secrets = keyring().await;
    let dir = tempfile::tempdir().unwrap();
    let store = ProfileStore::at(dir.path().join("profiles.toml"));
    let mut profile = Profile::new("staging", "db.example", 5432, "app", "console_reader");
    store.save(&profile).unwrap();
    profile
        .store_password(&secrets, "staging-pw".into())
        .await
        .unwrap();

    profile.name = "staging-eu".into();
    store.save(&profile).unwrap();

    let renamed = store.get("staging-eu").unwrap();
    assert_eq!(renamed.id, profile.id);
    assert_eq!(
        renamed.password(&secrets).await.unwrap().expose_secret(),
        "staging-pw"
    );
    secrets.delete(&renamed.id).await.unwrap();
}

#[tokio::test]
async fn a_profile_whose_password_was_deleted_elsewhere_asks_for_it_again() {
    let secrets = keyring().await;
    let profile = Profile::new("customer-42", "db.example", 5432, "app", "console_reader");
    profile.store_password(&secrets, "pw".into()).await.unwrap();
    // Someone clears it in Seahorse (or with secret-tool) behind the console's back.
    let cleared = Command::new("secret-tool")
        .args(["clear", "service", SERVICE, "username", &profile.id])
        .status()
        .unwrap();
    assert!(cleared.success());

    let err = profile.password(&secrets).await.unwrap_err();

    assert_eq!(err.kind(), "secret_missing");
    let message = err.to_string();
    assert!(message.contains("\"customer-42\""), "{message}");
    // The core names no command: the app asks for the password, tenantctl names its own (tested there).
    assert!(!message.contains("tenantctl"), "{message}");
}

#[tokio::test]
async fn a_password_stored_with_secret_tool_is_read_by_the_console() {
    let secrets = keyring().await;
    let account = fresh_account();
    let mut child = Command::new("secret-tool")
        .args([
            "store",
            "--label=set by an admin",
            "service",
            SERVICE,
            "username",
            &account,
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"from-secret-tool")
        .unwrap();
    assert!(child.wait().unwrap().success());

    assert_eq!(
        secrets.get(&account).await.unwrap().expose_secret(),
        "from-secret-tool"
    );
    secrets.delete(&account).await.unwrap();
    assert_eq!(secret_tool_lookup(&account), None);
}

#[tokio::test]
async fn deleting_a_password_that_is_not_there_is_not_an_error() {
    let secrets = keyring().await;
    secrets.delete(&fresh_account()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_concurrent_tasks_share_the_keyring_without_failing() {
    keyring().await;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            tokio::spawn(async move {
                // Each task its own handle, as separate windows or commands would have.
                let secrets = Secrets::system().unwrap();
                let account = fresh_account();
                for round in 0..3 {
                    let pw = format!("task-{i}-round-{round}");
                    secrets.set(&account, pw.clone().into()).await?;
                    let got = secrets.get(&account).await?;
                    assert_eq!(got.expose_secret(), pw);
                }
                secrets.delete(&account).await?;
                Ok::<String, SecretError>(account)
            })
        })
        .collect();
    for t in tasks {
        let account = t.await.expect("task ran").expect("keyring calls succeed");
        assert_eq!(secret_tool_lookup(&account), None);
    }
}

#[test]
fn the_keyring_of_this_build_keeps_passwords_beyond_the_process() {
    // Without a platform store feature the keyring crate would fall back to its in-memory mock.
    Keyring::open().expect("a persistent keyring store is compiled in");
}
