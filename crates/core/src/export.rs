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

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::Serialize;

use crate::access::{self, AccessAction, AccessReason, Door, ExportPass, Recorded};
use crate::audit::{self, AuditFilter};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::mapping::IdType;
use crate::scope::{Tenant, TenantScope};
use crate::sql::{col, SettingsSql, SqlSink};

/// A column of the export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    Id,
    OccurredAt,
    ActorId,
    ActorEmail,
    Action,
    ResourceType,
    ResourceId,
    Ip,
    UserAgent,
    Metadata,
}

impl Column {
    /// Every column, in the default order.
    pub const ALL: [Column; 10] = [
        Column::Id,
        Column::OccurredAt,
        Column::ActorId,
        Column::ActorEmail,
        Column::Action,
        Column::ResourceType,
        Column::ResourceId,
        Column::Ip,
        Column::UserAgent,
        Column::Metadata,
    ];

    /// The header name.
    pub fn name(self) -> &'static str {
        match self {
            Column::Id => "id",
            Column::OccurredAt => "occurred_at",
            Column::ActorId => "actor_id",
            Column::ActorEmail => "actor_email",
            Column::Action => "action",
            Column::ResourceType => "resource_type",
            Column::ResourceId => "resource_id",
            Column::Ip => "ip",
            Column::UserAgent => "user_agent",
            Column::Metadata => "metadata",
        }
    }

    /// Parses a comma-separated list of column names.
    pub fn parse_list(list: &str) -> Result<Vec<Column>> {
        let cols = list
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| {
                Column::ALL
                    .into_iter()
                    .find(|k| k.name() == c)
                    .ok_or_else(|| {
                        Error::InvalidInput(format!(
                            "unknown column {c:?}; columns are {}",
                            Column::ALL.map(Column::name).join(", ")
                        ))
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        if cols.is_empty() {
            return Err(Error::InvalidInput("no columns chosen".into()));
        }
        Ok(cols)
    }

    /// Position in the COPY row (see [`copy_sql`]), or `None` for the email, which the client adds.
    fn copy_index(self) -> Option<usize> {
        match self {
            Column::Id => Some(0),
            Column::OccurredAt => Some(1),
            Column::ActorId => Some(2),
            // Position 3 is the (empty) email column of `audit::select_list`.
            Column::ActorEmail => None,
            Column::Action => Some(4),
            Column::ResourceType => Some(5),
            Column::ResourceId => Some(6),
            Column::Ip => Some(7),
            Column::UserAgent => Some(8),
            Column::Metadata => Some(9),
        }
    }
}

/// What to export and how.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    pub filter: AuditFilter,
    pub columns: Vec<Column>,
    /// Time zone of `occurred_at` (UTC by default); the offset is always written.
    pub tz: chrono_tz::Tz,
    /// Start the file with a UTF-8 byte order mark (Excel on Windows then reads UTF-8 correctly).
    pub bom: bool,
    /// Replace an existing file at the target.
    pub overwrite: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            filter: AuditFilter::default(),
            columns: Column::ALL.to_vec(),
            tz: chrono_tz::UTC,
            bom: false,
            overwrite: false,
        }
    }
}

/// How far an export is.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Progress {
    pub rows: u64,
    pub bytes: u64,
    /// The rows expected (exact up to 10,000, estimated beyond).
    pub total_estimate: Option<u64>,
    pub elapsed_ms: u64,
}

/// The result of a finished export.
#[derive(Clone, Debug, Serialize)]
pub struct ExportSummary {
    pub rows: u64,
    pub bytes: u64,
    pub seconds: f64,
    /// Where the file is (absent when streamed to a writer).
    pub path: Option<PathBuf>,
    /// Whether the export was recorded in the tenant's support-access log (before its first byte).
    pub recorded: Option<Recorded>,
    /// The id of that access record.
    pub record_id: Option<String>,
}

/// Set to cancel a running export.
pub type CancelFlag = Arc<AtomicBool>;

/// How much COPY output is handed to the writer thread at a time.
const BATCH_BYTES: usize = 256 * 1024;

