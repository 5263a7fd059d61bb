fn main() {
    // tauri.conf.json sits at the top of the repository (beside the package's Cargo.toml); the capabilities
    // live under src-tauri/ with the rest of the app's code.
    let attributes =
        tauri_build::Attributes::new().capabilities_path_pattern("src-tauri/capabilities/**/*");
    tauri_build::try_build(attributes).expect("tauri build script");
}
