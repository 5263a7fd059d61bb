//! `tenantctl profile ...`: add, list, remove, rename, test, set-password. Passwords go to the system keyring
//! only, under the profile's id: renaming keeps the password, removing deletes it.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use secrecy::SecretString;
use serde::Serialize;
use tenant_console_core::access::ReasonPolicy;
use tenant_console_core::profile::{Profile, ProfileStore};
use tenant_console_core::secret::Secrets;
use tenant_console_core::{ConnectSpec, TlsMode};

use crate::ctx::{profile_password, Global};
use crate::output::Format;
use crate::output::{print_list, print_object, Failure, Listing, EXIT_ERROR, EXIT_ISOLATION};

#[derive(Subcommand, Debug)]
pub enum ProfileCmd {
    /// Add a profile (or replace the one of the same name). The password is read with --password-stdin
    /// (or PGPASSWORD) and stored in the system keyring, never in the profile file.
    Add(AddArgs),
    /// List profiles (never their passwords).
    List,
    /// Remove a profile and its password.
    Remove { name: String },
    /// Rename a profile (its password stays in the keyring).
    Rename { name: String, new_name: String },
    /// Connect and diagnose: reachability, TLS, authentication, privileges, who the login is.
    Test { name: String },
    /// Store a new password for a profile (from --password-stdin or PGPASSWORD).
    SetPassword { name: String },
}

#[derive(Args, Debug)]
pub struct AddArgs {
    pub name: String,
    /// postgres://USER@HOST:PORT/DB (leave the password out: it would stay in your shell history).
    #[arg(long)]
    pub url: String,
    /// TLS mode: disable, require or verify-full (default: the URL's sslmode, else verify-full, but disable
    /// for a loopback host without --ca).
    #[arg(long)]
    pub tls: Option<TlsMode>,
    /// CA certificate file to verify the server with (verify-full); without it the system trust store is used.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// The setting the RLS policies read.
    #[arg(long)]
    pub tenant_setting: Option<String>,
    /// Whether opening a tenant needs a reason: off, optional, required.
    #[arg(long)]
    pub access_reason: Option<ReasonPolicy>,
    /// Statement timeout inside tenant scopes, in milliseconds.
    #[arg(long)]
    pub statement_timeout_ms: Option<u64>,
    /// Under --access-reason required: how long a reason given when opening a tenant lasts (1-1440 minutes).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub access_grant_minutes: Option<u32>,
    /// For a profile that reads from a hot standby: the profile of the primary, where its access records are
    /// written ("" to stop).
    #[arg(long, value_name = "PROFILE")]
    pub record_to: Option<String>,
    /// The database is behind a connection pooler in transaction mode (PgBouncer) that connecting cannot see
    /// (one listening on the server's own port number): send every statement unnamed.
    #[arg(long)]
    pub pooled: Option<bool>,
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

pub async fn run(g: &Global, cmd: ProfileCmd) -> Result<(), Failure> {
    let store = ProfileStore::open_default()?;
    match cmd {
        ProfileCmd::Add(a) => {
            let spec = ConnectSpec::from_url(&a.url)?;
            let existing = store.list()?.into_iter().find(|p| p.name == a.name);
            let mut p = existing.unwrap_or_else(|| Profile::new(&a.name, "", 0, "", ""));
            p.host = spec.host.clone();
            p.port = spec.port;
            p.database = spec.database.clone();
            p.user = spec.user.clone();
            // --tls, else a CA file means verify-full, else the URL's sslmode or the host's default.
            p.tls = a.tls.unwrap_or(if a.ca.is_some() {
                TlsMode::VerifyFull
            } else {
                spec.tls
            });
            p.ca_file = a.ca.or(spec.ca_file.clone());
            if let Some(s) = a.tenant_setting {
                p.tenant_setting = s;
            }
            p.mapping_file = g.mapping.clone();
            if let Some(r) = a.access_reason {
                p.access_reason = r;
            }
            if let Some(m) = a.access_grant_minutes {
                p.access_grant_minutes = m;
            }
            if let Some(t) = a.statement_timeout_ms {
                p.statement_timeout_ms = t;
            }
            if let Some(pooled) = a.pooled {
                p.pooled = pooled;
            }
            match a.record_to.as_deref() {
                None => {}
                Some("") => p.record_to = None,
                // Kept by id, so renaming the primary's profile does not break it.
                Some(target) => p.record_to = Some(store.get(target)?.id),
            }
            if spec.password.is_some() {
                eprintln!("tenantctl: note: a password in a URL stays in your shell history; prefer --password-stdin");
            }
            let password = password_input(g)?.or(spec.password);
            // Mapping and CA file problems are the user's to fix now, not at the first connect.
            p.mapping()?;
            if let Some(ca) = p.ca_file.as_ref().filter(|ca| !ca.is_file()) {
                return Err(Failure::usage(format!(
                    "--ca {}: no such file (the PEM certificate of the CA that signed the server's certificate)",
                    ca.display()
                )));
            }
            p.validate()?;
            let is_new = !store.list()?.iter().any(|q| q.id == p.id);
            if let Some(pw) = password {
                Secrets::system()?.set(&p.id, pw).await?;
            }
            if let Err(e) = store.save(&p) {
                // A password nobody's profile points at would stay in the keyring forever.
                if is_new {
                    Secrets::system()?.delete(&p.id).await.ok();
                }
                return Err(e.into());
            }
            print_object(g.format(), &p)
        }
        ProfileCmd::List => {
            let secrets = Secrets::system().ok();
            let mut views = Vec::new();
            for p in store.list()? {
                let stored = match &secrets {
                    Some(s) => s.has_password(&p.id).await,
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
                        ("access_reason", "/access_reason"),
                        ("password_stored", "/password_stored"),
                    ],
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
            let Some(pw) = password_input(g)? else {
                return Err(Failure::usage(
                    "give the password with --password-stdin (or PGPASSWORD)",
                ));
            };
            Secrets::system()?.set(&p.id, pw).await?;
            print_object(
                g.format(),
                &serde_json::json!({"profile": p.name, "password_stored": true}),
            )
        }
        ProfileCmd::Test { name } => {
            let p = store.get(&name)?;
            let password = profile_password(g, &p).await?;
            let report = tenant_console_core::db::test_connection(
                &p.connect_spec(Some(password)),
                p.mapping()?,
            )
            .await;
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
