//! `tenantctl profile ...`: add, list, remove, rename, test, set-password. Passwords go to the system keyring
//! only, under the profile's id: renaming keeps the password, removing deletes it.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use secrecy::SecretString;
use serde::Serialize;
use tenant_console_core::access::ReasonPolicy;
use tenant_console_core::profile::{Profile, ProfileStore};
use tenant_console_core::reach::service::{self, PgPass};
use tenant_console_core::reach::Tunnel;
use tenant_console_core::secret::{SecretError, Secrets};
use tenant_console_core::{ConnectSpec, TlsMode};

use crate::ctx::{profile_password, Global};
use crate::output::Format;
use crate::output::{print_list, print_object, Failure, Listing, EXIT_ERROR, EXIT_ISOLATION};

#[derive(Subcommand, Debug)]
pub enum ProfileCmd {
    /// Add a profile (or replace the one of the same name). The password is read with --password-stdin
    /// (or PGPASSWORD) and stored in the system keyring, never in the profile file.
    Add(AddArgs),
    /// Change some fields of a profile; the others stay. A change of server, database, user, TLS or SSH
    /// route forgets the stored password unless a new one is given.
    Set(SetArgs),
    /// Import a libpq connection service (pg_service.conf) as a profile; a matching .pgpass line's password
    /// goes to the keyring (the file is left as it is).
    Import(ImportArgs),
    /// List profiles (never their passwords).
    List,
    /// Remove a profile and its password.
    Remove {
        /// The profile's name.
        name: String,
    },
    /// Rename a profile (its password stays in the keyring).
    Rename {
        /// The profile's name now.
        name: String,
        /// Its new name.
        new_name: String,
    },
    /// Connect and diagnose: SSH hops, reachability, TLS, authentication, privileges, who the login is.
    Test {
        /// The profile's name.
        name: String,
    },
    /// Store a new password for a profile (from --password-stdin or PGPASSWORD), for its server as it is now.
    SetPassword {
        /// The profile's name.
        name: String,
    },
}

/// The fields `add` and `set` share.
#[derive(Args, Debug)]
pub struct Fields {
    /// TLS mode: disable, require or verify-full (default: the URL's sslmode, else verify-full, but disable
    /// for a loopback host without --ca).
    #[arg(long, help_heading = "Connection")]
    pub tls: Option<TlsMode>,
    /// CA certificate file to verify the server with (verify-full); without it the system trust store is used.
    #[arg(long, help_heading = "Connection")]
    pub ca: Option<PathBuf>,
    /// The setting the RLS policies read.
    #[arg(long, help_heading = "Reading")]
    pub tenant_setting: Option<String>,
    /// Whether opening a tenant needs a reason: off, optional, required.
    #[arg(long, help_heading = "Reading")]
    pub access_reason: Option<ReasonPolicy>,
    /// Statement timeout inside tenant scopes, in milliseconds.
    #[arg(long, help_heading = "Reading")]
    pub statement_timeout_ms: Option<u64>,
    /// The time limit of an export, in minutes (0: none; default 60).
    #[arg(long, help_heading = "Reading")]
    pub export_timeout_minutes: Option<u64>,
    /// Under --access-reason required: how long a reason given when opening a tenant lasts (1-1440 minutes).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1440), help_heading = "Reading")]
    pub access_grant_minutes: Option<u32>,
    /// For a profile that reads from a hot standby: the profile of the primary, where its access records are
    /// written ("" to stop).
    #[arg(long, value_name = "PROFILE", help_heading = "Reading")]
    pub record_to: Option<String>,
    /// The database is behind a connection pooler in transaction mode (PgBouncer) that connecting cannot see
    /// (one listening on the server's own port number): send every statement unnamed.
    #[arg(long, help_heading = "Connection")]
    pub pooled: Option<bool>,
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// The new profile's name (letters, digits, '-', '_', '.').
    pub name: String,
    /// postgres://USER@HOST:PORT/DB (leave the password out: it would stay in your shell history).
    #[arg(long)]
    pub url: String,
    #[command(flatten)]
    pub fields: Fields,
}

#[derive(Args, Debug)]
pub struct SetArgs {
    /// The profile's name.
    pub name: String,
    /// A new postgres://USER@HOST:PORT/DB for it.
    #[arg(long)]
    pub url: Option<String>,
    #[command(flatten)]
    pub fields: Fields,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The service's name in pg_service.conf (PGSERVICEFILE, ~/.pg_service.conf, PGSYSCONFDIR).
    #[arg(long)]
    pub service: String,
    /// The profile's name (default: the service's).
    #[arg(long = "as", value_name = "PROFILE")]
    pub as_name: Option<String>,
    #[command(flatten)]
    pub fields: Fields,
}

