//! Connection profiles: where a database is and how to read it, stored as TOML in the OS config directory.
//!
//! A profile never holds a secret: its password lives in the keyring under the profile's `id` (which stays
//! the same when the profile is renamed). The file is written atomically (a temporary file beside it, synced,
//! then renamed) with mode 0600. Fields this version does not know are kept and written back, and a file
//! from a newer version is read but never overwritten, so two versions of the console can share a machine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::access::ReasonPolicy;
use crate::db::{ConnectSpec, DbOptions, TlsMode};
use crate::error::{Error, Result};
use crate::mapping::{validate_setting_name, Mapping, DEFAULT_TENANT_SETTING};
use crate::reach::{PasswordCommand, SshRoute};

/// The version of the profile file this build writes.
pub const FILE_VERSION: u32 = 1;

/// A finding of the isolation check that the profile's owner accepted, with why.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, ts_rs::TS)]
pub struct AcceptedFinding {
    pub code: String,
    pub object: String,
    pub reason: String,
}

/// One connection profile. No secret in it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct Profile {
    /// Stable id: the keyring account of the profile's password.
    pub id: String,
    /// What people call it (`prod-replica`); unique in the store.
    pub name: String,
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    #[serde(default)]
    pub tls: TlsMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_setting")]
    pub tenant_setting: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping_file: Option<PathBuf>,
    #[serde(default)]
    pub access_reason: ReasonPolicy,
    /// How long a reason given when opening a tenant lasts, in minutes (policy `required`).
    #[serde(default = "default_grant_minutes")]
    pub access_grant_minutes: u32,
    #[serde(default = "default_timeout_ms")]
    pub statement_timeout_ms: u64,
    /// The time limit of an export, in minutes (0: none).
    #[serde(default = "default_export_minutes")]
    pub export_timeout_minutes: u64,
    /// Where this profile's access records are written: the id (or name) of another profile, the primary,
    /// when this one reads from a hot standby, where nothing can be written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_to: Option<String>,
    /// Behind a connection pooler in transaction mode (PgBouncer): every statement is sent unnamed. Connecting
    /// finds most poolers by itself; this says so where it cannot (a pooler on the server's own port number).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pooled: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted_findings: Vec<AcceptedFinding>,
    /// Through SSH: what `ssh` takes (a Host alias of the SSH configuration, `user@host`,
    /// `ssh://user@host:port`). The host and port above are then resolved at the far end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<String>,
    /// Jump hosts before `ssh` (as `ssh -J` takes them), replacing a ProxyJump of the SSH configuration.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ssh_jump: Vec<String>,
    /// The SSH configuration file (default `~/.ssh/config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_config: Option<PathBuf>,
    /// Host keys pinned by hop (`host:port` as ssh connects) to a `SHA256:` fingerprint.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ssh_host_keys: BTreeMap<String, String>,
    /// A command whose first line of output is the password (a short-lived token), run before every new
    /// server connection; no password is stored then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_command: Option<String>,
    /// Fields written by a newer version: kept as they are.
    #[serde(flatten)]
    #[ts(skip)]
    pub extra: BTreeMap<String, toml::Value>,
}

fn default_setting() -> String {
    DEFAULT_TENANT_SETTING.to_owned()
}

fn default_grant_minutes() -> u32 {
    30
}

fn default_timeout_ms() -> u64 {
    30_000
}

fn default_export_minutes() -> u64 {
    60
}

impl Profile {
    /// A new profile with a fresh id and the defaults.
    pub fn new(name: &str, host: &str, port: u16, database: &str, user: &str) -> Self {
        Profile {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_owned(),
            host: host.to_owned(),
            port,
            database: database.to_owned(),
            user: user.to_owned(),
            tls: TlsMode::default(),
            ca_file: None,
            tenant_setting: default_setting(),
            mapping_file: None,
            access_reason: ReasonPolicy::default(),
            access_grant_minutes: default_grant_minutes(),
            statement_timeout_ms: default_timeout_ms(),
            export_timeout_minutes: default_export_minutes(),
            record_to: None,
            pooled: false,
            accepted_findings: Vec::new(),
            ssh: None,
            ssh_jump: Vec::new(),
            ssh_config: None,
            ssh_host_keys: BTreeMap::new(),
            password_command: None,
            extra: BTreeMap::new(),
        }
    }

