//! `tenantctl`: Tenant Console without a window, for scripts and cron.
//!
//! Every command is a thin layer over `tenant-console-core`: parse arguments, connect through [`ctx`], call the
//! core, print through [`output`]. Exit codes mean something: 0 ok, 1 error, 2 usage, 3 isolation not enforced.

mod cmd;
mod ctx;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::ctx::Global;
use crate::output::Failure;

/// Tenant Console, headless: browse tenants as the tenant, export audit logs, check isolation.
#[derive(Parser, Debug)]
#[command(name = "tenantctl", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Manage connection profiles (passwords go to the system keyring).
    #[command(subcommand)]
    Profile(cmd::profile::ProfileCmd),
    /// Manage fleets: many databases (profiles) searched, looked up and checked as one (--fleet).
    #[command(subcommand)]
    Fleet(cmd::fleet::FleetCmd),
    /// List and search tenants (the one cross-tenant read: the tenants table only).
    Tenants(cmd::browse::TenantsArgs),
    /// Show one tenant: its details and stats, read as the tenant.
    Tenant(cmd::browse::TenantArgs),
    /// List a tenant's members.
    Members(cmd::browse::MembersArgs),
    /// List a tenant's roles and their permissions.
    Roles(cmd::browse::TenantArgs),
    /// Read a tenant's audit log, newest first.
    Audit(cmd::browse::AuditArgs),
    /// Export a tenant's audit log to CSV.
    ExportAudit(cmd::export::ExportArgs),
    /// Check an exported file against its signed manifest: signature, SHA-256, rows.
    Verify(cmd::evidence::VerifyArgs),
    /// The key that signs export manifests.
    #[command(subcommand)]
    SigningKey(cmd::evidence::SigningKeyCmd),
    /// Check that row-level security really isolates tenants for this login.
    Check(cmd::check::CheckArgs),
    /// Show who at the vendor accessed a tenant, and why.
    AccessLog(cmd::browse::AccessLogArgs),
    /// Ask a tenant that requires its approval for access, and see the answer.
    #[command(subcommand)]
    Access(cmd::access::AccessCmd),
    /// Apply the reference schema's migrations (needs an owner or superuser login).
    Migrate(cmd::admin::MigrateArgs),
    /// Load demo or benchmark data into a freshly migrated reference database.
    Seed(cmd::admin::SeedArgs),
    /// Start a private demo database (created on first use) and, optionally, the app on it.
    #[cfg(unix)]
    Demo(cmd::demo::DemoArgs),
}

fn main() -> ExitCode {
    // Before any secret is read: no core file may hold one.
    tenant_console_core::harden::no_core_dumps();
    let cli = match parse(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let code = e.exit_code();
            let _ = e.print();
            return ExitCode::from(code as u8);
        }
    };
    let _log = ctx::init_logging(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tenantctl: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    let format = cli.global.format();
    let result = runtime.block_on(run(cli));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => ExitCode::from(output::report(&failure, format)),
    }
}

/// The options every command takes wherever it is written (`tenantctl --format json tenants`).
const EVERYWHERE: &[&str] = &["format", "verbose", "help", "version"];
/// Where the database is and how to get there.
const CONNECTION: &[&str] = &[
    "profile",
    "url",
    "password_stdin",
    "ssh",
    "ssh_jump",
    "ssh_config",
    "ssh_accept",
    "password_command",
    "mapping",
];

/// Whether the global option `id` means something to the command at `path` ("tenants", "profile add"). The
/// options are written once (global, so `tenantctl --profile demo tenants` works), but a command's help lists
/// only its own, and an option given to a command it does not apply to is refused rather than ignored.
fn applies(path: &str, id: &str) -> bool {
    if EVERYWHERE.contains(&id) {
        return true;
    }
    // A fleet instead of one profile: where a tenant is searched, looked up or checked.
    if matches!(id, "fleet" | "max_connections") {
        return matches!(
            path,
            "tenants"
                | "tenant"
                | "members"
                | "roles"
                | "audit"
                | "export-audit"
                | "access-log"
                | "check"
        );
    }
    let connection = CONNECTION.contains(&id);
    match path {
        // The approval's state, and the isolation check (which connects allowing a bypassing login, to report
        // it): no tenant is opened, so no reason.
        "access status" => connection || id == "allow_bypass",
        "check" => connection,
        // `tenants --stats` opens each tenant listed (with a reason where the profile requires one).
        "tenants" | "tenant" | "members" | "roles" | "audit" | "export-audit" | "access-log"
        | "access request" => connection || matches!(id, "allow_bypass" | "reason"),
        // The recount (--against PROFILE) opens the tenant through the door, with that profile.
        "verify" => matches!(
            id,
            "password_stdin" | "ssh_accept" | "mapping" | "allow_bypass" | "reason"
        ),
        // The owner's URL only (no profile, no mapping: the reference schema is what they make).
        "migrate" | "seed" => connection && !matches!(id, "profile" | "mapping"),
        "profile add" | "profile set" | "profile import" => {
            connection && !matches!(id, "profile" | "url")
        }
        "profile test" => matches!(id, "password_stdin" | "ssh_accept"),
        "profile set-password" => id == "password_stdin",
        // The shards connect as their profiles do: a password typed once (offered to each), host keys.
        "fleet status" => matches!(id, "password_stdin" | "ssh_accept"),
        _ => false,
    }
}