/// How often progress is reported.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// What the access record of an export says: the filters, the columns and the file name (never its folder).
fn export_details(opts: &ExportOptions, file: &str) -> serde_json::Value {
    serde_json::json!({
        "filters": opts.filter,
        "file": file,
        "columns": opts.columns,
        "tz": opts.tz.name(),
    })
}

/// Records the end of an export (its row and byte counts), next to the record made before it started.
async fn record_completion(
    door: &Door,
    pass: &ExportPass,
    file: &str,
    rows: u64,
    bytes: u64,
) -> Result<()> {
    if pass.recorded() != Recorded::Yes {
        return Ok(());
    }
    let details = serde_json::json!({
        "file": file,
        "rows": rows,
        "bytes": bytes,
        "export_record": pass.record_id(),
    });
    access::record(
        door.db(),
        pass.tenant(),
        pass.reason.as_ref(),
        &AccessAction::Completed { details },
    )
    .await?;
    Ok(())
}

/// Removes partial files that earlier exports into `dir` left behind when their process was killed (a
/// partial's name carries its process id; one whose process is gone is stale).
fn remove_stale_partials(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(pid) = partial_pid(name) else {
            continue;
        };
        if pid != std::process::id() && !process_alive(pid) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => {
                    tracing::info!(file = %name, "removed the partial file of an export that was killed")
                }
                Err(e) => {
                    tracing::warn!(file = %name, error = %e, "could not remove a stale partial export")
                }
            }
        }
    }
}

/// The process id in a partial export's name (`.tenant-console-partial-<pid>-<random>.tmp`).
fn partial_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PARTIAL_PREFIX)?;
    let (pid, _) = rest.split_once('-')?;
    rest.ends_with(PARTIAL_SUFFIX).then_some(())?;
    pid.parse().ok()
}

#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    // Signal 0 checks existence; EPERM means it exists but is someone else's.
    // SAFETY: kill with signal 0 sends nothing.
    let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    // Without a cheap existence check, keep partials: never delete a running export's file.
    true
}

