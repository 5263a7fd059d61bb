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
    let before = state.store.get(&p.id).ok();
    match password.filter(|p| !p.is_empty()) {
        Some(pw) => state.secrets()?.set(&p.id, SecretString::from(pw)).await?,
        // A stored password belongs to the server, database and user it was given for: a profile pointed
        // elsewhere without a new one forgets it (connecting asks), so it is never sent to another server, by
        // a slip of the hand or by a script in the window.
        None => {
            if let Some(old) = before.filter(|old| !same_target(old, &p)) {
                if let Ok(secrets) = state.secrets() {
                    secrets.delete(&old.id).await.ok();
                }
            }
        }
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
        // The stored password goes only where it was stored for: the same server, database and user, with TLS
        // as strict. A form pointed elsewhere (typed, or sent by a script) must bring its own password.
        None => match state.store.get(&p.id) {
            Ok(saved) if same_target(&saved, &p) => state.secrets()?.get(&saved.id).await?,
            Ok(_) => {
                return Err(IpcError::new(
                    "invalid_input",
                    "enter the password to test this connection: the server, database, user or TLS changed, so the stored password is not sent",
                ))
            }
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

/// Whether two versions of a profile reach the same login the same way: server, database, user, and TLS as
/// strict (what a stored password was given for).
fn same_target(a: &Profile, b: &Profile) -> bool {
    a.host == b.host
        && a.port == b.port
        && a.database == b.database
        && a.user == b.user
        && a.tls == b.tls
        && a.ca_file == b.ca_file
}
