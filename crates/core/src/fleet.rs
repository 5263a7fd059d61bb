//! A fleet: tenants spread over many databases, each reached through a profile of its own (a shard). A fleet
//! is named profiles (`fleets.toml` beside `profiles.toml`); it is searched, looked up and checked as one, within
//! one connection budget for all its shards.
//!
//! **The budget.** At most `max_connections` server connections are open at once over the whole fleet (8 by
//! default): a shard's work takes its share of the budget before it connects and gives it back after its pool is
//! closed, so a fleet of 100 databases on a server with `max_connections = 100` never holds more than the budget.
//! Shards are asked in parallel within it.
//!
//! **A shard that is down is a shard, not a failure.** Every fleet answer says which shards did not answer, and
//! why (the error's kind and message): a search lists what the others found; a lookup opens a tenant found on
//! the shards that answered, and "not found" names those that did not.
//!
//! Reading a tenant's data is not done here: a lookup names the tenant's shard, and the caller then goes through
//! that shard's profile and door exactly as with the profile alone (reason, grant, records on that shard).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::access::Door;
use crate::error::{Error, Result};
use crate::isolation::{CheckOptions, Report};
use crate::profile::{atomic_write, config_dir, ConnectHow, Passwords, Profile, ProfileStore};
use crate::scope::Tenant;
use crate::sql::IdType;
use crate::tenants::{TenantQuery, TenantRow};

/// How long a shard's share of the budget is kept after its connections are closed: the time a backend takes
/// to leave the server after its client hung up (about a millisecond on an idle server; more on a busy one).
pub const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_millis(25);

/// How many server connections a fleet opens at once when neither the fleet nor the caller says.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 8;

/// A fleet: its name, its shards (profile names, in order) and its connection budget.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Fleet {
    pub name: String,
    pub profiles: Vec<String>,
    /// The fleet's connection budget (default [`DEFAULT_MAX_CONNECTIONS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    /// Where each tenant lives, when the product keeps a directory: a lookup is then one query and one
    /// shard, not every shard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<Directory>,
}

/// A tenant directory: a query on one profile's database whose rows are `(tenant_id, slug, shard)`, the shard
/// being the name of one of the fleet's profiles. It is the fleet owner's configuration (like a mapping file),
/// run read-only as that profile's login.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Directory {
    pub profile: String,
    pub sql: String,
}

#[derive(Default, Serialize, Deserialize)]
struct FleetFile {
    #[serde(default, rename = "fleet")]
    fleets: Vec<Fleet>,
}

/// The fleets, in `fleets.toml` in the configuration directory (no secrets: shards are profile names).
pub struct FleetStore {
    path: PathBuf,
}

impl FleetStore {
    /// The store in the configuration directory.
    pub fn open_default() -> Result<Self> {
        Ok(Self::at(config_dir()?.join("fleets.toml")))
    }