    /// Checks the fields a person typed.
    pub fn validate(&self) -> Result<()> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !name_ok {
            return Err(Error::InvalidInput(format!(
                "profile name {:?} must be 1-64 letters, digits, '-', '_' or '.'",
                self.name
            )));
        }
        if self.host.trim().is_empty() || self.database.is_empty() || self.user.is_empty() {
            return Err(Error::InvalidInput(
                "a profile needs a host, a database and a user".into(),
            ));
        }
        if self.port == 0 {
            return Err(Error::InvalidInput("port 0 is not a port".into()));
        }
        validate_setting_name(&self.tenant_setting).map_err(|_| {
            Error::InvalidInput(format!(
                "tenant setting {:?} is not a custom setting name like app.current_tenant_id",
                self.tenant_setting
            ))
        })?;
        if !(1..=24 * 60).contains(&self.access_grant_minutes) {
            return Err(Error::InvalidInput(
                "an access grant lasts 1 to 1440 minutes".into(),
            ));
        }
        if self
            .record_to
            .as_deref()
            .is_some_and(|t| t == self.id || t == self.name)
        {
            return Err(Error::InvalidInput(
                "a profile cannot record its accesses on itself: record_to names the primary's profile".into(),
            ));
        }
        if self.statement_timeout_ms == 0 {
            return Err(Error::InvalidInput(
                "statement timeout must be above 0 ms".into(),
            ));
        }
        if self.ssh.is_none() && !self.ssh_jump.is_empty() {
            return Err(Error::InvalidInput(
                "SSH jump hosts need an SSH destination (ssh) to jump to".into(),
            ));
        }
        if let Some(route) = self.ssh_route() {
            route.validate()?;
        }
        if let Some(cmd) = &self.password_command {
            PasswordCommand::new(cmd)?;
        }
        Ok(())
    }

    /// Points this profile at what a libpq service describes (host, port, database, user, TLS, CA file).
    pub fn set_service_target(&mut self, t: &crate::reach::service::ServiceTarget) -> Result<()> {
        self.host = t.host.clone();
        self.port = t.port;
        self.database = t.database.clone();
        self.user = t.user.clone();
        self.tls = TlsMode::from_sslmode(t.sslmode.as_deref(), &t.host, t.ca_file.is_some())?;
        self.ca_file = t.ca_file.clone();
        Ok(())
    }

    /// The SSH route of this profile, when it has one.
    pub fn ssh_route(&self) -> Option<SshRoute> {
        let dest = self.ssh.as_deref().filter(|d| !d.trim().is_empty())?;
        let mut r = SshRoute::new(dest, &self.ssh_jump);
        r.config = self.ssh_config.clone();
        r.host_keys = self.ssh_host_keys.clone();
        Some(r)
    }

    /// The password command of this profile, when it has one.
    pub fn password_command(&self) -> Result<Option<PasswordCommand>> {
        self.password_command
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .map(PasswordCommand::new)
            .transpose()
    }

    /// What a stored or typed password is given for: the server, database, user, TLS settings and the SSH
    /// route with its pinned keys. A password is only ever sent where this is the same as when it was given.
    pub fn server_identity(&self) -> String {
        self.identity(true)
    }

    /// Whether `other` is this profile's server with other pinned host keys only (the user accepted keys).
    pub fn same_server_but_pins(&self, other: &Profile) -> bool {
        self.identity(false) == other.identity(false)
    }

    fn identity(&self, with_pins: bool) -> String {
        let ca = self
            .ca_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let ssh = match self.ssh_route() {
            Some(r) => {
                let pins: Vec<String> = r
                    .host_keys
                    .iter()
                    .filter(|_| with_pins)
                    .map(|(h, f)| format!("{h}={f}"))
                    .collect();
                format!(
                    "{} via {} config {} pins {}",
                    r.destination,
                    r.jumps.join(","),
                    r.config
                        .map(|c| c.display().to_string())
                        .unwrap_or_default(),
                    pins.join(",")
                )
            }
            None => "direct".to_owned(),
        };
        format!(
            "postgres://{}@{}:{}/{} tls={} ca={ca} ssh={ssh}",
            self.user, self.host, self.port, self.database, self.tls
        )
    }

    /// Where and how to connect, with the password from the keyring (or this session's).
    pub fn connect_spec(&self, password: Option<SecretString>) -> ConnectSpec {
        ConnectSpec {
            host: self.host.clone(),
            port: self.port,
            database: self.database.clone(),
            user: self.user.clone(),
            password,
            tls: self.tls,
            ca_file: self.ca_file.clone(),
            connect_timeout: Duration::from_secs(10),
            // Validated when the profile was saved; a hand-edited bad one fails when it is used.
            password_command: self.password_command().ok().flatten(),
            ssh: self.ssh_route(),
        }
    }

    /// The mapping this profile reads with: its file, or the reference schema; with the profile's setting.
    pub fn mapping(&self) -> Result<Mapping> {
        let mut m = match &self.mapping_file {
            Some(path) => Mapping::load(path)?,
            None => Mapping::reference(),
        };
        if self.mapping_file.is_none() || m.tenant_setting == DEFAULT_TENANT_SETTING {
            m.tenant_setting = self.tenant_setting.clone();
        }
        Ok(m)
    }

    /// Builds a profile from an edit form's JSON object: without an `id` it is a new profile; with one, the
    /// stored profile's other fields (including those of newer versions) are kept. Only the profile's own
    /// fields are taken from the form.
    pub fn from_input(input: serde_json::Value, store: &ProfileStore) -> Result<Profile> {
        const EDITABLE: [&str; 21] = [
            "name",
            "host",
            "port",
            "database",
            "user",
            "tls",
            "ca_file",
            "tenant_setting",
            "mapping_file",
            "access_reason",
            "statement_timeout_ms",
            "accepted_findings",
            "record_to",
            "pooled",
            "access_grant_minutes",
            "ssh",
            "ssh_jump",
            "ssh_config",
            "ssh_host_keys",
            "password_command",
            "export_timeout_minutes",
        ];
        let serde_json::Value::Object(form) = input else {
            return Err(Error::InvalidInput(
                "a profile must be an object of fields".into(),
            ));
        };
        let base = match form
            .get("id")
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
        {
            Some(id) => store.get(id)?,
            None => Profile::new("", "", 5432, "", ""),
        };
        let mut merged = serde_json::to_value(&base)
            .map_err(|e| Error::Profile(format!("cannot edit the profile: {e}")))?;
        let obj = merged
            .as_object_mut()
            .expect("a profile serializes to an object");
        for (k, v) in form {
            if EDITABLE.contains(&k.as_str()) {
                // An emptied optional field (CA file, mapping file) means "none".
                if v.is_null() || v.as_str() == Some("") {
                    obj.remove(&k);
                } else {
                    obj.insert(k, v);
                }
            }
        }
        let mut p: Profile = serde_json::from_value(merged)
            .map_err(|e| Error::InvalidInput(format!("invalid profile: {e}")))?;
        p.validate()?;
        // A record target is a profile of this store, kept by id: a name typed in is resolved now.
        if let Some(target) = &p.record_to {
            p.record_target(store)?;
            let id = store.get(target)?.id;
            p.record_to = Some(id);
        }
        Ok(p)
    }

    /// Reads this profile's password from `secrets`, only when it was stored for this profile's server as it
    /// is now ([`Profile::server_identity`]): a profile pointed elsewhere (edited by hand, by a script, or
    /// by a slip) never sends it. A missing or mismatched one names the profile, so the user knows which to fix.
    pub async fn password(
        &self,
        secrets: &crate::secret::Secrets,
    ) -> std::result::Result<secrecy::SecretString, crate::error::SecretError> {
        match secrets.get_bound(&self.id, &self.server_identity()).await {
            Err(crate::error::SecretError::Missing(_)) => {
                Err(crate::error::SecretError::Missing(self.name.clone()))
            }
            Err(crate::error::SecretError::OtherServer(_)) => {
                Err(crate::error::SecretError::OtherServer(self.name.clone()))
            }
            other => other,
        }
    }

    /// Stores `password` for this profile, bound to its server as it is now.
    pub async fn store_password(
        &self,
        secrets: &crate::secret::Secrets,
        password: SecretString,
    ) -> std::result::Result<(), crate::error::SecretError> {
        secrets
            .set_bound(&self.id, &self.server_identity(), password)
            .await
    }

    /// The door for a database connected with this profile: its reason policy and grant length, and its name
    /// for messages. Records go to `db` until [`crate::access::Door::records_on`] names the primary.
    pub fn door(&self, db: crate::Db) -> crate::access::Door {
        crate::access::Door::new(
            db,
            self.access_reason,
            Duration::from_secs(u64::from(self.access_grant_minutes) * 60),
        )
        .named(&format!("profile {:?}", self.name))
    }

    /// The profile this one's access records go to (`record_to`), when it names one.
    pub fn record_target(&self, store: &ProfileStore) -> Result<Option<Profile>> {
        let Some(target) = &self.record_to else {
            return Ok(None);
        };
        match store.get(target) {
            Ok(p) if p.id == self.id => Err(Error::InvalidInput(format!(
                "profile {:?} records its accesses on itself: record_to must name the primary's profile",
                self.name
            ))),
            Ok(p) => Ok(Some(p)),
            Err(Error::UnknownProfile(_)) => Err(Error::UnknownProfile(format!(
                "{target} (named by record_to in profile {:?})",
                self.name
            ))),
            Err(e) => Err(e),
        }
    }

    pub fn db_options(&self, allow_bypass: bool) -> DbOptions {
        DbOptions {
            statement_timeout: Duration::from_millis(self.statement_timeout_ms),
            export_timeout: Duration::from_secs(self.export_timeout_minutes.min(7 * 24 * 60) * 60),
            allow_bypass,
            pooled: self.pooled,
            ..DbOptions::default()
        }
    }
}