/// A partial export's name: hidden, with the exporting process's id, and an ending no spreadsheet opens.
const PARTIAL_PREFIX: &str = ".tenant-console-partial-";
const PARTIAL_SUFFIX: &str = ".tmp";

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
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
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
    let (rows, bytes) = run(door.db(), &pass, opts, Box::new(file), cancel, progress).await?;

    // Complete: make it durable, record its end, then put it in place. If that fails the file is not kept.
    let synced = tmp
        .as_file()
        .try_clone()
        .map_err(|e| Error::io("syncing", path, e))?;
    tokio::task::spawn_blocking(move || synced.sync_all())
        .await
        .map_err(|_| Error::io("syncing", path, std::io::Error::other("sync task failed")))?
        .map_err(|e| Error::io("syncing", path, e))?;
    record_completion(door, &pass, &file_name, rows, bytes).await?;
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
    Ok(ExportSummary {
        rows,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
        path: Some(path.to_path_buf()),
        recorded: Some(pass.recorded()),
        record_id: pass.record_id().map(str::to_owned),
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
    let (rows, bytes) = run(door.db(), &pass, opts, out, cancel, progress).await?;
    record_completion(door, &pass, "-", rows, bytes).await?;
    Ok(ExportSummary {
        rows,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
        path: None,
        recorded: Some(pass.recorded()),
        record_id: pass.record_id().map(str::to_owned),
    })
}

/// What is wrong with the options, before anything is recorded or read.
fn check_options(db: &Db, opts: &ExportOptions) -> Result<()> {
    opts.filter.validate(db.schema())?;
    if opts.columns.is_empty() {
        return Err(Error::InvalidInput("no columns chosen".into()));
    }
    Ok(())
}

/// The COPY statement for the tenant and filter: plain columns, oldest first, in PostgreSQL's binary format.
///
/// The plan must be the one a raw COPY of the same rows gets, or the export is slower than it needs to be:
/// the resolved tenant id and the time bounds are written as literals (each made from a value parsed and
/// re-rendered by this program, so nothing typed by a user reaches SQL text that way), and the text filters a
/// user typed travel as settings read once per statement ([`SettingsSql`]). Binary format spares the server
/// the quoting of CSV and the client its parsing: each value arrives length-prefixed.
fn copy_sql(db: &Db, tenant: &Tenant, filter: &AuditFilter) -> SettingsSql {
    let s = db.schema();
    let a = &s.mapping.audit_logs;
    let c = |name: &str| format!("e.{}", col(name));
    let mut q = SettingsSql::default();
    // The browser's column list (the email column is NULL here: the client fills it from the tenant's users).
    q.text(&format!(
        "COPY (SELECT {} FROM {} e WHERE {} = ",
        audit::select_list(s, "e", false),
        s.tables.audit.name,
        c(&a.tenant_id),
    ));
    match tenant_literal(&tenant.id, s.tenant_id_type) {
        Some(lit) => q.text(&lit),
        None => q
            .text("CAST(")
            .value(tenant.id.clone())
            .text(&format!(" AS {})", s.tenant_id_type.cast())),
    };
    filter.push_where(&mut q, s, "e");
    q.text(&format!(
        " ORDER BY {} ASC, {} ASC) TO STDOUT WITH (FORMAT binary)",
        c(&a.created_at),
        c(&a.id)
    ));
    q
}

/// The tenant id as an SQL literal of its type, re-rendered from its parsed value (uuid, integer), or quoted
/// (text; the transaction sets `standard_conforming_strings`, so doubling `'` is the whole of quoting).
/// `None` when it does not parse, and then the caller passes it as a setting instead.
fn tenant_literal(id: &str, ty: IdType) -> Option<String> {
    match ty {
        IdType::Uuid => uuid::Uuid::parse_str(id)
            .ok()
            .map(|u| format!("'{}'::uuid", u.hyphenated())),
        IdType::Integer => id.parse::<i64>().ok().map(|n| format!("'{n}'::bigint")),
        IdType::Text => (!id.contains('\0')).then(|| format!("'{}'::text", id.replace('\'', "''"))),
    }
}

/// Runs the export into `out`; returns (rows, bytes).
async fn run(
    db: &Db,
    pass: &ExportPass,
    opts: &ExportOptions,
    out: Box<dyn Write + Send>,
    cancel: &CancelFlag,
    mut progress: impl FnMut(Progress) + Send,
) -> Result<(u64, u64)> {
    let tenant = pass.tenant();
    let started = Instant::now();
    let mut scope = TenantScope::open(db, tenant).await?;
    let total = audit::count(&mut scope, &opts.filter).await?.value.max(0) as u64;
    let emails = member_emails(db, &mut scope).await?;
    let (pid,): (i32,) = sqlx::query_as("SELECT pg_backend_pid()")
        .fetch_one(scope.conn())
        .await?;
    let q = copy_sql(db, tenant, &opts.filter);
    let setter_sql = q.setter();
    let mut setter = sqlx::query(&setter_sql);
    for v in &q.values {
        setter = setter.bind(v.clone());
    }
    setter.execute(scope.conn()).await?;

    let rows = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(16);
    let writer = {
        let (rows, bytes) = (rows.clone(), bytes.clone());
        let lookup = Lookup::new(db.clone(), emails);
        let opts = opts.clone();
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            write_csv(rx, out, &opts, lookup, &handle, &rows, &bytes)
        })
    };

    let report = |progress: &mut dyn FnMut(Progress)| {
        progress(Progress {
            rows: rows.load(Ordering::Relaxed),
            bytes: bytes.load(Ordering::Relaxed),
            total_estimate: Some(total),
            elapsed_ms: started.elapsed().as_millis() as u64,
        })
    };
    let mut outcome: Result<()> = Ok(());
    {
        let mut stream = scope.conn().copy_out_raw(&q.sql).await?;
        let mut tick = tokio::time::interval(PROGRESS_EVERY);
        // The server sends one message per row: hand them to the writer thread in batches, or the
        // hand-offs (not the database) become the cost.
        let mut batch: Vec<u8> = Vec::with_capacity(BATCH_BYTES);
        loop {
            tokio::select! {
                chunk = stream.next() => match chunk {
                    Some(Ok(bytes)) => {
                        batch.extend_from_slice(&bytes);
                        if batch.len() >= BATCH_BYTES
                            && tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH_BYTES))).is_err()
                        {
                            // The writer stopped (its error is reported below).
                            break;
                        }
                    }
                    Some(Err(e)) => { outcome = Err(copy_error(e)); break; }
                    None => {
                        if !batch.is_empty() {
                            let _ = tx.send(std::mem::take(&mut batch));
                        }
                        break;
                    }
                },
                _ = tick.tick() => {
                    if cancel.load(Ordering::Relaxed) {
                        outcome = Err(Error::Cancelled);
                        break;
                    }
                    report(&mut progress);
                }
            }
        }
        if matches!(outcome, Err(Error::Cancelled)) {
            // Stop the server's query, not only our reading: the backend is running COPY for us.
            let _ = sqlx::query("SELECT pg_cancel_backend($1)")
                .bind(pid)
                .execute(db.pool())
                .await;
            // Drain what is in flight until the server acknowledges the cancel.
            while let Some(chunk) = stream.next().await {
                if chunk.is_err() {
                    break;
                }
            }
        }
    }
    drop(tx);
    let written = writer.await.map_err(|_| {
        Error::io(
            "writing",
            "the export",
            std::io::Error::other("writer failed"),
        )
    })?;
    outcome?;
    written?;
    if cancel.load(Ordering::Relaxed) {
        return Err(Error::Cancelled);
    }
    scope.finish().await?;
    report(&mut progress);
    Ok((rows.load(Ordering::Relaxed), bytes.load(Ordering::Relaxed)))
}