#[derive(Serialize)]
struct ProfileView {
    #[serde(flatten)]
    profile: Profile,
    /// Whether the keyring holds a password for it; null when the keyring cannot say (locked, unavailable).
    password_stored: Option<bool>,
}

fn password_input(g: &Global) -> Result<Option<SecretString>, Failure> {
    if let Some(pw) = g.stdin_password()? {
        return Ok(Some(pw));
    }
    Ok(std::env::var("PGPASSWORD").ok().map(SecretString::from))
}

/// "" means none.
fn some_text(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// Applies the fields given to `p`, checking what the user must fix now rather than at the first connect.
fn apply(g: &Global, store: &ProfileStore, p: &mut Profile, f: Fields) -> Result<(), Failure> {
    if let Some(tls) = f.tls {
        p.tls = tls;
    } else if f.ca.is_some() {
        p.tls = TlsMode::VerifyFull;
    }
    if let Some(ca) = f.ca {
        p.ca_file = Some(ca);
    }
    if let Some(s) = f.tenant_setting {
        p.tenant_setting = s;
    }
    if g.mapping.is_some() {
        p.mapping_file = g.mapping.clone();
    }
    if let Some(r) = f.access_reason {
        p.access_reason = r;
    }
    if let Some(m) = f.access_grant_minutes {
        p.access_grant_minutes = m;
    }
    if let Some(t) = f.statement_timeout_ms {
        p.statement_timeout_ms = t;
    }
    if let Some(m) = f.export_timeout_minutes {
        p.export_timeout_minutes = m;
    }
    if let Some(pooled) = f.pooled {
        p.pooled = pooled;
    }
    match f.record_to.as_deref() {
        None => {}
        Some("") => p.record_to = None,
        // Kept by id, so renaming the primary's profile does not break it.
        Some(target) => p.record_to = Some(store.get(target)?.id),
    }
    // The SSH and password-command flags are the global ones (the same words as with --url); "" clears.
    if let Some(dest) = &g.ssh {
        let before = p.ssh.clone();
        p.ssh = some_text(dest);
        if p.ssh.is_none() {
            p.ssh_jump.clear();
            p.ssh_host_keys.clear();
        } else if before != p.ssh {
            // Keys pinned for another route's hops say nothing about this one's.
            p.ssh_host_keys.clear();
        }
    }
    if !g.ssh_jump.is_empty() {
        p.ssh_jump = g
            .ssh_jump
            .iter()
            .flat_map(|j| j.split(','))
            .filter_map(some_text)
            .collect();
    }
    if let Some(cfg) = &g.ssh_config {
        p.ssh_config = some_text(&cfg.to_string_lossy()).map(PathBuf::from);
    }
    if let Some(cmd) = &g.password_command {
        p.password_command = some_text(cmd);
    }
    p.mapping()?;
    if let Some(ca) = p.ca_file.as_ref().filter(|ca| !ca.is_file()) {
        return Err(Failure::usage(format!(
            "--ca {}: no such file (the PEM certificate of the CA that signed the server's certificate)",
            ca.display()
        )));
    }
    if let Some(cfg) = p.ssh_config.as_ref().filter(|c| !c.is_file()) {
        return Err(Failure::usage(format!(
            "--ssh-config {}: no such file",
            cfg.display()
        )));
    }
    p.validate()?;
    Ok(())
}

/// With --ssh-accept: opens the profile's tunnel once to learn which hops present the accepted keys, and pins
/// them to those hops in the profile. Nothing but SSH is contacted; no password is needed.
async fn pin_accepted(g: &Global, p: &mut Profile) -> Result<(), Failure> {
    let Some(mut route) = p.ssh_route() else {
        return Ok(());
    };
    if g.ssh_accept.is_empty() {
        return Ok(());
    }
    route.accept = g.ssh_accept.clone();
    let tunnel = Tunnel::open(&route, &p.host, p.port, std::time::Duration::from_secs(10)).await?;
    for k in tunnel.hop_keys() {
        if k.trusted_by == "accepted" {
            p.ssh_host_keys.insert(k.hop, k.fingerprint);
        }
    }
    Ok(())
}

/// Saves `p`; its password goes to the keyring bound to its server. Without a new password, a stored one
/// stays bound to the server it was given for (so it is not sent if the server changed), and the user is
/// told. A profile with a password command keeps no password.
async fn save(
    store: &ProfileStore,
    p: &Profile,
    password: Option<SecretString>,
    before: Option<&Profile>,
) -> Result<(), Failure> {
    let is_new = !store.list()?.iter().any(|q| q.id == p.id);
    if p.password_command.is_some() {
        if password.is_some() {
            return Err(Failure::usage(
                "this profile's password comes from its password command: give no password with it",
            ));
        }
        store.save(p)?;
        // A stored password has nothing left to do.
        if let Ok(secrets) = Secrets::system() {
            secrets.delete(&p.id).await.ok();
        }
        return Ok(());
    }
    let given = password.is_some();
    if let Some(pw) = password {
        p.store_password(&Secrets::system()?, pw).await?;
    }
    if let Err(e) = store.save(p) {
        // A password nobody's profile points at would stay in the keyring forever.
        if is_new {
            Secrets::system()?.delete(&p.id).await.ok();
        }
        return Err(e.into());
    }
    if !is_new {
        if let Ok(secrets) = Secrets::system() {
            if let Some(before) = before.filter(|_| !given) {
                // Host keys the user just accepted: the same server, its password goes along.
                Profile::carry_password(before, p, &secrets).await?;
            }
            if let Err(SecretError::OtherServer(_)) = p.password(&secrets).await {
                eprintln!(
                    "tenantctl: note: the stored password was given for the profile's earlier server, so it will not be sent; store one with: tenantctl profile set-password {} --password-stdin",
                    p.name
                );
            }
        }
    }
    Ok(())
}

pub async fn run(g: &Global, cmd: ProfileCmd) -> Result<(), Failure> {
    let store = ProfileStore::open_default()?;
    match cmd {
        ProfileCmd::Add(a) => {
            let spec = ConnectSpec::from_url(&a.url)?;
            let existing = store.list()?.into_iter().find(|p| p.name == a.name);
            let before = existing.clone();
            let mut p = existing.unwrap_or_else(|| Profile::new(&a.name, "", 0, "", ""));
            p.host = spec.host.clone();
            p.port = spec.port;
            p.database = spec.database.clone();
            p.user = spec.user.clone();
            // --tls, else a CA file means verify-full, else the URL's sslmode or the host's default.
            p.tls = spec.tls;
            p.ca_file = spec.ca_file.clone();
            if spec.password.is_some() {
                eprintln!("tenantctl: note: a password in a URL stays in your shell history; prefer --password-stdin");
            }
            apply(g, &store, &mut p, a.fields)?;
            pin_accepted(g, &mut p).await?;
            let password = match p.password_command {
                Some(_) => None,
                None => password_input(g)?.or(spec.password),
            };
            save(&store, &p, password, before.as_ref()).await?;
            print_object(g.format(), &p)
        }
        ProfileCmd::Set(a) => {
            let mut p = store.get(&a.name)?;
            if let Some(url) = &a.url {
                let spec = ConnectSpec::from_url(url)?;
                p.host = spec.host.clone();
                p.port = spec.port;
                p.database = spec.database.clone();
                p.user = spec.user.clone();
                if a.fields.tls.is_none() {
                    p.tls = spec.tls;
                }
                if spec.ca_file.is_some() {
                    p.ca_file = spec.ca_file.clone();
                }
            }
            apply(g, &store, &mut p, a.fields)?;
            let before = store.get(&p.id)?;
            pin_accepted(g, &mut p).await?;
            let password = match p.password_command {
                Some(_) => None,
                None => password_input(g)?,
            };
            save(&store, &p, password, Some(&before)).await?;
            print_object(g.format(), &p)
        }
        ProfileCmd::Import(a) => {
            let service = service::find_service(&a.service)?;
            let name = a.as_name.clone().unwrap_or_else(|| a.service.clone());
            let existing = store.list()?.into_iter().find(|p| p.name == name);
            let mut p = existing.unwrap_or_else(|| Profile::new(&name, "", 0, "", ""));
            p.set_service_target(&service.target()?)?;
            apply(g, &store, &mut p, a.fields)?;
            pin_accepted(g, &mut p).await?;
            let mut notes = Vec::new();
            if service.target()?.has_password {
                notes.push(format!(
                    "{} holds a password for this service: it was not imported (a service file is no place for one); use .pgpass or --password-stdin",
                    service.file.display()
                ));
            }
            let mut password = match p.password_command {
                Some(_) => None,
                None => password_input(g)?,
            };
            let mut password_from = None;
            if password.is_none() && p.password_command.is_none() {
                if let Some(file) = service::pgpass_file() {
                    match service::pgpass_lookup(&file, &p.host, p.port, &p.database, &p.user)? {
                        PgPass::Found { password: pw, file, line } => {
                            password = Some(pw);
                            password_from = Some(format!("{}:{line}", file.display()));
                            notes.push(format!(
                                "the password from {} line {line} is now in the system keyring; the file was left as it was (remove the line yourself if the keyring should be its only home)",
                                file.display()
                            ));
                        }
                        PgPass::Ignored { file, why } => notes.push(format!(
                            "{} was not read: {why}",
                            file.display()
                        )),
                        PgPass::NotFound => notes.push(format!(
                            "no line of {} matches this server: store a password with tenantctl profile set-password {} --password-stdin",
                            file.display(),
                            p.name
                        )),
                    }
                }
            }
            save(&store, &p, password, None).await?;
            for n in &notes {
                eprintln!("tenantctl: note: {n}");
            }
            print_object(
                g.format(),
                &serde_json::json!({
                    "profile": p,
                    "service_file": service.file,
                    "password_from": password_from,
                    "notes": notes,
                }),
            )
        }
        ProfileCmd::List => {
            let secrets = Secrets::system().ok();
            let mut views = Vec::new();
            for p in store.list()? {
                let stored = match &secrets {
                    _ if p.password_command.is_some() => Some(false),
                    // Stored for the profile's server as it is now: one given for an earlier server is not.
                    Some(s) => match p.password(s).await {
                        Ok(_) => Some(true),
                        Err(SecretError::Missing(_) | SecretError::OtherServer(_)) => Some(false),
                        Err(_) => None,
                    },
                    None => None,
                };
                views.push(ProfileView {
                    profile: p,
                    password_stored: stored,
                });
            }
            print_list(
                g.format(),
                &Listing {
                    items: &views,
                    next_cursor: None,
                    context: Default::default(),
                    columns: &[
                        ("name", "/name"),
                        ("host", "/host"),
                        ("port", "/port"),
                        ("database", "/database"),
                        ("user", "/user"),
                        ("tls", "/tls"),
                        ("ssh", "/ssh"),
                        ("access_reason", "/access_reason"),
                        ("password_stored", "/password_stored"),
                    ],
                    masked: Vec::new(),
                },
            )
        }
        ProfileCmd::Remove { name } => {
            // The secret first: if the keyring is locked the profile stays, so removing can be retried; the
            // other way round would strand a password that no profile names.
            let p = store.get(&name)?;
            Secrets::system()?.delete(&p.id).await?;
            let removed = store.remove(&p.id)?;
            print_object(
                g.format(),
                &serde_json::json!({"removed": removed.name, "id": removed.id}),
            )
        }
        ProfileCmd::Rename { name, new_name } => {
            let mut p = store.get(&name)?;
            p.name = new_name;
            store.save(&p)?;
            print_object(g.format(), &p)
        }
        ProfileCmd::SetPassword { name } => {
            let p = store.get(&name)?;
            if p.password_command.is_some() {
                return Err(Failure::usage(format!(
                    "profile {:?} gets its password from its password command; to store one instead: tenantctl profile set {} --password-command '' --password-stdin",
                    p.name, p.name
                )));
            }
            let Some(pw) = password_input(g)? else {
                return Err(Failure::usage(
                    "give the password with --password-stdin (or PGPASSWORD)",
                ));
            };
            p.store_password(&Secrets::system()?, pw).await?;
            print_object(
                g.format(),
                &serde_json::json!({"profile": p.name, "password_stored": true}),
            )
        }
        ProfileCmd::Test { name } => {
            let p = store.get(&name)?;
            let password = profile_password(g, &p).await?;
            let mut spec = p.connect_spec(password);
            if let Some(route) = spec.ssh.as_mut() {
                route.accept = g.ssh_accept.clone();
            }
            let report = tenant_console_core::db::test_connection(&spec, p.mapping()?).await;
            print_object(g.format(), &report)?;
            // The report (with its diagnosis) is the JSON result: a failure adds no second object.
            let failure = if let Some(d) = &report.diagnosis {
                Failure::with_exit(d.kind.code(), d.to_string(), EXIT_ERROR)
            } else if report
                .login
                .as_ref()
                .is_some_and(|l| !l.bypass_reasons().is_empty())
            {
                Failure::with_exit(
                    "isolation_not_enforced",
                    "connected, but row-level security does not apply to this login (see bypass_reasons)",
                    EXIT_ISOLATION,
                )
            } else {
                return Ok(());
            };
            Err(Failure {
                result_printed: g.format() == Format::Json,
                ..failure
            })
        }
    }
}
