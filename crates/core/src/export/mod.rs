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

#[cfg(test)]
mod tests {
    use super::binary::{BinaryCopy, COPY_FIELDS, SIGNATURE};
    use super::copy::tenant_literal;
    use super::writer::{push_timestamp, PG_EPOCH_MICROS};
    use super::*;
    use crate::mapping::IdType;
    use chrono::DateTime;

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
