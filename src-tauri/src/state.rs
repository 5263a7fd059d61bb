//! App state: the profile store, the keyring, and one connected database per profile.
//!
//! Each connected profile has its door (`Arc<Door>`: the database, the reason policy and the grants given in
//! this session); the map is behind a short-held `std::sync::RwLock`, never held across an `.await`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use tenant_console_core::access::Door;
use tenant_console_core::fleet::{Fleet, FleetStore, HeldShare, Shards};
use tenant_console_core::profile::{data_dir, Passwords, ProfileStore, TypedPassword};
use tenant_console_core::secret::{SecretError, Secrets};
use tenant_console_core::Error;

use crate::error::{CmdResult, IpcError};

/// Cancels a running export when set.
pub type CancelFlag = Arc<std::sync::atomic::AtomicBool>;

/// Answers the save dialog instead of the native one: only for tests on tauri's mock runtime, which has no
/// windowing system (the real dialog is driven in the end-to-end test).
pub type SavePicker = Arc<dyn Fn(&str) -> Option<PathBuf> + Send + Sync>;

/// Answers the open dialog of "Verify a file" instead of the native one (tests on the mock runtime only).
pub type OpenPicker = Arc<dyn Fn() -> Option<PathBuf> + Send + Sync>;

/// The kind of the error for a command on a profile that is not connected (the app's own kind).
pub const NOT_CONNECTED: &str = "not_connected";

/// The kind of the error when no file manager or desktop portal could show or open a file (the app's own).
pub const DESKTOP: &str = "desktop";

/// Everything the commands share.
pub struct AppState {
    pub store: ProfileStore,
    /// The fleets, beside the profiles (`fleets.toml`).
    pub fleets: FleetStore,
    /// The fleet open now (one at a time), with its shards and their budget.
    fleet: Mutex<Option<Arc<OpenFleet>>>,
    /// The budget shares of fleet shards connected as sessions, by profile id (given back on disconnect).
    held: Mutex<HashMap<String, HeldShare>>,
    /// Held while a fleet's shard is switched (one switch at a time).
    pub fleet_switch: tokio::sync::Mutex<()>,
    /// The approvals watches (`access_watch`) of each connected profile: stopped when it disconnects, so
    /// their LISTEN connections go with it.
    watches: Mutex<HashMap<String, Vec<tauri::async_runtime::JoinHandle<()>>>>,
    secrets: Result<Secrets, String>,
    conns: RwLock<HashMap<String, Arc<Door>>>,
    pub exports: Mutex<HashMap<String, CancelFlag>>,
    /// Paths chosen in the save dialog, by one-time token.
    destinations: Mutex<HashMap<String, PathBuf>>,
    /// Files this session exported, by export id (for "show in folder").
    finished: Mutex<HashMap<String, PathBuf>>,
    /// Files verified in this session, by file token (to verify again with a recount).
    verified: Mutex<HashMap<String, PathBuf>>,
    save_picker: Option<SavePicker>,
    open_picker: Option<OpenPicker>,
    /// Passwords given "for this session only", kept in memory (never on disk) so that reconnecting (e.g. to
    /// acknowledge a bypass) does not ask again; each bound to the server it was typed for.
    session_passwords: Mutex<HashMap<String, TypedPassword>>,
    /// The profile to select at start (`TENANT_CONSOLE_PROFILE`, set by the demo command).
    pub initial_profile: Option<String>,
}

