//! `tenantctl fleet` (fleets of profiles) and `--fleet` on `tenants`, `check` and the tenant commands: many
//! databases as one, within one connection budget (the core's `fleet`).

use clap::{Args, Subcommand};
use serde_json::{json, Map, Value};
use tenant_console_core::fleet::{self, Fleet, FleetStore, Shards};
use tenant_console_core::isolation::CheckOptions;
use tenant_console_core::profile::{ConnectHow, Passwords, ProfileStore, TypedPassword};
use tenant_console_core::secret::Secrets;
use tenant_console_core::tenants::{TenantQuery, TenantSort};

use crate::cmd::browse::TenantsArgs;
use crate::cmd::check::{accepted_from, CheckArgs};
use crate::ctx::Global;
use crate::output::{
    outln, print_list, print_object, safe, Failure, Format, Listing, EXIT_ISOLATION,
};

#[derive(Subcommand, Debug)]
pub enum FleetCmd {
    /// Make (or replace) a fleet: a name for profiles whose databases hold one product's tenants.
    Add(AddArgs),
    /// List the fleets.
    List,
    /// Show a fleet: its shards (profiles) and its connection budget.
    Show(NameArgs),
    /// Remove a fleet (its profiles stay).
    Remove(NameArgs),
    /// Ask every shard what it is (server version, primary or standby), how fast it answers, and whether
    /// it does.
    Status(StatusArgs),
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// The fleet's name.
    pub name: String,
    /// Its shards: profile names (tenantctl profile list), in order.
    #[arg(required = true, value_name = "PROFILE")]
    pub profiles: Vec<String>,
    /// At most N server connections open at once over all its shards (default 8).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_connections: Option<u32>,
    /// The profile whose database says where each tenant lives (with --directory-sql): a lookup is then one
    /// query and one shard instead of every shard.
    #[arg(long, value_name = "PROFILE", requires = "directory_sql")]
    pub directory: Option<String>,
    /// With --directory: a query whose rows are (tenant_id, slug, shard), shard being one of the fleet's
    /// profiles, e.g. 'SELECT tenant_id, slug, shard FROM tenant_directory'. One statement, run read-only.
    #[arg(long, value_name = "SQL", requires = "directory")]
    pub directory_sql: Option<String>,
}

#[derive(Args, Debug)]
pub struct NameArgs {
    /// The fleet's name.
    pub name: String,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// The fleet's name.
    pub name: String,
    /// At most N server connections open at once (default: the fleet's own, else 8).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_connections: Option<u32>,
}

pub async fn run(g: &Global, c: FleetCmd) -> Result<(), Failure> {
    let fleets = FleetStore::open_default()?;
    match c {
        FleetCmd::Add(a) => {
            let fleet = Fleet {
                name: a.name,
                profiles: a.profiles,
                max_connections: a.max_connections,
                directory: a
                    .directory
                    .zip(a.directory_sql)
                    .map(|(profile, sql)| fleet::Directory { profile, sql }),
            };
            fleets.save(&fleet, &ProfileStore::open_default()?)?;
            print_object(g.format(), &fleet)
        }
        FleetCmd::List => {
            let list = fleets.list()?;
            let items: Vec<Value> = list
                .iter()
                .map(|f| {
                    json!({"name": f.name, "shards": f.profiles.len(), "profiles": f.profiles.join(","),
                           "max_connections": f.max_connections.unwrap_or(fleet::DEFAULT_MAX_CONNECTIONS)})
                })
                .collect();
            print_list(
                g.format(),
                &Listing {
                    items: &items,
                    next_cursor: None,
                    context: Map::new(),
                    columns: &[
                        ("name", "/name"),
                        ("shards", "/shards"),
                        ("max_connections", "/max_connections"),
                        ("profiles", "/profiles"),
                    ],
                    masked: Vec::new(),
                },
            )
        }
        FleetCmd::Show(a) => print_object(g.format(), &fleets.get(&a.name)?),
        FleetCmd::Remove(a) => {
            fleets.remove(&a.name)?;
            print_object(g.format(), &json!({"removed": a.name}))
        }
        FleetCmd::Status(a) => {
            let fleet = fleets.get(&a.name)?;
            let open = Open::new(g, &fleet, a.max_connections)?;
            let status = fleet::status(&open.shards, open.passwords(), &open.how).await;
            let items: Vec<Value> = status
                .iter()
                .map(|s| serde_json::to_value(s).expect("serializes"))
                .collect();
            let mut context = Map::new();
            context.insert("fleet".into(), json!(fleet.name));
            print_list(
                g.format(),
                &Listing {
                    items: &items,
                    next_cursor: None,
                    context,
                    columns: &[
                        ("shard", "/shard"),
                        ("answered", "/answered"),
                        ("role", "/role"),
                        ("server_version", "/server_version"),
                        ("latency_ms", "/latency_ms"),
                        ("why not", "/unavailable/message"),
                    ],
                    masked: Vec::new(),
                },
            )
        }
    }
}

/// A fleet opened for one run: its shards, the passwords for them, how to connect.
struct Open {
    shards: Shards,
    typed: Vec<TypedPassword>,
    secrets: Option<Secrets>,
    how: ConnectHow,
}

impl Open {
    /// The fleet named `name`, opened with the run's budget.
    fn named(g: &Global, name: &str) -> Result<(Fleet, Self), Failure> {
        let fleet = FleetStore::open_default()?.get(name)?;
        let open = Open::new(g, &fleet, None)?;
        Ok((fleet, open))
    }

