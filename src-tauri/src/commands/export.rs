//! The export dialog: where to save (the native save dialog, opened here, never a path from the page), audit CSV
//! export with progress through a channel, cancel, and "show in folder" for a finished export.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::State;
use tenant_console_core::access::AccessReason;
use tenant_console_core::audit::AuditFilter;
use tenant_console_core::export::{self, Column, ExportOptions, ExportSummary, Progress};

use crate::error::{CmdResult, IpcError};
use crate::state::AppState;

/// The dialog's options.
#[derive(Deserialize, ts_rs::TS)]
// What is left out takes its default: every column, UTC, no BOM, signed.
#[ts(optional_fields = nullable)]
pub struct ExportDialogOptions {
    pub columns: Option<Vec<Column>>,
    pub tz: Option<String>,
    #[serde(default)]
    pub bom: bool,
    /// Write the manifest unsigned when the keyring that keeps the signing key is locked (asked, never silent).
    #[serde(default)]
    pub unsigned: bool,
}

/// Where the user chose to save: a token that stands for the path (the page never holds a path it could
/// change), and the name and folder to show.
#[derive(Serialize, ts_rs::TS)]
pub struct Destination {
    pub token: String,
    pub file_name: String,
    pub folder: String,
}

/// The save dialog's title (the end-to-end test finds the dialog's window by it).
pub const SAVE_DIALOG_TITLE: &str = "Save the audit export";

/// Opens the native save dialog. The page suggests a file name only (no folder, no separators); the chosen
/// path stays on the Rust side behind a one-time token. Replacing an existing file is the dialog's own question.
#[tauri::command]
pub async fn export_destination<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    suggested_name: Option<String>,
) -> CmdResult<Option<Destination>> {
    let name = suggested_file_name(suggested_name.as_deref());
    let chosen = match state.save_picker() {
        Some(pick) => pick(&name),
        None => {
            use tauri_plugin_dialog::DialogExt;
            let (tx, rx) = tokio::sync::oneshot::channel();
            app.dialog()
                .file()
                .set_title(SAVE_DIALOG_TITLE)
                .set_file_name(&name)
                .add_filter(
                    "Audit export (CSV, JSON lines, gzip)",
                    &["csv", "jsonl", "gz"],
                )
                .save_file(move |p| {
                    let _ = tx.send(p.and_then(|p| p.into_path().ok()));
                });
            rx.await.ok().flatten()
        }
    };
    let Some(path) = chosen else {
        return Ok(None);
    };
    if !path.is_absolute() {
        return Err(IpcError::new(
            "invalid_input",
            "the save dialog returned a relative path",
        ));
    }
    let destination = Destination {
        token: uuid::Uuid::new_v4().to_string(),
        file_name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        folder: path
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    };
    state.remember_destination(&destination.token, path);
    Ok(Some(destination))
}

/// A plain file name from the page's suggestion: its last component, no control characters, `.csv` kept.
fn suggested_file_name(suggested: Option<&str>) -> String {
    let base = suggested
        .and_then(|s| s.rsplit(['/', '\\']).next())
        .map(|s| {
            s.chars()
                .filter(|c| !c.is_control())
                .take(120)
                .collect::<String>()
        })
        .map(|s| s.trim().trim_start_matches('.').to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "audit.csv".into());
    base
}

#[allow(clippy::too_many_arguments)]
#[tauri::command]
pub async fn audit_export(
    state: State<'_, AppState>,
    profile_id: String,
    tenant: String,
    export_id: String,
    destination: String,
    filter: AuditFilter,
    options: ExportDialogOptions,
    reason: Option<AccessReason>,
    on_progress: Channel<Progress>,
) -> CmdResult<ExportSummary> {
    let door = state.door(&profile_id)?;
    // The manifest's signing key first (the core's rule, tenantctl's too): unsigned only when the user asked,
    // and the destination token is kept for that second try.
    let unavailable = tenant_console_core::secret::SecretError::Unavailable;
    let secrets = match state.secrets() {
        Ok(s) => Ok(s),
        Err(_) => Err(&unavailable),
    };
    let signer = export::manifest_signer(secrets, options.unsigned).await?;
    // The path comes from the save dialog through its token, once; never from the page.
    let path = state.take_destination(&destination).ok_or_else(|| {
        IpcError::new(
            "invalid_input",
            "choose where to save the file first (Choose…): the destination is not known or was used",
        )
    })?;
    let tz = match options.tz.as_deref() {
        None | Some("") => chrono_tz::UTC,
        Some(name) => name
            .parse()
            .map_err(|_| IpcError::new("invalid_input", format!("unknown time zone {name:?}")))?,
    };

    let opts = ExportOptions {
        filter,
        columns: options.columns.unwrap_or_else(|| Column::ALL.to_vec()),
        tz,
        bom: options.bom,
        // Taken from the file's name by the export (acme.csv, acme.jsonl, either with .gz).
        format: Default::default(),
        compression: None,
        // The save dialog asked before a file was replaced.
        overwrite: true,
        jobs: tenant_console_core::export::default_jobs(),
        spool_dir: None,
        signer,
        manifest: None,
    };
    let cancel = Arc::new(AtomicBool::new(false));
    state
        .exports
        .lock()
        .expect("not poisoned")
        .insert(export_id.clone(), cancel.clone());
    let result = export::export_to_path(
        &door,
        &tenant,
        &opts,
        reason.as_ref(),
        &path,
        &cancel,
        |p| {
            let _ = on_progress.send(p);
        },
    )
    .await;
    state
        .exports
        .lock()
        .expect("not poisoned")
        .remove(&export_id);
    let summary = result?;
    state.remember_finished(&export_id, path);
    Ok(summary)
}