    pub fn at(path: impl Into<PathBuf>) -> Self {
        FleetStore { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<FleetFile> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                Error::Profile(format!(
                    "{} is not a valid fleet file ({}); fix or move it",
                    self.path.display(),
                    crate::error::toml_error(&e, &text)
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FleetFile::default()),
            Err(e) => Err(Error::io("reading", &self.path, e)),
        }
    }

    fn write(&self, file: &FleetFile) -> Result<()> {
        let text = toml::to_string_pretty(file)
            .map_err(|e| Error::Profile(format!("cannot write fleets: {e}")))?;
        atomic_write(&self.path, text.as_bytes(), 0o600)
    }

    /// All fleets, by name.
    pub fn list(&self) -> Result<Vec<Fleet>> {
        let mut v = self.read()?.fleets;
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(v)
    }

    pub fn get(&self, name: &str) -> Result<Fleet> {
        self.read()?
            .fleets
            .into_iter()
            .find(|f| f.name == name)
            .ok_or_else(|| Error::InvalidInput(format!("no fleet is named {name:?}")))
    }

    /// Adds a fleet, or replaces the one of the same name. Every shard must be a profile of `profiles`,
    /// named once.
    pub fn save(&self, fleet: &Fleet, profiles: &ProfileStore) -> Result<()> {
        if fleet.name.trim().is_empty() || fleet.name.chars().any(char::is_control) {
            return Err(Error::InvalidInput("a fleet needs a name".into()));
        }
        if fleet.profiles.is_empty() {
            return Err(Error::InvalidInput(format!(
                "fleet {:?} names no profile: give at least one",
                fleet.name
            )));
        }
        if fleet.max_connections == Some(0) {
            return Err(Error::InvalidInput(
                "a fleet's connection budget is at least 1".into(),
            ));
        }
        let all = profiles.list()?;
        if let Some(d) = &fleet.directory {
            named(&all, &d.profile)?;
            crate::sql::directory_lookup(&d.sql).map_err(Error::InvalidInput)?;
        }
        let mut seen = std::collections::BTreeSet::new();
        for p in &fleet.profiles {
            let profile = named(&all, p)?;
            if !seen.insert(profile.id.clone()) {
                return Err(Error::InvalidInput(format!(
                    "profile {p:?} is named twice in fleet {:?}",
                    fleet.name
                )));
            }
        }
        let mut file = self.read()?;
        file.fleets.retain(|f| f.name != fleet.name);
        file.fleets.push(fleet.clone());
        self.write(&file)
    }

    pub fn remove(&self, name: &str) -> Result<()> {
        let mut file = self.read()?;
        let before = file.fleets.len();
        file.fleets.retain(|f| f.name != name);
        if file.fleets.len() == before {
            return Err(Error::InvalidInput(format!("no fleet is named {name:?}")));
        }
        self.write(&file)
    }
}

/// The profile `name_or_id` among `all` (the profile file read once, not once a shard), as
/// [`ProfileStore::get`] finds it.
fn named(all: &[Profile], name_or_id: &str) -> Result<Profile> {
    all.iter()
        .find(|p| p.name == name_or_id || p.id == name_or_id)
        .cloned()
        .ok_or_else(|| Error::UnknownProfile(name_or_id.to_owned()))
}

/// A shard that did not answer, and why.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct Unavailable {
    pub shard: String,
    /// The error's kind (`connect_refused`, `connect_auth`, `query_timeout`, ...).
    pub kind: &'static str,
    pub message: String,
}

