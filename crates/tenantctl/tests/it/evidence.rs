//! `tenantctl export-audit` writes a signed manifest beside the file (or where --manifest says, for standard
//! output); `tenantctl signing-key show` prints the public key; `tenantctl verify` passes an untouched export and
//! fails a changed one with exit 1 and the reason. The signing key is in the real keyring (scripts/with-keyring.sh)
//! and in no file: not the export, not the config or data directories, not the log.

use std::process::Command;

use crate::common::TestDb;

fn keyring_secret(account: &str) -> String {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "tenant-console", "username", account])
        .output()
        .expect("secret-tool runs (Debian package libsecret-tools)");
    assert!(
        out.status.success(),
        "no signing key in the keyring: run under scripts/with-keyring.sh"
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn files_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_auditor_verifies_an_export_with_one_command_and_a_changed_byte_fails_it() {
    let t = TestDb::demo().await;
    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("acme.csv");
    let file_s = file.to_str().unwrap();
    let run = t.reader(&["-v", "export-audit", "--tenant", "acme", "--out", file_s]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("manifest:") && run.stderr.contains("signed by SHA256:"),
        "{}",
        run.stderr
    );
    let manifest = out_dir.path().join("acme.csv.manifest.json");
    assert!(manifest.is_file());

    let key = t.run(&["--format", "json", "signing-key", "show"]);
    assert_eq!(key.code, 0, "{key:?}");
    let public = key.json()["public_key"].as_str().unwrap().to_owned();
    assert!(public.starts_with("ed25519:"));

    let ok = t.run(&[
        "--format",
        "json",
        "verify",
        file_s,
        "--public-key",
        &public,
    ]);
    assert_eq!(ok.code, 0, "{ok:?}");
    assert_eq!(ok.json()["ok"], true);
    assert_eq!(ok.json()["key_trusted"], true);

    // A machine with no key of its own (no keyring) and no key given: the signature is valid, but whose? Not
    // ok, said plainly, with its own exit code and field; trusting the exporter's key by name settles it.
    let without_keyring = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tenantctl"))
            .args(args)
            .env("TENANT_CONSOLE_CONFIG_DIR", t.dirs.path().join("config"))
            .env("TENANT_CONSOLE_DATA_DIR", t.dirs.path().join("data"))
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
            .output()
            .unwrap();
        crate::common::Run::from(out)
    };
    let unknown = without_keyring(&["--format", "json", "verify", file_s]);
    assert_eq!(unknown.code, 4, "{unknown:?}");
    assert_eq!(unknown.json()["ok"], false);
    assert_eq!(unknown.json()["unknown_key"], true);
    assert!(unknown.stderr.contains("unknown key"), "{}", unknown.stderr);
    let trusted = without_keyring(&[
        "--format",
        "json",
        "signing-key",
        "trust",
        &public,
        "--name",
        "export-server",
    ]);
    assert_eq!(trusted.code, 0, "{trusted:?}");
    let known = without_keyring(&["--format", "json", "verify", file_s]);
    assert_eq!(known.code, 0, "{known:?}");
    assert_eq!(known.json()["trusted_as"], "trusted key \"export-server\"");

    // One byte changed: exit 1, and the reason.
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 3;
    bytes[last] = if bytes[last] == b'x' { b'y' } else { b'x' };
    std::fs::write(&file, &bytes).unwrap();
    let bad = t.run(&[
        "--format",
        "json",
        "verify",
        file_s,
        "--public-key",
        &public,
    ]);
    assert_eq!(bad.code, 1, "{bad:?}");
    let report = bad.json();
    assert_eq!(report["ok"], false);
    assert!(
        report["problems"].to_string().contains("SHA-256"),
        "{report}"
    );
    let table = t.run(&["verify", file_s, "--public-key", &public]);
    assert_eq!(table.code, 1);
    assert!(
        table.stderr.contains("does not match its manifest"),
        "{table:?}"
    );

    // Standard output with --manifest: the redirected stream verifies against it.
    let streamed = out_dir.path().join("streamed.csv");
    let streamed_manifest = out_dir.path().join("streamed.manifest.json");
    let run = t.reader(&[
        "export-audit",
        "--tenant",
        "globex",
        "--out",
        "-",
        "--manifest",
        streamed_manifest.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    std::fs::write(&streamed, run.stdout.as_bytes()).unwrap();
    let ok = t.run(&[
        "--format",
        "json",
        "verify",
        streamed.to_str().unwrap(),
        "--manifest",
        streamed_manifest.to_str().unwrap(),
        "--public-key",
        &public,
    ]);
    assert_eq!(ok.code, 0, "{ok:?}");

    // JSON lines, gzip-compressed, to standard output: --file-format says what the stream is.
    let gz = out_dir.path().join("globex.jsonl.gz");
    let gz_manifest = out_dir.path().join("globex.jsonl.gz.manifest.json");
    let out = Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .args([
            "--url",
            &t.url("console_reader"),
            "export-audit",
            "--tenant",
            "globex",
            "--out",
            "-",
            "--file-format",
            "jsonl.gz",
            "--manifest",
            gz_manifest.to_str().unwrap(),
        ])
        .env("TENANT_CONSOLE_CONFIG_DIR", t.dirs.path().join("config"))
        .env("TENANT_CONSOLE_DATA_DIR", t.dirs.path().join("data"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(&out.stdout[..2], &[0x1f, 0x8b], "gzip");
    std::fs::write(&gz, &out.stdout).unwrap();
    let ok = t.run(&[
        "--format",
        "json",
        "verify",
        gz.to_str().unwrap(),
        "--public-key",
        &public,
    ]);
    assert_eq!(ok.code, 0, "{ok:?}");
    let bad = t.reader(&[
        "export-audit",
        "--tenant",
        "acme",
        "--out",
        file_s,
        "--file-format",
        "jsonl",
    ]);
    assert_eq!(bad.code, 2, "{bad:?}");

    // --against: the range counted again in the tenant's scope through a profile; an event slipped into the
    // exported range since is a difference, and exit 1.
    let mut add = Command::new(env!("CARGO_BIN_EXE_tenantctl"));
    add.args([
        "profile",
        "add",
        "live",
        "--url",
        &t.url("console_reader"),
        "--password-stdin",
    ])
    .env("TENANT_CONSOLE_CONFIG_DIR", t.dirs.path().join("config"))
    .env("TENANT_CONSOLE_DATA_DIR", t.dirs.path().join("data"))
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::null());
    let mut child = add.spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"unused-on-trust\n").unwrap();
    assert!(child.wait().unwrap().success());
    let streamed_s = streamed.to_str().unwrap();
    let manifest_s = streamed_manifest.to_str().unwrap();
    let same = t.run(&[
        "--format",
        "json",
        "verify",
        streamed_s,
        "--manifest",
        manifest_s,
        "--public-key",
        &public,
        "--against",
        "live",
    ]);
    assert_eq!(same.code, 0, "{same:?}");
    assert_eq!(same.json()["recount"]["difference"], 0);
    sqlx::query(
        "INSERT INTO audit_logs (tenant_id, action, created_at)
         SELECT id, 'backdated.insert', now() - interval '400 days' FROM tenants WHERE slug = 'globex'",
    )
    .execute(&t.admin)
    .await
    .unwrap();
    let differs = t.run(&[
        "--format",
        "json",
        "verify",
        streamed_s,
        "--manifest",
        manifest_s,
        "--public-key",
        &public,
        "--against",
        "live",
    ]);
    assert_eq!(differs.code, 1, "{differs:?}");
    assert_eq!(differs.json()["recount"]["difference"], 1);

    // Run from cron (no USER, LOGNAME or USERNAME), the export still names who ran it: the process's account.
    let cron_file = out_dir.path().join("cron.csv");
    let out = Command::new(env!("CARGO_BIN_EXE_tenantctl"))
        .args([
            "--url",
            &t.url("console_reader"),
            "export-audit",
            "--tenant",
            "acme",
        ])
        .arg("--out")
        .arg(&cron_file)
        .env("TENANT_CONSOLE_CONFIG_DIR", t.dirs.path().join("config"))
        .env("TENANT_CONSOLE_DATA_DIR", t.dirs.path().join("data"))
        .env_remove("USER")
        .env_remove("LOGNAME")
        .env_remove("USERNAME")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out_dir.path().join("cron.csv.manifest.json")).unwrap(),
    )
    .unwrap();
    let me = Command::new("id").arg("-un").output().unwrap();
    assert_eq!(
        m["exporter"]["os_user"],
        String::from_utf8_lossy(&me.stdout).trim()
    );

    // The key: in the keyring, in no file (exports, manifests, config, data, the log).
    let seed = keyring_secret("export-signing-key");
    assert!(seed.len() >= 40, "a base64 Ed25519 seed");
    let mut files = Vec::new();
    files_under(out_dir.path(), &mut files);
    files_under(t.dirs.path(), &mut files);
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().contains("tenantctl.log")),
        "{files:?}"
    );
    for f in files {
        let content = std::fs::read(&f).unwrap();
        assert!(
            !content.windows(seed.len()).any(|w| w == seed.as_bytes()),
            "the signing key is in {}",
            f.display()
        );
    }
}
