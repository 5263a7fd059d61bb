//! Audit CSV export at the speed of COPY: streamed, safe cells, atomic files, progress and cancel.
//!
//! Inside the tenant scope (RLS applies to `COPY (query)`), the server runs a plain
//! `COPY (SELECT <audit columns> ...) TO STDOUT WITH (FORMAT binary)` with the plan a raw COPY of the same rows
//! gets (see [`copy_sql`]): no join, no formatting, so the server's one core only reads and sends. The client
//! does the rest on a blocking thread while the network is read: ISO 8601 timestamps in the chosen zone, actor
//! emails (the tenant's members read once, other actors looked up once each), and neutralised cells (OWASP CSV
//! injection: a text cell starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'`). Memory stays flat:
//! batches pass through a small bounded channel.
//!
//! A file is written to a temporary file beside the target, synced, and renamed into place only when complete
//! and recorded in the support-access log; any failure (the server dies, the connection drops, the disk fills,
//! the user cancels) leaves no file at the target and an existing one untouched. Cancelling also stops the
//! server's query (`pg_cancel_backend`), not only the reader.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use crate::access::{AccessReason, Door, ExportPass};
use crate::db::Db;
use crate::error::{Error, Result};

mod actors;
mod binary;
mod copy;
mod decode;
mod manifest;
mod options;
mod partial;
mod writer;

use copy::{run, Ran};

pub use options::{
    default_jobs, CancelFlag, Column, Compression, ExportOptions, ExportSummary, FileFormat,
    Progress,
};
use partial::{remove_stale_partials, PARTIAL_PREFIX, PARTIAL_SUFFIX};

pub use manifest::{
    load_trusted_keys, manifest_path, manifest_signer, read_manifest, recount, trust_key,
    trusted_keys, trusted_keys_file, verify, EventRef, Manifest, Recount, TrustedKey, Verification,
    MANIFEST_FORMAT,
};
pub use writer::neutralise;

/// What the access record of an export says: the filters, the columns and the file name (never its folder).
fn export_details(opts: &ExportOptions, file: &str) -> serde_json::Value {
    serde_json::json!({
        "filters": opts.filter,
        "file": file,
        "columns": opts.columns,
        "tz": opts.tz.name(),
    })
}

/// Records the end of an export (its rows, bytes and the SHA-256 of the file's bytes), next to the record
/// made before it started, with the server's clock: the database is then the witness of what was exported,
/// and `verify --against` can find a file it never saw.
async fn record_completion(door: &Door, pass: &ExportPass, file: &str, ran: &Ran) -> Result<()> {
    let details = serde_json::json!({
        "file": file,
        "rows": ran.rows,
        "bytes": ran.bytes,
        "sha256": manifest::hex(&ran.written.sha256),
        "export_record": pass.record_id(),
    });
    door.record_completion(pass, details).await
}

/// The manifest of a finished export (signed when the options carry the key).
fn manifest_of(
    door: &Door,
    pass: &ExportPass,
    opts: &ExportOptions,
    file_name: &str,
    ran: &Ran,
) -> Manifest {
    use manifest::{
        hex, Exporter, FileFacts, FilterFacts, IsolationFacts, QueryFacts, TenantFacts,
    };
    let db = door.db();
    let login = db.login();
    let tenant = pass.tenant();
    let mut m = Manifest {
        format: MANIFEST_FORMAT.into(),
        file: FileFacts {
            name: file_name.to_owned(),
            file_format: opts.format.name().into(),
            compression: opts.compression.map(|_| "gzip".to_owned()),
            bom: opts.bom && opts.format == FileFormat::Csv,
            bytes: ran.bytes,
            sha256: hex(&ran.written.sha256),
        },
        tenant: TenantFacts {
            id: tenant.id.clone(),
            slug: tenant.slug.clone(),
            name: tenant.name.clone(),
        },
        filters: FilterFacts {
            given: opts.filter.clone(),
            from_utc: opts.filter.since,
            to_utc: opts.filter.until.unwrap_or(ran.snapshot_at),
        },
        query: QueryFacts {
            sql: ran.sql.clone(),
            parameters: ran.parameters.clone(),
        },
        columns: opts.columns.iter().map(|c| c.name().to_owned()).collect(),
        time_zone: opts.tz.name().to_owned(),
        rows: ran.rows,
        first_event: ran.written.first.clone(),
        last_event: ran.written.last.clone(),
        snapshot_at: ran.snapshot_at,
        exported_at: chrono::Utc::now(),
        exporter: Exporter {
            db_login: login.user.clone(),
            os_user: crate::access::os_user(),
            host: crate::access::client_host(),
        },
        console_version: env!("CARGO_PKG_VERSION").to_owned(),
        server_version: login.server_version.clone(),
        database: login.database.clone(),
        shard: door.shard().cloned(),
        access_record_id: pass.record_id().map(str::to_owned),
        approval_id: pass.approval().map(|a| a.id.clone()),
        masked_columns: {
            let masks = db.schema().audit_masks();
            opts.columns
                .iter()
                .filter_map(|c| {
                    masks
                        .iter()
                        .find(|(f, _)| *f == c.name())
                        .map(|(_, q)| q.clone())
                })
                .collect()
        },
        route: Some(db.route_info()).filter(|r| r.via != "direct" || r.password_command),
        isolation: IsolationFacts {
            relation: db.schema().tables.audit.name.to_string(),
            rows_in_scope: ran.rows,
            foreign_rows: ran.foreign_rows,
            login_bypasses_rls: !login.bypass_reasons().is_empty(),
            checked_at: ran.snapshot_at,
        },
        signature: None,
    };
    if let Some(key) = &opts.signer {
        m.sign(key);
    }
    m
}