impl Unavailable {
    fn of(shard: &str, e: &Error) -> Self {
        Unavailable {
            shard: shard.to_owned(),
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

/// An opened fleet: its shards' profiles and the budget they share.
pub struct Shards {
    shards: Vec<Profile>,
    /// The directory's profile and query, when the fleet has one.
    directory: Option<(Profile, String)>,
    budget: Arc<Semaphore>,
    max_connections: u32,
    /// The connections held by open shards ([`Shards::hold`]), out of the budget until they are closed.
    held: Arc<AtomicU32>,
    /// Tenant ids (uuids only) → the shard that answered for them in this process (see [`locate`]); `None`:
    /// seen on two shards, never remembered again.
    learned: std::sync::Mutex<std::collections::HashMap<String, Option<String>>>,
}

impl Shards {
    /// The shards of `fleet`, with the budget `max_connections` (else the fleet's, else 8).
    pub fn open(fleet: &Fleet, store: &ProfileStore, max_connections: Option<u32>) -> Result<Self> {
        let max = max_connections
            .or(fleet.max_connections)
            .unwrap_or(DEFAULT_MAX_CONNECTIONS);
        if max == 0 {
            return Err(Error::InvalidInput(
                "the connection budget is at least 1".into(),
            ));
        }
        let all = store.list()?;
        let shards = fleet
            .profiles
            .iter()
            .map(|p| named(&all, p))
            .collect::<Result<Vec<_>>>()?;
        let directory = match &fleet.directory {
            Some(d) => Some((named(&all, &d.profile)?, d.sql.clone())),
            None => None,
        };
        Ok(Shards {
            shards,
            directory,
            budget: Arc::new(Semaphore::new(max as usize)),
            max_connections: max,
            held: Default::default(),
            learned: Default::default(),
        })
    }

    /// The shards' profiles, in the fleet's order.
    pub fn profiles(&self) -> &[Profile] {
        &self.shards
    }

    /// The shards' names (their profiles'), in the fleet's order.
    pub fn names(&self) -> Vec<String> {
        self.shards.iter().map(|p| p.name.clone()).collect()
    }

    pub fn max_connections(&self) -> u32 {
        self.max_connections
    }

    /// Runs `work` on every shard, in parallel within the budget ([`Shards::turn`] each). Answers in the
    /// fleet's order.
    pub async fn each<'p, T, F, Fut>(
        &'p self,
        passwords: Passwords<'_>,
        how: &ConnectHow,
        share_and_pool: (u32, u32),
        work: F,
    ) -> Vec<(String, Result<T>)>
    where
        F: Fn(&'p Profile, Door) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.each_until(passwords, how, share_and_pool, None, work)
            .await
            .into_iter()
            .map(|(shard, answer)| {
                (
                    shard,
                    answer.map(|a| a.expect("no stop, every shard is asked")),
                )
            })
            .collect()
    }

    /// [`Shards::each`], where a shard whose turn comes after `stop` was set is not asked (`Ok(None)`): the
    /// answer that settled the question stops the rest.
    async fn each_until<'p, T, F, Fut>(
        &'p self,
        passwords: Passwords<'_>,
        how: &ConnectHow,
        share_and_pool: (u32, u32),
        stop: Option<&AtomicBool>,
        work: F,
    ) -> Vec<(String, Result<Option<T>>)>
    where
        F: Fn(&'p Profile, Door) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let turns = self.shards.iter().map(|profile| {
            let work = &work;
            async move {
                let answer = self
                    .turn_unless(profile, passwords, how, share_and_pool, stop, |door| {
                        work(profile, door)
                    })
                    .await;
                (profile.name.clone(), answer)
            }
        });
        futures::future::join_all(turns).await
    }

    /// One shard's turn: takes `share` of the budget, connects (a pool of at most `pool` connections, no
    /// access-record connection; `share - pool` are the connections `work` opens outside the pool), hands
    /// `work` the shard's door (its profile's rules: a bypassing login is refused there as with the profile
    /// alone), and closes its pool before giving its share back. A share larger than the whole budget is
    /// refused.
    async fn turn<T, F, Fut>(
        &self,
        profile: &Profile,
        passwords: Passwords<'_>,
        how: &ConnectHow,
        share_and_pool: (u32, u32),
        work: F,
    ) -> Result<T>
    where
        F: FnOnce(Door) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.turn_unless(profile, passwords, how, share_and_pool, None, work)
            .await
            .map(|a| a.expect("no stop, the shard is asked"))
    }

    /// [`Shards::turn`], skipped (`Ok(None)`, nothing connected) when `stop` is set by the time the share is
    /// given.
    async fn turn_unless<T, F, Fut>(
        &self,
        profile: &Profile,
        passwords: Passwords<'_>,
        how: &ConnectHow,
        (share, pool): (u32, u32),
        stop: Option<&AtomicBool>,
        work: F,
    ) -> Result<Option<T>>
    where
        F: FnOnce(Door) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        debug_assert!(pool >= 1 && pool <= share);
        if share > self.max_connections {
            return Err(Error::InvalidInput(format!(
                "this needs {share} connections a shard at once, and the fleet's budget is {}: raise it (--max-connections)",
                self.max_connections
            )));
        }
        // What an open shard holds is not there to take: asking for more would wait for ever.
        let held = self.held.load(Ordering::SeqCst);
        if share > self.max_connections.saturating_sub(held) {
            return Err(Error::InvalidInput(format!(
                "this needs {share} connections a shard at once, and {held} of the fleet's budget of {} are held by the open shard: close it, or raise the budget (--max-connections)",
                self.max_connections
            )));
        }
        let share = self
            .budget
            .clone()
            .acquire_many_owned(share)
            .await
            .map_err(|_| Error::Cancelled)?;
        if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
            return Ok(None);
        }
        let db = match profile.connect_shard(passwords, how, pool).await {
            Ok(db) => db,
            Err(e) => {
                // A connection the failed connect opened may still be leaving the server.
                give_back_later(share);
                return Err(e);
            }
        };
        let out = work(profile.door(db.clone())).await;
        db.close().await;
        give_back_later(share);
        out.map(Some)
    }

    /// The shard named `name` (a profile name of the fleet).
    fn shard(&self, name: &str) -> Result<&Profile> {
        self.shards
            .iter()
            .find(|p| p.name == name || p.id == name)
            .ok_or_else(|| {
                Error::InvalidInput(format!("{name:?} is not one of the fleet's shards"))
            })
    }

    /// Opens `profile` (one of the shards, as the store has it now) for reading its tenants, as that profile
    /// (its door's rules, its records), with a pool of [`HOLD_POOL`], holding [`HOLD_CONNECTIONS`] of the
    /// budget until the [`Held`] share is dropped: the app's open shard. One shard of a fleet is held at a
    /// time (a second is refused, never left waiting), and the rest of the budget must still fit one shard's
    /// check: a budget of at least `HOLD_CONNECTIONS + CHECK_CONNECTIONS`.
    pub async fn hold(
        &self,
        profile: &Profile,
        store: &ProfileStore,
        passwords: Passwords<'_>,
        how: &ConnectHow,
    ) -> Result<Held> {
        if self.max_connections < HOLD_CONNECTIONS + CHECK_CONNECTIONS {
            return Err(Error::InvalidInput(format!(
                "opening a shard keeps {HOLD_CONNECTIONS} connections of the fleet's budget, and checking the other shards needs {CHECK_CONNECTIONS} more: the budget is {}, raise it to at least {} (tenantctl fleet add --max-connections)",
                self.max_connections,
                HOLD_CONNECTIONS + CHECK_CONNECTIONS
            )));
        }
        if !self.shards.iter().any(|p| p.id == profile.id) {
            return Err(Error::InvalidInput(format!(
                "profile {:?} is not one of the fleet's shards",
                profile.name
            )));
        }
        if self
            .held
            .compare_exchange(0, HOLD_CONNECTIONS, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return Err(Error::InvalidInput(
                "a shard of this fleet is open already: close it before opening another".into(),
            ));
        }
        // Counted from here (a search asking for more than the rest is refused, not left waiting); given back
        // if the connect fails.
        let held = HeldCount(self.held.clone());
        let share = self
            .budget
            .clone()
            .acquire_many_owned(HOLD_CONNECTIONS)
            .await
            .map_err(|_| Error::Cancelled)?;
        let how = ConnectHow {
            pool: Some(HOLD_POOL),
            ..how.clone()
        };
        let connected = profile.connect(store, passwords, &how).await?;
        Ok(Held {
            connected,
            share: HeldShare {
                _permit: share,
                _held: held,
            },
        })
    }

    /// The shard that answered for tenant id `key` earlier in this process, if any.
    fn learned(&self, key: &str) -> Option<String> {
        self.learned
            .lock()
            .expect("not poisoned")
            .get(key)
            .cloned()
            .flatten()
    }

    /// Remembers that tenant `id` answered on `shard`. Only a uuid is remembered (integer or text ids are
    /// each shard's own: `42` may be a tenant on every shard), and an id once seen on two shards never is.
    fn learn(&self, id: &str, shard: &str, id_type: IdType) {
        if id_type != IdType::Uuid {
            return;
        }
        let mut learned = self.learned.lock().expect("not poisoned");
        match learned.get(id) {
            Some(Some(s)) if s != shard => {
                learned.insert(id.to_owned(), None);
            }
            Some(None) => {}
            _ => {
                learned.insert(id.to_owned(), Some(shard.to_owned()));
            }
        }
    }

    /// Forgets where `id` was (moved or gone), unless it was seen on two shards (that stays known).
    fn forget(&self, id: &str) {
        let mut learned = self.learned.lock().expect("not poisoned");
        if let Some(Some(_)) = learned.get(id) {
            learned.remove(id);
        }
    }
}

