//! What every command shares: global flags, connecting for a profile or a URL, logging.
//!
//! The password comes from `--password-stdin`, then `PGPASSWORD` (with `--url`), then the system keyring
//! (with `--profile`). It is held as a `SecretString` and never printed or logged.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use clap::Args;
use secrecy::SecretString;
use tenant_console_core::access::{AccessReason, Door, Opened, ReasonPolicy, DEFAULT_GRANT};
use tenant_console_core::doctor::DiagnosisKind;
use tenant_console_core::profile::{
    data_dir, ConnectHow, Passwords, Profile, ProfileStore, TypedPassword,
};
use tenant_console_core::reach::{PasswordCommand, SshRoute};
use tenant_console_core::secret::Secrets;
use tenant_console_core::{ConnectSpec, Db, DbOptions, Error, Mapping, TenantScope};

use crate::output::{Failure, Format};

/// Flags every command takes.
#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Connection profile to use (see `tenantctl profile list`).
    #[arg(
        long,
        global = true,
        env = "TENANTCTL_PROFILE",
        conflicts_with = "url",
        help_heading = "Connection"
    )]
    pub profile: Option<String>,
    /// A fleet (tenantctl fleet list) instead of one profile: `tenants` searches every shard, the tenant
    /// commands find the tenant's shard and read it through that shard's profile, `check` judges every shard.
    #[arg(
        long,
        global = true,
        conflicts_with = "url",
        value_name = "FLEET",
        help_heading = "Connection"
    )]
    pub fleet: Option<String>,
    /// With --fleet: at most N server connections open at once over all its shards (default: the fleet's
    /// own, else 8).
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000), help_heading = "Connection")]
    pub max_connections: Option<u32>,
    /// Connect with a URL instead of a profile: postgres://USER@HOST:PORT/DB[?sslmode=verify-full&sslrootcert=FILE].
    /// The password comes from PGPASSWORD or --password-stdin.
    #[arg(long, global = true, help_heading = "Connection")]
    pub url: Option<String>,
    /// Read the password from standard input (first line) instead of the keyring or PGPASSWORD.
    #[arg(long, global = true, help_heading = "Connection")]
    pub password_stdin: bool,
    /// With --url (and on profile add/set): reach the database through SSH. DEST is what ssh takes: a Host
    /// alias of ~/.ssh/config, user@host, or ssh://user@host:port. The database's host and port are then
    /// resolved at the far end. "" removes it from a profile.
    #[arg(long, global = true, value_name = "DEST", help_heading = "Connection")]
    pub ssh: Option<String>,
    /// With --ssh: jump hosts before DEST, in order ([user@]host[:port], comma-separated or repeated).
    #[arg(
        long,
        global = true,
        value_name = "HOST[,HOST…]",
        help_heading = "Connection"
    )]
    pub ssh_jump: Vec<String>,
    /// With --ssh: the SSH configuration file to read instead of ~/.ssh/config.
    #[arg(long, global = true, value_name = "FILE", help_heading = "Connection")]
    pub ssh_config: Option<PathBuf>,
    /// Accept an SSH host key no one vouched for (not in known_hosts, not pinned) for this run, once you
    /// have checked its fingerprint (SHA256:…, as the refusal printed it). Repeat for several hops.
    #[arg(
        long,
        global = true,
        value_name = "SHA256:…",
        help_heading = "Connection"
    )]
    pub ssh_accept: Vec<String>,
    /// With --url (and on profile add/set): run CMD through the shell before every new server connection;
    /// its first line of output is the password (a cloud IAM token). Never stored, never logged.
    #[arg(long, global = true, value_name = "CMD", help_heading = "Connection")]
    pub password_command: Option<String>,
    /// Mapping file describing where tenant data lives (default: the reference schema, or the profile's).
    #[arg(long, global = true, help_heading = "Connection")]
    pub mapping: Option<PathBuf>,
    /// Output format (default: table on a terminal, json otherwise).
    #[arg(long, global = true, value_enum, help_heading = "Output")]
    pub format: Option<Format>,
    /// Read as tenants even when RLS does not apply to this login; isolation then rests on the console's own
    /// predicates only, and every output says so.
    #[arg(long, global = true, help_heading = "Access")]
    pub allow_bypass: bool,
    /// Why you open this tenant, as CATEGORY:DETAIL (support-ticket, incident, audit-request, other),
    /// e.g. support-ticket:ZD-1234. Recorded in the tenant's support-access log.
    #[arg(long, global = true, help_heading = "Access")]
    pub reason: Option<String>,
    /// Log debug detail to standard error as well as to the log file.
    #[arg(long, short, global = true, help_heading = "Output")]
    pub verbose: bool,
}

impl Global {
    /// The output format: the flag, else table on a terminal and JSON in a pipe.
    pub fn format(&self) -> Format {
        self.format.unwrap_or_else(|| {
            if std::io::stdout().is_terminal() {
                Format::Table
            } else {
                Format::Json
            }
        })
    }

