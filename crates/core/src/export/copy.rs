//! The COPY side of an export: the statement (the plan a raw COPY of the same rows gets), and the loop that
//! reads its binary stream, hands batches to the writer thread, reports progress and answers a cancel.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use futures::StreamExt;

use super::actors::{member_emails, Lookup};
use super::binary::COPY_FIELDS;
use super::decode::Wire;
use super::options::{CancelFlag, ExportOptions, Progress, BATCH_BYTES, PROGRESS_EVERY};
use super::writer::{write_rows, RowsWriter, Written};
use crate::access::ExportPass;
use crate::audit::{self, AuditFilter};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::scope::{Tenant, TenantScope};
use crate::sql::{col, tenant_eq, SettingsSql, SqlSink};

/// The COPY statement for the tenant and filter: plain columns, oldest first, in PostgreSQL's binary format.
///
/// The plan must be the one a raw COPY of the same rows gets, or the export is slower than it needs to be:
/// the resolved tenant id and the time bounds are written as literals (each made from a value parsed and
/// re-rendered by this program, so nothing typed by a user reaches SQL text that way), and the text filters a
/// user typed travel as settings read once per statement ([`SettingsSql`]). Binary format spares the server
/// the quoting of CSV and the client its parsing: each value arrives length-prefixed.
/// A slice of a parallel export: the rows from `from` (inclusive) to `to` (exclusive), each a position
/// `(created_at, id)` as the column's own text; `None` is open-ended.
#[derive(Clone, Debug, Default)]
pub(super) struct Slice {
    pub from: Option<(String, String)>,
    pub to: Option<(String, String)>,
}

pub(super) fn copy_sql(
    db: &Db,
    tenant: &Tenant,
    filter: &AuditFilter,
    slice: &Slice,
) -> SettingsSql {
    let s = db.schema();
    let a = &s.mapping.audit_logs;
    let c = |name: &str| format!("e.{}", col(name));
    let mut q = SettingsSql::default();
    // The browser's columns, in its order (the email is NULL here: the client fills it from the tenant's users);
    // integers, uuids and inet addresses raw ([`copy_wires`]).
    q.text(&format!(
        "COPY (SELECT {} FROM {} e WHERE ",
        copy_select(s),
        s.tables.audit.name,
    ));
    // The tenant a literal here (COPY takes no parameters), re-rendered by `sql` from its parsed value.
    tenant_eq(&mut q, &c(&a.tenant_id), &tenant.id, s.tenant_id_type);
    filter.push_where(&mut q, s, "e");
    // A slice's bounds travel as settings too (values, never SQL text), cast to the columns' own types.
    let ts_type = match s.audit_ts {
        crate::mapping::TsType::WithZone => "timestamptz",
        crate::mapping::TsType::WithoutZone => "timestamp",
    };
    let id_type = s.audit_id_type.cast();
    for (bound, op) in [(&slice.from, ">="), (&slice.to, "<")] {
        if let Some((at, id)) = bound {
            q.text(&format!(
                " AND ({}, {}) {op} (CAST(",
                c(&a.created_at),
                c(&a.id)
            ))
            .value(at.clone())
            .text(&format!(" AS {ts_type}), CAST("))
            .value(id.clone())
            .text(&format!(" AS {id_type}))"));
        }
    }
    q.text(&format!(
        " ORDER BY {} ASC, {} ASC) TO STDOUT WITH (FORMAT binary)",
        c(&a.created_at),
        c(&a.id)
    ));
    q
}

/// How each COPY field arrives: the id, the actor id and the address in their types' binary form when they are
/// integers, uuids or inet (the client writes their text, see [`super::decode`]), the rest as text.
pub(super) fn copy_wires(s: &crate::mapping::Schema) -> [Wire; COPY_FIELDS] {
    let a = &s.mapping.audit_logs;
    let raw = |name: Option<&String>| {
        name.and_then(|n| s.tables.audit.columns.get(n))
            .and_then(|info| Wire::raw(&info.typname))
            .unwrap_or(Wire::Text)
    };
    let mut wires = [Wire::Text; COPY_FIELDS];
    wires[0] = raw(Some(&a.id));
    // A masked column is read as NULL::text.
    if !s.audit_masked("actor_id") {
        wires[2] = raw(Some(&a.actor_id));
    }
    wires[7] = match raw(a.ip.as_ref().filter(|_| !s.audit_masked("ip"))) {
        Wire::Inet => Wire::Inet,
        _ => Wire::Text,
    };
    wires
}