/// Gives a turn's share back [`CLOSE_GRACE`] after its connections were closed: a closed connection's backend
/// leaves the server a moment after the client hangs up (the driver does not wait for it), and the next shard's
/// connection would overlap it (seen: the budget plus one, now and then). The answer does not wait for that
/// moment; the next turn does.
fn give_back_later(share: tokio::sync::OwnedSemaphorePermit) {
    tokio::spawn(async move {
        tokio::time::sleep(CLOSE_GRACE).await;
        drop(share);
    });
}

/// How many of a fleet's connections the app's open shard keeps: its session's pool of [`HOLD_POOL`] and the
/// approvals' watch (one LISTEN connection).
pub const HOLD_CONNECTIONS: u32 = 3;

/// The pool of the app's open shard.
pub const HOLD_POOL: u32 = 2;

/// A shard opened for reading its tenants ([`Shards::hold`]): its connection, and its share of the budget.
pub struct Held {
    pub connected: crate::profile::Connected,
    pub share: HeldShare,
}

/// A held shard's share of the fleet's budget, given back when dropped: drop it after the shard's pool is
/// closed.
pub struct HeldShare {
    _permit: tokio::sync::OwnedSemaphorePermit,
    _held: HeldCount,
}

/// The open shard's connections counted as held, until dropped.
struct HeldCount(Arc<AtomicU32>);

