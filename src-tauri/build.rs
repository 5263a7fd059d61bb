/// The app's own commands. Declared here, each gets an `allow-<command>` permission, and the webview may call
/// only those its capability lists (`src-tauri/capabilities/default.json`); without an app manifest Tauri would
/// let the page call every command. The list is shared with `commands::NAMES`.
pub const COMMANDS: &[&str] = include!("src/commands/names.rs");

fn main() {
    // tauri.conf.json sits at the top of the repository (beside the package's Cargo.toml); the capabilities
    // live under src-tauri/ with the rest of the app's code.
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes).expect("tauri build script");
}