/// The COPY's select list: [`audit::select_list`]'s columns and order, with the fields [`copy_wires`] sends raw
/// left uncast.
fn copy_select(s: &crate::mapping::Schema) -> String {
    let a = &s.mapping.audit_logs;
    let wires = copy_wires(s);
    let mut list = audit::select_parts(s, "e", false);
    let plain = |name: &str| format!("e.{}", col(name));
    if wires[0] != Wire::Text {
        list[0] = format!("{} AS id", plain(&a.id));
    }
    if wires[2] != Wire::Text {
        list[2] = format!("{} AS actor_id", plain(&a.actor_id));
    }
    if let (Wire::Inet, Some(ip)) = (wires[7], a.ip.as_ref()) {
        list[7] = format!("{} AS ip", plain(ip));
    }
    list.join(", ")
}

/// How long a cancel waits for the writer thread before leaving it to finish on its own.
const CANCEL_GRACE: Duration = Duration::from_millis(100);

/// How often a running export looks at its cancel flag (progress goes out every `PROGRESS_EVERY`).
const CANCEL_POLL: Duration = Duration::from_millis(40);

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

/// Runs the export into `out`: one COPY per slice, each on its own connection in the first scope's snapshot and
/// pumped into its own writer thread; the first writer writes the file, the later ones spool beside it and are
/// appended in order. A sequential export is the same run with one slice.
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
    // Behind a pooler the slices would each hold one of its server connections, and the actors' lookups
    // need another: a small pool would stall. There an export is one COPY.
    let jobs = if db.statements() == crate::sql::Statements::Unnamed {
        1
    } else {
        // Every slice holds a pool connection for the whole export, and the actors' lookups need one more: a
        // small pool (a fleet's open shard in the app) reads fewer slices rather than waiting for itself.
        let pool = db.options().max_connections as usize;
        opts.jobs.max(1).min(pool.saturating_sub(1).max(1))
    };
    // In parallel, every slice reads the snapshot of this first scope: its statements all see that one.
    let mut first = if jobs > 1 {
        TenantScope::open_snapshot(db, tenant).await?
    } else {
        TenantScope::open(db, tenant).await?
    };
    let total = audit::count(&mut first, &opts.filter).await?.value.max(0) as u64;
    let (snapshot_at,): (chrono::DateTime<chrono::Utc>,) = crate::sql::query_as("SELECT now()")
        .fetch_one(first.conn())
        .await?;
    let foreign_rows = foreign_rows(db, &mut first).await?;
    let emails = member_emails(db, &mut first).await?;
    let slices = if jobs > 1 && total >= PARALLEL_MIN_ROWS {
        slices(db, &mut first, &opts.filter, jobs, total).await?
    } else {
        vec![Slice::default()]
    };
    let parallel = slices.len() > 1;
    let mut scopes = Vec::with_capacity(slices.len());
    if parallel {
        let (snapshot,): (String,) = crate::sql::query_as("SELECT pg_export_snapshot()")
            .fetch_one(first.conn())
            .await?;
        scopes.push(first);
        for _ in 1..slices.len() {
            scopes.push(TenantScope::open_in_snapshot(db, tenant, &snapshot).await?);
        }
    } else {
        scopes.push(first);
    }

    // The writers: the later slices' first (the first one appends their spools), each to a spool file.
    let rows = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let spool_dir = opts.spool_dir.clone().unwrap_or_else(std::env::temp_dir);
    let handle = tokio::runtime::Handle::current();
    let writer_for =
        |out: Box<dyn Write + Send>, opts: ExportOptions, header, spools, bytes| RowsWriter {
            out,
            opts,
            header,
            spools,
            lookup: Lookup::new(db.clone(), emails.clone()),
            wires: copy_wires(db.schema()),
            handle: handle.clone(),
            rows: rows.clone(),
            bytes,
        };
    // Bounded, so memory stays flat; awaited with `reserve` by the pumps, so a writer that is behind (a slow
    // disk, a full pipe) never blocks the async loop: progress and cancel keep running.
    let (senders, mut receivers): (Vec<_>, Vec<_>) = (0..slices.len())
        .map(|_| tokio::sync::mpsc::channel::<Vec<u8>>(16))
        .unzip();
    let first_rx = receivers.remove(0);
    let mut spools = Vec::with_capacity(receivers.len());
    let spool_opts = ExportOptions {
        bom: false,
        compression: None,
        ..opts.clone()
    };
    for rx in receivers {
        let spool = tempfile::Builder::new()
            .prefix(&format!("{}{}-", super::PARTIAL_PREFIX, std::process::id()))
            .suffix(super::PARTIAL_SUFFIX)
            .tempfile_in(&spool_dir)
            .map_err(|e| Error::io("creating a temporary file in", &spool_dir, e))?;
        // Kept on disk until the first writer appends and removes it (or a failure removes it below).
        let (file, path) = spool
            .keep()
            .map_err(|e| Error::io("keeping", &spool_dir, e.error))?;
        let w = writer_for(
            Box::new(file),
            spool_opts.clone(),
            false,
            Vec::new(),
            Arc::new(AtomicU64::new(0)),
        );
        spools.push((path, tokio::task::spawn_blocking(move || write_rows(rx, w))));
    }
    let spool_paths: Vec<PathBuf> = spools.iter().map(|(p, _)| p.clone()).collect();
    let w = writer_for(out, opts.clone(), true, spools, bytes.clone());
    let writer = tokio::task::spawn_blocking(move || write_rows(first_rx, w));
    let remove_spools = || {
        for p in &spool_paths {
            std::fs::remove_file(p).ok();
        }
    };

    // Each slice: its COPY, with its values set in its transaction, pumped into its writer.
    let mut pids = Vec::with_capacity(scopes.len());
    let mut statements = Vec::with_capacity(scopes.len());
    for (scope, slice) in scopes.iter_mut().zip(&slices) {
        let (pid,): (i32,) = crate::sql::query_as("SELECT pg_backend_pid()")
            .fetch_one(scope.conn())
            .await?;
        pids.push(pid);
        if parallel {
            read_range_by_index(scope).await?;
        }
        export_time_limit(db, scope).await?;
        let q = copy_sql(db, tenant, &opts.filter, slice);
        let setter_sql = q.setter();
        let mut setter = crate::sql::query(&setter_sql);
        for v in &q.values {
            setter = setter.bind(v.clone());
        }
        setter.execute(scope.conn()).await?;
        statements.push(q);
    }
    let report = |progress: &mut dyn FnMut(Progress)| {
        progress(Progress {
            rows: rows.load(Ordering::Relaxed),
            bytes: bytes.load(Ordering::Relaxed),
            total_estimate: Some(total),
            elapsed_ms: started.elapsed().as_millis() as u64,
        })
    };
    let outcome =
        {
            let limit = db.options().export_timeout;
            // A stream opens with its first rows: the server buffers its COPY response until then, and a sorted
            // plan has none until its sort is done (most of a second on the 1M-row tenant). Progress and cancel
            // run while it opens, as while it flows.
            let pumps = scopes.iter_mut().zip(&statements).zip(senders).map(
                |((scope, q), tx)| async move {
                    let mut stream = crate::sql::copy_out(scope.conn(), q)
                        .await
                        .map_err(|e| copy_error(e, limit))?;
                    pump(&mut stream, tx, cancel, limit).await
                },
            );
            let all = futures::future::try_join_all(pumps);
            tokio::pin!(all);
            let mut tick = tokio::time::interval(PROGRESS_EVERY);
            let mut poll = tokio::time::interval(CANCEL_POLL);
            loop {
                tokio::select! {
                    r = &mut all => break r.map(|_| ()),
                    _ = tick.tick() => report(&mut progress),
                    _ = poll.tick() => {
                        if cancel.load(Ordering::Relaxed) {
                            break Err(Error::Cancelled);
                        }
                    }
                }
            }
        };
    if let Err(e) = outcome {
        // Stop every slice's query on the server (not only the reading), then let the writers see their
        // channels closed. A writer stuck in a write (a full pipe, a stalled disk) must not hold up the cancel:
        // it gets a moment, then its thread finishes on its own; what it still writes goes to a partial file
        // that is deleted, or to a stream the caller is abandoning.
        cancel_backends(db, &pids).await;
        drop(scopes);
        let _ = tokio::time::timeout(CANCEL_GRACE, writer).await;
        remove_spools();
        return Err(if cancel.load(Ordering::Relaxed) {
            Error::Cancelled
        } else {
            e
        });
    }
    let written = writer
        .await
        .map_err(|_| {
            Error::io(
                "writing",
                "the export",
                std::io::Error::other("writer failed"),
            )
        })
        .and_then(|w| w);
    let written = match written {
        Ok(w) => w,
        Err(e) => {
            remove_spools();
            return Err(e);
        }
    };
    if cancel.load(Ordering::Relaxed) {
        return Err(Error::Cancelled);
    }
    for scope in scopes {
        scope.finish().await?;
    }
    report(&mut progress);
    Ok(Ran {
        rows: rows.load(Ordering::Relaxed),
        bytes: bytes.load(Ordering::Relaxed),
        written,
        snapshot_at,
        sql: statements
            .iter()
            .map(|q| q.sql.as_str())
            .collect::<Vec<_>>()
            .join(";\n"),
        parameters: statements
            .iter()
            .flat_map(|q| q.values.iter().cloned())
            .collect(),
        foreign_rows,
    })
}