impl Drop for HeldCount {
    fn drop(&mut self) {
        self.0.fetch_sub(HOLD_CONNECTIONS, Ordering::SeqCst);
    }
}

/// A tenant row of a fleet search: the row, and the shard it came from.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct FleetTenantRow {
    #[serde(flatten)]
    pub row: TenantRow,
    pub shard: String,
}

/// A fleet search: the rows every shard that answered found (the first `limit`, merged in the query's order),
/// whether a shard had more, and the shards that did not answer.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct FleetTenantPage {
    pub items: Vec<FleetTenantRow>,
    /// Some shard had more rows than it sent: narrow the search.
    pub more: bool,
    pub unavailable: Vec<Unavailable>,
}

/// Searches the tenants of every shard (each with the query's limit) and merges them.
pub async fn search(
    shards: &Shards,
    passwords: Passwords<'_>,
    how: &ConnectHow,
    q: &TenantQuery,
) -> FleetTenantPage {
    let answers = shards
        .each(passwords, how, (1, 1), |_, door| async move {
            let page = door.tenants(q).await?;
            Ok((page, door.db().schema().tenant_id_type))
        })
        .await;
    let mut items = Vec::new();
    let mut more = false;
    let mut unavailable = Vec::new();
    for (shard, answer) in answers {
        match answer {
            Ok((page, id_type)) => {
                more |= page.next_cursor.is_some();
                for r in &page.items {
                    shards.learn(r.tenant.id(), &shard, id_type);
                }
                items.extend(page.items.into_iter().map(|row| FleetTenantRow {
                    row,
                    shard: shard.clone(),
                }));
            }
            Err(e) => unavailable.push(Unavailable::of(&shard, &e)),
        }
    }
    let key = |r: &FleetTenantRow| -> (String, String) {
        let t = &r.row.tenant;
        let first = match q.sort {
            crate::tenants::TenantSort::Name => t.name().to_lowercase(),
            crate::tenants::TenantSort::Slug => t.slug().unwrap_or_default().to_owned(),
            crate::tenants::TenantSort::CreatedAt => {
                r.row.created_at.map(|c| c.to_rfc3339()).unwrap_or_default()
            }
        };
        (first, r.shard.clone())
    };
    items.sort_by_key(key);
    let limit = q.limit.max(1) as usize;
    if items.len() > limit {
        items.truncate(limit);
        more = true;
    }
    FleetTenantPage {
        items,
        more,
        unavailable,
    }
}

/// Where a tenant lives: its shard, and the tenant as that shard knows it.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct Located {
    pub shard: String,
    pub tenant: Tenant,
    /// Shards that did not answer (the tenant was found on another).
    pub unavailable: Vec<Unavailable>,
    /// Shards not asked: the lookup was settled (the tenant found by its id) before their turn came.
    pub not_asked: Vec<String>,
}