impl AppState {
    /// State for a store and a secret store (tests pass their own).
    pub fn new(store: ProfileStore, secrets: Result<Secrets, SecretError>) -> Self {
        AppState {
            fleets: FleetStore::at(store.path().with_file_name("fleets.toml")),
            store,
            fleet: Mutex::new(None),
            held: Mutex::new(HashMap::new()),
            fleet_switch: tokio::sync::Mutex::new(()),
            watches: Mutex::new(HashMap::new()),
            secrets: secrets.map_err(|e| {
                tracing::warn!(error = %e, "keyring unavailable");
                e.kind().to_owned()
            }),
            conns: RwLock::new(HashMap::new()),
            exports: Mutex::new(HashMap::new()),
            destinations: Mutex::new(HashMap::new()),
            finished: Mutex::new(HashMap::new()),
            verified: Mutex::new(HashMap::new()),
            save_picker: None,
            open_picker: None,
            session_passwords: Mutex::new(HashMap::new()),
            initial_profile: std::env::var("TENANT_CONSOLE_PROFILE").ok(),
        }
    }

    /// Answers save dialogs with `picker` (tests on the mock runtime only).
    pub fn with_save_picker(mut self, picker: SavePicker) -> Self {
        self.save_picker = Some(picker);
        self
    }

    pub fn save_picker(&self) -> Option<SavePicker> {
        self.save_picker.clone()
    }

    /// Answers the open dialog with `picker` (tests on the mock runtime only).
    pub fn with_open_picker(mut self, picker: OpenPicker) -> Self {
        self.open_picker = Some(picker);
        self
    }

    pub fn open_picker(&self) -> Option<OpenPicker> {
        self.open_picker.clone()
    }

    pub fn remember_destination(&self, token: &str, path: PathBuf) {
        self.destinations
            .lock()
            .expect("not poisoned")
            .insert(token.to_owned(), path);
    }

    /// The path behind a save-dialog token; each token is good for one export.
    pub fn take_destination(&self, token: &str) -> Option<PathBuf> {
        self.destinations
            .lock()
            .expect("not poisoned")
            .remove(token)
    }

    pub fn remember_finished(&self, export_id: &str, path: PathBuf) {
        self.finished
            .lock()
            .expect("not poisoned")
            .insert(export_id.to_owned(), path);
    }

    pub fn finished(&self, export_id: &str) -> Option<PathBuf> {
        self.finished
            .lock()
            .expect("not poisoned")
            .get(export_id)
            .cloned()
    }

    pub fn remember_verified(&self, token: &str, path: PathBuf) {
        self.verified
            .lock()
            .expect("not poisoned")
            .insert(token.to_owned(), path);
    }

    pub fn verified(&self, token: &str) -> Option<PathBuf> {
        self.verified
            .lock()
            .expect("not poisoned")
            .get(token)
            .cloned()
    }

    /// State from the OS config directory and keyring.
    pub fn from_environment() -> Result<Self, Error> {
        Ok(Self::new(ProfileStore::open_default()?, Secrets::system()))
    }

    /// The keyring, or why there is none.
    pub fn secrets(&self) -> CmdResult<&Secrets> {
        self.secrets.as_ref().map_err(|kind| {
            let e = if kind == "keyring_not_persistent" {
                SecretError::NotPersistent
            } else {
                SecretError::Unavailable
            };
            IpcError::from(e)
        })
    }

    /// The door of a connected profile: every tenant read of the app passes it.
    pub fn door(&self, profile_id: &str) -> CmdResult<Arc<Door>> {
        self.conns
            .read()
            .expect("not poisoned")
            .get(profile_id)
            .cloned()
            .ok_or_else(|| {
                IpcError::new(
                    NOT_CONNECTED,
                    "this profile is not connected; connect first",
                )
            })
    }

    pub fn set_door(&self, profile_id: &str, door: Door) {
        self.conns
            .write()
            .expect("not poisoned")
            .insert(profile_id.to_owned(), Arc::new(door));
    }

    /// Remembers a session-only password for the app's lifetime, bound to the server it was typed for.
    pub fn remember_password(&self, password: TypedPassword, profile_id: &str) {
        self.session_passwords
            .lock()
            .expect("not poisoned")
            .insert(profile_id.to_owned(), password);
    }