#[tauri::command]
pub fn audit_export_cancel(state: State<'_, AppState>, export_id: String) {
    if let Some(flag) = state.exports.lock().expect("not poisoned").get(&export_id) {
        flag.store(true, Ordering::Relaxed);
    }
}

/// Opens the file manager at a file this session exported (named by its export id, never by a path).
#[tauri::command]
pub fn show_in_folder(state: State<'_, AppState>, export_id: String) -> CmdResult<()> {
    let path = state
        .finished(&export_id)
        .ok_or_else(|| IpcError::new("invalid_input", "no finished export has that id"))?;
    tauri_plugin_opener::reveal_item_in_dir(&path).map_err(|e| desktop_error("show the folder", &e))
}

/// Opens a file this session exported with the desktop's default application (named by its export id).
#[tauri::command]
pub fn open_export(state: State<'_, AppState>, export_id: String) -> CmdResult<()> {
    let path = state
        .finished(&export_id)
        .ok_or_else(|| IpcError::new("invalid_input", "no finished export has that id"))?;
    tauri_plugin_opener::open_path(&path, None::<&str>)
        .map_err(|e| desktop_error("open the file", &e))
}

/// Opens today's log file with the desktop's default application (what "the log has the details" points to).
#[tauri::command]
pub fn open_log() -> CmdResult<()> {
    let path = crate::logs::log_file()
        .filter(|p| p.exists())
        .ok_or_else(|| IpcError::new("io", "the app has written no log today"))?;
    tauri_plugin_opener::open_path(&path, None::<&str>)
        .map_err(|e| desktop_error("open the log", &e))
}

/// A desktop that cannot open or show a file (no file manager, no portal, as on minimal desktops), in words:
/// the D-Bus or launcher message goes to the log, not to the user.
fn desktop_error(what: &str, e: &dyn std::fmt::Display) -> IpcError {
    tracing::warn!(error = %e, "cannot {what}");
    IpcError::new(
        crate::state::DESKTOP,
        format!("no file manager or desktop portal answered (asked to {what})"),
    )
}

/// The open dialog's title for "Verify a file" (the end-to-end test finds the dialog's window by it).
pub const VERIFY_DIALOG_TITLE: &str = "Choose an export to verify";

/// This machine's signing key, public half: what the auditor is given.
#[derive(Serialize, ts_rs::TS)]
pub struct SigningKeyInfo {
    pub public_key: String,
    pub fingerprint: String,
}

/// The public key that signs this machine's export manifests (made on first use, kept in the keyring only).
#[tauri::command]
pub async fn signing_key_show(state: State<'_, AppState>) -> CmdResult<SigningKeyInfo> {
    let key = tenant_console_core::signing::SigningIdentity::load_or_create(state.secrets()?)
        .await?
        .public_key();
    Ok(SigningKeyInfo {
        public_key: key.to_text(),
        fingerprint: key.fingerprint(),
    })
}

/// What "Verify a file" found: the core's verification of the file against its manifest, the key it was
/// checked against, and the recount in the tenant's scope when one was asked for.
#[derive(Serialize, ts_rs::TS)]
pub struct VerifyReport {
    #[serde(flatten)]
    pub verification: export::Verification,
    /// The key the signature had to be made with: the one pasted in the dialog, or this machine's own.
    pub checked_against: Option<String>,
    /// Names the file for another verification (with a recount) without the dialog again.
    pub file_token: String,
    pub recount: Option<export::Recount>,
}