/// Finds the shard that holds the tenant `key` (an id or a slug). With a directory, the directory says. Else,
/// for a uuid this process has seen answer on a shard (a search's row, an earlier lookup), that shard is asked
/// first, and its answer settles it. Else every shard is asked, in parallel within the budget: a shard that has
/// the tenant by its uuid settles the lookup and the shards whose turn has not come are not asked; a slug, or an
/// integer or text id, is asked of every shard (it may exist on two, and that is refused with both named). A
/// shard that does not answer is named in the answer, and in "not found".
pub async fn locate(
    shards: &Shards,
    passwords: Passwords<'_>,
    how: &ConnectHow,
    key: &str,
) -> Result<Located> {
    locate_near(shards, passwords, how, key, None).await
}

/// [`locate`], asking shard `near` first when given (the shard the user last saw the tenant on: a recent
/// tenant): a tenant with that id there settles it, whatever the ids' type (the user chose that shard's
/// tenant). Not there: as [`locate`].
pub async fn locate_near(
    shards: &Shards,
    passwords: Passwords<'_>,
    how: &ConnectHow,
    key: &str,
    near: Option<&str>,
) -> Result<Located> {
    let key = key.trim();
    if let Some(shard) = near {
        let name = shards.shard(shard)?.name.clone();
        if let Ok(Some(tenant)) = ask_one(shards, &name, passwords, how, key).await {
            if tenant.id() == key {
                return Ok(Located {
                    shard: name,
                    tenant,
                    unavailable: Vec::new(),
                    not_asked: Vec::new(),
                });
            }
        }
    }
    if let Some((profile, sql)) = &shards.directory {
        match ask_directory(shards, profile, sql, passwords, how, key).await {
            Ok(Some(named)) => return confirm_on(shards, &named, passwords, how, key).await,
            Ok(None) => {
                return Err(Error::NotInDirectory {
                    key: key.to_owned(),
                    placed_on: None,
                })
            }
            // The directory did not answer: every shard is asked instead (it says so among the unavailable).
            Err(e) => {
                let mut found = fan_out(shards, passwords, how, key).await?;
                found
                    .unavailable
                    .insert(0, Unavailable::of(&profile.name, &e));
                return Ok(found);
            }
        }
    }
    if let Some(shard) = shards.learned(key) {
        match ask_one(shards, &shard, passwords, how, key).await {
            Ok(Some(tenant)) if tenant.id() == key => {
                return Ok(Located {
                    shard,
                    tenant,
                    unavailable: Vec::new(),
                    not_asked: Vec::new(),
                })
            }
            // Moved, gone, or the shard did not answer: every shard is asked (and names it if it is down).
            _ => shards.forget(key),
        }
    }
    fan_out(shards, passwords, how, key).await
}