/// A password typed for this session only (the app's prompt, `--password-stdin`), bound like a stored one to
/// the server it was typed for: re-pointing the profile afterwards never sends it elsewhere.
#[derive(Clone)]
pub struct TypedPassword {
    profile_id: String,
    identity: String,
    secret: SecretString,
}

impl TypedPassword {
    /// `secret`, typed for `profile` as it is now.
    pub fn for_profile(profile: &Profile, secret: SecretString) -> Self {
        TypedPassword {
            profile_id: profile.id.clone(),
            identity: profile.server_identity(),
            secret,
        }
    }

    /// The password, when `profile` is still the server it was typed for.
    pub fn for_server_of(&self, profile: &Profile) -> Option<SecretString> {
        (self.profile_id == profile.id && self.identity == profile.server_identity())
            .then(|| self.secret.clone())
    }
}

/// Where a profile's password may come from for one connect: passwords typed this session, then the keyring.
#[derive(Clone, Copy, Default)]
pub struct Passwords<'a> {
    pub typed: &'a [TypedPassword],
    pub keyring: Option<&'a crate::secret::Secrets>,
}

/// A connected profile: its door, and the profile its records go to (a standby's primary).
pub struct Connected {
    pub door: crate::access::Door,
    pub records_to: Option<String>,
}

