//! `tenantctl export-audit`: a tenant's audit log to CSV, with a progress bar on a terminal and a summary line.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::Args;
use tenant_console_core::access::Recorded;
use tenant_console_core::export::{self, Column, ExportOptions, Progress};
use tenant_console_core::secret::Secrets;

use crate::cmd::browse::FilterArgs;
use crate::ctx::{connect, Global};
use crate::output::{Failure, EXIT_ERROR};

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Tenant id or slug.
    #[arg(long)]
    pub tenant: String,
    /// The file to write, or - for standard output. Its name says the format: .csv, .jsonl (JSON lines), and
    /// either with .gz (gzip).
    #[arg(long)]
    pub out: PathBuf,
    /// The format of standard output: csv, jsonl, csv.gz or jsonl.gz (a file's name says it).
    #[arg(long, value_name = "FORMAT")]
    pub file_format: Option<String>,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Time zone of occurred_at, e.g. Europe/Berlin (default UTC; the offset is always written).
    #[arg(long, default_value = "UTC")]
    pub tz: String,
    /// Columns to write, comma-separated (default all): id, occurred_at, actor_id, actor_email, action,
    /// resource_type, resource_id, ip, user_agent, metadata.
    #[arg(long)]
    pub columns: Option<String>,
    /// Start the file with a UTF-8 byte order mark (for Excel on Windows).
    #[arg(long)]
    pub bom: bool,
    /// Replace the file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Where to write the manifest of an export to standard output (a file's goes beside it, as
    /// FILE.manifest.json).
    #[arg(long, value_name = "PATH")]
    pub manifest: Option<PathBuf>,
    /// Slices read at once, each on its own connection, all in one snapshot (the file is the same as one
    /// COPY's). Default: one per two cores, at most 4. An export of fewer than 50,000 events is never split.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub jobs: Option<u32>,
    /// Write the manifest unsigned when the system keyring (which holds the signing key) is unavailable, as on
    /// a server without one. `tenantctl verify` then reports it unsigned.
    #[arg(long)]
    pub unsigned: bool,
}

/// Exports; with `--out -` standard output is the data, so a failure says itself on standard error only.
pub async fn run(g: &Global, a: ExportArgs) -> Result<(), Failure> {
    let to_stdout = a.out.as_os_str() == "-";
    export_audit(g, a).await.map_err(|f| Failure {
        stderr_only: to_stdout,
        ..f
    })
}

async fn export_audit(g: &Global, a: ExportArgs) -> Result<(), Failure> {
    let tz: chrono_tz::Tz = a.tz.parse().map_err(|_| {
        Failure::usage(format!(
            "unknown time zone {:?} (use e.g. UTC, Europe/Berlin)",
            a.tz
        ))
    })?;
    let columns = match &a.columns {
        Some(list) => Column::parse_list(list)?,
        None => Column::ALL.to_vec(),
    };
    let to_stdout = a.out.as_os_str() == "-";
    let (format, compression) = match (&a.file_format, to_stdout) {
        (Some(f), true) => export::FileFormat::parse(f)?,
        (Some(_), false) => {
            return Err(Failure::usage(
                "--file-format is for --out -: a file's name says its format (.csv, .jsonl, .csv.gz, .jsonl.gz)",
            ))
        }
        (None, _) => export::FileFormat::for_path(&a.out),
    };
    if a.manifest.is_some() && !to_stdout {
        return Err(Failure::usage(
            "--manifest is for --out -: a file's manifest is written beside it (FILE.manifest.json)",
        ));
    }
    // The signing key, before anything is recorded or read: the core's rule, the app's too.
    // (A stream with no --manifest has no manifest to sign.)
    let secrets = Secrets::system();
    let needs_key = !to_stdout || a.manifest.is_some();
    let signer = export::manifest_signer(secrets.as_ref(), a.unsigned || !needs_key)
        .await
        .map_err(|e| {
            let mut f = Failure::from(e);
            if f.kind == "signing_key_unavailable" {
                f.message.push_str(" (tenantctl: --unsigned)");
            }
            f
        })?;
    if signer.is_none() && needs_key {
        eprintln!("tenantctl: note: the signing key cannot be had; the manifest is written unsigned (--unsigned)");
    }
    let opts = ExportOptions {
        filter: a.filter.to_filter()?,
        columns,
        tz,
        bom: a.bom,
        format,
        compression,
        overwrite: a.force,
        jobs: a
            .jobs
            .map(|j| j as usize)
            .unwrap_or_else(export::default_jobs),
        spool_dir: None,
        signer,
        manifest: a.manifest.clone(),
    };
    if !to_stdout && !a.force && a.out.exists() {
        return Err(file_exists(&a.out));
    }
    let conn = connect(g).await?;
    let reason = conn.reason(g)?;

    // Ctrl-C, SIGTERM (kill, systemd, cron's timeout) and SIGHUP (a closed terminal) all end an export the same
    // way: cancelled, the server's COPY stopped, no partial file left.
    let cancel = Arc::new(AtomicBool::new(false));
    {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            stop_signal().await;
            cancel.store(true, Ordering::Relaxed);
        });
    }
    let bar = (std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {wide_bar} {pos}/{len} rows  {msg}  eta {eta}",
            )
            .expect("valid template"),
        );
        bar
    });
    let on_progress = |p: Progress| {
        if let Some(bar) = &bar {
            if let Some(t) = p.total_estimate {
                bar.set_length(t.max(p.rows));
            }
            bar.set_position(p.rows);
            bar.set_message(format!("{:.1} MB", p.bytes as f64 / 1e6));
        }
    };
    let result = if to_stdout {
        export::export_to_writer(
            &conn.door,
            &a.tenant,
            &opts,
            reason.as_ref(),
            Box::new(std::io::stdout()),
            &cancel,
            on_progress,
        )
        .await
    } else {
        export::export_to_path(
            &conn.door,
            &a.tenant,
            &opts,
            reason.as_ref(),
            &a.out,
            &cancel,
            on_progress,
        )
        .await
    };
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let summary = result.map_err(|e| match e {
        tenant_console_core::Error::FileExists(path) => file_exists(&path),
        other => other.into(),
    })?;
    let rate = summary.rows as f64 / summary.seconds.max(1e-9);
    let target = summary
        .path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "standard output".into());
    eprintln!(
        "exported {} rows, {} bytes in {:.2} s ({:.0} rows/s) to {target}",
        summary.rows, summary.bytes, summary.seconds, rate
    );
    if let Some(m) = &summary.manifest {
        eprintln!(
            "manifest: {} ({}; SHA-256 {})",
            m.display(),
            summary
                .signed_by
                .as_deref()
                .map(|k| format!("signed by {k}"))
                .unwrap_or_else(|| "UNSIGNED".into()),
            summary.sha256.as_deref().unwrap_or("?")
        );
    }
    if summary.recorded == Some(Recorded::NoLogTable) {
        eprintln!("note: this database has no support-access log: the export was NOT recorded");
    }
    if conn.door.db().bypass_accepted() {
        eprintln!("WARNING: row-level security does not apply to this login; the export rests on the console's own predicates only");
    }
    Ok(())
}

/// Resolves when the process is asked to stop: Ctrl-C, SIGTERM or SIGHUP.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The target exists and `--force` was not given: said with the flag that changes it.
fn file_exists(path: &std::path::Path) -> Failure {
    Failure::with_exit(
        "file_exists",
        format!(
            "{} exists; choose another name, or pass --force to replace it",
            path.display()
        ),
        EXIT_ERROR,
    )
}
