//! The export dialog: audit CSV export with progress through a channel, cancel, and "show in folder".

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::Deserialize;
use tauri::ipc::Channel;
use tauri::State;
use tenant_console_core::access::AccessReason;
use tenant_console_core::audit::AuditFilter;
use tenant_console_core::export::{self, Column, ExportOptions, ExportSummary, Progress};

use crate::error::{CmdResult, IpcError};
use crate::state::AppState;

/// The dialog's options.
#[derive(Deserialize)]
pub struct ExportDialogOptions {
    pub columns: Option<Vec<Column>>,
    pub tz: Option<String>,
    #[serde(default)]
    pub bom: bool,
    #[serde(default)]
    pub overwrite: bool,
}

#[allow(clippy::too_many_arguments)]
#[tauri::command]
pub async fn audit_export(
    state: State<'_, AppState>,
    profile_id: String,
    tenant: String,
    export_id: String,
    path: PathBuf,
    filter: AuditFilter,
    options: ExportDialogOptions,
    reason: Option<AccessReason>,
    on_progress: Channel<Progress>,
) -> CmdResult<ExportSummary> {
    if !path.is_absolute() {
        return Err(IpcError::new(
            "invalid_input",
            "choose where to save the file (an absolute path)",
        ));
    }
    let door = state.door(&profile_id)?;
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
        overwrite: options.overwrite,
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
    Ok(result?)
}

#[tauri::command]
pub fn audit_export_cancel(state: State<'_, AppState>, export_id: String) {
    if let Some(flag) = state.exports.lock().expect("not poisoned").get(&export_id) {
        flag.store(true, Ordering::Relaxed);
    }
}

/// Opens the file manager at the exported file.
#[tauri::command]
pub fn show_in_folder(path: PathBuf) -> CmdResult<()> {
    tauri_plugin_opener::reveal_item_in_dir(&path).map_err(|e| {
        IpcError::new(
            "io",
            format!("cannot show {} in its folder: {e}", path.display()),
        )
    })
}