fn copy_error(e: sqlx::Error) -> Error {
    match Error::from(e) {
        Error::QueryTimeout => Error::Cancelled,
        Error::ConnectionLost(why) => Error::ConnectionLost(format!(
            "{why}; the export was stopped and no file was written"
        )),
        other => other,
    }
}

/// Emails of the tenant's members, read once inside the scope.
async fn member_emails(
    db: &Db,
    scope: &mut crate::TenantScope,
) -> Result<HashMap<String, Option<String>>> {
    let s = db.schema();
    let (Some(u), Some(ut)) = (&s.mapping.users, &s.tables.users) else {
        return Ok(HashMap::new());
    };
    let m = &s.mapping.members;
    let sql = format!(
        "SELECT u.{}::text, u.{}::text FROM {} m JOIN {} u ON u.{} = m.{} WHERE m.{} = CAST($1 AS {})",
        col(&u.id),
        col(&u.email),
        s.tables.members.name,
        ut.name,
        col(&u.id),
        col(&m.user_id),
        col(&m.tenant_id),
        s.tenant_id_type.cast()
    );
    let tenant = scope.tenant().id.clone();
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(&sql)
        .bind(tenant)
        .fetch_all(scope.conn())
        .await?;
    Ok(rows.into_iter().collect())
}

/// Actor id -> email: the members' emails, and other actors looked up once each in the (global) users table.
struct Lookup {
    db: Db,
    cache: HashMap<String, Option<String>>,
}

impl Lookup {
    fn new(db: Db, cache: HashMap<String, Option<String>>) -> Self {
        Lookup { db, cache }
    }

    fn email(&mut self, handle: &tokio::runtime::Handle, actor: &str) -> Result<Option<&str>> {
        if !self.cache.contains_key(actor) {
            let s = self.db.schema();
            let found = match (&s.mapping.users, &s.tables.users) {
                (Some(u), Some(ut)) => {
                    let sql = format!(
                        "SELECT {}::text FROM {} WHERE {}::text = $1",
                        col(&u.email),
                        ut.name,
                        col(&u.id)
                    );
                    let pool = self.db.pool().clone();
                    let actor = actor.to_owned();
                    handle
                        .block_on(async move {
                            sqlx::query_scalar::<_, Option<String>>(&sql)
                                .bind(actor)
                                .fetch_optional(&pool)
                                .await
                        })?
                        .flatten()
                }
                _ => None,
            };
            self.cache.insert(actor.to_owned(), found);
        }
        Ok(self.cache.get(actor).and_then(|e| e.as_deref()))
    }
}