/// Below this many rows an export is not split: one COPY is already quick.
const PARALLEL_MIN_ROWS: u64 = 50_000;

/// Splits the export's rows into `jobs` slices of about equal size, at positions read in the first scope's
/// snapshot (keyset positions `(created_at, id)`, so the slices follow the export's order and meet exactly).
async fn slices(
    db: &Db,
    scope: &mut TenantScope,
    filter: &AuditFilter,
    jobs: usize,
    total: u64,
) -> Result<Vec<Slice>> {
    let s = db.schema();
    let a = &s.mapping.audit_logs;
    let mut cuts: Vec<(String, String)> = Vec::new();
    for k in 1..jobs {
        let offset = (total * k as u64 / jobs as u64) as i64;
        let mut qb = audit::base_query(
            s,
            &scope.tenant().id.clone(),
            filter,
            &format!(
                "SELECT e.{}::text, e.{}::text",
                col(&a.created_at),
                col(&a.id)
            ),
        );
        qb.push(format!(
            " ORDER BY e.{} ASC, e.{} ASC OFFSET ",
            col(&a.created_at),
            col(&a.id)
        ))
        .push_bind(offset)
        .push(" LIMIT 1");
        let row: Option<(String, String)> = crate::sql::built_as(&mut qb)
            .fetch_optional(scope.conn())
            .await?;
        match row {
            Some(cut) if cuts.last() != Some(&cut) => cuts.push(cut),
            _ => {}
        }
    }
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut from = None;
    for cut in cuts {
        out.push(Slice {
            from: from.take(),
            to: Some(cut.clone()),
        });
        from = Some(cut);
    }
    out.push(Slice { from, to: None });
    Ok(out)
}