/// How to connect, beyond the profile.
#[derive(Clone, Debug, Default)]
pub struct ConnectHow {
    /// Read as tenants even though RLS does not apply to the login (the user accepted that).
    pub allow_bypass: bool,
    /// A mapping other than the profile's.
    pub mapping: Option<Mapping>,
    /// SSH host key fingerprints accepted for this connect only.
    pub accept_host_keys: Vec<String>,
    /// A pool smaller than the profile's (a fleet's open shard in the app, held within the fleet's budget).
    pub pool: Option<u32>,
}

impl Profile {
    /// The password for one connect: none when a command makes it; else one typed this session for this
    /// server; else the keyring's, when it was stored for this server. Never one given for another server.
    pub async fn password_for_connect(
        &self,
        passwords: Passwords<'_>,
    ) -> Result<Option<SecretString>> {
        if self.password_command()?.is_some() {
            return Ok(None);
        }
        if let Some(pw) = passwords.typed.iter().find_map(|t| t.for_server_of(self)) {
            return Ok(Some(pw));
        }
        match passwords.keyring {
            Some(secrets) => Ok(Some(self.password(secrets).await?)),
            None => Err(crate::error::SecretError::Unavailable.into()),
        }
    }

    /// Connects this profile, and its primary when it reads a standby (`record_to`), with their doors' rules.
    /// The one way the app and tenantctl connect a profile: the password rules above hold for both.
    pub async fn connect(
        &self,
        store: &ProfileStore,
        passwords: Passwords<'_>,
        how: &ConnectHow,
    ) -> Result<Connected> {
        let (spec, mapping) = self.spec_and_mapping(passwords, how).await?;
        let options = self.options_with(how.allow_bypass, how.pool);
        let db = crate::Db::connect(&spec, mapping.clone(), options).await?;
        let mut door = self.door(db);
        let mut records_to = None;
        if let Some(primary) = self.record_target(store)? {
            let password = primary.password_for_connect(passwords).await?;
            let options = primary.options_with(false, how.pool);
            let recorder =
                crate::Db::connect(&primary.connect_spec(password), mapping, options).await?;
            door = door.records_on(recorder, &format!("profile {:?}", primary.name))?;
            records_to = Some(primary.name);
        }
        Ok(Connected { door, records_to })
    }

