//! `tenantctl check`: is row-level security really in force for this login? Exit 3 when it is not.

use clap::Args;
use tenant_console_core::isolation::{self, CheckOptions, Severity};
use tenant_console_core::profile::{AcceptedFinding, ProfileStore};

use crate::ctx::{connect, Global};
use crate::output::Format;
use crate::output::{outln, safe, Failure, EXIT_ISOLATION};

/// The probe counts a tenant's own rows up to this many (a bounded query): more shows as `1000+`.
const IN_SCOPE_CAP: i64 = 1000;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Also run the live probe: ask each tenant table for another tenant's rows, inside the tenant scope.
    #[arg(long)]
    pub probe: bool,
    /// Probe this tenant (id or slug) instead of a sample.
    #[arg(long)]
    pub tenant: Option<String>,
    /// How many tenants the probe samples.
    #[arg(long, default_value_t = 3)]
    pub sample: usize,
    /// Accept a finding (CODE:OBJECT, repeatable): still shown, no longer failing. Login findings
    /// (LOGIN_SUPERUSER, LOGIN_BYPASSRLS) cannot be accepted: that is what --allow-bypass is for.
    #[arg(long = "accept", value_name = "CODE:OBJECT")]
    pub accept: Vec<String>,
}

/// The findings accepted with `--accept CODE:OBJECT`.
pub fn accepted_from(specs: &[String]) -> Result<Vec<AcceptedFinding>, Failure> {
    specs
        .iter()
        .map(|spec| {
            let (code, object) = spec.split_once(':').ok_or_else(|| {
                Failure::usage(format!(
                    "--accept {spec:?}: write CODE:OBJECT, e.g. RLS_NOT_FORCED:audit_logs"
                ))
            })?;
            Ok(AcceptedFinding {
                code: code.trim().to_owned(),
                object: object.trim().to_owned(),
                reason: "accepted on the command line".into(),
            })
        })
        .collect()
}

pub async fn run(g: &Global, a: CheckArgs) -> Result<(), Failure> {
    let mut accepted: Vec<AcceptedFinding> = match &g.profile {
        Some(name) => ProfileStore::open_default()?.get(name)?.accepted_findings,
        None => Vec::new(),
    };
    accepted.extend(accepted_from(&a.accept)?);
    // The check must see a bypassing login to report it, so connect allowing it; tenant reads in the probe
    // still refuse unless --allow-bypass was given.
    let conn = connect(g).await?;
    let report = isolation::check(
        conn.door.db(),
        &CheckOptions {
            probe: a.probe,
            tenant: a.tenant,
            sample: a.sample,
            accepted,
        },
    )
    .await?;
    match g.format() {
        Format::Json => outln!("{}", serde_json::to_string(&report).expect("serializes")),
        Format::Table | Format::Csv => {
            // Names and messages quote the database (roles, tables, tenants): text only, never escapes.
            outln!(
                "login {} on {} (PostgreSQL {})",
                safe(&report.login.user),
                safe(&report.login.database),
                safe(&report.login.server_version)
            );
            outln!(
                "tables checked: {}",
                safe(&report.tables_checked.join(", "))
            );
            if !report.reach.is_empty() {
                outln!(
                    "roles the login can become: {}",
                    safe(&report.reach.join(", "))
                );
            }
            if !report.probed_tenants.is_empty() {
                outln!(
                    "probed as tenants: {}",
                    safe(&report.probed_tenants.join(", "))
                );
            }
            if !report.evidence.is_empty() {
                let leaks = report
                    .evidence
                    .iter()
                    .filter(|e| e.foreign_rows > 0)
                    .count();
                outln!(
                    "probe evidence ({} questions on dedicated connections, {leaks} returned rows they must not):",
                    report.evidence.len()
                );
                outln!(
                    "  {:<20} {:<15} {:<36} {:<32} {:>13} {:>12}",
                    "role",
                    "setting",
                    "tenant",
                    "relation",
                    "rows in scope",
                    "foreign rows"
                );
                for e in &report.evidence {
                    outln!(
                        "  {:<20} {:<15} {:<36} {:<32} {:>13} {:>12}",
                        safe(&e.role),
                        e.state,
                        safe(e.tenant.as_deref().unwrap_or("-")),
                        safe(&e.relation),
                        e.rows_in_scope
                            .map(|n| if n >= IN_SCOPE_CAP {
                                format!("{n}+")
                            } else {
                                n.to_string()
                            })
                            .unwrap_or_else(|| "-".into()),
                        match &e.error {
                            Some(kind) => format!("error {kind}"),
                            None => e.foreign_rows.to_string(),
                        }
                    );
                }
            }
            for f in &report.findings {
                let sev = match f.severity {
                    Severity::Critical => "CRITICAL",
                    Severity::Warning => "warning ",
                    Severity::Info => "ok      ",
                };
                let acc = f
                    .accepted
                    .as_ref()
                    .map(|r| format!(" [accepted: {r}]"))
                    .unwrap_or_default();
                outln!("{sev} {:<30} {}{}", f.code, safe(&f.problem), safe(&acc));
                if f.severity != Severity::Info {
                    outln!("         why: {}", safe(&f.why));
                    if let Some(sql) = &f.fix_sql {
                        let lines: Vec<String> =
                            sql.lines().map(|l| safe(l).into_owned()).collect();
                        outln!("         fix: {}", lines.join("\n              "));
                    }
                }
            }
            outln!(
                "{}",
                if report.isolation_enforced {
                    "isolation is enforced for this login"
                } else {
                    "ISOLATION IS NOT ENFORCED for this login"
                }
            );
        }
    }
    if report.isolation_enforced {
        Ok(())
    } else {
        let codes: Vec<String> = report
            .failing()
            .map(|f| format!("{} {}", f.code, f.object))
            .collect();
        let mut failure = Failure::with_exit(
            "isolation_not_enforced",
            format!("isolation is not enforced: {}", codes.join(", ")),
            EXIT_ISOLATION,
        );
        // The report (with isolation_enforced: false) is the one JSON object on standard output.
        failure.result_printed = g.format() == Format::Json;
        Err(failure)
    }
}
