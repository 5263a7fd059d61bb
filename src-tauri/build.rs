/// The app's own commands. Declared here, each gets an `allow-<command>` permission, and the webview may call
/// only those its capability lists (`src-tauri/capabilities/default.json`); without an app manifest Tauri would
/// let the page call every command. Keep in step with `commands::handler` (a test compares the two).
pub const COMMANDS: &[&str] = &[
    "app_info",
    "app_ready",
    "profiles_list",
    "profiles_save",
    "profiles_remove",
    "profiles_test",
    "session_connect",
    "session_disconnect",
    "tenants_search",
    "tenants_stats",
    "tenant_open",
    "members_page",
    "roles_list",
    "audit_page",
    "audit_count",
    "access_history",
    "isolation_check",
    "export_destination",
    "audit_export",
    "audit_export_cancel",
    "show_in_folder",
];

fn main() {
    // tauri.conf.json sits at the top of the repository (beside the package's Cargo.toml); the capabilities
    // live under src-tauri/ with the rest of the app's code.
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes).expect("tauri build script");
}
