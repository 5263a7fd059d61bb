//! Connecting a profile: who the login is and whether RLS applies to it.

use secrecy::SecretString;
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;
use tenant_console_core::access::ReasonPolicy;
use tenant_console_core::db::{LoginInfo, RouteInfo, RouteStatus};
use tenant_console_core::profile::{ConnectHow, TypedPassword};
use tenant_console_core::secret::SecretError;
use tenant_console_core::Error;

use crate::error::CmdResult;
use crate::state::AppState;

#[derive(Serialize, ts_rs::TS)]
pub struct AppInfo {
    pub version: &'static str,
    pub initial_profile: Option<String>,
}

#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        initial_profile: state.initial_profile.clone(),
    }
}

/// The UI calls this once its first screen (profiles) is rendered and usable. With
/// `TENANT_CONSOLE_EXIT_WHEN_READY=1` (the start-up benchmark, benches/app.sh) the app then prints how long
/// start-up took and exits; otherwise it only logs it.
#[tauri::command]
pub fn app_ready<R: tauri::Runtime>(app: tauri::AppHandle<R>) {
    let ms = crate::started().elapsed().as_secs_f64() * 1000.0;
    tracing::info!(ms, "first screen ready");
    if std::env::var_os("TENANT_CONSOLE_EXIT_WHEN_READY").is_some() {
        println!("ready_ms={ms:.1}");
        app.exit(0);
    }
}

/// Quits the app (Ctrl+Q, Cmd+Q on macOS): the page asks first when an export is running.
#[tauri::command]
pub fn app_quit<R: tauri::Runtime>(app: tauri::AppHandle<R>) {
    tracing::info!("quit asked from the page");
    app.exit(0);
}

/// A connected profile, as the isolation banner needs it.
#[derive(Serialize, ts_rs::TS)]
pub struct SessionInfo {
    pub profile_id: String,
    pub profile_name: String,
    pub login: LoginInfo,
    /// Why RLS does not apply to this login; empty when it does.
    pub bypass_reasons: Vec<String>,
    /// The user acknowledged the bypass: tenant reads go on, resting on the console's predicates only.
    pub bypass_accepted: bool,
    pub access_reason: ReasonPolicy,
    /// The profile whose primary records this profile's accesses (`record_to`), when it reads a standby.
    pub records_to: Option<String>,
    /// How the database is reached: directly, or through SSH hops with their host keys.
    pub route: RouteInfo,
}

/// Connects a profile. `password` is for this session only (when the keyring has none or is locked), bound
/// to the server it is typed for; `allow_bypass` is the user's explicit acknowledgement of the red banner;
/// `accept_host_keys` are SSH fingerprints the user accepted in the prompt, for this connect (pinning them is
/// `profiles_pin_host_keys`). The rules of which password goes where are the core's (`Profile::connect`).
/// With `fleet` (the open fleet's name), the profile is connected as that fleet's shard: within its budget
/// (`Shards::hold`), and the shard session it held before is closed (one open shard per fleet).
#[tauri::command]
pub async fn session_connect(
    state: State<'_, AppState>,
    profile_id: String,
    password: Option<String>,
    allow_bypass: bool,
    accept_host_keys: Option<Vec<String>>,
    fleet: Option<String>,
) -> CmdResult<SessionInfo> {
    let p = state.store.get(&profile_id)?;
    if let Some(pw) = password.filter(|p| !p.is_empty()) {
        state.remember_password(
            TypedPassword::for_profile(&p, SecretString::from(pw)),
            &p.id,
        );
    }
    let typed = state.session_passwords();
    let passwords = state.passwords(&typed);
    let how = ConnectHow {
        allow_bypass,
        mapping: None,
        accept_host_keys: accept_host_keys.unwrap_or_default(),
        pool: None,
    };
    let open_fleet = match &fleet {
        Some(name) => Some(state.fleet(name)?),
        None => None,
    };
    // Switching a fleet's shard is one step at a time (a double click must not hold two shards): the lock is
    // held until the new shard's door and share are in place.
    let _switching = match &open_fleet {
        Some(_) => Some(state.fleet_switch.lock().await),
        None => None,
    };
    let connecting = async {
        match &open_fleet {
            Some(open) => {
                // One open shard per fleet: the one held before is closed first (its share given back).
                crate::commands::fleet::close_held(&state).await;
                // The profile as it is now (not as when the fleet was opened), if it is one of the shards.
                let held = open.shards.hold(&p, &state.store, passwords, &how).await?;
                Ok((held.connected, Some(held.share)))
            }
            None => p
                .connect(&state.store, passwords, &how)
                .await
                .map(|c| (c, None)),
        }
    };
    let (connected, share) = match connecting.await {
        // No keyring and no typed password: say why the keyring is not there.
        Err(Error::Keyring(SecretError::Unavailable)) => {
            state.secrets()?;
            return Err(Error::Keyring(SecretError::Unavailable).into());
        }
        other => other?,
    };
    let db = connected.door.db().clone();
    let info = SessionInfo {
        profile_id: p.id.clone(),
        profile_name: p.name.clone(),
        bypass_reasons: db.login().bypass_reasons(),
        bypass_accepted: db.bypass_accepted(),
        login: db.login().clone(),
        access_reason: p.access_reason,
        records_to: connected.records_to,
        route: db.route_info(),
    };
    state.set_door(&p.id, connected.door);
    if let Some(share) = share {
        state.hold_share(&p.id, share);
    }
    Ok(info)
}

/// Sends the state of a connected profile's SSH tunnel on `on_route` whenever it changes ("reconnecting through
/// the bastion…" while a dead tunnel is re-opened), until the profile disconnects or the window goes.
#[tauri::command]
pub async fn session_route_watch(
    state: State<'_, AppState>,
    profile_id: String,
    on_route: Channel<RouteStatus>,
) -> CmdResult<()> {
    let door = state.door(&profile_id)?;
    let Some(route) = door.db().route() else {
        return Ok(());
    };
    let mut changes = route.watch();
    drop(door);
    tauri::async_runtime::spawn(async move {
        while changes.changed().await.is_ok() {
            let status = changes.borrow_and_update().clone();
            if on_route.send(status).is_err() {
                break;
            }
        }
    });
    Ok(())
}

#[tauri::command]
pub async fn session_disconnect(state: State<'_, AppState>, profile_id: String) -> CmdResult<()> {
    state.close_door(&profile_id).await;
    Ok(())
}
