//! Profiles: list, save (password straight to the keyring), remove (with its password), test.

use secrecy::SecretString;
use serde::Serialize;
use tauri::State;
use tenant_console_core::db::{self, ConnectionReport};
use tenant_console_core::profile::Profile;

use crate::error::{CmdResult, IpcError};
use crate::state::AppState;

/// A profile as the UI sees it: never with a password, only whether one is stored.
#[derive(Serialize)]
pub struct ProfileView {
    #[serde(flatten)]
    pub profile: Profile,
    pub password_stored: bool,
}

#[tauri::command]
pub async fn profiles_list(state: State<'_, AppState>) -> CmdResult<Vec<ProfileView>> {
    let secrets = state.secrets().ok();
    let mut out = Vec::new();
    for profile in state.store.list()? {
        let password_stored = match secrets {
            Some(s) => s.get(&profile.id).await.is_ok(),
            None => false,
        };
        out.push(ProfileView {
            profile,
            password_stored,
        });
    }
    Ok(out)
}

#[tauri::command]
pub async fn profiles_save(
    state: State<'_, AppState>,
    profile: serde_json::Value,
    password: Option<String>,
) -> CmdResult<Profile> {
    let p = Profile::from_input(profile, &state.store)?;
    p.mapping()?;
    if let Some(pw) = password.filter(|p| !p.is_empty()) {
        state.secrets()?.set(&p.id, SecretString::from(pw)).await?;
    }
    state.store.save(&p)?;
    // A connected profile's door holds the old reason policy and connection settings: close it, so the next
    // connect uses what was saved (a stricter policy must never wait for a restart).
    if let Some(door) = state.drop_door(&p.id) {
        door.db().close().await;
    }
    Ok(p)
}

#[tauri::command]
pub async fn profiles_remove(state: State<'_, AppState>, id: String) -> CmdResult<()> {
    let removed = state.store.remove(&id)?;
    state.drop_door(&removed.id);
    state.secrets()?.delete(&removed.id).await?;
    Ok(())
}

/// Tests the profile form as it stands, before it is saved (nothing is written: not the profile, not the
/// password). The password is the one typed in the form, else, for an edited profile, the keyring's.
#[tauri::command]
pub async fn profiles_test_draft(
    state: State<'_, AppState>,
    profile: serde_json::Value,
    password: Option<String>,
) -> CmdResult<ConnectionReport> {
    let p = Profile::from_input(profile, &state.store)?;
    let mapping = p.mapping()?;
    let password = match password.filter(|p| !p.is_empty()) {
        Some(pw) => SecretString::from(pw),
        None => match state.store.get(&p.id) {
            Ok(saved) => state.secrets()?.get(&saved.id).await?,
            Err(_) => {
                return Err(IpcError::new(
                    "invalid_input",
                    "enter the password to test the connection (it is not kept until the profile is saved)",
                ))
            }
        },
    };
    Ok(db::test_connection(&p.connect_spec(Some(password)), mapping).await)
}

#[tauri::command]
pub async fn profiles_test(
    state: State<'_, AppState>,
    id: String,
    password: Option<String>,
) -> CmdResult<ConnectionReport> {
    let p = state.store.get(&id)?;
    let password = match password.filter(|p| !p.is_empty()) {
        Some(pw) => SecretString::from(pw),
        None => state.secrets()?.get(&p.id).await?,
    };
    Ok(db::test_connection(&p.connect_spec(Some(password)), p.mapping()?).await)
}