/// The command line with each command's help showing only the global options that apply to it: every command
/// gets its own copy of each global option (clap then does not propagate the root's), hidden where it does
/// not apply. The values still reach the root's (global) arguments, wherever they were written.
fn command() -> clap::Command {
    use clap::CommandFactory;
    fn own_copies(cmd: clap::Command, path: &str, globals: &[clap::Arg]) -> clap::Command {
        let mut cmd = cmd;
        // The root keeps its global options as they are; every command below gets its copies.
        for arg in globals.iter().filter(|_| !path.is_empty()) {
            // A command's own option of the same name (`profile add --url`) is the one it takes.
            if cmd.get_arguments().any(|a| a.get_id() == arg.get_id()) {
                continue;
            }
            let shown = applies(path, arg.get_id().as_str());
            cmd = cmd.arg(arg.clone().hide(!shown));
        }
        let names: Vec<String> = cmd
            .get_subcommands()
            .map(|s| s.get_name().to_owned())
            .collect();
        for name in names {
            let p = if path.is_empty() {
                name.clone()
            } else {
                format!("{path} {name}")
            };
            cmd = cmd.mut_subcommand(&name, |s| own_copies(s, &p, globals));
        }
        cmd
    }
    let root = Cli::command();
    let globals: Vec<clap::Arg> = global_args(&root).cloned().collect();
    own_copies(root, "", &globals)
}

/// The root's global options.
fn global_args(cmd: &clap::Command) -> impl Iterator<Item = &clap::Arg> {
    cmd.get_arguments().filter(|a| a.is_global_set())
}

/// Parses the command line, refusing a global option given to a command it does not apply to.
fn parse(args: impl IntoIterator<Item = std::ffi::OsString>) -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    let mut cmd = command();
    let matches = cmd.try_get_matches_from_mut(args)?;
    // The command given (its words, and its own options), walking the matches and the tree together.
    let mut path = Vec::new();
    let (mut leaf, mut leaf_cmd) = (&matches, &cmd);
    while let Some((name, sub)) = leaf.subcommand() {
        path.push(name.to_owned());
        leaf = sub;
        leaf_cmd = leaf_cmd
            .find_subcommand(name)
            .expect("a command clap just matched");
    }
    let path = path.join(" ");
    // The command's own option of a global's name (`profile add --url`) is not the global one.
    let refused = global_args(&cmd)
        .map(|a| a.get_id().as_str())
        .filter(|id| {
            !leaf_cmd
                .get_arguments()
                .any(|a| a.get_id() == *id && !a.is_global_set())
        })
        .find(|id| {
            matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
                && !applies(&path, id)
        })
        .map(|id| format!("--{}", id.replace('_', "-")));
    if let Some(flag) = refused {
        return Err(cmd.error(
            clap::error::ErrorKind::ArgumentConflict,
            format!("{flag} does not apply to `tenantctl {path}` (see `tenantctl {path} --help`)"),
        ));
    }
    Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let g = &cli.global;
    let Some(fleet) = &g.fleet else {
        return dispatch(g, cli.command).await;
    };
    if g.profile.is_some() {
        return Err(Failure::usage(
            "--fleet and --profile (or TENANTCTL_PROFILE) both say where to read: give one",
        ));
    }
    // A tenant command: find the tenant's shard, then read it through that shard's profile and door, exactly
    // as with --profile (its reason policy, grants and records, on that shard).
    let (key, stdout_is_data) = match &cli.command {
        Command::Tenant(a) | Command::Roles(a) => (Some(a.tenant.clone()), false),
        Command::Members(a) => (Some(a.tenant.clone()), false),
        Command::Audit(a) => (Some(a.tenant.clone()), false),
        Command::AccessLog(a) => (Some(a.tenant.clone()), false),
        Command::ExportAudit(a) => (Some(a.tenant.clone()), a.out.as_os_str() == "-"),
        _ => (None, false),
    };
    if let Some(key) = key {
        let shard = cmd::fleet::shard_of(g, fleet, &key)
            .await
            .map_err(|f| Failure {
                stderr_only: stdout_is_data,
                ..f
            })?;
        let on_shard = Global {
            profile: Some(shard),
            ..g.clone()
        };
        return dispatch(&on_shard, cli.command).await;
    }
    match cli.command {
        Command::Tenants(a) => cmd::fleet::tenants(g, fleet, a).await,
        Command::Check(a) => cmd::fleet::check(g, fleet, a).await,
        other => dispatch(g, other).await,
    }
}