    /// The password read from standard input earlier, typed for `profile` (after a host key was pinned, the
    /// profile's identity changed: the same person typed it, for the same server, a moment ago).
    fn stdin_password_again(&self, profile: &Profile) -> Option<TypedPassword> {
        STDIN_PASSWORD
            .get()
            .cloned()
            .flatten()
            .map(|pw| TypedPassword::for_profile(profile, pw))
    }

    /// Reads the password from standard input when asked to (once; later calls give the same).
    pub fn stdin_password(&self) -> Result<Option<SecretString>, Failure> {
        if !self.password_stdin {
            return Ok(None);
        }
        if let Some(pw) = STDIN_PASSWORD.get() {
            return Ok(pw.clone());
        }
        let pw = self.read_stdin_password()?;
        Ok(STDIN_PASSWORD.get_or_init(|| pw).clone())
    }

    fn read_stdin_password(&self) -> Result<Option<SecretString>, Failure> {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| {
            Failure::usage(format!("cannot read the password from standard input: {e}"))
        })?;
        let line = text.lines().next().unwrap_or("").to_owned();
        if line.is_empty() {
            return Err(Failure::usage("--password-stdin: standard input was empty"));
        }
        Ok(Some(SecretString::from(line)))
    }
}

/// The password read from standard input, once per run.
static STDIN_PASSWORD: std::sync::OnceLock<Option<SecretString>> = std::sync::OnceLock::new();

/// A connection ready for commands: the door to its tenants, with the profile's reason policy.
pub struct Conn {
    pub door: Door,
}

/// The mapping for this run: `--mapping`, else the profile's, else the reference schema.
fn mapping(g: &Global, profile: Option<&Profile>) -> Result<Mapping, Error> {
    match (&g.mapping, profile) {
        (Some(path), _) => Mapping::load(path),
        (None, Some(p)) => p.mapping(),
        (None, None) => Ok(Mapping::reference()),
    }
}

/// The `--url` connection: its SSH route, and its password from `--password-command`, else
/// `--password-stdin`, else the URL's own, else `PGPASSWORD`.
pub fn url_spec(g: &Global, url: &str) -> Result<ConnectSpec, Failure> {
    let mut spec = ConnectSpec::from_url(url)?;
    if let Some(cmd) = &g.password_command {
        spec.password_command = Some(PasswordCommand::new(cmd)?);
        spec.password = None;
    } else if let Some(pw) = g.stdin_password()? {
        spec.password = Some(pw);
    } else if spec.password.is_none() {
        spec.password = std::env::var("PGPASSWORD").ok().map(SecretString::from);
    }
    if g.ssh.is_none() && (!g.ssh_jump.is_empty() || g.ssh_config.is_some()) {
        return Err(Failure::usage(
            "--ssh-jump and --ssh-config go with --ssh DEST",
        ));
    }
    if let Some(dest) = &g.ssh {
        let mut route = SshRoute::new(dest, &g.ssh_jump);
        route.config = g.ssh_config.clone();
        route.accept = g.ssh_accept.clone();
        route.validate()?;
        spec.ssh = Some(route);
    }
    Ok(spec)
}

/// A profile carries its own route: flags that would change it for one run are refused, not ignored.
pub fn refuse_route_flags_with_a_profile(g: &Global) -> Result<(), Failure> {
    if g.ssh.is_some()
        || !g.ssh_jump.is_empty()
        || g.ssh_config.is_some()
        || g.password_command.is_some()
    {
        return Err(Failure::usage(
            "--ssh, --ssh-jump, --ssh-config and --password-command go with --url; a profile keeps its own: change it with tenantctl profile set NAME --ssh …",
        ));
    }
    Ok(())
}