    /// Connects this profile as a fleet's shard: its own database only (no access-record connection: a fleet
    /// search, lookup or check writes no record), with a pool of at most `max_connections`.
    pub async fn connect_shard(
        &self,
        passwords: Passwords<'_>,
        how: &ConnectHow,
        max_connections: u32,
    ) -> Result<crate::Db> {
        let (spec, mapping) = self.spec_and_mapping(passwords, how).await?;
        let options = self.options_with(how.allow_bypass, Some(max_connections));
        crate::Db::connect_lean(&spec, mapping, options).await
    }

    /// What one connect of this profile needs: its spec (with the password for it and the SSH host keys
    /// accepted for this connect) and its mapping (`how`'s, else the profile's).
    async fn spec_and_mapping(
        &self,
        passwords: Passwords<'_>,
        how: &ConnectHow,
    ) -> Result<(ConnectSpec, Mapping)> {
        let password = self.password_for_connect(passwords).await?;
        let mut spec = self.connect_spec(password);
        if let Some(route) = spec.ssh.as_mut() {
            route.accept = how.accept_host_keys.clone();
        }
        let mapping = match &how.mapping {
            Some(m) => m.clone(),
            None => self.mapping()?,
        };
        Ok((spec, mapping))
    }

    /// The profile's options, with a pool of `pool` connections when given.
    fn options_with(&self, allow_bypass: bool, pool: Option<u32>) -> DbOptions {
        let mut options = self.db_options(allow_bypass);
        if let Some(pool) = pool {
            options.max_connections = pool.max(1);
        }
        options
    }

