//! Profiles: list, save (password straight to the keyring, bound to the profile's server), remove (with its
//! password), test, pin an SSH host key the user accepted, import a libpq service.

use secrecy::SecretString;
use serde::Serialize;
use tauri::State;
use tenant_console_core::db::{self, ConnectionReport};
use tenant_console_core::profile::{Profile, TypedPassword};
use tenant_console_core::reach::service::{self, PgPass};
use tenant_console_core::secret::SecretError;

use crate::error::{CmdResult, IpcError};
use crate::state::AppState;

/// A profile as the UI sees it: never with a password, only whether one is stored (for its server as it is).
#[derive(Serialize, ts_rs::TS)]
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
            Some(s) if profile.password_command.is_none() => profile.password(s).await.is_ok(),
            _ => false,
        };
        out.push(ProfileView {
            profile,
            password_stored,
        });
    }
    Ok(out)
}

/// Saves the profile form. `from_pgpass`: with no password typed, take the one libpq's `.pgpass` has for
/// this server (an imported service), straight into the keyring.
#[tauri::command]
pub async fn profiles_save(
    state: State<'_, AppState>,
    profile: serde_json::Value,
    password: Option<String>,
    from_pgpass: Option<bool>,
) -> CmdResult<Profile> {
    let p = Profile::from_input(profile, &state.store)?;
    p.mapping()?;
    let mut password = password.filter(|p| !p.is_empty()).map(SecretString::from);
    if password.is_none() && from_pgpass == Some(true) && p.password_command.is_none() {
        if let Some(file) = service::pgpass_file() {
            if let PgPass::Found { password: pw, .. } =
                service::pgpass_lookup(&file, &p.host, p.port, &p.database, &p.user)?
            {
                password = Some(pw);
            }
        }
    }
    if password.is_some() && p.password_command.is_some() {
        return Err(IpcError::new(
            "invalid_input",
            "this profile's password comes from its password command: leave the password empty",
        ));
    }
    // The password is stored bound to the server it is given for (the core's rule): a profile pointed
    // elsewhere without a new one keeps it bound to the old server, where it is never sent from.
    if let Some(pw) = password {
        p.store_password(state.secrets()?, pw).await?;
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
    state.forget_password(&removed.id);
    state.secrets()?.delete(&removed.id).await?;
    Ok(())
}

/// The password to test `p` with: typed in the form, else one typed this session or stored for this very
/// server (the core's rule: a form pointed elsewhere must bring its own), none with a password command.
async fn test_password(
    state: &AppState,
    p: &Profile,
    typed: Option<String>,
) -> CmdResult<Option<SecretString>> {
    if p.password_command.is_some() {
        return Ok(None);
    }
    if let Some(pw) = typed.filter(|p| !p.is_empty()) {
        return Ok(Some(SecretString::from(pw)));
    }
    let typed = state.session_passwords();
    let passwords = state.passwords(&typed);
    match p.password_for_connect(passwords).await {
        Ok(pw) => Ok(pw),
        Err(tenant_console_core::Error::Keyring(SecretError::OtherServer(_)))
            if state.store.get(&p.id).is_ok() =>
        {
            Err(IpcError::new(
                "invalid_input",
                "enter the password to test this connection: the server, database, user, TLS or SSH route changed, so the stored password is not sent",
            ))
        }
        Err(tenant_console_core::Error::Keyring(SecretError::Missing(_)))
            if state.store.get(&p.id).is_err() =>
        {
            Err(IpcError::new(
                "invalid_input",
                "enter the password to test the connection (it is not kept until the profile is saved)",
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// Tests the profile form as it stands, before it is saved (nothing is written: not the profile, not the
/// password). `accept_host_keys`: SSH fingerprints the user accepted in the prompt, for this test.
#[tauri::command]
pub async fn profiles_test_draft(
    state: State<'_, AppState>,
    profile: serde_json::Value,
    password: Option<String>,
    accept_host_keys: Option<Vec<String>>,
) -> CmdResult<ConnectionReport> {
    let p = Profile::from_input(profile, &state.store)?;
    let mapping = p.mapping()?;
    let password = test_password(&state, &p, password).await?;
    let mut spec = p.connect_spec(password);
    if let Some(route) = spec.ssh.as_mut() {
        route.accept = accept_host_keys.unwrap_or_default();
    }
    Ok(db::test_connection(&spec, mapping).await)
}

#[tauri::command]
pub async fn profiles_test(
    state: State<'_, AppState>,
    id: String,
    password: Option<String>,
    accept_host_keys: Option<Vec<String>>,
) -> CmdResult<ConnectionReport> {
    let p = state.store.get(&id)?;
    let password = test_password(&state, &p, password).await?;
    let mut spec = p.connect_spec(password);
    if let Some(route) = spec.ssh.as_mut() {
        route.accept = accept_host_keys.unwrap_or_default();
    }
    Ok(db::test_connection(&spec, p.mapping()?).await)
}

/// One host key the user accepted in the prompt.
#[derive(serde::Deserialize, ts_rs::TS)]
pub struct AcceptedKey {
    pub hop: String,
    pub fingerprint: String,
}

/// Pins SSH host keys the user accepted (after comparing the fingerprints) into the profile; its stored
/// password, and one typed this session, go along with it.
#[tauri::command]
pub async fn profiles_pin_host_keys(
    state: State<'_, AppState>,
    id: String,
    keys: Vec<AcceptedKey>,
) -> CmdResult<Profile> {
    let before = state.store.get(&id)?;
    let pairs: Vec<(String, String)> = keys.into_iter().map(|k| (k.hop, k.fingerprint)).collect();
    let after = Profile::pin_host_keys(&state.store, &id, &pairs, state.secrets().ok()).await?;
    let typed = state.session_passwords();
    if let Some(pw) = typed.iter().find_map(|t| t.for_server_of(&before)) {
        state.remember_password(TypedPassword::for_profile(&after, pw), &after.id);
    }
    if let Some(door) = state.drop_door(&after.id) {
        door.db().close().await;
    }
    Ok(after)
}

/// What importing a libpq service found: the profile form's fields, and what to tell the user.
#[derive(Serialize, ts_rs::TS)]
pub struct ServiceImport {
    /// Fields for the new-profile form (not saved yet), as `profiles_save` reads them.
    #[ts(type = "Partial<Profile>")]
    pub profile: serde_json::Value,
    /// The file the service came from.
    pub service_file: String,
    /// Whether `.pgpass` has the password: saving with `from_pgpass` stores it (it never enters the window).
    pub password_found: bool,
    pub notes: Vec<String>,
}

/// Reads a libpq service (pg_service.conf) and its `.pgpass` line into the new-profile form.
#[tauri::command]
pub async fn profiles_import_service(name: String) -> CmdResult<ServiceImport> {
    let service = service::find_service(&name)?;
    let t = service.target()?;
    let mut draft = Profile::new(&name, "", 0, "", "");
    draft.set_service_target(&t)?;
    let (host, port, database, user) = (t.host.clone(), t.port, t.database.clone(), t.user.clone());
    let mut notes = Vec::new();
    let mut password_found = false;
    if let Some(file) = service::pgpass_file() {
        match service::pgpass_lookup(&file, &host, port, &database, &user)? {
            PgPass::Found { file, line, .. } => {
                password_found = true;
                notes.push(format!(
                    "The password from {} line {line} goes to the system keyring when you save; the file stays as it is.",
                    file.display()
                ));
            }
            PgPass::Ignored { file, why } => {
                notes.push(format!("{} was not read: {why}", file.display()))
            }
            PgPass::NotFound => {}
        }
    }
    Ok(ServiceImport {
        profile: serde_json::json!({
            "name": name, "host": host, "port": port, "database": database, "user": user,
            "tls": draft.tls, "ca_file": draft.ca_file,
        }),
        service_file: service.file.display().to_string(),
        password_found,
        notes,
    })
}
