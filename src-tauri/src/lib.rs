//! The Tenant Console desktop app: Tauri commands over the core, app state, events.
//!
//! - [`commands`]: one short function per action; typed arguments in, one core call, a serialisable error out.
//! - [`state`]: the profile store, the keyring, and one connected [`tenant_console_core::Db`] per profile.
//! - [`error`]: the IPC error, `{ "kind": ..., "message": ... }`, so the UI can branch on `kind`.
//!
//! No SQL, keyring or formatting here: all of it lives in the core.

pub mod commands;
pub mod error;
pub mod logs;
pub mod state;

static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// When the process started (as near as `main` can tell), for the start-up measurement.
pub fn started() -> std::time::Instant {
    *STARTED.get_or_init(std::time::Instant::now)
}

/// Adds the app's plugins, state and commands to a builder (the real one in `run`, tauri's mock runtime in tests).
pub fn setup<R: tauri::Runtime>(
    builder: tauri::Builder<R>,
    state: state::AppState,
) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_dialog::init())
        .manage(state)
        .invoke_handler(commands::handler())
}

/// Runs the app.
pub fn run() {
    started();
    // Before any secret is read: no core file may hold one.
    tenant_console_core::harden::no_core_dumps();
    let _log = state::init_logging();
    let state = match state::AppState::from_environment() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tenant-console: cannot start: {e}");
            std::process::exit(1);
        }
    };
    setup(tauri::Builder::default(), state)
        .run(tauri::generate_context!("tauri.conf.json"))
        .expect("error while running Tenant Console");
}
