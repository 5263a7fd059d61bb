//! Audit CSV export at the speed of COPY: streamed, safe cells, atomic files, progress and cancel.
//!
//! Inside the tenant scope (RLS applies to `COPY (query)`), the server runs a plain
//! `COPY (SELECT <audit columns> ...) TO STDOUT WITH (FORMAT csv)`: no join, no formatting, so the server's one
//! core only reads and sends. COPY takes no parameters, so the tenant and the filters go in as transaction-local
//! settings set with bound `set_config` calls ([`crate::audit::SettingsSql`]): no value ever becomes SQL text.
//! The client does the rest in a blocking thread while the network is read: ISO 8601 timestamps in the chosen
//! zone, actor emails (the tenant's members read once, other actors looked up once each), and neutralised cells
//! (OWASP CSV injection: a text cell starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'`).
//! Memory stays flat: chunks pass through a small bounded channel.
//!
//! A file is written to a temporary file beside the target, synced, and renamed into place only when complete
//! and recorded in the support-access log; any failure (the server dies, the connection drops, the disk fills,
//! the user cancels) leaves no file at the target and an existing one untouched. Cancelling also stops the
//! server's query (`pg_cancel_backend`), not only the reader.

use std::collections::HashMap;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};
use futures::StreamExt;
use serde::Serialize;

use crate::access::{self, AccessAction, AccessReason, Recorded};
use crate::audit::{self, AuditFilter, SettingsSql, SqlSink};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::mapping::col;
use crate::scope::Tenant;

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
    /// Whether the export was recorded in the tenant's support-access log.
    pub recorded: Option<Recorded>,
}

/// Set to cancel a running export.
pub type CancelFlag = Arc<AtomicBool>;

/// How much COPY output is handed to the writer thread at a time.
const BATCH_BYTES: usize = 256 * 1024;

/// How often progress is reported.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// Exports the tenant's audit events to a CSV file at `path`, atomically, and records the export.
pub async fn export_to_path(
    db: &Db,
    tenant: &Tenant,
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
    let tmp = tempfile::Builder::new()
        .prefix(".tenant-console-export-")
        .suffix(".partial")
        .tempfile_in(&dir)
        .map_err(|e| Error::io("creating a temporary file in", &dir, e))?;
    let file = tmp
        .as_file()
        .try_clone()
        .map_err(|e| Error::io("opening", tmp.path().to_path_buf(), e))?;
    let started = Instant::now();
    let (rows, bytes) = run(db, tenant, opts, Box::new(file), cancel, progress).await?;

    // Complete: make it durable, record it, then put it in place. If recording fails the file is not kept.
    let synced = tmp
        .as_file()
        .try_clone()
        .map_err(|e| Error::io("syncing", path, e))?;
    tokio::task::spawn_blocking(move || synced.sync_all())
        .await
        .map_err(|_| Error::io("syncing", path, std::io::Error::other("sync task failed")))?
        .map_err(|e| Error::io("syncing", path, e))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let details = serde_json::json!({
        "filters": opts.filter,
        "rows": rows,
        "file": file_name,
        "columns": opts.columns,
    });
    let recorded = access::record(db, tenant, reason, &AccessAction::Export { details }).await?;
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
        recorded: Some(recorded),
    })
}

/// Exports to a writer (standard output): streamed as it comes, recorded when complete.
pub async fn export_to_writer(
    db: &Db,
    tenant: &Tenant,
    opts: &ExportOptions,
    reason: Option<&AccessReason>,
    out: Box<dyn Write + Send>,
    cancel: &CancelFlag,
    progress: impl FnMut(Progress) + Send,
) -> Result<ExportSummary> {
    let started = Instant::now();
    let (rows, bytes) = run(db, tenant, opts, out, cancel, progress).await?;
    let details = serde_json::json!({"filters": opts.filter, "rows": rows, "file": "-", "columns": opts.columns});
    let recorded = access::record(db, tenant, reason, &AccessAction::Export { details }).await?;
    Ok(ExportSummary {
        rows,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
        path: None,
        recorded: Some(recorded),
    })
}

/// The COPY statement (values as settings) for the tenant and filter: plain columns, oldest first.
fn copy_sql(db: &Db, tenant: &Tenant, filter: &AuditFilter) -> SettingsSql {
    let s = db.schema();
    let a = &s.mapping.audit_logs;
    let c = |name: &str| format!("e.{}", col(name));
    let mut q = SettingsSql::default();
    // The browser's column list (the email column is NULL here: the client fills it from the tenant's users).
    q.text(&format!(
        "COPY (SELECT {} FROM {} e WHERE {} = CAST(",
        audit::select_list(s, "e", false),
        s.tables.audit.name,
        c(&a.tenant_id),
    ))
    .value(tenant.id.clone())
    .text(&format!(" AS {})", s.tenant_id_type.cast()));
    filter.push_where(&mut q, s, "e");
    q.text(&format!(
        " ORDER BY {} ASC, {} ASC) TO STDOUT WITH (FORMAT csv)",
        c(&a.created_at),
        c(&a.id)
    ));
    q
}