/// Makes a slice read its own range of the tenant's time index, in order, and nothing else.
///
/// Left to itself the planner prices the random heap reads of a long index range above a (parallel)
/// sequential scan of the whole table and a sort: right for one COPY of all the tenant's rows, but a slice
/// has the same plan, so each of N slices would read the whole table and sort its part (measured on the
/// bench tenant: two slices 1.5x slower than one COPY, not faster). With the index range each slice does
/// only its share: no table scan, no sort, nothing spilled. Transaction-local (`set_config(.., true)`), in
/// the slice's own read-only transaction; with no usable index the planner still falls back to a scan.
async fn read_range_by_index(scope: &mut TenantScope) -> Result<()> {
    crate::sql::query(
        "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true), \
         set_config('enable_sort', 'off', true)",
    )
    .execute(scope.conn())
    .await?;
    Ok(())
}

/// Reads one COPY stream into a writer's channel in batches, never blocking on a writer that is behind, and
/// stops when asked to cancel (checked every `CANCEL_POLL`).
async fn pump<S, B>(
    stream: &mut S,
    tx: tokio::sync::mpsc::Sender<Vec<u8>>,
    cancel: &CancelFlag,
    limit: std::time::Duration,
) -> Result<()>
where
    S: futures::Stream<Item = sqlx::Result<B>> + Unpin,
    B: AsRef<[u8]>,
{
    // The server sends one message per row: hand them to the writer thread in batches, or the hand-offs (not
    // the database) become the cost. A full batch waits for room in the channel (`reserve`, so a writer that
    // is behind never blocks the async loop); while one waits, no more is read from the server.
    let mut tick = tokio::time::interval(CANCEL_POLL);
    let mut batch: Vec<u8> = Vec::with_capacity(BATCH_BYTES);
    let mut pending: Option<Vec<u8>> = None;
    let mut ended = false;
    loop {
        tokio::select! {
            chunk = stream.next(), if pending.is_none() && !ended => match chunk {
                Some(Ok(bytes)) => {
                    batch.extend_from_slice(bytes.as_ref());
                    if batch.len() >= BATCH_BYTES {
                        pending = Some(std::mem::replace(&mut batch, Vec::with_capacity(BATCH_BYTES)));
                    }
                }
                Some(Err(e)) => return Err(copy_error(e, limit)),
                None => {
                    ended = true;
                    if !batch.is_empty() {
                        pending = Some(std::mem::take(&mut batch));
                    }
                    if pending.is_none() {
                        return Ok(());
                    }
                }
            },
            permit = tx.reserve(), if pending.is_some() => match permit {
                Ok(permit) => {
                    permit.send(pending.take().expect("a batch is pending"));
                    if ended {
                        return Ok(());
                    }
                }
                // The writer stopped: its own error is what the caller reports.
                Err(_) => return Ok(()),
            },
            _ = tick.tick() => {
                if cancel.load(Ordering::Relaxed) {
                    return Err(Error::Cancelled);
                }
            }
        }
    }
}

