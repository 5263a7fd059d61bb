//! What every command shares: global flags, connecting for a profile or a URL, logging.
//!
//! The password comes from `--password-stdin`, then `PGPASSWORD` (with `--url`), then the system keyring
//! (with `--profile`). It is held as a `SecretString` and never printed or logged.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use clap::Args;
use secrecy::SecretString;
use tenant_console_core::access::{AccessReason, Door, Opened, ReasonPolicy, DEFAULT_GRANT};
use tenant_console_core::profile::{data_dir, Profile, ProfileStore};
use tenant_console_core::secret::Secrets;
use tenant_console_core::{ConnectSpec, Db, DbOptions, Error, Mapping, TenantScope};

use crate::output::{Failure, Format};

/// Flags every command takes.
#[derive(Args, Debug)]
pub struct Global {
    /// Connection profile to use (see `tenantctl profile list`).
    #[arg(long, global = true, env = "TENANTCTL_PROFILE", conflicts_with = "url")]
    pub profile: Option<String>,
    /// Connect with a URL instead of a profile: postgres://USER@HOST:PORT/DB[?sslmode=verify-full&sslrootcert=FILE].
    /// The password comes from PGPASSWORD or --password-stdin.
    #[arg(long, global = true)]
    pub url: Option<String>,
    /// Read the password from standard input (first line) instead of the keyring or PGPASSWORD.
    #[arg(long, global = true)]
    pub password_stdin: bool,
    /// Mapping file describing where tenant data lives (default: the reference schema, or the profile's).
    #[arg(long, global = true)]
    pub mapping: Option<PathBuf>,
    /// Output format (default: table on a terminal, json otherwise).
    #[arg(long, global = true, value_enum)]
    pub format: Option<Format>,
    /// Read as tenants even when RLS does not apply to this login; isolation then rests on the console's own
    /// predicates only, and every output says so.
    #[arg(long, global = true)]
    pub allow_bypass: bool,
    /// Why you open this tenant, as CATEGORY:DETAIL (support-ticket, incident, audit-request, other),
    /// e.g. support-ticket:ZD-1234. Recorded in the tenant's support-access log.
    #[arg(long, global = true)]
    pub reason: Option<String>,
    /// Log debug detail to standard error as well as to the log file.
    #[arg(long, short, global = true)]
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

    /// Reads the password from standard input when asked to (once).
    pub fn stdin_password(&self) -> Result<Option<SecretString>, Failure> {
        if !self.password_stdin {
            return Ok(None);
        }
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

/// The `--url` connection with its password: `--password-stdin`, else the URL's own, else `PGPASSWORD`.
pub fn url_spec(g: &Global, url: &str) -> Result<ConnectSpec, Failure> {
    let mut spec = ConnectSpec::from_url(url)?;
    if let Some(pw) = g.stdin_password()? {
        spec.password = Some(pw);
    } else if spec.password.is_none() {
        spec.password = std::env::var("PGPASSWORD").ok().map(SecretString::from);
    }
    Ok(spec)
}

/// Connects for `--profile` or `--url`.
pub async fn connect(g: &Global) -> Result<Conn, Failure> {
    if let Some(url) = &g.url {
        let spec = url_spec(g, url)?;
        let db = Db::connect(
            &spec,
            mapping(g, None)?,
            DbOptions {
                allow_bypass: g.allow_bypass,
                ..Default::default()
            },
        )
        .await?;
        return Ok(Conn {
            door: Door::new(db, ReasonPolicy::Off, DEFAULT_GRANT),
        });
    }
    let Some(name) = &g.profile else {
        return Err(Failure::usage(
            "say which database: --profile NAME (tenantctl profile list) or --url postgres://...",
        ));
    };
    connect_profile(g, name).await
}

/// Connects the profile `name`, with the other flags of `g`.
pub async fn connect_profile(g: &Global, name: &str) -> Result<Conn, Failure> {
    let store = ProfileStore::open_default()?;
    let profile = store.get(name)?;
    let password = profile_password(g, &profile).await?;
    let spec = profile.connect_spec(Some(password));
    let mapping = mapping(g, Some(&profile))?;
    let db = Db::connect(&spec, mapping.clone(), profile.db_options(g.allow_bypass)).await?;
    let mut door = profile.door(db);
    // A replica's records go to its primary: connected now, with its password from the keyring.
    if let Some(primary) = profile.record_target(&store)? {
        let password = primary.password(&Secrets::system()?).await?;
        let recorder = Db::connect(
            &primary.connect_spec(Some(password)),
            mapping,
            primary.db_options(false),
        )
        .await?;
        door = door.records_on(recorder, &format!("profile {:?}", primary.name))?;
    }
    Ok(Conn { door })
}

/// The password for a profile: `--password-stdin` (this session only), else the system keyring.
pub async fn profile_password(g: &Global, profile: &Profile) -> Result<SecretString, Failure> {
    if let Some(pw) = g.stdin_password()? {
        return Ok(pw);
    }
    Ok(profile.password(&Secrets::system()?).await?)
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