/// Runs the export into `out`; returns (rows, bytes).
async fn run(
    db: &Db,
    tenant: &Tenant,
    opts: &ExportOptions,
    out: Box<dyn Write + Send>,
    cancel: &CancelFlag,
    mut progress: impl FnMut(Progress) + Send,
) -> Result<(u64, u64)> {
    opts.filter.validate(db.schema())?;
    if opts.columns.is_empty() {
        return Err(Error::InvalidInput("no columns chosen".into()));
    }
    let started = Instant::now();
    let mut scope = db.scope(tenant).await?;
    let total = audit::count(&mut scope, &opts.filter).await?.value.max(0) as u64;
    let emails = member_emails(db, &mut scope).await?;
    let (pid,): (i32,) = sqlx::query_as("SELECT pg_backend_pid()")
        .fetch_one(scope.raw())
        .await?;
    let q = copy_sql(db, tenant, &opts.filter);
    let setter_sql = q.setter();
    let mut setter = sqlx::query(&setter_sql);
    for v in &q.values {
        setter = setter.bind(v.clone());
    }
    setter.execute(scope.raw()).await?;
    // COPY writes timestamps in the session's form: make it ISO, UTC, so the client parses one shape.
    sqlx::query("SELECT set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO', true)")
        .execute(scope.raw())
        .await?;

    let rows = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(16);
    let writer = {
        let (rows, bytes) = (rows.clone(), bytes.clone());
        let lookup = Lookup::new(db.clone(), emails);
        let opts = opts.clone();
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            write_csv(
                ChannelReader::new(rx),
                out,
                &opts,
                lookup,
                &handle,
                &rows,
                &bytes,
            )
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
        let mut stream = scope.raw().copy_out_raw(&q.sql).await?;
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
        .fetch_all(scope.raw())
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

    fn email(&mut self, handle: &tokio::runtime::Handle, actor: &str) -> Result<Option<String>> {
        if let Some(e) = self.cache.get(actor) {
            return Ok(e.clone());
        }
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
        self.cache.insert(actor.to_owned(), found.clone());
        Ok(found)
    }
}

/// A `Read` over the chunks the COPY stream sends through the channel.
struct ChannelReader {
    rx: mpsc::Receiver<Vec<u8>>,
    buf: Vec<u8>,
    pos: usize,
}

impl ChannelReader {
    fn new(rx: mpsc::Receiver<Vec<u8>>) -> Self {
        ChannelReader {
            rx,
            buf: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.buf.len() {
            match self.rx.recv() {
                Ok(chunk) => {
                    self.buf = chunk;
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
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
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Reads `2026-11-23 07:28:09.873814+00` (COPY's ISO form in UTC).
fn parse_copy_ts(text: &str) -> Option<DateTime<Utc>> {
    let body = text.strip_suffix("+00")?;
    NaiveDateTime::parse_from_str(body, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|n| n.and_utc())
}

fn write_csv(
    input: ChannelReader,
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
    let mut w = csv::WriterBuilder::new().from_writer(counted);
    let csv_err = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(e) => io(e),
        other => Error::io(
            "writing",
            "the export file",
            std::io::Error::other(format!("{other:?}")),
        ),
    };
    w.write_record(opts.columns.iter().map(|c| c.name()))
        .map_err(csv_err)?;
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .buffer_capacity(256 * 1024)
        .from_reader(input);
    let mut record = csv::ByteRecord::new();
    let mut iso = String::with_capacity(40);
    loop {
        match r.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return Err(Error::io(
                    "reading",
                    "the database's export stream",
                    std::io::Error::other(e.to_string()),
                ))
            }
        }
        let mut cells: Vec<std::borrow::Cow<'_, [u8]>> = Vec::with_capacity(opts.columns.len());
        for column in &opts.columns {
            let cell: std::borrow::Cow<'_, [u8]> = match column {
                Column::OccurredAt => {
                    let raw = std::str::from_utf8(&record[1]).unwrap_or("");
                    iso.clear();
                    match parse_copy_ts(raw) {
                        Some(t) => {
                            use std::fmt::Write as _;
                            let _ = write!(
                                iso,
                                "{}",
                                t.with_timezone(&opts.tz).format("%Y-%m-%dT%H:%M:%S%.6f%:z")
                            );
                        }
                        None => iso.push_str(raw),
                    }
                    iso.clone().into_bytes().into()
                }
                Column::ActorEmail => {
                    let actor = std::str::from_utf8(&record[2]).unwrap_or("");
                    let email = if actor.is_empty() {
                        None
                    } else {
                        lookup.email(handle, actor)?
                    };
                    match email {
                        Some(e) => neutralise(&e).into_owned().into_bytes().into(),
                        None => std::borrow::Cow::Borrowed(&b""[..]),
                    }
                }
                Column::Id => std::borrow::Cow::Borrowed(&record[0]),
                other => {
                    let raw = &record[other.copy_index().expect("not the email")];
                    match raw.first() {
                        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => {
                            let mut v = Vec::with_capacity(raw.len() + 1);
                            v.push(b'\'');
                            v.extend_from_slice(raw);
                            v.into()
                        }
                        _ => std::borrow::Cow::Borrowed(raw),
                    }
                }
            };
            cells.push(cell);
        }
        w.write_record(cells.iter().map(|c| c.as_ref()))
            .map_err(csv_err)?;
        rows.fetch_add(1, Ordering::Relaxed);
    }
    let mut counted = w.into_inner().map_err(|e| io(e.into_error()))?;
    counted.flush().map_err(io)?;
    Ok(())
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

    #[test]
    fn copy_timestamps_parse_with_and_without_fractions() {
        assert_eq!(
            parse_copy_ts("2026-11-23 07:28:09.873814+00")
                .unwrap()
                .to_rfc3339(),
            "2026-11-23T07:28:09.873814+00:00"
        );
        assert_eq!(
            parse_copy_ts("2026-11-23 07:28:09+00")
                .unwrap()
                .to_rfc3339(),
            "2026-11-23T07:28:09+00:00"
        );
        assert!(parse_copy_ts("2026-11-23 07:28:09+02").is_none());
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