/// Stops the servers' queries of an export (its backends are running COPY for it), not only the reading.
async fn cancel_backends(db: &Db, pids: &[i32]) {
    if let Ok(mut other) = db.read_tx().await {
        for pid in pids {
            let _ = crate::sql::query("SELECT pg_cancel_backend($1)")
                .bind(pid)
                .execute(&mut *other)
                .await;
        }
        other.rollback().await.ok();
    }
}

/// Asks the audit table, in the export's own scope, for rows of any other tenant (bounded index ranges on each
/// side of the tenant, and NULLs, as the isolation probe does): the evidence the manifest carries.
async fn foreign_rows(db: &Db, scope: &mut TenantScope) -> Result<i64> {
    let s = db.schema();
    let sql = crate::sql::foreign_rows_sql(
        &s.tables.audit.name.to_string(),
        &col(&s.mapping.audit_logs.tenant_id).to_string(),
        s.tenant_id_type.cast(),
        101,
    );
    let tenant = scope.tenant().id.clone();
    Ok(crate::sql::query_scalar::<i64>(&sql)
        .bind(tenant)
        .fetch_one(scope.conn())
        .await?)
}

/// An export's statements run under the export's own time limit (the profile's `export_timeout_minutes`),
/// not the browse timeout, which is sized for a page: a million rows take longer than a page may. 0: none.
async fn export_time_limit(db: &Db, scope: &mut TenantScope) -> Result<()> {
    crate::sql::query("SELECT set_config('statement_timeout', $1, true)")
        .bind(format!("{}ms", db.options().export_timeout.as_millis()))
        .execute(scope.conn())
        .await?;
    Ok(())
}

/// A failure of the COPY stream in words. The console's own cancel never gets here (the cancel flag is
/// checked first): a statement timeout is the export's time limit, any other cancel someone else's.
pub(super) fn copy_error(e: sqlx::Error, limit: std::time::Duration) -> Error {
    match Error::from(e) {
        Error::QueryTimeout => Error::ExportTimeout(limit.as_secs() / 60),
        Error::ConnectionLost(why) => Error::ConnectionLost(format!(
            "{why}; the export was stopped and no file was written"
        )),
        other => other,
    }
}
