//! What an export is asked to do and what it reports: the columns, the file format, the options, progress and
//! the summary. Every other module of the export reads these; none of them is read back from here.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::access::Recorded;
use crate::audit::AuditFilter;
use crate::error::{Error, Result};

/// A column of the export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
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
    pub(super) fn copy_index(self) -> Option<usize> {
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

/// How rows are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    /// RFC 4180 CSV, a header first, cells neutralised against spreadsheet formulas.
    #[default]
    Csv,
    /// One JSON object per line (JSON Lines): metadata as JSON, times in ISO 8601 with their offset.
    Jsonl,
}

/// How the file is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    Gzip,
}

impl FileFormat {
    /// The format and compression a file name asks for: `.jsonl` (or `.ndjson`) is JSON lines, anything else
    /// CSV; a final `.gz` compresses.
    pub fn for_path(path: &Path) -> (FileFormat, Option<Compression>) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let (stem, compression) = match name.strip_suffix(".gz") {
            Some(stem) => (stem.to_owned(), Some(Compression::Gzip)),
            None => (name, None),
        };
        let format = if stem.ends_with(".jsonl") || stem.ends_with(".ndjson") {
            FileFormat::Jsonl
        } else {
            FileFormat::Csv
        };
        (format, compression)
    }

    /// Parses `csv`, `jsonl`, `csv.gz` or `jsonl.gz` (for standard output, which has no file name).
    pub fn parse(text: &str) -> Result<(FileFormat, Option<Compression>)> {
        match text {
            "csv" => Ok((FileFormat::Csv, None)),
            "jsonl" => Ok((FileFormat::Jsonl, None)),
            "csv.gz" => Ok((FileFormat::Csv, Some(Compression::Gzip))),
            "jsonl.gz" => Ok((FileFormat::Jsonl, Some(Compression::Gzip))),
            other => Err(Error::InvalidInput(format!(
                "unknown file format {other:?}: use csv, jsonl, csv.gz or jsonl.gz"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Jsonl => "jsonl",
        }
    }
}

/// How many slices an export reads at once by default: one per two cores, at most 4. The machine's cores are
/// shared by the server's COPYs and the client's formatting, hashing and writing: on two cores one COPY (with
/// the server's own parallel plan) already keeps both busy (measured with benches/export.sh: 1.7-1.9 s for one,
/// 1.9-2.2 s for two slices of the 1M-row tenant, both cores busy throughout), so there it is one.
pub fn default_jobs() -> usize {
    (std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        / 2)
    .clamp(1, 4)
}

/// What to export and how.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    pub filter: AuditFilter,
    pub columns: Vec<Column>,
    /// Time zone of `occurred_at` (UTC by default); the offset is always written.
    pub tz: chrono_tz::Tz,
    /// Start the file with a UTF-8 byte order mark (Excel on Windows then reads UTF-8 correctly; CSV only).
    pub bom: bool,
    /// CSV or JSON lines. A file export takes both from the file's name ([`FileFormat::for_path`]).
    pub format: FileFormat,
    pub compression: Option<Compression>,
    /// Replace an existing file at the target.
    pub overwrite: bool,
    /// Slices read at once on their own connections, in one snapshot (1: one COPY). An export of fewer than
    /// 50,000 rows is never split.
    pub jobs: usize,
    /// Where the slices after the first are spooled (a file export: beside the target).
    pub spool_dir: Option<PathBuf>,
    /// Signs the manifest (the key from the keyring); without it the manifest is written unsigned.
    pub signer: Option<Arc<crate::signing::SigningIdentity>>,
    /// Where the manifest of an export to a stream goes (a file export's is always `FILE.manifest.json`).
    pub manifest: Option<PathBuf>,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            filter: AuditFilter::default(),
            columns: Column::ALL.to_vec(),
            tz: chrono_tz::UTC,
            bom: false,
            format: FileFormat::Csv,
            compression: None,
            overwrite: false,
            jobs: 1,
            spool_dir: None,
            signer: None,
            manifest: None,
        }
    }
}

/// How far an export is.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, ts_rs::TS)]
pub struct Progress {
    pub rows: u64,
    pub bytes: u64,
    /// The rows expected (exact up to 10,000, estimated beyond).
    pub total_estimate: Option<u64>,
    pub elapsed_ms: u64,
}

/// The result of a finished export.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
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
    /// Where the manifest was written, the file's SHA-256, and the fingerprint of the key that signed it.
    pub manifest: Option<PathBuf>,
    pub sha256: Option<String>,
    pub signed_by: Option<String>,
    /// The signing key's public half (`ed25519:…`), for the verify command an auditor runs.
    pub public_key: Option<String>,
}

/// Set to cancel a running export.
pub type CancelFlag = Arc<AtomicBool>;

/// How much COPY output is handed to the writer thread at a time.
pub(super) const BATCH_BYTES: usize = 256 * 1024;

/// How often progress is reported.
pub(super) const PROGRESS_EVERY: Duration = Duration::from_millis(200);

#[cfg(test)]
mod tests {
    use super::*;

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