/// Whether a person can be asked something: standard input and standard error are a terminal.
fn can_ask() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Asks on the terminal whether to trust the SSH host keys a refusal names; the fingerprints accepted.
fn ask_host_keys(e: &Error) -> Option<Vec<(String, String)>> {
    let Error::Connect(d) = e else { return None };
    if d.kind != DiagnosisKind::SshHostKeyUnknown || !can_ask() {
        return None;
    }
    let keys = &d.ssh.as_ref()?.unknown_keys;
    eprintln!("tenantctl: the SSH host keys of these hops are not known (not in known_hosts, not pinned):");
    for k in keys {
        eprintln!("  {}  {}  {}", k.hop, k.key_type, k.fingerprint);
    }
    eprint!("Compare them with the fingerprints your administrator gives you. Trust them? [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).ok()?;
    matches!(answer.trim(), "y" | "Y" | "yes").then(|| {
        keys.iter()
            .map(|k| (k.hop.clone(), k.fingerprint.clone()))
            .collect()
    })
}

/// Connects for `--profile` or `--url`.
pub async fn connect(g: &Global) -> Result<Conn, Failure> {
    if let Some(url) = &g.url {
        let mut spec = url_spec(g, url)?;
        let options = DbOptions {
            allow_bypass: g.allow_bypass,
            ..Default::default()
        };
        let db = match Db::connect(&spec, mapping(g, None)?, options.clone()).await {
            Err(e) => match (ask_host_keys(&e), spec.ssh.as_mut()) {
                (Some(keys), Some(route)) => {
                    route.accept.extend(keys.into_iter().map(|(_, fp)| fp));
                    Db::connect(&spec, mapping(g, None)?, options).await?
                }
                _ => return Err(e.into()),
            },
            ok => ok?,
        };
        return Ok(Conn {
            door: Door::new(db, ReasonPolicy::Off, DEFAULT_GRANT),
        });
    }
    let Some(name) = &g.profile else {
        return Err(Failure::usage(
            "say which database: --profile NAME (tenantctl profile list) or --url postgres://...",
        ));
    };
    refuse_route_flags_with_a_profile(g)?;
    let conn = connect_profile(g, name).await?;
    // A shard a fleet lookup found: its door says so (an export's manifest names the fleet and the shard).
    Ok(match &g.fleet {
        Some(fleet) => Conn {
            door: conn.door.as_shard(fleet, name),
        },
        None => conn,
    })
}

/// Connects the profile `name`, with the other flags of `g`, the way the app does (the core's
/// [`Profile::connect`]): the password typed with `--password-stdin` or the keyring's, each only for the
/// server it was given for; an unknown SSH host key asked about on a terminal and then pinned.
pub async fn connect_profile(g: &Global, name: &str) -> Result<Conn, Failure> {
    let store = ProfileStore::open_default()?;
    let profile = store.get(name)?;
    let typed: Vec<TypedPassword> = g
        .stdin_password()?
        .map(|pw| TypedPassword::for_profile(&profile, pw))
        .into_iter()
        .collect();
    let secrets = Secrets::system();
    let how = ConnectHow {
        allow_bypass: g.allow_bypass,
        mapping: Some(mapping(g, Some(&profile))?),
        accept_host_keys: g.ssh_accept.clone(),
        pool: None,
    };
    let passwords = Passwords {
        typed: &typed,
        keyring: secrets.as_ref().ok(),
    };
    let connected = match profile.connect(&store, passwords, &how).await {
        Ok(c) => c,
        Err(e) => {
            let Some(keys) = ask_host_keys(&e) else {
                return Err(keyring_or(e, secrets.err()));
            };
            // Pinned: the next run trusts them without asking; a stored password goes along with the pin.
            let profile =
                Profile::pin_host_keys(&store, &profile.id, &keys, secrets.as_ref().ok()).await?;
            let typed: Vec<TypedPassword> = g.stdin_password_again(&profile).into_iter().collect();
            let passwords = Passwords {
                typed: &typed,
                keyring: secrets.as_ref().ok(),
            };
            profile.connect(&store, passwords, &how).await?
        }
    };
    Ok(Conn {
        door: connected.door,
    })
}

/// A failure that came from no keyring being there says why the keyring is missing.
fn keyring_or(e: Error, keyring: Option<tenant_console_core::secret::SecretError>) -> Failure {
    match (&e, keyring) {
        (Error::Keyring(tenant_console_core::secret::SecretError::Unavailable), Some(k)) => {
            Error::Keyring(k).into()
        }
        _ => e.into(),
    }
}

/// The password for a profile: `--password-stdin` (this session only), else the system keyring's when it
/// was stored for this profile's server; none when the profile's password command makes it.
pub async fn profile_password(
    g: &Global,
    profile: &Profile,
) -> Result<Option<SecretString>, Failure> {
    let typed: Vec<TypedPassword> = g
        .stdin_password()?
        .map(|pw| TypedPassword::for_profile(profile, pw))
        .into_iter()
        .collect();
    let secrets = Secrets::system();
    let passwords = Passwords {
        typed: &typed,
        keyring: secrets.as_ref().ok(),
    };
    profile
        .password_for_connect(passwords)
        .await
        .map_err(|e| keyring_or(e, secrets.err()))
}

impl Conn {
    /// The `--reason` given, parsed.
    pub fn reason(&self, g: &Global) -> Result<Option<AccessReason>, Failure> {
        Ok(g.reason.as_deref().map(str::parse).transpose()?)
    }

    /// Opens a tenant through the door (reason policy, access record) and its read-only scope.
    pub async fn open_scope(
        &self,
        g: &Global,
        key: &str,
    ) -> Result<(Opened, TenantScope), Failure> {
        let reason = self.reason(g)?;
        Ok(self.door.open_scope(key, reason.as_ref()).await?)
    }
}

/// File log in the data directory (daily files), plus standard error with `--verbose`. The guard flushes on drop.
pub fn init_logging(verbose: bool) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{fmt, EnvFilter};
    let filter = EnvFilter::try_from_env("TENANTCTL_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let stderr_layer =
        verbose.then(|| fmt::layer().with_writer(std::io::stderr).with_target(false));
    let (file_layer, guard) = match data_dir().map(|d| d.join("logs")) {
        Ok(dir) if std::fs::create_dir_all(&dir).is_ok() => {
            let appender = tracing_appender::rolling::daily(dir, "tenantctl.log");
            let (writer, guard) = tracing_appender::non_blocking(appender);
            (
                Some(fmt::layer().with_writer(writer).with_ansi(false)),
                Some(guard),
            )
        }
        _ => (None, None),
    };
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(file_layer)
        .with(stderr_layer)
        .try_init();
    guard
}