    /// Pins SSH host keys the user accepted (`hop` → fingerprint) into the stored profile, keeping its stored
    /// password: the person who accepted the key is the one who gave the password. Returns the profile.
    pub async fn pin_host_keys(
        store: &ProfileStore,
        name_or_id: &str,
        keys: &[(String, String)],
        secrets: Option<&crate::secret::Secrets>,
    ) -> Result<Profile> {
        let before = store.get(name_or_id)?;
        let mut after = before.clone();
        for (hop, fp) in keys {
            if !crate::reach::ssh::is_fingerprint(fp) {
                return Err(Error::InvalidInput(format!(
                    "{fp:?} is not an SSH host key fingerprint (SHA256:…)"
                )));
            }
            after.ssh_host_keys.insert(hop.clone(), fp.clone());
        }
        after.validate()?;
        store.save(&after)?;
        if let Some(s) = secrets {
            Profile::carry_password(&before, &after, s).await?;
        }
        Ok(after)
    }

    /// After the user accepted SSH host keys for a profile whose server is otherwise the same, its stored
    /// password is bound to the profile with the new pins (the person who accepted is the one who gave it).
    /// Any other change keeps it bound to the old server, where it is never sent from.
    pub async fn carry_password(
        before: &Profile,
        after: &Profile,
        secrets: &crate::secret::Secrets,
    ) -> std::result::Result<(), crate::error::SecretError> {
        if before.server_identity() == after.server_identity()
            || !before.same_server_but_pins(after)
        {
            return Ok(());
        }
        match before.password(secrets).await {
            Ok(pw) => after.store_password(secrets, pw).await,
            Err(_) => Ok(()),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, Default)]
struct ProfileFile {
    #[serde(default)]
    version: u32,
    #[serde(default)]
    profiles: Vec<Profile>,
    #[serde(flatten)]
    extra: BTreeMap<String, toml::Value>,
}

/// The profiles of this user, in `profiles.toml` of the config directory.
#[derive(Clone, Debug)]
pub struct ProfileStore {
    path: PathBuf,
}

/// The directory for configuration: `$TENANT_CONSOLE_CONFIG_DIR`, else the OS's (e.g. `~/.config/tenant-console`).
pub fn config_dir() -> Result<PathBuf> {
    if let Some(d) = std::env::var_os("TENANT_CONSOLE_CONFIG_DIR") {
        return Ok(PathBuf::from(d));
    }
    directories::ProjectDirs::from("", "", "tenant-console")
        .map(|p| p.config_dir().to_path_buf())
        .ok_or_else(|| Error::Profile("no home directory to keep profiles in".into()))
}

/// The directory for logs and data: `$TENANT_CONSOLE_DATA_DIR`, else the OS's (e.g. `~/.local/share/tenant-console`).
pub fn data_dir() -> Result<PathBuf> {
    if let Some(d) = std::env::var_os("TENANT_CONSOLE_DATA_DIR") {
        return Ok(PathBuf::from(d));
    }
    directories::ProjectDirs::from("", "", "tenant-console")
        .map(|p| p.data_dir().to_path_buf())
        .ok_or_else(|| Error::Profile("no home directory to keep data in".into()))
}

impl ProfileStore {
    /// The store in the config directory.
    pub fn open_default() -> Result<Self> {
        Ok(Self::at(config_dir()?.join("profiles.toml")))
    }

