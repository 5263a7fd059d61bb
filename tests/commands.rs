//! The app's commands through tauri's mock runtime (IPC from origin tauri://localhost), against a real
//! PostgreSQL and the real keyring (run the tests under scripts/with-keyring.sh).

// Tests set up their fixtures as the superuser, in SQL of their own: the rule that only the core's `sql`
// module sends statements (clippy.toml) is the product's, not the tests'.
#![allow(clippy::disallowed_methods)]
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindow;
use tenant_console_app::state::AppState;
use tenant_console_core::profile::ProfileStore;
use tenant_console_core::secret::Secrets;
use tenant_console_dev::testing::{TestDb, READER_PASSWORD};

struct App {
    _app: tauri::App<tauri::test::MockRuntime>,
    window: WebviewWindow<tauri::test::MockRuntime>,
    _config: tempfile::TempDir,
    /// Where the stand-in save dialog puts files (the mock runtime has no windowing system).
    saves: std::path::PathBuf,
    /// What the stand-in open dialog answers (None: the user closed it).
    chosen: std::sync::Arc<std::sync::Mutex<Option<std::path::PathBuf>>>,
}

fn app() -> App {
    app_with(Secrets::system())
}

/// The app with the given keyring (an error: a machine whose keyring is locked or absent).
fn app_with(secrets: Result<Secrets, tenant_console_core::secret::SecretError>) -> App {
    let config = tempfile::tempdir().unwrap();
    let saves = config.path().join("saved");
    std::fs::create_dir_all(&saves).unwrap();
    let dir = saves.clone();
    let chosen = std::sync::Arc::new(std::sync::Mutex::new(None));
    let state = AppState::new(
        ProfileStore::at(config.path().join("profiles.toml")),
        secrets,
    )
    .with_save_picker(std::sync::Arc::new(move |name: &str| Some(dir.join(name))))
    .with_open_picker({
        let chosen = chosen.clone();
        std::sync::Arc::new(move || chosen.lock().unwrap().clone())
    });
    let app = tenant_console_app::setup(mock_builder(), state)
        .build(mock_context(noop_assets()))
        .expect("app builds");
    let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    App {
        _app: app,
        window,
        _config: config,
        saves,
        chosen,
    }
}

impl App {
    /// Invokes a command as the UI would; Ok(value) or Err({kind, message}).
    fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        get_ipc_response(
            &self.window,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<Value>().unwrap())
    }

    fn save_profile(&self, db: &TestDb, name: &str, user: &str, extra: Value) -> String {
        let mut profile = json!({
            "name": name, "host": "127.0.0.1", "port": port(), "database": db.name,
            "user": user, "tls": "disable",
        });
        profile
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let saved = self
            .invoke(
                "profiles_save",
                json!({"profile": profile, "password": READER_PASSWORD}),
            )
            .expect("profile saves");
        saved["id"].as_str().unwrap().to_owned()
    }
}

fn port() -> u16 {
    tenant_console_dev::testing::admin_options().get_port()
}