/// Exports the tenant's audit events to a CSV file at `path`, atomically. The export passes the door first:
/// it is recorded (with its filters and file name) before anything is read, and does not start otherwise.
#[allow(clippy::too_many_arguments)]
pub async fn export_to_path(
    door: &Door,
    tenant_key: &str,
    opts: &ExportOptions,
    reason: Option<&AccessReason>,
    path: &Path,
    cancel: &CancelFlag,
    progress: impl FnMut(Progress) + Send,
) -> Result<ExportSummary> {
    // The file's name says its format: acme.csv, acme.jsonl, acme.csv.gz, acme.jsonl.gz.
    let mut opts = opts.clone();
    (opts.format, opts.compression) = FileFormat::for_path(path);
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    // A parallel export's later slices are spooled beside the target (same disk, same cleanup of partials).
    opts.spool_dir = Some(dir.clone());
    let opts = &opts;
    if !opts.overwrite && path.exists() {
        return Err(Error::FileExists(path.to_path_buf()));
    }
    check_options(door.db(), opts)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    remove_stale_partials(&dir);
    let pass = door
        .export(tenant_key, reason, export_details(opts, &file_name))
        .await?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!("{PARTIAL_PREFIX}{}-", std::process::id()))
        .suffix(PARTIAL_SUFFIX)
        .tempfile_in(&dir)
        .map_err(|e| Error::io("creating a temporary file in", &dir, e))?;
    let file = tmp
        .as_file()
        .try_clone()
        .map_err(|e| Error::io("opening", tmp.path().to_path_buf(), e))?;
    let started = Instant::now();
    let ran = run(door.db(), &pass, opts, Box::new(file), cancel, progress).await?;
    let (rows, bytes) = (ran.rows, ran.bytes);

    // Complete: make it durable, record its end, then put it in place. If that fails the file is not kept.
    let synced = tmp
        .as_file()
        .try_clone()
        .map_err(|e| Error::io("syncing", path, e))?;
    tokio::task::spawn_blocking(move || synced.sync_all())
        .await
        .map_err(|_| Error::io("syncing", path, std::io::Error::other("sync task failed")))?
        .map_err(|e| Error::io("syncing", path, e))?;
    record_completion(door, &pass, &file_name, &ran).await?;
    // The manifest is written beside the file, and both are put in place together: a file is never left
    // without its manifest.
    let manifest = manifest_of(door, &pass, opts, &file_name, &ran);
    let manifest_tmp = manifest::write_temp(&dir, &manifest)?;
    let persisted = if opts.overwrite {
        tmp.persist(path).map(|_| ())
    } else {
        tmp.persist_noclobber(path).map(|_| ())
    };
    persisted.map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            Error::FileExists(path.to_path_buf())
        } else {
            Error::io("moving the export into place at", path, e.error)
        }
    })?;
    let manifest_at = manifest_path(path);
    if let Err(e) = manifest_tmp.persist(&manifest_at) {
        std::fs::remove_file(path).ok();
        return Err(Error::io(
            "moving the manifest into place at",
            &manifest_at,
            e.error,
        ));
    }
    Ok(ExportSummary {
        rows,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
        path: Some(path.to_path_buf()),
        recorded: Some(pass.recorded()),
        record_id: pass.record_id().map(str::to_owned),
        manifest: Some(manifest_at),
        sha256: Some(manifest.file.sha256.clone()),
        public_key: manifest.signature.as_ref().map(|s| s.public_key.clone()),
        signed_by: manifest.signature.map(|s| s.key_fingerprint),
    })
}

/// Exports to a writer (standard output): recorded before the first byte (nothing is streamed if recording
/// fails), streamed as it comes, and its end recorded too.
pub async fn export_to_writer(
    door: &Door,
    tenant_key: &str,
    opts: &ExportOptions,
    reason: Option<&AccessReason>,
    out: Box<dyn Write + Send>,
    cancel: &CancelFlag,
    progress: impl FnMut(Progress) + Send,
) -> Result<ExportSummary> {
    check_options(door.db(), opts)?;
    let pass = door
        .export(tenant_key, reason, export_details(opts, "-"))
        .await?;
    let started = Instant::now();
    let ran = run(door.db(), &pass, opts, out, cancel, progress).await?;
    let (rows, bytes) = (ran.rows, ran.bytes);
    record_completion(door, &pass, "-", &ran).await?;
    let mut summary = ExportSummary {
        rows,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
        path: None,
        recorded: Some(pass.recorded()),
        record_id: pass.record_id().map(str::to_owned),
        manifest: None,
        sha256: Some(manifest::hex(&ran.written.sha256)),
        signed_by: None,
        public_key: None,
    };
    if let Some(at) = &opts.manifest {
        let name = at
            .file_name()
            .map(|n| {
                n.to_string_lossy()
                    .trim_end_matches(".manifest.json")
                    .to_owned()
            })
            .unwrap_or_default();
        let manifest = manifest_of(door, &pass, opts, &name, &ran);
        let dir = at
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        manifest::write_temp(dir, &manifest)?
            .persist(at)
            .map_err(|e| Error::io("moving the manifest into place at", at, e.error))?;
        summary.manifest = Some(at.clone());
        summary.public_key = manifest.signature.as_ref().map(|s| s.public_key.clone());
        summary.signed_by = manifest.signature.map(|s| s.key_fingerprint);
    }
    Ok(summary)
}

/// What is wrong with the options, before anything is recorded or read.
fn check_options(db: &Db, opts: &ExportOptions) -> Result<()> {
    db.schema().require_keys(crate::mapping::Reads::Audit)?;
    opts.filter.validate(db.schema())?;
    if opts.columns.is_empty() {
        return Err(Error::InvalidInput("no columns chosen".into()));
    }
    Ok(())
}