    /// A store at a given file (tests).
    pub fn at(path: impl Into<PathBuf>) -> Self {
        ProfileStore { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<ProfileFile> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                Error::Profile(format!(
                    "{} is not a valid profile file ({}); fix or move it",
                    self.path.display(),
                    crate::error::toml_error(&e, &text)
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ProfileFile {
                version: FILE_VERSION,
                ..Default::default()
            }),
            Err(e) => Err(Error::io("reading", &self.path, e)),
        }
    }

    fn write(&self, file: &ProfileFile) -> Result<()> {
        if file.version > FILE_VERSION {
            return Err(Error::Profile(format!(
                "{} was written by a newer Tenant Console (file version {}); this version will not overwrite it",
                self.path.display(),
                file.version
            )));
        }
        let text = toml::to_string_pretty(file)
            .map_err(|e| Error::Profile(format!("cannot write profiles: {e}")))?;
        atomic_write(&self.path, text.as_bytes(), 0o600)
    }

    /// All profiles, sorted by name.
    pub fn list(&self) -> Result<Vec<Profile>> {
        let mut v = self.read()?.profiles;
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(v)
    }

    /// The profile with this name (or id).
    pub fn get(&self, name_or_id: &str) -> Result<Profile> {
        self.read()?
            .profiles
            .into_iter()
            .find(|p| p.name == name_or_id || p.id == name_or_id)
            .ok_or_else(|| Error::UnknownProfile(name_or_id.to_owned()))
    }

    /// Adds a profile, or replaces the one with the same id. Names stay unique.
    pub fn save(&self, profile: &Profile) -> Result<()> {
        profile.validate()?;
        let mut file = self.read()?;
        if file
            .profiles
            .iter()
            .any(|p| p.name == profile.name && p.id != profile.id)
        {
            return Err(Error::InvalidInput(format!(
                "a profile named {:?} exists already",
                profile.name
            )));
        }
        match file.profiles.iter_mut().find(|p| p.id == profile.id) {
            Some(slot) => *slot = profile.clone(),
            None => file.profiles.push(profile.clone()),
        }
        file.version = file.version.max(FILE_VERSION);
        self.write(&file)
    }

    /// Removes a profile; returns it (its secret is the caller's to delete).
    pub fn remove(&self, name_or_id: &str) -> Result<Profile> {
        let mut file = self.read()?;
        let pos = file
            .profiles
            .iter()
            .position(|p| p.name == name_or_id || p.id == name_or_id)
            .ok_or_else(|| Error::UnknownProfile(name_or_id.to_owned()))?;
        let removed = file.profiles.remove(pos);
        self.write(&file)?;
        Ok(removed)
    }
}

/// Writes a file so that readers see the old or the new content, never a part: a temporary file in the same
/// directory, synced, then renamed over the target.
pub fn atomic_write(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tenant-console-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::io("creating a temporary file in", dir, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io("protecting", tmp.path().to_path_buf(), e))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| Error::io("writing", path, e))?;
    tmp.persist(path)
        .map_err(|e| Error::io("replacing", path, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, ProfileStore) {
        let dir = tempfile::tempdir().unwrap();
        let s = ProfileStore::at(dir.path().join("profiles.toml"));
        (dir, s)
    }

    #[test]
    fn profiles_round_trip_and_rename_keeps_the_id() {
        let (_d, s) = store();
        let mut p = Profile::new("staging", "db.example", 5432, "app", "console_reader");
        s.save(&p).unwrap();
        let id = p.id.clone();
        p.name = "staging-eu".into();
        s.save(&p).unwrap();
        let all = s.list().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].name, "staging-eu");
        assert_eq!(all[0].id, id);
        assert_eq!(s.get("staging-eu").unwrap(), p);
    }

