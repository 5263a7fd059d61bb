//! The Tenant Console desktop app: Tauri commands over the core, app state, events.
//!
//! - [`commands`]: one short function per action; typed arguments in, one core call, a serialisable error out.
//! - [`state`]: the profile store, the keyring, and one connected [`tenant_console_core::Db`] per profile.
//! - [`error`]: the IPC error, `{ "kind": ..., "message": ... }`, so the UI can branch on `kind`.
//! - `ipc_types` (tests): the page's types (`ui/ipc.d.ts`) and error kinds (`ui/error-kinds.js`), generated from
//!   the Rust types and checked to be current.
//!
//! No SQL, keyring or formatting here: all of it lives in the core.

pub mod commands;
pub mod error;
#[cfg(test)]
mod ipc_types;
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
/// Whether WebKitGTK should draw the window without accelerated compositing: yes, unless the user asked for the
/// GPU path (`TENANT_CONSOLE_GPU=1`) or already said either way with WebKitGTK's own variable. A console of
/// tables and forms gains nothing visible from the GPU path, which costs about 100 MiB (the GL stack mapped and
/// initialised in the web process: idle PSS 333 MiB with it, 227 without, `benches/app.sh`) and is the usual
/// cause of blank WebKitGTK windows on some drivers. macOS and Windows are not concerned (WKWebView, WebView2).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn software_compositing(gpu: Option<&std::ffi::OsStr>, webkit: Option<&std::ffi::OsStr>) -> bool {
    webkit.is_none() && gpu.is_none_or(|v| v != "1")
}

pub fn run() {
    // First, while no other thread runs: the environment is read by WebKitGTK when the window is made.
    #[cfg(target_os = "linux")]
    if software_compositing(
        std::env::var_os("TENANT_CONSOLE_GPU").as_deref(),
        std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").as_deref(),
    ) {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
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

#[cfg(test)]
mod compositing_tests {
    use std::ffi::OsStr;

    /// Software compositing by default; the GPU path when asked for; WebKitGTK's own variable, set either way
    /// by the user, is left as it is.
    #[test]
    fn the_window_is_drawn_in_software_unless_the_user_says_otherwise() {
        assert!(super::software_compositing(None, None));
        assert!(super::software_compositing(Some(OsStr::new("0")), None));
        assert!(!super::software_compositing(Some(OsStr::new("1")), None));
        assert!(!super::software_compositing(None, Some(OsStr::new("0"))));
        assert!(!super::software_compositing(None, Some(OsStr::new("1"))));
    }
}