    /// Every session-only password given earlier (each is used only for the server it was typed for).
    pub fn session_passwords(&self) -> Vec<TypedPassword> {
        self.session_passwords
            .lock()
            .expect("not poisoned")
            .values()
            .cloned()
            .collect()
    }

    /// The passwords a connect may use: `typed` (this session's, from [`AppState::session_passwords`]), else
    /// the keyring's.
    pub fn passwords<'a>(&'a self, typed: &'a [TypedPassword]) -> Passwords<'a> {
        Passwords {
            typed,
            keyring: self.secrets().ok(),
        }
    }

    /// Forgets a profile's session-only password.
    pub fn forget_password(&self, profile_id: &str) {
        self.session_passwords
            .lock()
            .expect("not poisoned")
            .remove(profile_id);
    }

    pub fn drop_door(&self, profile_id: &str) -> Option<Arc<Door>> {
        self.conns.write().expect("not poisoned").remove(profile_id)
    }

    /// Closes a connected profile: its approvals watches stopped, its pool closed, then its fleet share given
    /// back if it held one (after its connections have left the server).
    pub async fn close_door(&self, profile_id: &str) {
        let watches = self
            .watches
            .lock()
            .expect("not poisoned")
            .remove(profile_id)
            .unwrap_or_default();
        for w in &watches {
            w.abort();
        }
        for w in watches {
            let _ = w.await;
        }
        if let Some(door) = self.drop_door(profile_id) {
            door.db().close().await;
        }
        let share = self.held.lock().expect("not poisoned").remove(profile_id);
        if share.is_some() {
            // A closed connection's backend leaves the server a moment after the client hangs up.
            tokio::time::sleep(tenant_console_core::fleet::CLOSE_GRACE).await;
        }
        drop(share);
    }

    /// Keeps a profile's approvals watch, to stop it when the profile disconnects.
    pub fn keep_watch(&self, profile_id: &str, task: tauri::async_runtime::JoinHandle<()>) {
        self.watches
            .lock()
            .expect("not poisoned")
            .entry(profile_id.to_owned())
            .or_default()
            .push(task);
    }

    /// Keeps a fleet shard's share of the budget while its session is connected.
    pub fn hold_share(&self, profile_id: &str, share: HeldShare) {
        self.held
            .lock()
            .expect("not poisoned")
            .insert(profile_id.to_owned(), share);
    }

    /// The profiles connected as shards of a fleet (holding a share of its budget).
    pub fn held_profiles(&self) -> Vec<String> {
        self.held
            .lock()
            .expect("not poisoned")
            .keys()
            .cloned()
            .collect()
    }

    /// The open fleet named `name`.
    pub fn fleet(&self, name: &str) -> CmdResult<Arc<OpenFleet>> {
        match &*self.fleet.lock().expect("not poisoned") {
            Some(f) if f.fleet.name == name => Ok(f.clone()),
            _ => Err(IpcError::new(
                NOT_CONNECTED,
                format!("fleet {name:?} is not open; open it first"),
            )),
        }
    }

    /// Makes `open` the open fleet; returns the one it replaces.
    pub fn set_fleet(&self, open: Option<OpenFleet>) -> Option<Arc<OpenFleet>> {
        std::mem::replace(
            &mut *self.fleet.lock().expect("not poisoned"),
            open.map(Arc::new),
        )
    }
}

/// A fleet opened in the app: its definition and its shards (one budget for every command on it).
pub struct OpenFleet {
    pub fleet: Fleet,
    pub shards: Shards,
}

/// Logs to a daily file in the data directory (no secrets are ever logged: they are `SecretString`s).
pub fn init_logging() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let dir = data_dir().ok()?.join("logs");
    std::fs::create_dir_all(&dir).ok()?;
    let (writer, guard) =
        tracing_appender::non_blocking(tracing_appender::rolling::daily(dir, "app.log"));
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("info,sqlx=warn"))
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false),
        )
        .try_init();
    Some(guard)
}
