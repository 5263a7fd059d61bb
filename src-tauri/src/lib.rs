//! The Tenant Console desktop app: Tauri commands over the core, app state, events.
//!
//! - [`commands`]: one short function per action; typed arguments in, one core call, a serialisable error out.
//! - [`state`]: the profile store, the keyring, and one connected [`tenant_console_core::Db`] per profile.
//! - [`error`]: the IPC error, `{ "kind": ..., "message": ... }`, so the UI can branch on `kind`.
//!
//! No SQL, keyring or formatting here: all of it lives in the core.

pub mod commands;
pub mod error;
pub mod state;

/// Builds the app (shared by `main` and the tests, which run it on tauri's mock runtime).
pub fn builder<R: tauri::Runtime>(state: state::AppState) -> tauri::Builder<R> {
    tauri::Builder::<R>::new()
        .plugin(tauri_plugin_dialog::init())
        .manage(state)
        .invoke_handler(commands::handler())
}

/// Runs the app.
pub fn run() {
    let _log = state::init_logging();
    let state = match state::AppState::from_environment() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tenant-console: cannot start: {e}");
            std::process::exit(1);
        }
    };
    builder::<tauri::Wry>(state)
        .run(tauri::generate_context!("tauri.conf.json"))
        .expect("error while running Tenant Console");
}
