//! Signed export manifests against a real PostgreSQL and the real Secret Service (run under
//! scripts/with-keyring.sh): an untouched export verifies; a flipped byte, a truncated file, an edited manifest,
//! the manifest of another export, another key and an unsigned manifest each fail, saying why. The signing key is
//! made once, lives in the keyring, and is not in any file the export wrote.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::common::TestDb;
use secrecy::ExposeSecret;
use tenant_console_core::export::{
    export_to_path, manifest_path, verify, ExportOptions, Manifest, TrustedKey, MANIFEST_FORMAT,
};
use tenant_console_core::secret::{MemoryStore, Secrets};
use tenant_console_core::signing::{SigningIdentity, KEY_ACCOUNT};

async fn keyring() -> Secrets {
    let secrets = Secrets::system().expect("a persistent keyring store");
    secrets
        .get("probe-evidence")
        .await
        .err()
        .filter(|e| matches!(e, tenant_console_core::error::SecretError::Missing(_)))
        .unwrap_or_else(|| panic!("no usable Secret Service: run under scripts/with-keyring.sh"));
    secrets
}

async fn export(
    t: &TestDb,
    slug: &str,
    dir: &Path,
    signer: Option<Arc<SigningIdentity>>,
) -> PathBuf {
    let db = t.reader().await;
    let path = dir.join(format!("{slug}.csv"));
    let summary = export_to_path(
        &crate::common::door(&db),
        slug,
        &ExportOptions {
            signer,
            bom: true,
            ..Default::default()
        },
        None,
        &path,
        &Arc::new(AtomicBool::new(false)),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(
        summary.manifest.as_deref(),
        Some(manifest_path(&path).as_path())
    );
    path
}

fn problems(file: &Path, manifest: Option<&Path>, key: &SigningIdentity) -> Vec<String> {
    let v = verify(
        file,
        manifest,
        &[TrustedKey::new(key.public_key(), "the key given")],
    )
    .unwrap();
    assert_eq!(v.ok, v.problems.is_empty());
    v.problems
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_export_verifies_and_every_kind_of_tampering_is_named() {
    let t = TestDb::demo().await;
    let secrets = keyring().await;
    let key = Arc::new(SigningIdentity::load_or_create(&secrets).await.unwrap());
    let again = SigningIdentity::load_or_create(&secrets).await.unwrap();
    assert_eq!(key.public_key(), again.public_key(), "made once, then kept");
    let dir = tempfile::tempdir().unwrap();
    let file = export(&t, "acme", dir.path(), Some(key.clone())).await;

    // Untouched: verifies, with the rows and the tenant the manifest names.
    let v = verify(
        &file,
        None,
        &[TrustedKey::new(key.public_key(), "the key given")],
    )
    .unwrap();
    assert!(v.ok, "{:?}", v.problems);
    assert!(v.key_trusted);
    let m: Manifest =
        serde_json::from_slice(&std::fs::read(manifest_path(&file)).unwrap()).unwrap();
    assert_eq!(m.format, MANIFEST_FORMAT);
    assert_eq!(v.rows_counted, Some(m.rows));
    let acme_rows: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_logs a JOIN tenants t ON t.id = a.tenant_id WHERE t.slug = 'acme'",
    )
    .fetch_one(&t.admin)
    .await
    .unwrap();
    assert_eq!(m.rows as i64, acme_rows);
    assert_eq!(m.tenant.slug.as_deref(), Some("acme"));
    assert_eq!(m.isolation.foreign_rows, 0);
    assert!(!m.isolation.login_bypasses_rls);
    assert_eq!(m.exporter.db_login, "console_reader");
    assert!(m.query.sql.starts_with("COPY (SELECT"), "{}", m.query.sql);
    assert!(m.access_record_id.is_some());
    assert!(m.first_event.is_some() && m.last_event.is_some());
    assert!(
        m.first_event.as_ref().unwrap().occurred_at <= m.last_event.as_ref().unwrap().occurred_at
    );
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(m.file.bytes, bytes.len() as u64);

    // A flipped byte, same size.
    let copy = |name: &str, content: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    };
    let mut flipped = bytes.clone();
    let at = flipped.len() / 2;
    flipped[at] ^= 0x01;
    let f = copy("flipped.csv", &flipped);
    let p = problems(&f, Some(&manifest_path(&file)), &key);
    assert!(p.iter().any(|x| x.contains("SHA-256")), "{p:?}");

    // Cut short.
    let f = copy("truncated.csv", &bytes[..bytes.len() - 40]);
    let p = problems(&f, Some(&manifest_path(&file)), &key);
    assert!(p.iter().any(|x| x.contains("cut short")), "{p:?}");
    // Cut at a row's end, the rows are counted short too.
    let end_of_row = bytes[..bytes.len() - 1]
        .iter()
        .rposition(|b| *b == b'\n')
        .unwrap();
    let f = copy("one-row-short.csv", &bytes[..=end_of_row]);
    let p = problems(&f, Some(&manifest_path(&file)), &key);
    assert!(p.iter().any(|x| x.contains("cut short")), "{p:?}");
    assert!(
        p.iter().any(|x| x.contains("rows, the manifest says")),
        "{p:?}"
    );

    // An edited manifest: one row fewer claimed, or another tenant's name.
    for edit in [
        Box::new(|m: &mut Manifest| m.rows -= 1) as Box<dyn Fn(&mut Manifest)>,
        Box::new(|m: &mut Manifest| m.tenant.name = "Globex".into()),
        Box::new(|m: &mut Manifest| m.isolation.foreign_rows = 1),
    ] {
        let mut edited = m.clone();
        edit(&mut edited);
        let mp = dir.path().join("edited.manifest.json");
        std::fs::write(&mp, edited.to_pretty()).unwrap();
        let p = problems(&file, Some(&mp), &key);
        assert!(
            p.iter().any(|x| x.contains("changed after it was signed")),
            "{p:?}"
        );
    }
    // Re-ordering keys and re-indenting is not an edit.
    let value: serde_json::Value = serde_json::from_slice(&m.to_pretty()).unwrap();
    let mp = dir.path().join("compact.manifest.json");
    std::fs::write(&mp, serde_json::to_vec(&value).unwrap()).unwrap();
    assert!(problems(&file, Some(&mp), &key).is_empty());

    // The manifest of another export (another tenant), put beside this file.
    let other = export(&t, "globex", dir.path(), Some(key.clone())).await;
    let p = problems(&file, Some(&manifest_path(&other)), &key);
    assert!(p.iter().any(|x| x.contains("SHA-256")), "{p:?}");

    // Another key.
    let stranger = SigningIdentity::load_or_create(&Secrets::new(MemoryStore::default()))
        .await
        .unwrap();
    let p = problems(&file, None, &stranger);
    assert!(
        p.iter().any(|x| x.contains("not with the key given")),
        "{p:?}"
    );

    // Unsigned.
    let unsigned_dir = tempfile::tempdir().unwrap();
    let unsigned = export(&t, "acme", unsigned_dir.path(), None).await;
    let p = problems(&unsigned, None, &key);
    assert!(p.iter().any(|x| x.contains("not signed")), "{p:?}");

    // Not a manifest at all: a clear error, not a panic.
    let junk = copy("junk.manifest.json", b"{\"format\": 3");
    assert_eq!(
        verify(&file, Some(&junk), &[]).unwrap_err().kind(),
        "invalid_input"
    );

    // The key lives in the keyring, and in none of the files the exports wrote.
    let seed = secrets.get(KEY_ACCOUNT).await.unwrap();
    let seed = seed.expose_secret().trim().to_owned();
    assert!(seed.len() >= 40);
    for d in [dir.path(), unsigned_dir.path()] {
        for entry in std::fs::read_dir(d).unwrap() {
            let content = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(
                !content.windows(seed.len()).any(|w| w == seed.as_bytes()),
                "the signing key is in a file"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn jsonl_and_gzip_follow_the_file_name_round_trip_the_data_and_verify() {
    let t = TestDb::demo().await;
    let key = Arc::new(
        SigningIdentity::load_or_create(&Secrets::new(MemoryStore::default()))
            .await
            .unwrap(),
    );
    let db = t.reader().await;
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for name in ["acme.csv", "acme.jsonl", "acme.csv.gz", "acme.jsonl.gz"] {
        let path = dir.path().join(name);
        export_to_path(
            &crate::common::door(&db),
            "acme",
            &ExportOptions {
                signer: Some(key.clone()),
                ..Default::default()
            },
            None,
            &path,
            &Arc::new(AtomicBool::new(false)),
            |_| {},
        )
        .await
        .unwrap();
        let v = verify(
            &path,
            None,
            &[TrustedKey::new(key.public_key(), "the key given")],
        )
        .unwrap();
        assert!(v.ok, "{name}: {:?}", v.problems);
        paths.push(path);
    }
    let read = |p: &Path| std::fs::read(p).unwrap();
    let gunzip = |p: &Path| {
        let mut out = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(read(p).as_slice()),
            &mut out,
        )
        .unwrap();
        out
    };
    // Compressed, the same bytes.
    assert!(read(&paths[2]).len() < read(&paths[0]).len() / 2);
    assert_eq!(gunzip(&paths[2]), read(&paths[0]));
    assert_eq!(gunzip(&paths[3]), read(&paths[1]));

    // JSON lines: every event of the tenant, each field as the database holds it (hostile cells untouched: JSON has
    // no formulas), metadata as JSON, times with their offset.
    let truth: Vec<(String, String, serde_json::Value, Option<String>)> = sqlx::query_as(
        "SELECT a.id::text, a.action, a.metadata, a.user_agent FROM audit_logs a JOIN tenants t ON t.id = a.tenant_id
          WHERE t.slug = 'acme' ORDER BY a.created_at, a.id",
    )
    .fetch_all(&t.admin)
    .await
    .unwrap()
    .into_iter()
    .map(|(id, action, meta, ua): (String, String, sqlx::types::Json<serde_json::Value>, Option<String>)| {
        (id, action, meta.0, ua)
    })
    .collect();
    let text = String::from_utf8(read(&paths[1])).expect("valid UTF-8");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), truth.len());
    for (line, (id, action, meta, ua)) in lines.iter().zip(&truth) {
        assert_eq!(line["id"], id.as_str());
        assert_eq!(line["action"], action.as_str());
        assert_eq!(&line["metadata"], meta, "metadata is the JSON value itself");
        assert_eq!(line["user_agent"].as_str(), ua.as_deref());
        let at = line["occurred_at"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at}");
    }
    assert!(
        truth
            .iter()
            .any(|(_, a, _, ua)| a.starts_with(['=', '+', '-', '@'])
                || ua
                    .as_deref()
                    .is_some_and(|u| u.starts_with(['=', '+', '-', '@']))),
        "the demo data has formula-looking cells, kept as they are in JSON"
    );

    // A flipped byte in a gzip file.
    let mut gz = read(&paths[3]);
    let mid = gz.len() / 2;
    gz[mid] ^= 0x20;
    let broken = dir.path().join("broken.jsonl.gz");
    std::fs::write(&broken, gz).unwrap();
    let v = verify(
        &broken,
        Some(&manifest_path(&paths[3])),
        &[TrustedKey::new(key.public_key(), "the key given")],
    )
    .unwrap();
    assert!(!v.ok);
    assert!(
        v.problems.iter().any(|p| p.contains("SHA-256")),
        "{:?}",
        v.problems
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_format_compression_and_column_choice_an_export_writes_verifies() {
    use tenant_console_core::export::Column;
    let t = TestDb::demo().await;
    let key = Arc::new(
        SigningIdentity::load_or_create(&Secrets::new(MemoryStore::default()))
            .await
            .unwrap(),
    );
    let trusted = [TrustedKey::new(key.public_key(), "the key given")];
    let db = t.reader().await;
    let dir = tempfile::tempdir().unwrap();
    let choices: Vec<Vec<Column>> = vec![
        Column::ALL.to_vec(),
        vec![Column::OccurredAt, Column::Action, Column::Metadata],
        vec![Column::Id],
        vec![Column::Metadata],
        vec![Column::ActorEmail, Column::Ip],
    ];
    for (i, columns) in choices.iter().enumerate() {
        for name in ["a.csv", "a.jsonl", "a.csv.gz", "a.jsonl.gz"] {
            for bom in [false, true] {
                let path = dir.path().join(format!("{i}-{bom}-{name}"));
                export_to_path(
                    &crate::common::door(&db),
                    "globex",
                    &ExportOptions {
                        signer: Some(key.clone()),
                        columns: columns.clone(),
                        bom,
                        ..Default::default()
                    },
                    None,
                    &path,
                    &Arc::new(AtomicBool::new(false)),
                    |_| {},
                )
                .await
                .unwrap();
                let v = verify(&path, None, &trusted).unwrap();
                assert!(v.ok, "{columns:?} {name} bom={bom}: {:?}", v.problems);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_manifest_is_trusted_only_for_a_trusted_key_and_only_as_it_was_signed() {
    let t = TestDb::demo().await;
    let mine = Arc::new(
        SigningIdentity::load_or_create(&Secrets::new(MemoryStore::default()))
            .await
            .unwrap(),
    );
    let insider = SigningIdentity::load_or_create(&Secrets::new(MemoryStore::default()))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = t.reader().await;
    let path = dir.path().join("acme.csv");
    export_to_path(
        &crate::common::door(&db),
        "acme",
        &ExportOptions {
            signer: Some(mine.clone()),
            ..Default::default()
        },
        None,
        &path,
        &Arc::new(AtomicBool::new(false)),
        |_| {},
    )
    .await
    .unwrap();
    let manifest = manifest_path(&path);
    let trusted = [TrustedKey::new(mine.public_key(), "this machine's key")];
    let v = verify(&path, None, &trusted).unwrap();
    assert!(v.ok && v.key_trusted, "{:?}", v.problems);
    assert_eq!(v.trusted_as.as_deref(), Some("this machine's key"));

    // No key to trust it against (a machine with no key of its own, a locked keyring): not ok, and said so.
    let v = verify(&path, None, &[]).unwrap();
    assert!(!v.ok && v.unknown_key && !v.key_trusted);
    assert!(v.problems[0].contains("unknown key"), "{:?}", v.problems);

    // Edited and re-signed by an insider's key: valid signature, unknown key.
    let original = std::fs::read(&manifest).unwrap();
    let mut m: Manifest = serde_json::from_slice(&original).unwrap();
    m.tenant.name = "Acme (renamed)".into();
    m.sign(&insider);
    std::fs::write(&manifest, m.to_pretty()).unwrap();
    let v = verify(&path, None, &trusted).unwrap();
    assert!(!v.ok && v.unknown_key, "{:?}", v.problems);
    assert!(
        v.problems
            .iter()
            .any(|p| p.contains(&insider.public_key().fingerprint())),
        "{:?}",
        v.problems
    );

    // Fields added to a genuine manifest, at the top and inside: named, and the signature no longer holds.
    for (at, field) in [("", "auditor_note"), ("tenant", "former_name")] {
        let mut raw: serde_json::Value = serde_json::from_slice(&original).unwrap();
        let target = if at.is_empty() {
            &mut raw
        } else {
            &mut raw[at]
        };
        target[field] = serde_json::json!("added later");
        std::fs::write(&manifest, serde_json::to_vec_pretty(&raw).unwrap()).unwrap();
        let v = verify(&path, None, &trusted).unwrap();
        assert!(!v.ok, "{field}");
        assert!(
            v.problems.iter().any(|p| p.contains(field)),
            "{field}: {:?}",
            v.problems
        );
        assert!(
            v.problems
                .iter()
                .any(|p| p.contains("signature does not match")),
            "{field}: {:?}",
            v.problems
        );
    }

    // A false key fingerprint beside a genuine key and signature.
    let mut raw: serde_json::Value = serde_json::from_slice(&original).unwrap();
    raw["signature"]["key_fingerprint"] =
        serde_json::json!("SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    std::fs::write(&manifest, serde_json::to_vec_pretty(&raw).unwrap()).unwrap();
    let v = verify(&path, None, &trusted).unwrap();
    assert!(!v.ok);
    assert!(
        v.problems.iter().any(|p| p.contains("key fingerprint")),
        "{:?}",
        v.problems
    );

    // The genuine bytes again: fine.
    std::fs::write(&manifest, &original).unwrap();
    assert!(verify(&path, None, &trusted).unwrap().ok);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_database_witnesses_the_file_it_exported_and_not_one_re_signed_after() {
    use sha2::Digest;
    let t = TestDb::demo().await;
    let key = Arc::new(
        SigningIdentity::load_or_create(&Secrets::new(MemoryStore::default()))
            .await
            .unwrap(),
    );
    let trusted = [TrustedKey::new(key.public_key(), "this machine's key")];
    let db = t.reader().await;
    let door = crate::common::door(&db);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acme.csv");
    export_to_path(
        &door,
        "acme",
        &ExportOptions {
            signer: Some(key.clone()),
            ..Default::default()
        },
        None,
        &path,
        &Arc::new(AtomicBool::new(false)),
        |_| {},
    )
    .await
    .unwrap();
    let manifest_file = manifest_path(&path);
    let m = tenant_console_core::export::read_manifest(&manifest_file).unwrap();
    let r = tenant_console_core::export::recount(&door, &m, None)
        .await
        .unwrap();
    let w = r
        .witnessed
        .expect("the database recorded the file's SHA-256");
    assert_eq!(w.rows, Some(m.rows));
    assert_eq!(w.db_user, "console_reader");

    // An insider with the key removes the last row and re-signs: the file verifies against the key...
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.pop();
    let edited = format!("{}\n", lines.join("\n"));
    std::fs::write(&path, &edited).unwrap();
    let mut forged = m.clone();
    forged.rows -= 1;
    forged.file.bytes = edited.len() as u64;
    forged.file.sha256 = sha2::Sha256::digest(edited.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    forged.last_event = None;
    forged.sign(&key);
    std::fs::write(&manifest_file, forged.to_pretty()).unwrap();
    let v = verify(&path, None, &trusted).unwrap();
    assert!(
        v.problems.iter().all(|p| p.contains("first or last event")),
        "{:?}",
        v.problems
    );
    // ... but the database never saw those bytes.
    let r = tenant_console_core::export::recount(&door, &forged, None)
        .await
        .unwrap();
    assert!(r.witnessed.is_none(), "{:?}", r.witnessed);
}