fn kind(e: Value) -> String {
    e["kind"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_profile_keeps_its_password_in_the_keyring_and_never_returns_it() {
    let db = TestDb::demo().await;
    let app = app();
    let id = app.save_profile(&db, "demo", "console_reader", json!({}));

    let listed = app.invoke("profiles_list", json!({})).unwrap();
    let text = listed.to_string();
    assert!(
        !text.contains(READER_PASSWORD),
        "a password reached the UI: {text}"
    );
    assert_eq!(listed[0]["password_stored"], true);
    // The real keyring holds it, under service tenant-console and the profile id, bound to the server,
    // database, user and TLS it was given for.
    let secret = Secrets::system().unwrap().get(&id).await.unwrap();
    let stored: Value =
        serde_json::from_str(secrecy::ExposeSecret::expose_secret(&secret)).unwrap();
    assert_eq!(stored["password"], READER_PASSWORD);
    let bound_to = stored["for"].as_str().unwrap();
    assert!(
        bound_to.starts_with("postgres://console_reader@")
            && bound_to.contains(&db.name)
            && bound_to.contains("tls=disable"),
        "{bound_to}"
    );

    app.invoke("profiles_remove", json!({"id": id})).unwrap();
    let err = Secrets::system().unwrap().get(&id).await.unwrap_err();
    assert_eq!(err.kind(), "secret_missing");
}

#[tokio::test(flavor = "multi_thread")]
async fn browsing_as_a_tenant_goes_through_the_commands() {
    let db = TestDb::demo().await;
    let app = app();
    let id = app.save_profile(&db, "demo", "console_reader", json!({}));

    let err = app
        .invoke("members_page", json!({"profileId": id, "tenant": "acme"}))
        .unwrap_err();
    assert_eq!(kind(err), "not_connected");

    let session = app
        .invoke(
            "session_connect",
            json!({"profileId": id, "allowBypass": false}),
        )
        .unwrap();
    assert_eq!(session["bypass_reasons"], json!([]));
    assert_eq!(session["login"]["user"], "console_reader");

    let tenants = app
        .invoke("tenants_search", json!({"profileId": id, "search": "glob"}))
        .unwrap();
    assert_eq!(tenants["items"][0]["slug"], "globex");

    // The list's stats columns, read per tenant in its own scope; an id that is gone is left out.
    let globex_id = tenants["items"][0]["id"].as_str().unwrap().to_owned();
    let stats = app
        .invoke(
            "tenants_stats",
            json!({"profileId": id, "tenants": [globex_id, "00000000-0000-0000-0000-000000000000"]}),
        )
        .unwrap();
    let stats = stats.as_array().unwrap();
    assert_eq!(stats.len(), 1);
    assert_eq!(stats[0]["tenant_id"], globex_id.as_str());
    assert_eq!(stats[0]["stats"]["members"], 12);
    assert!(
        stats[0]["stats"]["audit_events_30d"]["value"]
            .as_i64()
            .unwrap()
            > 0
    );
    let too_many: Vec<String> = (0..101).map(|_| globex_id.clone()).collect();
    let err = app
        .invoke(
            "tenants_stats",
            json!({"profileId": id, "tenants": too_many}),
        )
        .unwrap_err();
    assert_eq!(kind(err), "invalid_input");

    let opened = app
        .invoke("tenant_open", json!({"profileId": id, "tenant": "acme"}))
        .unwrap();
    assert_eq!(opened["tenant"]["slug"], "acme");
    assert_eq!(opened["stats"]["members"], 12);
    // The tenant at a glance: its status, plan and creation date, as the tenants table has them.
    let (status, plan): (String, String) =
        sqlx::query_as("SELECT status, plan FROM tenants WHERE slug = 'acme'")
            .fetch_one(&db.admin)
            .await
            .unwrap();
    assert_eq!(opened["status"], status.as_str());
    assert_eq!(opened["plan"], plan.as_str());
    assert!(opened["created_at"].is_string());
    sqlx::query("UPDATE tenants SET status = 'suspended' WHERE slug = 'hooli'")
        .execute(&db.admin)
        .await
        .unwrap();
    let hooli = app
        .invoke("tenant_open", json!({"profileId": id, "tenant": "hooli"}))
        .unwrap();
    assert_eq!(hooli["status"], "suspended");

    let members = app
        .invoke(
            "members_page",
            json!({"profileId": id, "tenant": "acme", "role": "OWNER"}),
        )
        .unwrap();
    assert_eq!(members["items"].as_array().unwrap().len(), 1);

    let audit = app
        .invoke(
            "audit_page",
            json!({"profileId": id, "tenant": "globex", "filter": {"action": "auth."}, "limit": 20}),
        )
        .unwrap();
    let items = audit["items"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    assert!(items.iter().all(|e| e["metadata"]["tenant"] == "globex"
        && e["action"].as_str().unwrap().starts_with("auth.")));
    assert!(audit["next_cursor"].is_string());

    let roles = app
        .invoke("roles_list", json!({"profileId": id, "tenant": "acme"}))
        .unwrap();
    assert!(roles
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == "BILLING"));

    let err = app
        .invoke(
            "members_page",
            json!({"profileId": id, "tenant": "no-such-tenant"}),
        )
        .unwrap_err();
    assert_eq!(kind(err.clone()), "unknown_tenant");
    assert!(err["message"].as_str().unwrap().contains("no-such-tenant"));

    let err = app
        .invoke(
            "audit_page",
            json!({"profileId": id, "tenant": "acme", "filter": {}, "after": "garbage"}),
        )
        .unwrap_err();
    assert_eq!(kind(err), "invalid_input");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bypassing_login_is_shown_and_refused_until_acknowledged() {
    let db = TestDb::demo().await;
    let app = app();
    let id = app.save_profile(&db, "su", "postgres", json!({}));

    let session = app
        .invoke(
            "session_connect",
            json!({"profileId": id, "allowBypass": false}),
        )
        .unwrap();
    assert!(session["bypass_reasons"][0]
        .as_str()
        .unwrap()
        .contains("superuser"));
    assert_eq!(session["bypass_accepted"], false);
    let err = app
        .invoke("members_page", json!({"profileId": id, "tenant": "acme"}))
        .unwrap_err();
    assert_eq!(kind(err), "isolation_not_enforced");
    // The tenant list too: the door refuses it, not the UI.
    let err = app
        .invoke("tenants_search", json!({"profileId": id}))
        .unwrap_err();
    assert_eq!(kind(err), "isolation_not_enforced");

    let session = app
        .invoke(
            "session_connect",
            json!({"profileId": id, "allowBypass": true}),
        )
        .unwrap();
    assert_eq!(session["bypass_accepted"], true);
    let members = app
        .invoke("members_page", json!({"profileId": id, "tenant": "acme"}))
        .unwrap();
    assert_eq!(members["items"].as_array().unwrap().len(), 12);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_profile_that_requires_reasons_records_them_and_refuses_without() {
    let db = TestDb::demo().await;
    let app = app();
    let id = app.save_profile(
        &db,
        "strict",
        "console_reader",
        json!({"access_reason": "required"}),
    );
    app.invoke(
        "session_connect",
        json!({"profileId": id, "allowBypass": false}),
    )
    .unwrap();

    let err = app
        .invoke("tenant_open", json!({"profileId": id, "tenant": "initech"}))
        .unwrap_err();
    assert_eq!(kind(err), "reason_required");

    let opened = app
        .invoke(
            "tenant_open",
            json!({"profileId": id, "tenant": "initech",
                   "reason": {"category": "support-ticket", "detail": "ZD-4242"}}),
        )
        .unwrap();
    assert_eq!(opened["recorded"], "yes");
    let history = app
        .invoke(
            "access_history",
            json!({"profileId": id, "tenant": "initech"}),
        )
        .unwrap();
    assert_eq!(history["items"][0]["detail"], "ZD-4242");
    assert_eq!(history["items"][0]["category"], "support-ticket");
    assert_eq!(history["items"][0]["db_user"], "console_reader");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reason_sent_over_the_ipc_is_checked_at_the_door_and_a_hostile_one_records_nothing() {
    let db = TestDb::demo().await;
    let app = app();
    let id = app.save_profile(
        &db,
        "strict-ipc",
        "console_reader",
        json!({"access_reason": "required"}),
    );
    app.invoke(
        "session_connect",
        json!({"profileId": id, "allowBypass": false}),
    )
    .unwrap();
    let records = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM support_access_log")
            .fetch_one(&db.admin)
            .await
            .unwrap()
    };
    let before = records().await;
    let four_mb = "z".repeat(4 << 20);
    for detail in [
        "",
        " ",
        "\u{1}",
        "\u{1b}[2J",
        "\u{202E}4242-DZ",
        "\u{200B}",
        four_mb.as_str(),
    ] {
        // Every command takes the reason as the core's AccessReason, which serde can only make through its
        // one checking constructor: tenant_open stands for them all here.
        let reason = json!({"category": "support-ticket", "detail": detail});
        let refused = app.invoke(
            "tenant_open",
            json!({"profileId": id, "tenant": "initech", "reason": reason}),
        );
        assert!(
            refused.is_err(),
            "tenant_open took the detail {:?}",
            detail.chars().take(20).collect::<String>()
        );
    }
    assert_eq!(records().await, before, "no hostile reason was recorded");
}

/// A password typed for this session, or stored, goes only to the server it was given for: a script in the
/// window that re-points the profile at its own server (one that asks for the password in clear text) and
/// connects again gets nothing; the window asks for the password instead.
#[tokio::test(flavor = "multi_thread")]
async fn a_typed_or_stored_password_never_follows_a_re_pointed_profile() {
    let db = TestDb::demo().await;
    let trap = tenant_console_dev::testing::PasswordTrap::start();
    let app = app();
    // Typed for this session only (no password stored).
    let saved = app
        .invoke(
            "profiles_save",
            json!({"profile": {"name": "typed", "host": "127.0.0.1", "port": port(), "database": db.name,
                                "user": "console_reader", "tls": "disable"}}),
        )
        .unwrap();
    let typed_id = saved["id"].as_str().unwrap().to_owned();
    app.invoke(
        "session_connect",
        json!({"profileId": typed_id, "password": "typed-secret", "allowBypass": false}),
    )
    .unwrap();
    // Stored in the keyring.
    let stored_id = app.save_profile(&db, "stored", "console_reader", json!({}));
    for id in [&typed_id, &stored_id] {
        app.invoke(
            "profiles_save",
            json!({"profile": {"id": id, "host": "127.0.0.1", "port": trap.port}}),
        )
        .unwrap();
        let err = app
            .invoke(
                "session_connect",
                json!({"profileId": id, "allowBypass": false}),
            )
            .unwrap_err();
        assert_eq!(kind(err), "secret_missing");
        // A test of the form pointed there does not send it either.
        let err = app.invoke("profiles_test", json!({"id": id})).unwrap_err();
        assert!(matches!(
            kind(err).as_str(),
            "secret_missing" | "invalid_input"
        ));
    }
    assert_eq!(
        trap.received(),
        Vec::<String>::new(),
        "no password reached the other server"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_profile_form_with_bad_fields_is_refused_with_a_reason() {
    let app = app();
    let err = app
        .invoke(
            "profiles_save",
            json!({"profile": {"name": "bad name!", "host": "h", "port": 5432, "database": "d", "user": "u"}}),
        )
        .unwrap_err();
    assert_eq!(kind(err.clone()), "invalid_input");
    assert!(err["message"].as_str().unwrap().contains("profile name"));
    let err = app
        .invoke(
            "profiles_save",
            json!({"profile": {"name": "p", "host": "h", "port": "not a port", "database": "d", "user": "u"}}),
        )
        .unwrap_err();
    assert_eq!(kind(err), "invalid_input");
}

/// A script in the webview calling the IPC directly, without opening the tenant with a reason: every tenant
/// read is refused by the core's door, and nothing is read or recorded.
#[tokio::test(flavor = "multi_thread")]
async fn under_required_reasons_no_command_reads_a_tenant_that_was_not_opened_with_one() {
    let db = TestDb::demo().await;
    let app = app();
    let id = app.save_profile(
        &db,
        "strict",
        "console_reader",
        json!({"access_reason": "required"}),
    );
    app.invoke(
        "session_connect",
        json!({"profileId": id, "allowBypass": false}),
    )
    .unwrap();
    let records = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM support_access_log")
            .fetch_one(&db.admin)
            .await
            .unwrap()
    };
    let before = records().await;
    let target = app.saves.join("globex.csv");
    let destination = app
        .invoke("export_destination", json!({"suggestedName": "globex.csv"}))
        .unwrap();
    let refused = |tenant: &str| {
        let t = json!(tenant);
        vec![
            ("members_page", json!({"profileId": id, "tenant": t})),
            ("roles_list", json!({"profileId": id, "tenant": t})),
            (
                "audit_page",
                json!({"profileId": id, "tenant": t, "filter": {}}),
            ),
            (
                "audit_count",
                json!({"profileId": id, "tenant": t, "filter": {}}),
            ),
            ("access_history", json!({"profileId": id, "tenant": t})),
        ]
    };
    for (cmd, args) in refused("globex") {
        let err = app.invoke(cmd, args).unwrap_err();
        assert_eq!(kind(err), "reason_required", "{cmd}");
    }
    let err = app
        .invoke(
            "audit_export",
            json!({"profileId": id, "tenant": "globex", "exportId": "x1", "destination": destination["token"],
                   "filter": {}, "options": {"bom": false}, "onProgress": "__CHANNEL__:1"}),
        )
        .unwrap_err();
    assert_eq!(kind(err), "reason_required");
    assert!(!target.exists());
    let ids: Vec<String> = db
        .tenant_ids()
        .await
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    let stats = app
        .invoke("tenants_stats", json!({"profileId": id, "tenants": ids}))
        .unwrap();
    assert_eq!(
        stats.as_array().unwrap().len(),
        0,
        "stats of tenants never opened"
    );
    assert_eq!(
        records().await,
        before,
        "nothing may be recorded for refused reads"
    );

    // Opening initech with a reason grants initech, and only initech.
    let opened = app
        .invoke(
            "tenant_open",
            json!({"profileId": id, "tenant": "initech",
                   "reason": {"category": "incident", "detail": "INC-7"}}),
        )
        .unwrap();
    assert_eq!(opened["grant_seconds"], 30 * 60);
    for (cmd, args) in refused("initech") {
        app.invoke(cmd, args)
            .unwrap_or_else(|e| panic!("{cmd} after opening: {e}"));
    }
    for (cmd, args) in refused("globex") {
        assert_eq!(
            kind(app.invoke(cmd, args).unwrap_err()),
            "reason_required",
            "{cmd}"
        );
    }
    assert_eq!(
        records().await,
        before + 1,
        "one record per grant, not per page"
    );
}

/// The page names no file to write: audit_export takes a token from the save dialog, once; a path sent by a
/// script is never written (here: over a file the user's shell reads at start), and show_in_folder takes an
/// export id, not a path.
#[tokio::test(flavor = "multi_thread")]
async fn a_path_from_the_page_is_never_written() {
    let db = TestDb::demo().await;
    let app = app();
    let id = app.save_profile(&db, "demo", "console_reader", json!({}));
    app.invoke(
        "session_connect",
        json!({"profileId": id, "allowBypass": false}),
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let bashrc = home.path().join(".bashrc");
    std::fs::write(&bashrc, "# the user's shell start-up\n").unwrap();
    let export = |destination: Value, export_id: &str| {
        app.invoke(
            "audit_export",
            json!({"profileId": id, "tenant": "acme", "exportId": export_id, "destination": destination,
                   "path": bashrc, "filter": {}, "options": {"bom": false, "overwrite": true, "columns": ["action"]},
                   "onProgress": "__CHANNEL__:2"}),
        )
    };
    for forged in [json!(bashrc), json!("not-a-token")] {
        let err = export(forged.clone(), "x").unwrap_err();
        assert_eq!(kind(err), "invalid_input", "{forged}");
    }
    // No destination at all: tauri refuses the arguments before the command runs.
    export(json!(null), "x").unwrap_err();
    assert_eq!(
        std::fs::read_to_string(&bashrc).unwrap(),
        "# the user's shell start-up\n"
    );

    // A suggested name cannot climb out of the folder the dialog chose.
    let d = app
        .invoke(
            "export_destination",
            json!({"suggestedName": "../../.bashrc"}),
        )
        .unwrap();
    assert_eq!(d["file_name"], "bashrc");
    assert_eq!(d["folder"], app.saves.display().to_string());
    let summary = export(d["token"].clone(), "e1").unwrap();
    assert_eq!(
        summary["path"],
        app.saves.join("bashrc").display().to_string()
    );
    // The app's export carries its evidence: a manifest beside it, signed with the keyring's key, that verifies.
    let manifest = app.saves.join("bashrc.manifest.json");
    assert_eq!(summary["manifest"], manifest.display().to_string());
    let key =
        tenant_console_core::signing::PublicKey::parse(summary["public_key"].as_str().unwrap())
            .unwrap();
    let v = tenant_console_core::export::verify(
        &app.saves.join("bashrc"),
        None,
        &[tenant_console_core::export::TrustedKey::new(
            key,
            "the key given",
        )],
    )
    .unwrap();
    assert!(v.ok, "{:?}", v.problems);
    // Each token is good for one export.
    assert_eq!(
        kind(export(d["token"].clone(), "e2").unwrap_err()),
        "invalid_input"
    );
    // Show in folder names the export, not a path.
    let err = app
        .invoke(
            "show_in_folder",
            json!({"exportId": "no-such-export", "path": "/etc"}),
        )
        .unwrap_err();
    assert_eq!(kind(err), "invalid_input");
}

/// "Verify a file" in the app: this session's export by its id, or a file (or its manifest) chosen in the open
/// dialog; the keyring's key shown; a flipped byte, another key and a closed dialog each said as such; the
/// range counted again through the connected profile's door.
#[tokio::test(flavor = "multi_thread")]
async fn the_app_verifies_an_export_and_says_what_is_wrong() {
    let db = TestDb::demo().await;
    let app = app();
    let id = app.save_profile(&db, "demo", "console_reader", json!({}));
    app.invoke(
        "session_connect",
        json!({"profileId": id, "allowBypass": false}),
    )
    .unwrap();
    let d = app
        .invoke("export_destination", json!({"suggestedName": "acme.csv"}))
        .unwrap();
    let summary = app
        .invoke(
            "audit_export",
            json!({"profileId": id, "tenant": "acme", "exportId": "e1", "destination": d["token"],
                   "filter": {}, "options": {"bom": false}, "onProgress": "__CHANNEL__:2"}),
        )
        .unwrap();
    let key = app.invoke("signing_key_show", json!({})).unwrap();
    assert_eq!(key["public_key"], summary["public_key"]);
    assert!(key["fingerprint"].as_str().unwrap().starts_with("SHA256:"));

    // This session's export, by id: verified against this machine's key, rows counted from the file.
    let v = app
        .invoke("verify_file", json!({"exportId": "e1"}))
        .unwrap();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["key_trusted"], true);
    assert_eq!(v["rows_counted"], summary["rows"]);
    assert_eq!(v["tenant"]["slug"], "acme");
    assert_eq!(v["checked_against"], summary["public_key"]);

    // Recounted in the tenant's scope through the profile's door: nothing changed.
    let v = app
        .invoke("verify_file", json!({"exportId": "e1", "recountOn": id}))
        .unwrap();
    assert_eq!(v["recount"]["difference"], 0, "{v}");
    assert_eq!(v["recount"]["rows_now"], summary["rows"]);

    // Chosen in the open dialog: the manifest stands for its file; a closed dialog is no answer, not an error.
    let file = app.saves.join("acme.csv");
    *app.chosen.lock().unwrap() = Some(app.saves.join("acme.csv.manifest.json"));
    let v = app.invoke("verify_file", json!({})).unwrap();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["file"], file.display().to_string());
    *app.chosen.lock().unwrap() = None;
    assert_eq!(app.invoke("verify_file", json!({})).unwrap(), Value::Null);

    // Another key: the signature is valid, but not by the key named.
    let other = "ed25519:AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let w = app
        .invoke(
            "verify_file",
            json!({"fileToken": v_token(&app), "publicKey": other}),
        )
        .unwrap();
    assert_eq!(w["ok"], false);
    assert_eq!(w["key_trusted"], false);
    assert!(
        w["problems"].to_string().contains("not with the key given"),
        "{w}"
    );
    assert_eq!(
        kind(
            app.invoke(
                "verify_file",
                json!({"exportId": "e1", "publicKey": "nonsense"})
            )
            .unwrap_err()
        ),
        "invalid_input"
    );

    // One flipped byte, and the same file verified again says so.
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 0x01;
    std::fs::write(&file, &bytes).unwrap();
    let v = app
        .invoke("verify_file", json!({"exportId": "e1"}))
        .unwrap();
    assert_eq!(v["ok"], false);
    assert!(v["problems"].to_string().contains("SHA-256"), "{v}");

    // Names only: an unknown export or token is refused; opening a file is by export id too.
    for (cmd, args) in [
        ("verify_file", json!({"exportId": "nope"})),
        ("verify_file", json!({"fileToken": "nope"})),
        (
            "open_export",
            json!({"exportId": "nope", "path": "/etc/passwd"}),
        ),
    ] {
        assert_eq!(
            kind(app.invoke(cmd, args).unwrap_err()),
            "invalid_input",
            "{cmd}"
        );
    }
}

/// A file token for the file the open dialog answers with now.
fn v_token(app: &App) -> String {
    let saved = app.chosen.lock().unwrap().clone();
    *app.chosen.lock().unwrap() = Some(app.saves.join("acme.csv"));
    let v = app.invoke("verify_file", json!({})).unwrap();
    *app.chosen.lock().unwrap() = saved;
    v["file_token"].as_str().unwrap().to_owned()
}

/// "Test connection" in the new-profile form tests what is typed, on the real server, and saves nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_profile_form_is_tested_before_it_is_saved_and_nothing_is_written() {
    let db = TestDb::demo().await;
    let app = app();
    let form = json!({"name": "draft", "host": "127.0.0.1", "port": port(), "database": db.name,
                      "user": "console_reader", "tls": "disable"});
    let report = app
        .invoke(
            "profiles_test_draft",
            json!({"profile": form, "password": READER_PASSWORD}),
        )
        .unwrap();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["login"]["user"], "console_reader");
    // What is typed is what is tested (this server trusts local logins: the database name tells).
    let mut elsewhere = form.clone();
    elsewhere["database"] = json!("no_such_database_here");
    let wrong = app
        .invoke(
            "profiles_test_draft",
            json!({"profile": elsewhere, "password": "not-it"}),
        )
        .unwrap();
    assert_eq!(wrong["ok"], false);
    assert_eq!(wrong["diagnosis"]["kind"], "database_missing", "{wrong}");
    assert!(
        !wrong.to_string().contains("not-it"),
        "the password came back: {wrong}"
    );
    // No password typed for a profile never saved: said, not guessed.
    assert_eq!(
        kind(
            app.invoke("profiles_test_draft", json!({"profile": form}))
                .unwrap_err()
        ),
        "invalid_input"
    );
    assert_eq!(app.invoke("profiles_list", json!({})).unwrap(), json!([]));

    // An edited profile is tested with its stored password only where that password was stored for: a form (or a
    // script) pointing the saved profile at another server gets no password sent there.
    let id = app.save_profile(&db, "saved", "console_reader", json!({}));
    let same = json!({"id": id, "name": "saved", "host": "127.0.0.1", "port": port(), "database": db.name,
                      "user": "console_reader", "tls": "disable"});
    let report = app
        .invoke("profiles_test_draft", json!({"profile": same}))
        .unwrap();
    assert_eq!(report["ok"], true, "{report}");
    let mut elsewhere = same.clone();
    elsewhere["host"] = json!("localhost");
    let err = app
        .invoke("profiles_test_draft", json!({"profile": elsewhere}))
        .unwrap_err();
    assert_eq!(kind(err.clone()), "invalid_input");
    assert!(
        err["message"].as_str().unwrap().contains("not sent"),
        "{err}"
    );
}

/// Every command the handler registers is declared in the build script's app manifest and allowed by the
/// window's capability, and the capability allows nothing else: no plugin command at all.
#[test]
fn the_acl_lists_exactly_the_apps_commands() {
    let names: Vec<&str> = tenant_console_app::commands::NAMES.to_vec();
    let build = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src-tauri/build.rs"))
        .unwrap();
    assert!(
        build.contains("include!(\"src/commands/names.rs\")"),
        "build.rs must declare the commands from the list commands::NAMES reads"
    );
    let cap: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src-tauri/capabilities/default.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut allowed: Vec<String> = cap["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .filter(|p| p != "core:event:default")
        .collect();
    allowed.sort();
    let mut expected: Vec<String> = names
        .iter()
        .map(|n| format!("allow-{}", n.replace('_', "-")))
        .collect();
    expected.sort();
    assert_eq!(allowed, expected);
    // And each name really is a registered command (an unknown one fails differently).
    let app = app();
    for name in names {
        // app_quit would end the (mock) app: it is in the handler list, which the compiler checks.
        if name == "app_quit" {
            continue;
        }
        if let Err(e) = app.invoke(name, json!({})) {
            let text = e.to_string();
            assert!(!text.contains("not found"), "{name}: {text}");
        }
    }
}

/// A profile whose password is a token: the app's long-lived pool runs the command again for a connection it
/// opens later, so a rotated token is picked up with nothing for the user to do. Against a private server with
/// password logins (the machine's own trusts loopback, where a password would prove nothing).
#[tokio::test(flavor = "multi_thread")]
async fn a_password_command_profile_keeps_working_after_its_token_rotates() {
    let (server, admin) =
        tenant_console_dev::testing::password_server("app", READER_PASSWORD, "app_token", "tok-a")
            .await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "tok-a\n").unwrap();
    let app = app();
    let saved = app
        .invoke(
            "profiles_save",
            json!({"profile": {"name": "iam", "host": "127.0.0.1", "port": server.port, "database": "app",
                                "user": "app_token", "tls": "disable",
                                "password_command": format!("cat '{}'", token.display())}}),
        )
        .unwrap();
    let id = saved["id"].as_str().unwrap().to_owned();
    app.invoke(
        "session_connect",
        json!({"profileId": id, "allowBypass": false}),
    )
    .unwrap();
    let page = |app: &App| app.invoke("tenants_search", json!({"profileId": id, "search": "acme"}));
    assert_eq!(page(&app).unwrap()["items"][0]["slug"], "acme");

    // The token rotates and the server closes what the pool had (an hour later, say).
    sqlx::query("ALTER ROLE app_token PASSWORD 'tok-b'")
        .execute(&admin)
        .await
        .unwrap();
    std::fs::write(&token, "tok-b\n").unwrap();
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'app_token'",
    )
    .execute(&admin)
    .await
    .unwrap();
    assert_eq!(
        page(&app).unwrap()["items"][0]["slug"],
        "acme",
        "the same session, a new token"
    );
    let listed = app.invoke("profiles_list", json!({})).unwrap();
    assert_eq!(
        listed[0]["password_stored"], false,
        "nothing stored for a token profile"
    );
}

/// The unsigned-manifest rule is the core's, the same as tenantctl's: with the keyring that keeps the signing
/// key unavailable, an export does not start (and the destination is kept) until an unsigned manifest is asked.
#[tokio::test(flavor = "multi_thread")]
async fn without_a_signing_key_an_export_waits_for_an_unsigned_manifest_to_be_asked() {
    let db = TestDb::demo().await;
    let app = app_with(Err(tenant_console_core::secret::SecretError::Unavailable));
    let saved = app
        .invoke(
            "profiles_save",
            json!({"profile": {"name": "nokeyring", "host": "127.0.0.1", "port": port(), "database": db.name,
                                "user": "console_reader", "tls": "disable"}}),
        )
        .unwrap();
    let id = saved["id"].as_str().unwrap().to_owned();
    app.invoke(
        "session_connect",
        json!({"profileId": id, "password": READER_PASSWORD, "allowBypass": false}),
    )
    .unwrap();
    let d = app
        .invoke("export_destination", json!({"suggestedName": "acme.csv"}))
        .unwrap();
    let export = |unsigned: bool| {
        app.invoke(
            "audit_export",
            json!({"profileId": id, "tenant": "acme", "exportId": format!("u{unsigned}"), "destination": d["token"],
                   "filter": {}, "options": {"bom": false, "unsigned": unsigned}, "onProgress": "__CHANNEL__:2"}),
        )
    };
    let err = export(false).unwrap_err();
    assert_eq!(kind(err.clone()), "signing_key_unavailable", "{err}");
    assert!(!app.saves.join("acme.csv").exists());
    let summary = export(true).expect("the same destination, an unsigned manifest asked for");
    assert_eq!(summary["signed_by"], Value::Null);
    assert!(app.saves.join("acme.csv.manifest.json").is_file());
}

/// Consent and masking through the app's commands, on a real server: a tenant that requires its approval is
/// refused (`consent_required`) until the application writes one, `access_request` and `access_status` say where
/// the login stands, the open tenant carries its approval; a column the login may not read comes back null and
/// named in `masked_columns`.
#[tokio::test(flavor = "multi_thread")]
async fn consent_and_masked_columns_reach_the_page_through_the_commands() {
    let db = TestDb::demo().await;
    sqlx::raw_sql(
        "UPDATE tenants SET support_consent = 'required' WHERE slug = 'globex';
         REVOKE SELECT ON users FROM console_reader;
         GRANT SELECT (id, display_name, created_at) ON users TO console_reader;",
    )
    .execute(&db.admin)
    .await
    .unwrap();
    let app = app();
    let id = app.save_profile(&db, "demo", "console_reader", json!({}));
    app.invoke(
        "session_connect",
        json!({"profileId": id, "allowBypass": false}),
    )
    .unwrap();

    let tenants = app
        .invoke(
            "tenants_search",
            json!({"profileId": id, "search": "globex"}),
        )
        .unwrap();
    assert_eq!(tenants["items"][0]["consent_required"], true);
    let err = app
        .invoke("tenant_open", json!({"profileId": id, "tenant": "globex"}))
        .unwrap_err();
    assert_eq!(kind(err), "consent_required");
    let err = app
        .invoke("members_page", json!({"profileId": id, "tenant": "globex"}))
        .unwrap_err();
    assert_eq!(kind(err), "consent_required");

    let asked = app
        .invoke(
            "access_request",
            json!({"profileId": id, "tenant": "globex", "minutes": 30, "scope": "read",
                   "reason": {"category": "support-ticket", "detail": "ZD-31"}}),
        )
        .unwrap();
    assert_eq!(asked["request"]["minutes"], 30);
    let st = app
        .invoke(
            "access_status",
            json!({"profileId": id, "tenant": "globex"}),
        )
        .unwrap();
    assert_eq!(st["state"], "pending");

    sqlx::raw_sql(
        "SET ROLE tenant_app;
         INSERT INTO support_access_approvals (tenant_id, request_id, grantee, approved_by, expires_at)
         SELECT tenant_id, id, 'console_reader', 'ops@globex.example', now() + interval '30 minutes'
           FROM support_access_requests ORDER BY id DESC LIMIT 1;
         RESET ROLE;",
    )
    .execute(&db.admin)
    .await
    .unwrap();
    let st = app
        .invoke(
            "access_status",
            json!({"profileId": id, "tenant": "globex"}),
        )
        .unwrap();
    assert_eq!(st["state"], "approved");
    let opened = app
        .invoke("tenant_open", json!({"profileId": id, "tenant": "globex"}))
        .unwrap();
    assert_eq!(opened["approval"]["approved_by"], "ops@globex.example");
    let members = app
        .invoke("members_page", json!({"profileId": id, "tenant": "globex"}))
        .unwrap();
    assert_eq!(members["masked_columns"], json!(["users.email"]));
    let items = members["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items
        .iter()
        .all(|m| m["email"].is_null() && m["name"].is_string()));
    let audit = app
        .invoke(
            "audit_page",
            json!({"profileId": id, "tenant": "globex", "filter": {}}),
        )
        .unwrap();
    assert!(audit["masked_columns"]
        .as_array()
        .unwrap()
        .contains(&json!("users.email")));
}

/// A fleet in the app: listed beside the profiles, opened (each shard asked), searched as one (each row
/// naming its shard), a tenant's shard found and connected as its profile within the fleet's budget (the shard
/// open before is closed), and checked shard by shard.
#[tokio::test(flavor = "multi_thread")]
async fn a_fleet_opens_is_searched_as_one_and_connects_one_shard_at_a_time() {
    let mut shards = Vec::new();
    for slugs in [&["north-1", "north-2"][..], &["south-1"][..]] {
        let db = TestDb::empty().await;
        for slug in slugs {
            sqlx::query("INSERT INTO tenants (slug, name) VALUES ($1, initcap($1))")
                .bind(slug)
                .execute(&db.admin)
                .await
                .unwrap();
        }
        shards.push(db);
    }
    let app = app();
    let north = app.save_profile(&shards[0], "north", "console_reader", json!({}));
    let south = app.save_profile(&shards[1], "south", "console_reader", json!({}));
    let store = ProfileStore::at(app._config.path().join("profiles.toml"));
    tenant_console_core::fleet::FleetStore::at(app._config.path().join("fleets.toml"))
        .save(
            &tenant_console_core::fleet::Fleet {
                name: "world".into(),
                profiles: vec!["north".into(), "south".into()],
                max_connections: Some(6),
                directory: None,
            },
            &store,
        )
        .unwrap();

    let fleets = app.invoke("fleets_list", json!({})).unwrap();
    assert_eq!(fleets[0]["name"], "world");
    assert_eq!(fleets[0]["max_connections"], 6);
    assert_eq!(fleets[0]["shards"][1]["profile_id"], south.as_str());

    let closed = app
        .invoke("fleet_search", json!({"fleet": "world"}))
        .unwrap_err();
    assert_eq!(kind(closed), "not_connected");
    let opened = app.invoke("fleet_open", json!({"fleet": "world"})).unwrap();
    assert_eq!(opened["status"][0]["answered"], true);
    assert_eq!(opened["status"][1]["answered"], true);

    let page = app
        .invoke("fleet_search", json!({"fleet": "world", "search": "1"}))
        .unwrap();
    let rows: Vec<(String, String)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["slug"].as_str().unwrap().to_owned(),
                r["shard"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("north-1".to_owned(), "north".to_owned()),
            ("south-1".to_owned(), "south".to_owned())
        ]
    );
    let located = app
        .invoke("fleet_locate", json!({"fleet": "world", "key": "south-1"}))
        .unwrap();
    assert_eq!(located["shard"], "south");

    // The shard is connected as its profile, inside the fleet's budget, and reads as that profile.
    let session = app
        .invoke(
            "session_connect",
            json!({"profileId": south, "allowBypass": false, "fleet": "world"}),
        )
        .unwrap();
    assert_eq!(session["profile_name"], "south");
    let opened = app
        .invoke(
            "tenant_open",
            json!({"profileId": south, "tenant": "south-1"}),
        )
        .unwrap();
    assert_eq!(opened["tenant"]["slug"], "south-1");
    // The other shard's tenants are not there.
    let elsewhere = app
        .invoke(
            "tenant_open",
            json!({"profileId": south, "tenant": "north-1"}),
        )
        .unwrap_err();
    assert_eq!(kind(elsewhere), "unknown_tenant");

    // Switching shards closes the one open before (one open shard per fleet).
    app.invoke(
        "session_connect",
        json!({"profileId": north, "allowBypass": false, "fleet": "world"}),
    )
    .unwrap();
    let gone = app
        .invoke("tenants_search", json!({"profileId": south}))
        .unwrap_err();
    assert_eq!(kind(gone), "not_connected");
    app.invoke(
        "tenant_open",
        json!({"profileId": north, "tenant": "north-2"}),
    )
    .unwrap();

    let check = app
        .invoke("fleet_check", json!({"fleet": "world", "probe": true}))
        .unwrap();
    assert_eq!(check["isolation_enforced"], true, "{check}");
    assert_eq!(check["shards"].as_array().unwrap().len(), 2);

    app.invoke("fleet_close", json!({})).unwrap();
    assert_eq!(
        kind(
            app.invoke("fleet_search", json!({"fleet": "world"}))
                .unwrap_err()
        ),
        "not_connected"
    );
    assert_eq!(
        kind(
            app.invoke("tenants_search", json!({"profileId": north}))
                .unwrap_err()
        ),
        "not_connected",
        "closing the fleet closes its open shard"
    );
}

/// The approvals watch is a LISTEN connection of its own: disconnecting the profile stops it, so no connection
/// outlives the session (in a fleet it is part of the open shard's share of the budget).
#[tokio::test(flavor = "multi_thread")]
async fn disconnecting_stops_the_approvals_watch_and_its_listen_connection() {
    let db = TestDb::empty().await;
    let app = app();
    let id = app.save_profile(&db, "watched", "console_reader", json!({}));
    app.invoke(
        "session_connect",
        json!({"profileId": id, "allowBypass": false}),
    )
    .unwrap();
    let live = app
        .invoke(
            "access_watch",
            json!({"profileId": id, "onChange": "__CHANNEL__:3"}),
        )
        .unwrap();
    assert_eq!(live, true);
    let listening = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%'",
        )
        .bind(&db.name)
        .fetch_one(&db.admin)
        .await
        .unwrap()
    };
    let until = |want: i64| async move {
        for _ in 0..100 {
            if listening().await == want {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        false
    };
    assert!(until(1).await, "the watch listens");
    app.invoke("session_disconnect", json!({"profileId": id}))
        .unwrap();
    assert!(until(0).await, "the LISTEN connection outlived the session");
}
