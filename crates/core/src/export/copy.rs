//! The COPY side of an export: the statement (the plan a raw COPY of the same rows gets), and the loop that
//! reads its binary stream, hands batches to the writer thread, reports progress and answers a cancel.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use futures::StreamExt;

use super::*;

/// The COPY statement for the tenant and filter: plain columns, oldest first, in PostgreSQL's binary format.
///
/// The plan must be the one a raw COPY of the same rows gets, or the export is slower than it needs to be:
/// the resolved tenant id and the time bounds are written as literals (each made from a value parsed and
/// re-rendered by this program, so nothing typed by a user reaches SQL text that way), and the text filters a
/// user typed travel as settings read once per statement ([`SettingsSql`]). Binary format spares the server
/// the quoting of CSV and the client its parsing: each value arrives length-prefixed.
pub(super) fn copy_sql(db: &Db, tenant: &Tenant, filter: &AuditFilter) -> SettingsSql {
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
pub(super) fn tenant_literal(id: &str, ty: IdType) -> Option<String> {
    match ty {
        IdType::Uuid => uuid::Uuid::parse_str(id)
            .ok()
            .map(|u| format!("'{}'::uuid", u.hyphenated())),
        IdType::Integer => id.parse::<i64>().ok().map(|n| format!("'{n}'::bigint")),
        IdType::Text => (!id.contains('\0')).then(|| format!("'{}'::text", id.replace('\'', "''"))),
    }
}

/// How long a cancel waits for the writer thread before leaving it to finish on its own.
const CANCEL_GRACE: Duration = Duration::from_millis(250);

/// What a finished run read and wrote, for the summary and the manifest.
pub(super) struct Ran {
    pub rows: u64,
    pub bytes: u64,
    pub written: Written,
    /// When the export's snapshot was taken (the scope's transaction start).
    pub snapshot_at: chrono::DateTime<chrono::Utc>,
    /// The COPY statement and the values it read from settings.
    pub sql: String,
    pub parameters: Vec<String>,
    /// The scope's own proof, in the export's transaction: rows of other tenants the audit table returned (0).
    pub foreign_rows: i64,
}

/// Runs the export into `out`.
pub(super) async fn run(
    db: &Db,
    pass: &ExportPass,
    opts: &ExportOptions,
    out: Box<dyn Write + Send>,
    cancel: &CancelFlag,
    mut progress: impl FnMut(Progress) + Send,
) -> Result<Ran> {
    let tenant = pass.tenant();
    let started = Instant::now();
    let mut scope = TenantScope::open(db, tenant).await?;
    let total = audit::count(&mut scope, &opts.filter).await?.value.max(0) as u64;
    let (snapshot_at,): (chrono::DateTime<chrono::Utc>,) = crate::sql::query_as("SELECT now()")
        .fetch_one(scope.conn())
        .await?;
    let foreign_rows = foreign_rows(db, &mut scope).await?;
    let emails = member_emails(db, &mut scope).await?;
    let (pid,): (i32,) = crate::sql::query_as("SELECT pg_backend_pid()")
        .fetch_one(scope.conn())
        .await?;
    let q = copy_sql(db, tenant, &opts.filter);
    let setter_sql = q.setter();
    let mut setter = crate::sql::query(&setter_sql);
    for v in &q.values {
        setter = setter.bind(v.clone());
    }
    setter.execute(scope.conn()).await?;

    let rows = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    // Bounded, so memory stays flat; awaited with `reserve` inside the select loop, so a writer that is behind
    // (a slow disk, a full pipe) never blocks the async loop: progress and cancel keep running.
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(16);
    let writer = {
        let (rows, bytes) = (rows.clone(), bytes.clone());
        let lookup = Lookup::new(db.clone(), emails);
        let opts = opts.clone();
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            write_rows(rx, out, &opts, lookup, &handle, &rows, &bytes)
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
        // A full batch waiting for room in the channel; while one waits, no more is read from the server.
        let mut pending: Option<Vec<u8>> = None;
        let mut ended = false;
        loop {
            tokio::select! {
                chunk = stream.next(), if pending.is_none() && !ended => match chunk {
                    Some(Ok(bytes)) => {
                        batch.extend_from_slice(&bytes);
                        if batch.len() >= BATCH_BYTES {
                            pending = Some(std::mem::replace(&mut batch, Vec::with_capacity(BATCH_BYTES)));
                        }
                    }
                    Some(Err(e)) => { outcome = Err(copy_error(e)); break; }
                    None => {
                        ended = true;
                        if !batch.is_empty() {
                            pending = Some(std::mem::take(&mut batch));
                        }
                        if pending.is_none() {
                            break;
                        }
                    }
                },
                permit = tx.reserve(), if pending.is_some() => match permit {
                    Ok(permit) => {
                        permit.send(pending.take().expect("a batch is pending"));
                        if ended {
                            break;
                        }
                    }
                    // The writer stopped (its error is reported below).
                    Err(_) => break,
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
            if let Ok(mut other) = db.read_tx().await {
                let _ = crate::sql::query("SELECT pg_cancel_backend($1)")
                    .bind(pid)
                    .execute(&mut *other)
                    .await;
                other.rollback().await.ok();
            }
            // Drain what is in flight until the server acknowledges the cancel.
            while let Some(chunk) = stream.next().await {
                if chunk.is_err() {
                    break;
                }
            }
        }
    }
    drop(tx);
    if matches!(outcome, Err(Error::Cancelled)) {
        // A writer stuck in a write (a full pipe, a stalled disk) must not hold up the cancel: give it a moment
        // to see the channel closed, then let its thread finish on its own. What it still writes goes to a
        // partial file that is deleted, or to a stream the caller is abandoning.
        let _ = tokio::time::timeout(CANCEL_GRACE, writer).await;
        return Err(Error::Cancelled);
    }
    let written = writer.await.map_err(|_| {
        Error::io(
            "writing",
            "the export",
            std::io::Error::other("writer failed"),
        )
    })?;
    outcome?;
    let written = written?;
    if cancel.load(Ordering::Relaxed) {
        return Err(Error::Cancelled);
    }
    scope.finish().await?;
    report(&mut progress);
    Ok(Ran {
        rows: rows.load(Ordering::Relaxed),
        bytes: bytes.load(Ordering::Relaxed),
        written,
        snapshot_at,
        sql: q.sql.clone(),
        parameters: q.values.clone(),
        foreign_rows,
    })
}

/// Asks the audit table, in the export's own scope, for rows of any other tenant (bounded index ranges on each
/// side of the tenant, and NULLs, as the isolation probe does): the evidence the manifest carries.
async fn foreign_rows(db: &Db, scope: &mut TenantScope) -> Result<i64> {
    let s = db.schema();
    let column = col(&s.mapping.audit_logs.tenant_id);
    let cast = s.tenant_id_type.cast();
    let table = &s.tables.audit.name;
    let sql = format!(
        "SELECT (SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {column} < CAST($1 AS {cast}) LIMIT 101) a)
              + (SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {column} > CAST($1 AS {cast}) LIMIT 101) b)
              + (SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {column} IS NULL LIMIT 101) z)"
    );
    let tenant = scope.tenant().id.clone();
    Ok(crate::sql::query_scalar::<i64>(&sql)
        .bind(tenant)
        .fetch_one(scope.conn())
        .await?)
}

pub(super) fn copy_error(e: sqlx::Error) -> Error {
    match Error::from(e) {
        Error::QueryTimeout => Error::Cancelled,
        Error::ConnectionLost(why) => Error::ConnectionLost(format!(
            "{why}; the export was stopped and no file was written"
        )),
        other => other,
    }
}