    fn new(g: &Global, fleet: &Fleet, max_connections: Option<u32>) -> Result<Self, Failure> {
        let store = ProfileStore::open_default()?;
        let shards = Shards::open(fleet, &store, max_connections.or(g.max_connections))?;
        // A password typed with --password-stdin is offered to every shard (bound to each one's server, as
        // for a profile); the keyring's otherwise.
        let typed = match g.stdin_password()? {
            Some(pw) => shards
                .profiles()
                .iter()
                .map(|p| TypedPassword::for_profile(p, pw.clone()))
                .collect(),
            None => Vec::new(),
        };
        Ok(Open {
            shards,
            typed,
            secrets: Secrets::system().ok(),
            how: ConnectHow {
                allow_bypass: g.allow_bypass,
                mapping: None,
                accept_host_keys: g.ssh_accept.clone(),
                pool: None,
            },
        })
    }

    fn passwords(&self) -> Passwords<'_> {
        Passwords {
            typed: &self.typed,
            keyring: self.secrets.as_ref(),
        }
    }
}

/// The shard (profile) that holds the tenant `key`: every shard asked within the budget (a tenant found by its
/// uuid settles it: the shards whose turn had not come are not asked).
pub async fn shard_of(g: &Global, fleet_name: &str, key: &str) -> Result<String, Failure> {
    let (_, open) = Open::named(g, fleet_name)?;
    let found = fleet::locate(&open.shards, open.passwords(), &open.how, key).await?;
    for u in &found.unavailable {
        eprintln!("tenantctl: {}", did_not_answer(u));
    }
    Ok(found.shard)
}

/// `tenants --fleet`: every shard's tenants, merged, each row naming its shard.
pub async fn tenants(g: &Global, fleet_name: &str, a: TenantsArgs) -> Result<(), Failure> {
    if a.stats || a.after.is_some() {
        return Err(Failure::usage(
            "--stats and --after read one database: with --fleet, narrow the search instead, or use the shard's profile",
        ));
    }
    let sort: TenantSort = a.sort.parse()?;
    let (fleet, open) = Open::named(g, fleet_name)?;
    let page = fleet::search(
        &open.shards,
        open.passwords(),
        &open.how,
        &TenantQuery {
            search: a.search,
            sort,
            limit: a.limit,
            after: None,
        },
    )
    .await;
    let mut context = Map::new();
    context.insert("fleet".into(), json!(fleet.name));
    context.insert("more".into(), json!(page.more));
    context.insert(
        "unavailable".into(),
        serde_json::to_value(&page.unavailable).expect("serializes"),
    );
    print_list(
        g.format(),
        &Listing {
            items: &page.items,
            next_cursor: None,
            context,
            columns: &[
                ("shard", "/shard"),
                ("id", "/id"),
                ("slug", "/slug"),
                ("name", "/name"),
                ("plan", "/plan"),
                ("status", "/status"),
            ],
            masked: Vec::new(),
        },
    )?;
    if g.format() != Format::Json {
        if page.more {
            outln!("(more tenants than --limit on some shard: narrow the search)");
        }
        for u in &page.unavailable {
            outln!("{}", did_not_answer(u));
        }
    }
    Ok(())
}

/// `check --fleet`: the check on every shard within the budget, one verdict each and the fleet's. Exit 3 when
/// a shard leaks or did not answer (a shard no one checked is not a shard that holds).
pub async fn check(g: &Global, fleet_name: &str, a: CheckArgs) -> Result<(), Failure> {
    let (fleet, open) = Open::named(g, fleet_name)?;
    let opts = CheckOptions {
        probe: a.probe,
        tenant: a.tenant.clone(),
        sample: a.sample,
        accepted: accepted_from(&a.accept)?,
    };
    let report = fleet::check(&fleet, &open.shards, open.passwords(), &open.how, &opts).await;
    match g.format() {
        Format::Json => outln!("{}", serde_json::to_string(&report).expect("serializes")),
        Format::Table | Format::Csv => {
            outln!(
                "fleet {} ({} shards, at most {} connections at once)",
                safe(&fleet.name),
                fleet.profiles.len(),
                open.shards.max_connections()
            );
            for v in &report.shards {
                let verdict = match (&v.report, &v.unavailable) {
                    (Some(r), _) if r.isolation_enforced && r.failing().next().is_none() => {
                        "enforced".to_owned()
                    }
                    (Some(r), _) => {
                        let codes: Vec<String> = r
                            .failing()
                            .map(|f| format!("{} {}", f.code, f.object))
                            .collect();
                        format!("NOT ENFORCED: {}", codes.join(", "))
                    }
                    (None, Some(u)) => format!("did not answer ({}): {}", u.kind, u.message),
                    (None, None) => "no answer".to_owned(),
                };
                outln!("  {:<24} {}", safe(&v.shard), safe(&verdict));
            }
            outln!(
                "{}",
                if report.isolation_enforced {
                    "isolation is enforced on every shard of this fleet"
                } else {
                    "ISOLATION IS NOT ENFORCED on this fleet"
                }
            );
        }
    }
    if report.isolation_enforced {
        return Ok(());
    }
    let mut why = Vec::new();
    if !report.leaking.is_empty() {
        why.push(format!("leaking on {}", report.leaking.join(", ")));
    }
    if !report.unavailable.is_empty() {
        why.push(format!(
            "not checked (did not answer): {}",
            report.unavailable.join(", ")
        ));
    }
    let mut failure = Failure::with_exit(
        "isolation_not_enforced",
        format!(
            "isolation is not enforced on fleet {}: {}",
            fleet.name,
            why.join("; ")
        ),
        EXIT_ISOLATION,
    );
    failure.result_printed = g.format() == Format::Json;
    Err(failure)
}

/// The line that says a shard did not answer, and why (made safe for a terminal).
fn did_not_answer(u: &fleet::Unavailable) -> String {
    format!(
        "shard {} did not answer ({}): {}",
        safe(&u.shard),
        u.kind,
        safe(&u.message)
    )
}
