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
    /// List and search tenants (the one cross-tenant read: the tenants table only).
    Tenants(cmd::browse::TenantsArgs),
    /// Show one tenant: its details and stats, read as the tenant.
    Tenant(cmd::browse::TenantArgs),
    /// List a tenant's members.
    Members(cmd::browse::MembersArgs),
    /// List a tenant's roles and their permissions.
    Roles(cmd::browse::RolesArgs),
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
    let cli = match Cli::try_parse() {
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

async fn run(cli: Cli) -> Result<(), Failure> {
    let g = &cli.global;
    match cli.command {
        Command::Profile(c) => cmd::profile::run(g, c).await,
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
    use clap::CommandFactory;

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
        walk(&super::Cli::command(), "tenantctl", &mut missing);
        assert!(
            missing.is_empty(),
            "options without a help line: {missing:?}"
        );
    }
}