/// Tenant `key` on shard `shard` through its door: `None` when the shard does not have it.
async fn ask_one(
    shards: &Shards,
    shard: &str,
    passwords: Passwords<'_>,
    how: &ConnectHow,
    key: &str,
) -> Result<Option<Tenant>> {
    let profile = shards.shard(shard)?;
    let answer = shards
        .turn(profile, passwords, how, (1, 1), |door| async move {
            door.locate(key).await
        })
        .await;
    match answer {
        Ok(t) => Ok(Some(t)),
        Err(Error::UnknownTenant(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The shard the directory names for `key`: `None` when it names none; an error naming both when it names two.
async fn ask_directory(
    shards: &Shards,
    profile: &Profile,
    sql: &str,
    passwords: Passwords<'_>,
    how: &ConnectHow,
    key: &str,
) -> Result<Option<String>> {
    let statement = crate::sql::directory_lookup(sql).map_err(Error::InvalidInput)?;
    let statement = &statement;
    let answer = shards
        .turn(profile, passwords, how, (1, 1), |door| async move {
            let mut tx = door.db().read_tx().await?;
            let named: Vec<String> = crate::sql::query_scalar(statement)
                .bind(key)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(named)
        })
        .await;
    let mut named = answer?;
    named.sort();
    named.dedup();
    match named.len() {
        0 => Ok(None),
        1 => Ok(named.pop()),
        _ => Err(Error::InvalidInput(format!(
            "the fleet's directory names {} shards for tenant {key:?}: {}; give its id, or use the shard's profile",
            named.len(),
            named.join(", ")
        ))),
    }
}

/// The tenant on the shard the directory named, confirmed there through its door (the directory may be stale).
async fn confirm_on(
    shards: &Shards,
    shard: &str,
    passwords: Passwords<'_>,
    how: &ConnectHow,
    key: &str,
) -> Result<Located> {
    // The directory may name a shard by its profile's id: answers always say the profile's name.
    let Ok(profile) = shards.shard(shard) else {
        return Err(Error::InvalidInput(format!(
            "the fleet's directory places tenant {key:?} on {shard:?}, which is not one of its shards"
        )));
    };
    let shard = profile.name.clone();
    match ask_one(shards, &shard, passwords, how, key).await? {
        Some(tenant) => Ok(Located {
            shard: shard.clone(),
            tenant,
            unavailable: Vec::new(),
            not_asked: Vec::new(),
        }),
        None => Err(Error::NotInDirectory {
            key: key.to_owned(),
            placed_on: Some(shard.to_owned()),
        }),
    }
}

/// Every shard asked for `key`.
async fn fan_out(
    shards: &Shards,
    passwords: Passwords<'_>,
    how: &ConnectHow,
    key: &str,
) -> Result<Located> {
    // A tenant found by its id settles the lookup (an id is the tenant's, a slug may be on two shards).
    let settled = AtomicBool::new(false);
    let settled = &settled;
    let answers = shards
        .each_until(
            passwords,
            how,
            (1, 1),
            Some(settled),
            |_, door| async move {
                let id_type = door.db().schema().tenant_id_type;
                match door.locate(key).await {
                    Ok(t) => {
                        // Only a uuid is one tenant's across shards (an integer id is each shard's own).
                        if t.id() == key && id_type == IdType::Uuid {
                            settled.store(true, Ordering::SeqCst);
                        }
                        Ok(Some((t, id_type)))
                    }
                    Err(Error::UnknownTenant(_)) => Ok(None),
                    Err(e) => Err(e),
                }
            },
        )
        .await;
    let mut found: Vec<(String, Tenant, IdType)> = Vec::new();
    let mut asked = Vec::new();
    let mut not_asked = Vec::new();
    let mut unavailable = Vec::new();
    for (shard, answer) in answers {
        match answer {
            Ok(Some(Some((t, id_type)))) => found.push((shard, t, id_type)),
            Ok(Some(None)) => asked.push(shard),
            // Not asked: another shard had settled it.
            Ok(None) => not_asked.push(shard),
            Err(e) => unavailable.push(Unavailable::of(&shard, &e)),
        }
    }
    // A tenant whose id is the key wins over another shard's tenant whose slug is (as on one database).
    if found.iter().any(|(_, t, _)| t.id() == key) {
        found.retain(|(_, t, _)| t.id() == key);
    }
    match found.len() {
        1 => {
            let (shard, tenant, id_type) = found.remove(0);
            shards.learn(tenant.id(), &shard, id_type);
            Ok(Located {
                shard,
                tenant,
                unavailable,
                not_asked,
            })
        }
        0 => Err(Error::NotOnFleet {
            key: key.to_owned(),
            asked,
            unavailable: unavailable
                .iter()
                .map(|u| format!("{} ({})", u.shard, u.kind))
                .collect(),
        }),
        _ => Err(Error::InvalidInput(format!(
            "tenant {key:?} is on {} shards: {}; give its id, or use the shard's profile",
            found.len(),
            found
                .iter()
                .map(|(s, t, _)| format!("{s} (id {})", t.id()))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The server connections one shard's check may hold at once (see [`check`]).
pub const CHECK_CONNECTIONS: u32 = 3;

/// One shard's verdict.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ShardVerdict {
    pub shard: String,
    /// The check's report, when the shard answered.
    pub report: Option<Report>,
    /// Why it did not.
    pub unavailable: Option<Unavailable>,
}

/// The isolation check over a fleet: one verdict per shard, and the fleet's.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct FleetCheck {
    pub fleet: String,
    pub shards: Vec<ShardVerdict>,
    /// The shards whose check failed (isolation not enforced, or a failing finding).
    pub leaking: Vec<String>,
    pub unavailable: Vec<String>,
    /// Every shard answered and every one holds: the only "enforced" a fleet can earn.
    pub isolation_enforced: bool,
}

/// Runs the isolation check (with the probe when asked) on every shard within the budget. A shard that did
/// not answer is not a shard that holds: the fleet's verdict is "enforced" only when all answered and held.
pub async fn check(
    fleet: &Fleet,
    shards: &Shards,
    passwords: Passwords<'_>,
    how: &ConnectHow,
    opts: &CheckOptions,
) -> FleetCheck {
    // Three connections a shard: the check holds the catalog's snapshot in one pooled transaction while the
    // probe asks each state on a dedicated new connection, and the pooled-residue check takes a second pooled one.
    let answers = shards
        .each(
            passwords,
            how,
            (CHECK_CONNECTIONS, 2),
            |profile, door| async move {
                // Each shard's own accepted findings (its profile's), besides the ones given for the fleet.
                let mut opts = opts.clone();
                opts.accepted
                    .extend(profile.accepted_findings.iter().cloned());
                crate::isolation::check(door.db(), &opts).await
            },
        )
        .await;
    let mut out = FleetCheck {
        fleet: fleet.name.clone(),
        shards: Vec::new(),
        leaking: Vec::new(),
        unavailable: Vec::new(),
        isolation_enforced: false,
    };
    for (shard, answer) in answers {
        match answer {
            Ok(report) => {
                if !report.isolation_enforced || report.failing().next().is_some() {
                    out.leaking.push(shard.clone());
                }
                out.shards.push(ShardVerdict {
                    shard,
                    report: Some(report),
                    unavailable: None,
                });
            }
            Err(e) => {
                out.unavailable.push(shard.clone());
                out.shards.push(ShardVerdict {
                    unavailable: Some(Unavailable::of(&shard, &e)),
                    shard,
                    report: None,
                });
            }
        }
    }
    out.isolation_enforced = out.leaking.is_empty() && out.unavailable.is_empty();
    out
}

/// A shard's health: whether it answered, its server, its role and the time a read took.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ShardStatus {
    pub shard: String,
    pub answered: bool,
    pub server_version: Option<String>,
    /// `primary` or `standby`.
    pub role: Option<&'static str>,
    /// A read-only round trip (BEGIN, SELECT, COMMIT) on the connected shard, in milliseconds.
    pub latency_ms: Option<f64>,
    pub unavailable: Option<Unavailable>,
}

/// Asks every shard, within the budget, what it is and how quickly it answers.
pub async fn status(
    shards: &Shards,
    passwords: Passwords<'_>,
    how: &ConnectHow,
) -> Vec<ShardStatus> {
    let answers = shards
        .each(passwords, how, (1, 1), |_, door| async move {
            let db = door.db();
            let started = Instant::now();
            let mut tx = db.read_tx().await?;
            crate::sql::query("SELECT 1").execute(&mut *tx).await?;
            tx.commit().await?;
            let latency = started.elapsed().as_secs_f64() * 1000.0;
            let login = db.login();
            Ok((login.server_version.clone(), login.standby, latency))
        })
        .await;
    answers
        .into_iter()
        .map(|(shard, answer)| match answer {
            Ok((version, standby, latency)) => ShardStatus {
                shard,
                answered: true,
                server_version: Some(version),
                role: Some(if standby { "standby" } else { "primary" }),
                latency_ms: Some(latency),
                unavailable: None,
            },
            Err(e) => ShardStatus {
                unavailable: Some(Unavailable::of(&shard, &e)),
                shard,
                answered: false,
                server_version: None,
                role: None,
                latency_ms: None,
            },
        })
        .collect()
}