/// Checks an export against its manifest, as `tenantctl verify` does: a file this session exported (by its
/// export id), one verified before (by its file token), or one chosen in the native open dialog (never a path
/// from the page). The manifest is the one
/// beside the file (choosing the manifest itself means its file). With `recount_on`, the manifest's range is
/// counted again through that connected profile's door (a tenant read: reason policy, record).
#[allow(clippy::too_many_arguments)]
#[tauri::command]
pub async fn verify_file<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    export_id: Option<String>,
    file_token: Option<String>,
    public_key: Option<String>,
    recount_on: Option<String>,
    reason: Option<AccessReason>,
) -> CmdResult<Option<VerifyReport>> {
    // Which keys are trusted is the core's rule, the same as tenantctl's.
    let trusted = export::trusted_keys(public_key.as_deref(), state.secrets().ok()).await?;
    let path = match (export_id, file_token) {
        (Some(id), _) => state
            .finished(&id)
            .ok_or_else(|| IpcError::new("invalid_input", "no finished export has that id"))?,
        (None, Some(token)) => state
            .verified(&token)
            .ok_or_else(|| IpcError::new("invalid_input", "no verified file has that token"))?,
        (None, None) => {
            let chosen = match state.open_picker() {
                Some(pick) => pick(),
                None => {
                    use tauri_plugin_dialog::DialogExt;
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    app.dialog()
                        .file()
                        .set_title(VERIFY_DIALOG_TITLE)
                        .add_filter(
                            "Audit export or its manifest",
                            &["csv", "jsonl", "gz", "json"],
                        )
                        .pick_file(move |p| {
                            let _ = tx.send(p.and_then(|p| p.into_path().ok()));
                        });
                    rx.await.ok().flatten()
                }
            };
            match chosen {
                Some(p) => data_file_of(p),
                None => return Ok(None),
            }
        }
    };
    let checked_against = (!trusted.is_empty()).then(|| {
        trusted
            .iter()
            .map(|k| k.key.to_text())
            .collect::<Vec<_>>()
            .join("; ")
    });
    let verification = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || export::verify(&path, None, &trusted))
            .await
            .map_err(|_| IpcError::new("io", "the verification stopped unexpectedly"))??
    };
    let recount = match recount_on {
        None => None,
        Some(profile_id) => {
            let door = state.door(&profile_id)?;
            let manifest = export::read_manifest(&verification.manifest)?;
            Some(export::recount(&door, &manifest, reason.as_ref()).await?)
        }
    };
    let file_token = uuid::Uuid::new_v4().to_string();
    state.remember_verified(&file_token, path);
    Ok(Some(VerifyReport {
        verification,
        checked_against,
        file_token,
        recount,
    }))
}

/// The export a chosen file stands for: the file itself, or the file beside a chosen `NAME.manifest.json`.
fn data_file_of(chosen: PathBuf) -> PathBuf {
    match chosen
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".manifest.json"))
    {
        Some(data) if !data.is_empty() => chosen.with_file_name(data),
        _ => chosen,
    }
}

#[cfg(test)]
mod tests {
    use super::{data_file_of, suggested_file_name};

    #[test]
    fn a_chosen_manifest_stands_for_its_file() {
        use std::path::PathBuf;
        assert_eq!(
            data_file_of(PathBuf::from("/x/a.csv.manifest.json")),
            PathBuf::from("/x/a.csv")
        );
        assert_eq!(
            data_file_of(PathBuf::from("/x/a.jsonl.gz")),
            PathBuf::from("/x/a.jsonl.gz")
        );
        assert_eq!(
            data_file_of(PathBuf::from("/x/.manifest.json")),
            PathBuf::from("/x/.manifest.json")
        );
    }

    #[test]
    fn a_suggested_name_is_a_plain_file_name() {
        assert_eq!(
            suggested_file_name(Some("acme-audit.csv")),
            "acme-audit.csv"
        );
        assert_eq!(suggested_file_name(Some("/root/.bashrc")), "bashrc");
        assert_eq!(suggested_file_name(Some("..\\..\\x.csv")), "x.csv");
        assert_eq!(suggested_file_name(Some("a\u{1b}[2Jb.csv")), "a[2Jb.csv");
        assert_eq!(suggested_file_name(Some("")), "audit.csv");
        assert_eq!(suggested_file_name(None), "audit.csv");
    }
}