    #[cfg(unix)]
    #[test]
    fn the_profile_file_is_private_to_its_owner() {
        use std::os::unix::fs::PermissionsExt;
        let (_d, s) = store();
        s.save(&Profile::new("p", "h", 5432, "d", "u")).unwrap();
        let mode = std::fs::metadata(s.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn unknown_fields_survive_a_rewrite() {
        let (_d, s) = store();
        std::fs::write(
            s.path(),
            "version = 1\nfuture_top = \"kept\"\n[[profiles]]\nid = \"x1\"\nname = \"a\"\nhost = \"h\"\nport = 5432\ndatabase = \"d\"\nuser = \"u\"\ncolour = \"teal\"\n",
        )
        .unwrap();
        let mut p = s.get("a").unwrap();
        p.port = 6432;
        s.save(&p).unwrap();
        let text = std::fs::read_to_string(s.path()).unwrap();
        assert!(text.contains("colour = \"teal\""), "{text}");
        assert!(text.contains("future_top = \"kept\""), "{text}");
        assert!(text.contains("6432"));
    }

    #[test]
    fn a_newer_file_version_is_read_but_never_overwritten() {
        let (_d, s) = store();
        let original = "version = 9\n[[profiles]]\nid = \"x1\"\nname = \"a\"\nhost = \"h\"\nport = 5432\ndatabase = \"d\"\nuser = \"u\"\n";
        std::fs::write(s.path(), original).unwrap();
        assert_eq!(s.list().unwrap().len(), 1);
        let err = s.save(&Profile::new("b", "h", 1, "d", "u")).unwrap_err();
        assert!(err.to_string().contains("newer"), "{err}");
        assert_eq!(std::fs::read_to_string(s.path()).unwrap(), original);
    }

    #[test]
    fn a_corrupt_profile_file_is_a_clear_error_and_is_left_alone() {
        let (_d, s) = store();
        std::fs::write(s.path(), "[[profiles]\nname=").unwrap();
        let err = s.list().unwrap_err();
        assert_eq!(err.kind(), "profile");
        assert!(
            err.to_string().contains("not a valid profile file"),
            "{err}"
        );
        assert!(s.save(&Profile::new("b", "h", 1, "d", "u")).is_err());
        assert_eq!(
            std::fs::read_to_string(s.path()).unwrap(),
            "[[profiles]\nname="
        );
    }

    #[test]
    fn a_record_target_is_another_profile_of_the_store_kept_by_id() {
        let (_d, s) = store();
        let primary = Profile::new("prod-primary", "db1", 5432, "app", "console_reader");
        s.save(&primary).unwrap();
        let form = |to: &str| {
            serde_json::json!({"name": "prod-replica", "host": "db2", "port": 5432, "database": "app",
                "user": "console_reader", "record_to": to})
        };
        let replica = Profile::from_input(form("prod-primary"), &s).unwrap();
        assert_eq!(replica.record_to.as_deref(), Some(primary.id.as_str()));
        s.save(&replica).unwrap();
        assert_eq!(
            replica.record_target(&s).unwrap().unwrap().name,
            "prod-primary"
        );
        // The primary renamed: still found, by id.
        let mut renamed = primary.clone();
        renamed.name = "primary-eu".into();
        s.save(&renamed).unwrap();
        assert_eq!(
            replica.record_target(&s).unwrap().unwrap().name,
            "primary-eu"
        );
        let e = Profile::from_input(form("nope"), &s).unwrap_err();
        assert_eq!(e.kind(), "unknown_profile");
        assert!(e.to_string().contains("nope"), "{e}");
        let e = Profile::from_input(form("prod-replica"), &s).unwrap_err();
        assert_eq!(e.kind(), "invalid_input", "itself: {e}");
        assert!(Profile::from_input(form(""), &s)
            .unwrap()
            .record_to
            .is_none());
    }

    #[test]
    fn duplicate_names_and_bad_fields_are_refused() {
        let (_d, s) = store();
        s.save(&Profile::new("p", "h", 5432, "d", "u")).unwrap();
        assert!(s.save(&Profile::new("p", "h2", 5432, "d", "u")).is_err());
        assert!(s
            .save(&Profile::new("bad name!", "h", 5432, "d", "u"))
            .is_err());
        let mut p = Profile::new("q", "h", 5432, "d", "u");
        p.tenant_setting = "nodot".into();
        assert!(s.save(&p).is_err());
        assert_eq!(s.remove("nope").unwrap_err().kind(), "unknown_profile");
    }
}