/// Counts the bytes that go through.
struct Counting<W> {
    inner: W,
    bytes: Arc<AtomicU64>,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A text cell that a spreadsheet would read as a formula gets a leading `'` (OWASP CSV injection).
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    if needs_neutralising(cell.as_bytes()) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

fn needs_neutralising(cell: &[u8]) -> bool {
    matches!(
        cell.first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// The fields of one COPY row, in [`audit::select_list`] order (index 3, the email, is always NULL).
const COPY_FIELDS: usize = 10;

/// PostgreSQL's binary COPY stream, read as it arrives in arbitrary pieces: an 11-byte signature, 32-bit flags
/// and a header extension; then per row a 16-bit field count and, per field, a 32-bit length (-1 for NULL) and
/// that many bytes; a field count of -1 ends the data. All integers are big-endian.
#[derive(Default)]
struct BinaryCopy {
    /// Bytes of a row (or the header) that arrived without its end.
    pending: Vec<u8>,
    header_read: bool,
    ended: bool,
}

const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

/// One row: each field's bytes, `None` for NULL.
type Fields<'a> = [Option<&'a [u8]>; COPY_FIELDS];

impl BinaryCopy {
    /// Feeds the next piece of the stream; calls `row` for every row completed by it.
    fn feed(&mut self, chunk: &[u8], row: &mut dyn FnMut(&Fields<'_>) -> Result<()>) -> Result<()> {
        if self.pending.is_empty() {
            let used = self.parse(chunk, row)?;
            self.pending.extend_from_slice(&chunk[used..]);
        } else {
            let mut buf = std::mem::take(&mut self.pending);
            buf.extend_from_slice(chunk);
            let used = self.parse(&buf, row)?;
            buf.drain(..used);
            self.pending = buf;
        }
        Ok(())
    }

    /// Parses the complete rows at the start of `buf`; returns how many bytes they took.
    fn parse(
        &mut self,
        buf: &[u8],
        row: &mut dyn FnMut(&Fields<'_>) -> Result<()>,
    ) -> Result<usize> {
        let mut at = 0;
        if !self.header_read {
            if buf.len() < SIGNATURE.len() + 8 {
                return Ok(0);
            }
            if &buf[..SIGNATURE.len()] != SIGNATURE {
                return Err(stream_error(
                    "it does not start with the binary COPY signature",
                ));
            }
            let ext = be_u32(&buf[15..19]) as usize;
            if buf.len() < 19 + ext {
                return Ok(0);
            }
            at = 19 + ext;
            self.header_read = true;
        }
        let mut fields: Fields<'_> = [None; COPY_FIELDS];
        while !self.ended {
            let Some(count) = buf.get(at..at + 2) else {
                break;
            };
            let count = i16::from_be_bytes([count[0], count[1]]);
            if count == -1 {
                self.ended = true;
                at += 2;
                break;
            }
            if count as usize != COPY_FIELDS {
                return Err(stream_error(&format!(
                    "a row has {count} fields, not {COPY_FIELDS}"
                )));
            }
            let mut p = at + 2;
            let mut complete = true;
            for f in fields.iter_mut() {
                let Some(len) = buf.get(p..p + 4) else {
                    complete = false;
                    break;
                };
                let len = i32::from_be_bytes([len[0], len[1], len[2], len[3]]);
                p += 4;
                if len < 0 {
                    *f = None;
                    continue;
                }
                let Some(value) = buf.get(p..p + len as usize) else {
                    complete = false;
                    break;
                };
                *f = Some(value);
                p += len as usize;
            }
            if !complete {
                break;
            }
            row(&fields)?;
            at = p;
        }
        Ok(at)
    }

    /// Whether the stream ended properly (its trailer arrived, and nothing after it).
    fn finish(&self) -> Result<()> {
        if self.ended && self.pending.is_empty() {
            Ok(())
        } else {
            Err(stream_error("it ended in the middle of the data"))
        }
    }
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn stream_error(what: &str) -> Error {
    Error::io(
        "reading",
        "the database's export stream",
        std::io::Error::other(what.to_owned()),
    )
}

/// Microseconds between 1970-01-01 and 2000-01-01, PostgreSQL's epoch for binary timestamps.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// Writes a binary `timestamptz` (microseconds since 2000-01-01 UTC) as ISO 8601 in `tz` with its offset,
/// always six fractional digits: `2026-11-23T07:28:09.873814+00:00`.
fn push_timestamp(out: &mut Vec<u8>, micros: i64, tz: &chrono_tz::Tz) {
    use chrono::{Datelike, Offset, Timelike};
    let t = match micros {
        i64::MAX => return out.extend_from_slice(b"infinity"),
        i64::MIN => return out.extend_from_slice(b"-infinity"),
        m => m
            .checked_add(PG_EPOCH_MICROS)
            .and_then(DateTime::<Utc>::from_timestamp_micros),
    };
    let Some(t) = t else {
        return out.extend_from_slice(b"out of range");
    };
    let local = t.with_timezone(tz);
    let (d, offset) = (local.naive_local(), local.offset().fix().local_minus_utc());
    if !(0..=9999).contains(&d.year()) {
        let text = local.format("%Y-%m-%dT%H:%M:%S%.6f%:z").to_string();
        return out.extend_from_slice(text.as_bytes());
    }
    fn digits(out: &mut Vec<u8>, n: u32, width: usize) {
        let mut buf = [b'0'; 10];
        let mut n = n;
        for i in (0..width).rev() {
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
        out.extend_from_slice(&buf[..width]);
    }
    digits(out, d.year() as u32, 4);
    out.push(b'-');
    digits(out, d.month(), 2);
    out.push(b'-');
    digits(out, d.day(), 2);
    out.push(b'T');
    digits(out, d.hour(), 2);
    out.push(b':');
    digits(out, d.minute(), 2);
    out.push(b':');
    digits(out, d.second(), 2);
    out.push(b'.');
    digits(out, d.nanosecond() / 1000 % 1_000_000, 6);
    out.push(if offset < 0 { b'-' } else { b'+' });
    let offset = offset.unsigned_abs() / 60;
    digits(out, offset / 60, 2);
    out.push(b':');
    digits(out, offset % 60, 2);
}

fn write_csv(
    input: mpsc::Receiver<Vec<u8>>,
    out: Box<dyn Write + Send>,
    opts: &ExportOptions,
    mut lookup: Lookup,
    handle: &tokio::runtime::Handle,
    rows: &AtomicU64,
    bytes: &Arc<AtomicU64>,
) -> Result<()> {
    let io = |e: std::io::Error| Error::io("writing", "the export file", e);
    let mut counted = Counting {
        inner: BufWriter::with_capacity(256 * 1024, out),
        bytes: bytes.clone(),
    };
    if opts.bom {
        counted.write_all("\u{feff}".as_bytes()).map_err(io)?;
    }
    // A record of one empty field is written `""` by the csv crate (a blank line would be skipped by readers).
    let mut w = csv::WriterBuilder::new().from_writer(counted);
    let csv_err = move |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(e) => io(e),
        other => Error::io(
            "writing",
            "the export file",
            std::io::Error::other(format!("{other:?}")),
        ),
    };
    w.write_record(opts.columns.iter().map(|c| c.name()))
        .map_err(csv_err)?;
    let mut stream = BinaryCopy::default();
    let mut cell: Vec<u8> = Vec::with_capacity(64);
    let mut written = 0u64;
    let mut on_row = |f: &Fields<'_>| -> Result<()> {
        for column in &opts.columns {
            let value: &[u8] = match column {
                // The id is the program's own value (a number, uuid or key), not a text cell.
                Column::Id => f[0].unwrap_or_default(),
                Column::OccurredAt => {
                    cell.clear();
                    match f[1] {
                        Some(b) if b.len() == 8 => {
                            let micros = i64::from_be_bytes(b.try_into().expect("8 bytes"));
                            push_timestamp(&mut cell, micros, &opts.tz);
                        }
                        Some(_) => return Err(stream_error("a timestamp is not 8 bytes long")),
                        None => {}
                    }
                    &cell
                }
                Column::ActorEmail => {
                    let actor = f[2]
                        .map(|a| std::str::from_utf8(a).unwrap_or_default())
                        .unwrap_or_default();
                    let email = if actor.is_empty() {
                        None
                    } else {
                        lookup.email(handle, actor)?
                    };
                    neutralised(email.unwrap_or_default().as_bytes(), &mut cell)
                }
                other => {
                    let i = other.copy_index().expect("not the email");
                    neutralised(f[i].unwrap_or_default(), &mut cell)
                }
            };
            w.write_field(value).map_err(csv_err)?;
        }
        w.write_record(None::<&[u8]>).map_err(csv_err)?;
        written += 1;
        // One shared counter update per 1,024 rows keeps progress live without a write per row.
        if written.is_multiple_of(1024) {
            rows.store(written, Ordering::Relaxed);
        }
        Ok(())
    };
    for chunk in input {
        stream.feed(&chunk, &mut on_row)?;
    }
    rows.store(written, Ordering::Relaxed);
    stream.finish()?;
    let mut counted = w.into_inner().map_err(|e| io(e.into_error()))?;
    counted.flush().map_err(io)?;
    Ok(())
}

/// The cell as written: itself, or with a leading `'` (in `scratch`) when a spreadsheet would run it.
fn neutralised<'a>(raw: &'a [u8], scratch: &'a mut Vec<u8>) -> &'a [u8] {
    if needs_neutralising(raw) {
        scratch.clear();
        scratch.push(b'\'');
        scratch.extend_from_slice(raw);
        scratch
    } else {
        raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_others_left_alone() {
        for (cell, want) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+SUM(A1)", "'+SUM(A1)"),
            ("-2+3", "'-2+3"),
            ("@SUM(1)", "'@SUM(1)"),
            ("\tTab", "'\tTab"),
            ("\rCR", "'\rCR"),
            ("plain", "plain"),
            ("naïve ✓", "naïve ✓"),
            ("", ""),
        ] {
            assert_eq!(neutralise(cell), want);
        }
    }

    fn micros(rfc3339: &str) -> i64 {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp_micros()
            - PG_EPOCH_MICROS
    }

    fn ts(micros: i64, tz: chrono_tz::Tz) -> String {
        let mut out = Vec::new();
        push_timestamp(&mut out, micros, &tz);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn binary_timestamps_are_written_in_iso_8601_with_the_zone_offset() {
        let t = micros("2026-11-23T07:28:09.873814Z");
        assert_eq!(ts(t, chrono_tz::UTC), "2026-11-23T07:28:09.873814+00:00");
        assert_eq!(
            ts(t, chrono_tz::Europe::Berlin),
            "2026-11-23T08:28:09.873814+01:00"
        );
        assert_eq!(
            ts(micros("2026-07-01T00:00:00Z"), chrono_tz::America::St_Johns),
            "2026-06-30T21:30:00.000000-02:30"
        );
        assert_eq!(ts(0, chrono_tz::UTC), "2000-01-01T00:00:00.000000+00:00");
        assert_eq!(
            ts(micros("1969-12-31T23:59:59.5Z"), chrono_tz::UTC),
            "1969-12-31T23:59:59.500000+00:00"
        );
        assert_eq!(ts(i64::MAX, chrono_tz::UTC), "infinity");
        assert_eq!(ts(i64::MIN, chrono_tz::UTC), "-infinity");
    }

    /// A binary COPY stream of `rows` (10 fields each; `None` is NULL), as the server sends it.
    fn stream(rows: &[[Option<&[u8]>; COPY_FIELDS]]) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&4u32.to_be_bytes());
        out.extend_from_slice(b"ext!");
        for row in rows {
            out.extend_from_slice(&(COPY_FIELDS as i16).to_be_bytes());
            for f in row {
                match f {
                    Some(v) => {
                        out.extend_from_slice(&(v.len() as i32).to_be_bytes());
                        out.extend_from_slice(v);
                    }
                    None => out.extend_from_slice(&(-1i32).to_be_bytes()),
                }
            }
        }
        out.extend_from_slice(&(-1i16).to_be_bytes());
        out
    }

    fn collect(pieces: &[&[u8]]) -> Result<Vec<Vec<Option<Vec<u8>>>>> {
        let mut parser = BinaryCopy::default();
        let mut got = Vec::new();
        for piece in pieces {
            parser.feed(piece, &mut |f| {
                got.push(f.iter().map(|v| v.map(<[u8]>::to_vec)).collect());
                Ok(())
            })?;
        }
        parser.finish()?;
        Ok(got)
    }

    #[test]
    fn binary_copy_rows_are_read_whatever_the_pieces_they_arrive_in() {
        let a: [Option<&[u8]>; COPY_FIELDS] = [
            Some(b"1"),
            Some(&[0; 8]),
            None,
            None,
            Some(b"a,b \"c\"\nd"),
            Some(b""),
            None,
            Some("naïve ✓".as_bytes()),
            Some(b"=1+1"),
            Some(b"{}"),
        ];
        let b: [Option<&[u8]>; COPY_FIELDS] = [Some(b"2"); COPY_FIELDS];
        let bytes = stream(&[a, b, a]);
        let want = collect(&[&bytes]).unwrap();
        assert_eq!(want.len(), 3);
        assert_eq!(want[0][4].as_deref(), Some(&b"a,b \"c\"\nd"[..]));
        assert_eq!(want[0][2], None);
        assert_eq!(want[0][5].as_deref(), Some(&b""[..]));
        assert_eq!(want[1][9].as_deref(), Some(&b"2"[..]));
        // Split at every position, and into single bytes: the same rows.
        for cut in 0..bytes.len() {
            assert_eq!(
                collect(&[&bytes[..cut], &bytes[cut..]]).unwrap(),
                want,
                "cut at {cut}"
            );
        }
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(collect(&singles).unwrap(), want);
    }

    #[test]
    fn a_binary_copy_stream_cut_short_or_malformed_is_an_error_not_a_shorter_file() {
        let row: [Option<&[u8]>; COPY_FIELDS] = [Some(b"x"); COPY_FIELDS];
        let bytes = stream(&[row, row]);
        for cut in [5, 19, 40, bytes.len() - 2, bytes.len() - 1] {
            let e = collect(&[&bytes[..cut]]).unwrap_err();
            assert!(e.to_string().contains("ended in the middle"), "{cut}: {e}");
        }
        let mut wrong = bytes.clone();
        wrong[..6].copy_from_slice(b"COPYPG");
        assert!(collect(&[&wrong])
            .unwrap_err()
            .to_string()
            .contains("signature"));
        let mut short_row = bytes.clone();
        short_row[23..25].copy_from_slice(&3i16.to_be_bytes());
        assert!(collect(&[&short_row])
            .unwrap_err()
            .to_string()
            .contains("3 fields"));
    }

    #[test]
    fn tenant_ids_become_literals_of_their_type_or_nothing() {
        assert_eq!(
            tenant_literal("6F9619FF-8B86-D011-B42D-00C04FC964FF", IdType::Uuid).as_deref(),
            Some("'6f9619ff-8b86-d011-b42d-00c04fc964ff'::uuid")
        );
        assert_eq!(tenant_literal("x'); drop table t; --", IdType::Uuid), None);
        assert_eq!(
            tenant_literal("-42", IdType::Integer).as_deref(),
            Some("'-42'::bigint")
        );
        assert_eq!(tenant_literal("1 OR true", IdType::Integer), None);
        assert_eq!(
            tenant_literal(r"o'brien\x", IdType::Text).as_deref(),
            Some(r"'o''brien\x'::text")
        );
    }

    #[test]
    fn column_lists_parse_and_unknown_names_are_named() {
        assert_eq!(
            Column::parse_list("id, action,occurred_at").unwrap(),
            vec![Column::Id, Column::Action, Column::OccurredAt]
        );
        let e = Column::parse_list("id,colour").unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
        assert!(Column::parse_list(" , ").is_err());
    }
}
