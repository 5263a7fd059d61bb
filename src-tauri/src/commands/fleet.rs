//! Fleets: many databases (shards, each a profile) opened, searched and checked as one, within the fleet's
//! connection budget (the core's `fleet`). A tenant found on a shard is read through that shard's profile,
//! connected as a session (`session_connect` with the fleet): its door's rules, its records.

use serde::Serialize;
use tauri::State;
use tenant_console_core::fleet::{self, FleetCheck, FleetTenantPage, Located, ShardStatus};
use tenant_console_core::isolation::CheckOptions;
use tenant_console_core::profile::ConnectHow;
use tenant_console_core::tenants::{TenantQuery, TenantSort};

use crate::error::CmdResult;
use crate::state::{AppState, OpenFleet};

/// A fleet as the profiles screen lists it.
#[derive(Serialize, ts_rs::TS)]
pub struct FleetView {
    pub name: String,
    pub shards: Vec<ShardView>,
    /// The connection budget over all its shards.
    pub max_connections: u32,
    /// The profile whose database says where each tenant lives, when the fleet has a directory.
    pub directory: Option<String>,
}

/// One shard of a fleet: its profile's name, and its id when such a profile exists.
#[derive(Serialize, ts_rs::TS)]
pub struct ShardView {
    pub name: String,
    pub profile_id: Option<String>,
}

/// An opened fleet: what it is, and what each shard answered when it was opened.
#[derive(Serialize, ts_rs::TS)]
pub struct FleetOpened {
    pub fleet: FleetView,
    pub status: Vec<ShardStatus>,
}

fn view(state: &AppState, f: &fleet::Fleet) -> CmdResult<FleetView> {
    let profiles = state.store.list()?;
    Ok(FleetView {
        name: f.name.clone(),
        shards: f
            .profiles
            .iter()
            .map(|name| ShardView {
                name: name.clone(),
                profile_id: profiles
                    .iter()
                    .find(|p| &p.name == name || &p.id == name)
                    .map(|p| p.id.clone()),
            })
            .collect(),
        max_connections: f.max_connections.unwrap_or(fleet::DEFAULT_MAX_CONNECTIONS),
        directory: f.directory.as_ref().map(|d| d.profile.clone()),
    })
}

/// The fleets (`tenantctl fleet add` makes them), by name.
#[tauri::command]
pub fn fleets_list(state: State<'_, AppState>) -> CmdResult<Vec<FleetView>> {
    state
        .fleets
        .list()?
        .iter()
        .map(|f| view(&state, f))
        .collect()
}

/// Opens a fleet (closing the one open before, and the shard sessions it held): asks every shard, within the
/// budget, whether it answers.
#[tauri::command]
pub async fn fleet_open(state: State<'_, AppState>, fleet: String) -> CmdResult<FleetOpened> {
    let f = state.fleets.get(&fleet)?;
    let shards = fleet::Shards::open(&f, &state.store, None)?;
    let fleet_view = view(&state, &f)?;
    close_held(&state).await;
    let typed = state.session_passwords();
    let passwords = state.passwords(&typed);
    let status = fleet::status(&shards, passwords, &ConnectHow::default()).await;
    let opened = FleetOpened {
        fleet: fleet_view,
        status,
    };
    state.set_fleet(Some(OpenFleet { fleet: f, shards }));
    Ok(opened)
}

/// Closes the open fleet and the shard sessions it held.
#[tauri::command]
pub async fn fleet_close(state: State<'_, AppState>) -> CmdResult<()> {
    close_held(&state).await;
    state.set_fleet(None);
    Ok(())
}

/// Closes every shard session a fleet holds (their pools first, then their shares of the budget).
pub async fn close_held(state: &AppState) {
    for profile_id in state.held_profiles() {
        state.close_door(&profile_id).await;
    }
}

/// Searches the tenants of every shard of the open fleet, merged; each row names its shard, and the shards
/// that did not answer are listed.
#[tauri::command]
pub async fn fleet_search(
    state: State<'_, AppState>,
    fleet: String,
    search: Option<String>,
    sort: Option<TenantSort>,
    limit: Option<u32>,
) -> CmdResult<FleetTenantPage> {
    let open = state.fleet(&fleet)?;
    let q = TenantQuery {
        search,
        sort: sort.unwrap_or_default(),
        limit: limit.unwrap_or(50),
        after: None,
    };
    let typed = state.session_passwords();
    let passwords = state.passwords(&typed);
    Ok(fleet::search(&open.shards, passwords, &ConnectHow::default(), &q).await)
}

/// Finds the shard of tenant `key` (an id or a slug) in the open fleet: on shard `near` first when given (where
/// the user last saw it: a recent tenant), else the directory's, the shard a uuid answered on earlier in this
/// session, or every shard's answer (a slug on two shards is refused with both named).
#[tauri::command]
pub async fn fleet_locate(
    state: State<'_, AppState>,
    fleet: String,
    key: String,
    near: Option<String>,
) -> CmdResult<Located> {
    let open = state.fleet(&fleet)?;
    let typed = state.session_passwords();
    let passwords = state.passwords(&typed);
    Ok(fleet::locate_near(
        &open.shards,
        passwords,
        &ConnectHow::default(),
        &key,
        near.as_deref(),
    )
    .await?)
}

/// The isolation check on every shard of the open fleet (with the probe when asked): one verdict per shard,
/// and the fleet's.
#[tauri::command]
pub async fn fleet_check(
    state: State<'_, AppState>,
    fleet: String,
    probe: bool,
) -> CmdResult<FleetCheck> {
    let open = state.fleet(&fleet)?;
    let opts = CheckOptions {
        probe,
        tenant: None,
        sample: 3,
        accepted: Vec::new(),
    };
    let typed = state.session_passwords();
    let passwords = state.passwords(&typed);
    Ok(fleet::check(
        &open.fleet,
        &open.shards,
        passwords,
        &ConnectHow::default(),
        &opts,
    )
    .await)
}
