//! The isolation check panel.

use tauri::State;
use tenant_console_core::isolation::{self, CheckOptions, Report};

use crate::error::CmdResult;
use crate::state::AppState;

/// Runs the isolation check (with the live probe when asked) for a connected profile, with the findings the
/// profile accepted.
#[tauri::command]
pub async fn isolation_check(
    state: State<'_, AppState>,
    profile_id: String,
    probe: bool,
    tenant: Option<String>,
) -> CmdResult<Report> {
    let door = state.door(&profile_id)?;
    let accepted = state.store.get(&profile_id)?.accepted_findings;
    let opts = CheckOptions {
        probe,
        tenant: tenant.filter(|t| !t.is_empty()),
        sample: 3,
        accepted,
    };
    Ok(isolation::check(door.db(), &opts).await?)
}
