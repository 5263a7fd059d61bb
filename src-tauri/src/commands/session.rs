//! Connecting a profile: who the login is and whether RLS applies to it.

use secrecy::SecretString;
use serde::Serialize;
use tauri::State;
use tenant_console_core::access::ReasonPolicy;
use tenant_console_core::db::LoginInfo;
use tenant_console_core::Db;

use crate::error::CmdResult;
use crate::state::AppState;

#[derive(Serialize)]
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

/// A connected profile, as the isolation banner needs it.
#[derive(Serialize)]
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
}

/// Connects a profile. `password` is for this session only (when the keyring has none or is locked);
/// `allow_bypass` is the user's explicit acknowledgement of the red banner.
#[tauri::command]
pub async fn session_connect(
    state: State<'_, AppState>,
    profile_id: String,
    password: Option<String>,
    allow_bypass: bool,
) -> CmdResult<SessionInfo> {
    let p = state.store.get(&profile_id)?;
    let password = match password.filter(|p| !p.is_empty()) {
        Some(pw) => {
            let pw = SecretString::from(pw);
            state.remember_password(&p.id, pw.clone());
            pw
        }
        None => match state.session_password(&p.id) {
            Some(pw) => pw,
            None => state.secrets()?.get(&p.id).await?,
        },
    };
    let mapping = p.mapping()?;
    let db = Db::connect(
        &p.connect_spec(Some(password)),
        mapping.clone(),
        p.db_options(allow_bypass),
    )
    .await?;
    let mut door = p.door(db.clone());
    let mut records_to = None;
    if let Some(primary) = p.record_target(&state.store)? {
        let password = match state.session_password(&primary.id) {
            Some(pw) => pw,
            None => primary.password(state.secrets()?).await?,
        };
        let recorder = Db::connect(
            &primary.connect_spec(Some(password)),
            mapping,
            primary.db_options(false),
        )
        .await?;
        door = door.records_on(recorder, &format!("profile {:?}", primary.name))?;
        records_to = Some(primary.name);
    }
    let info = SessionInfo {
        profile_id: p.id.clone(),
        profile_name: p.name.clone(),
        bypass_reasons: db.login().bypass_reasons(),
        bypass_accepted: db.bypass_accepted(),
        login: db.login().clone(),
        access_reason: p.access_reason,
        records_to,
    };
    state.set_door(&p.id, door);
    Ok(info)
}

#[tauri::command]
pub async fn session_disconnect(state: State<'_, AppState>, profile_id: String) -> CmdResult<()> {
    if let Some(door) = state.drop_door(&profile_id) {
        door.db().close().await;
    }
    Ok(())
}