async fn dispatch(g: &Global, command: Command) -> Result<(), Failure> {
    match command {
        Command::Profile(c) => cmd::profile::run(g, c).await,
        Command::Fleet(c) => cmd::fleet::run(g, c).await,
        Command::Tenants(a) => cmd::browse::tenants(g, a).await,
        Command::Tenant(a) => cmd::browse::tenant(g, a).await,
        Command::Members(a) => cmd::browse::members(g, a).await,
        Command::Roles(a) => cmd::browse::roles(g, a).await,
        Command::Audit(a) => cmd::browse::audit(g, a).await,
        Command::ExportAudit(a) => cmd::export::run(g, a).await,
        Command::Check(a) => cmd::check::run(g, a).await,
        Command::Verify(a) => cmd::evidence::verify(g, a).await,
        Command::SigningKey(c) => cmd::evidence::signing_key(g, c).await,
        Command::AccessLog(a) => cmd::browse::access_log(g, a).await,
        Command::Access(c) => cmd::access::run(g, c).await,
        Command::Migrate(a) => cmd::admin::migrate(g, a).await,
        Command::Seed(a) => cmd::admin::seed(g, a).await,
        #[cfg(unix)]
        Command::Demo(a) => cmd::demo::demo(g, a).await,
    }
}

#[cfg(test)]
mod tests {

    fn help(path: &str) -> String {
        let mut cmd = super::command();
        let mut sub = &mut cmd;
        for word in path.split(' ') {
            sub = sub.find_subcommand_mut(word).unwrap();
        }
        sub.render_long_help().to_string()
    }

    fn parses(args: &str) -> Result<(), String> {
        super::parse(
            std::iter::once("tenantctl")
                .chain(args.split(' '))
                .map(Into::into),
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    }

    /// Whether a help text has an option line for `flag` (not a mention in another option's words).
    fn lists(help: &str, flag: &str) -> bool {
        help.lines().any(|l| {
            let l = l.trim_start();
            l == flag || l.starts_with(&format!("{flag} ")) || l.starts_with(&format!("{flag},"))
        })
    }

    /// A command's help lists the global options that mean something to it, and no other: `seed` takes the
    /// owner's URL but no reason, `check` no reason (it opens no tenant), `audit` both.
    #[test]
    fn global_options_appear_only_where_they_apply() {
        let seed = help("seed");
        assert!(lists(&seed, "--url"), "{seed}");
        for absent in ["--reason", "--allow-bypass", "--profile", "--mapping"] {
            assert!(!lists(&seed, absent), "seed --help lists {absent}:\n{seed}");
        }
        let check = help("check");
        assert!(
            lists(&check, "--profile") && lists(&check, "--ssh"),
            "{check}"
        );
        assert!(
            !lists(&check, "--reason") && !lists(&check, "--allow-bypass"),
            "{check}"
        );
        let audit = help("audit");
        for present in [
            "--reason",
            "--allow-bypass",
            "--profile",
            "--ssh-jump",
            "--format",
        ] {
            assert!(lists(&audit, present), "audit --help lacks {present}");
        }
        let keygen = help("signing-key show");
        assert!(
            !lists(&keygen, "--profile") && lists(&keygen, "--format"),
            "{keygen}"
        );
        let list = help("profile list");
        assert!(!lists(&list, "--password-stdin"), "{list}");
    }

    /// An option written before the command still works where it applies, and is refused (exit 2, in words)
    /// where it does not, instead of being silently ignored.
    #[test]
    fn a_global_option_is_refused_by_a_command_it_does_not_apply_to() {
        parses("--profile demo tenants").unwrap();
        parses("tenants --profile demo --format json").unwrap();
        parses("--reason support-ticket:1 audit --tenant acme --profile demo").unwrap();
        parses("seed --demo --url postgres://x@127.0.0.1/db").unwrap();
        // profile add has its own --url (the profile's address), not the connection's.
        parses("profile add p --url postgres://x@127.0.0.1/db").unwrap();
        for (args, flag) in [
            (
                "seed --demo --url postgres://x@127.0.0.1/db --reason other:x",
                "--reason",
            ),
            (
                "--allow-bypass migrate --url postgres://x@127.0.0.1/db",
                "--allow-bypass",
            ),
            ("check --profile demo --reason other:x", "--reason"),
            ("profile list --password-stdin", "--password-stdin"),
        ] {
            let e = parses(args).unwrap_err();
            assert!(e.contains(&format!("{flag} does not apply")), "{args}: {e}");
        }
    }

    /// The whole tree is valid for clap (each command built, as parsing it would).
    #[test]
    fn every_command_builds() {
        super::command().debug_assert();
    }

    /// Every option of every command says what it is for (`--help` lists no bare flag).
    #[test]
    fn every_option_has_a_help_line() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") || arg.is_hide_set() {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} --{id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::command(), "tenantctl", &mut missing);
        assert!(
            missing.is_empty(),
            "options without a help line: {missing:?}"
        );
    }
}
