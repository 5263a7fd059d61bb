//! The CSV writer: ISO 8601 timestamps in the chosen zone, actor emails, and cells neutralised against
//! spreadsheet formulas (OWASP CSV injection), written through a counting buffered writer.

use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use std::path::PathBuf;

use super::actors::Lookup;
use super::binary::{stream_error, BinaryCopy, Fields, COPY_FIELDS};
use super::manifest::EventRef;
use super::options::{Column, Compression, ExportOptions, FileFormat};
use crate::error::{Error, Result};

/// Counts and hashes (SHA-256, for the manifest) the bytes that go through.
pub(super) struct Counting<W> {
    inner: W,
    bytes: Arc<AtomicU64>,
    hash: sha2::Sha256,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        sha2::Digest::update(&mut self.hash, &buf[..n]);
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

pub(super) fn needs_neutralising(cell: &[u8]) -> bool {
    matches!(
        cell.first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// Microseconds between 1970-01-01 and 2000-01-01, PostgreSQL's epoch for binary timestamps.
pub(super) const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// Writes a binary `timestamptz` (microseconds since 2000-01-01 UTC) as ISO 8601 in `tz` with its offset,
/// always six fractional digits: `2026-11-23T07:28:09.873814+00:00`.
pub(super) fn push_timestamp(out: &mut Vec<u8>, micros: i64, tz: &chrono_tz::Tz) {
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
    pub(super) fn digits(out: &mut Vec<u8>, n: u32, width: usize) {
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

/// Where rows go: the counting, hashing file writer, gzip-compressed or not.
enum Sink<W: Write> {
    Plain(W),
    Gzip(Box<Chunked<flate2::write::GzEncoder<W>>>),
}

/// Hands the compressor its input in chunks of one fixed size, whatever sizes were written: deflate's output
/// depends on how its input arrives, and a parallel export (its slices appended from spools) must compress to
/// the very bytes a sequential one does.
struct Chunked<W: Write> {
    inner: W,
    buf: Vec<u8>,
}

const CHUNK: usize = 64 * 1024;

impl<W: Write> Write for Chunked<W> {
    fn write(&mut self, mut data: &[u8]) -> std::io::Result<usize> {
        let n = data.len();
        while !data.is_empty() {
            let take = (CHUNK - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() == CHUNK {
                self.inner.write_all(&self.buf)?;
                self.buf.clear();
            }
        }
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        // Only the end of the stream hands over a short chunk (see `Sink::finish`).
        Ok(())
    }
}

impl<W: Write> Write for Sink<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Gzip(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            // A flush would end a deflate block early: the compressed bytes would depend on when it came.
            Sink::Gzip(_) => Ok(()),
        }
    }
}

impl<W: Write> Sink<W> {
    /// Ends the stream (the gzip trailer) and returns the writer below.
    fn finish(self) -> std::io::Result<W> {
        match self {
            Sink::Plain(w) => Ok(w),
            Sink::Gzip(w) => {
                let Chunked { mut inner, buf } = *w;
                inner.write_all(&buf)?;
                inner.finish()
            }
        }
    }
}

/// A later slice of a parallel export: its spool file, and the thread writing it.
pub(super) type Spool = (PathBuf, tokio::task::JoinHandle<Result<Written>>);

/// What one writer thread writes, and where: the first slice's writer writes the file (with its start and the
/// later slices' spools), each later slice's writer its spool.
pub(super) struct RowsWriter {
    pub out: Box<dyn Write + Send>,
    pub opts: ExportOptions,
    /// Whether the file's start (BOM, CSV header) is written first.
    pub header: bool,
    /// The later slices of a parallel export, appended in order after this stream's rows.
    pub spools: Vec<Spool>,
    pub lookup: Lookup,
    pub wires: [super::decode::Wire; COPY_FIELDS],
    /// The runtime the actors' lookups run on (this is a blocking thread).
    pub handle: tokio::runtime::Handle,
    /// Rows written, shared by every slice's writer (progress).
    pub rows: Arc<AtomicU64>,
    /// Bytes that reached `out` (progress).
    pub bytes: Arc<AtomicU64>,
}

/// Writes the rows of the COPY stream as CSV or JSON lines, gzip-compressed when asked. With `header`, the
/// file's start (BOM, CSV header) first. The `spools` of later slices are appended in order after this
/// stream's rows, through the same compression and hash, so the file is the one a sequential export writes.
pub(super) fn write_rows(
    mut input: tokio::sync::mpsc::Receiver<Vec<u8>>,
    w: RowsWriter,
) -> Result<Written> {
    let RowsWriter {
        out,
        opts,
        header,
        spools,
        mut lookup,
        wires,
        handle,
        rows,
        bytes,
    } = w;
    let (opts, handle) = (&opts, &handle);
    let io = |e: std::io::Error| Error::io("writing", "the export file", e);
    // Hashed and counted below the buffer and the compression: the digest and the size are of exactly the
    // bytes that reach the file.
    let counted = BufWriter::with_capacity(
        256 * 1024,
        Counting {
            inner: out,
            bytes,
            hash: sha2::Sha256::default(),
        },
    );
    let mut sink = match opts.compression {
        None => Sink::Plain(counted),
        Some(Compression::Gzip) => Sink::Gzip(Box::new(Chunked {
            inner: flate2::write::GzEncoder::new(counted, flate2::Compression::new(GZIP_LEVEL)),
            buf: Vec::with_capacity(CHUNK),
        })),
    };
    let jsonl = opts.format == FileFormat::Jsonl;
    if header && opts.bom && !jsonl {
        sink.write_all("\u{feff}".as_bytes()).map_err(io)?;
    }
    // JSON lines go straight to the sink; CSV through the csv crate (a record of one empty field is written `""`:
    // a blank line would be skipped by readers).
    let (mut w, mut plain) = if jsonl {
        (None, Some(sink))
    } else {
        (Some(csv::WriterBuilder::new().from_writer(sink)), None)
    };
    let csv_err = move |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(e) => io(e),
        other => Error::io(
            "writing",
            "the export file",
            std::io::Error::other(format!("{other:?}")),
        ),
    };
    if let Some(w) = w.as_mut().filter(|_| header) {
        w.write_record(opts.columns.iter().map(|c| c.name()))
            .map_err(csv_err)?;
    }
    let mut stream = BinaryCopy::default();
    let mut cell: Vec<u8> = Vec::with_capacity(64);
    let mut line: Vec<u8> = Vec::with_capacity(1024);
    let mut written = 0u64;
    // Rows counted into the shared counter so far (slices of a parallel export share it).
    let mut counted_rows = 0u64;
    // The first and the last event written (id, time), for the manifest.
    let mut first: Option<(Vec<u8>, i64)> = None;
    let mut last: (Vec<u8>, i64) = (Vec::new(), 0);
    let mut decoder = super::decode::Decoder::new(wires);
    let mut on_row = |raw: &Fields<'_>| -> Result<()> {
        let f = &decoder.decode(raw)?;
        let id = f[0].unwrap_or_default();
        let micros = f[1]
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(i64::from_be_bytes)
            .unwrap_or_default();
        if first.is_none() {
            first = Some((id.to_vec(), micros));
        }
        last.0.clear();
        last.0.extend_from_slice(id);
        last.1 = micros;
        if let Some(plain) = plain.as_mut() {
            line.clear();
            json_line(&mut line, f, opts, &mut lookup, handle, &mut cell)?;
            plain.write_all(&line).map_err(io)?;
        } else if let Some(w) = w.as_mut() {
            for column in &opts.columns {
                let value: &[u8] = match column {
                    // The id is the program's own value (a number, uuid or key), not a text cell.
                    Column::Id => f[0].unwrap_or_default(),
                    Column::OccurredAt => {
                        cell.clear();
                        match f[1] {
                            Some(b) if b.len() == 8 => push_timestamp(&mut cell, micros, &opts.tz),
                            Some(_) => return Err(stream_error("a timestamp is not 8 bytes long")),
                            None => {}
                        }
                        &cell
                    }
                    Column::ActorEmail => {
                        let email = actor_email(f, &mut lookup, handle)?;
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
        }
        written += 1;
        // One shared counter update per 1,024 rows keeps progress live without a write per row.
        if written.is_multiple_of(1024) {
            rows.fetch_add(written - counted_rows, Ordering::Relaxed);
            counted_rows = written;
        }
        Ok(())
    };
    while let Some(chunk) = input.blocking_recv() {
        stream.feed(&chunk, &mut on_row)?;
    }
    rows.fetch_add(written - counted_rows, Ordering::Relaxed);
    stream.finish()?;
    let mut sink = match (w, plain) {
        (Some(w), _) => w.into_inner().map_err(|e| io(e.into_error()))?,
        (None, Some(plain)) => plain,
        (None, None) => unreachable!("one of the two writers"),
    };
    let event = |(id, micros): (Vec<u8>, i64)| EventRef {
        id: String::from_utf8_lossy(&id).into_owned(),
        occurred_at: micros
            .checked_add(PG_EPOCH_MICROS)
            .and_then(DateTime::<Utc>::from_timestamp_micros),
    };
    let mut first = first.map(event);
    let mut last = (written > 0).then(|| event(last));
    // The later slices, in order: each spool once its writer is done, then gone.
    for (path, writer) in spools {
        let slice = handle
            .block_on(writer)
            .map_err(|_| io(std::io::Error::other("a slice's writer failed")))??;
        let mut spooled = std::fs::File::open(&path).map_err(|e| Error::io("reading", &path, e))?;
        std::io::copy(&mut spooled, &mut sink).map_err(io)?;
        drop(spooled);
        std::fs::remove_file(&path).ok();
        if first.is_none() {
            first = slice.first;
        }
        if slice.last.is_some() {
            last = slice.last;
        }
    }
    let mut counted = sink.finish().map_err(io)?;
    counted.flush().map_err(io)?;
    let counted = counted.into_inner().map_err(|e| io(e.into_error()))?;
    Ok(Written {
        sha256: sha2::Digest::finalize(counted.hash).into(),
        first,
        last,
    })
}

/// gzip's level: 1, the fastest; audit logs compress well at any level, and the export must stay near COPY's
/// speed.
const GZIP_LEVEL: u32 = 1;

/// The actor's email: the tenant's member's, or looked up once in the users table.
fn actor_email<'l>(
    f: &Fields<'_>,
    lookup: &'l mut Lookup,
    handle: &tokio::runtime::Handle,
) -> Result<Option<&'l str>> {
    let actor = f[2]
        .map(|a| std::str::from_utf8(a).unwrap_or_default())
        .unwrap_or_default();
    if actor.is_empty() {
        Ok(None)
    } else {
        lookup.email(handle, actor)
    }
}

/// One event as a JSON object on one line: strings for text, `null` for NULL, the time in ISO 8601 with its
/// offset, and `metadata` as the JSON value it holds (a string when the column holds text that is not JSON).
/// No cell is neutralised: JSON has no formulas.
fn json_line(
    out: &mut Vec<u8>,
    f: &Fields<'_>,
    opts: &ExportOptions,
    lookup: &mut Lookup,
    handle: &tokio::runtime::Handle,
    scratch: &mut Vec<u8>,
) -> Result<()> {
    let string = |out: &mut Vec<u8>, raw: &[u8]| {
        let text = String::from_utf8_lossy(raw);
        serde_json::to_writer(&mut *out, text.as_ref()).expect("writing to a Vec");
    };
    out.push(b'{');
    for (n, column) in opts.columns.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(column.name().as_bytes());
        out.extend_from_slice(b"\":");
        match column {
            Column::OccurredAt => match f[1] {
                Some(b) if b.len() == 8 => {
                    scratch.clear();
                    let micros = i64::from_be_bytes(b.try_into().expect("8 bytes"));
                    push_timestamp(scratch, micros, &opts.tz);
                    out.push(b'"');
                    out.extend_from_slice(scratch);
                    out.push(b'"');
                }
                Some(_) => return Err(stream_error("a timestamp is not 8 bytes long")),
                None => out.extend_from_slice(b"null"),
            },
            Column::ActorEmail => match actor_email(f, lookup, handle)? {
                Some(email) => string(out, email.as_bytes()),
                None => out.extend_from_slice(b"null"),
            },
            Column::Metadata => match f[9] {
                Some(raw)
                    if serde_json::from_slice::<&serde_json::value::RawValue>(raw).is_ok() =>
                {
                    out.extend_from_slice(raw)
                }
                Some(raw) => string(out, raw),
                None => out.extend_from_slice(b"null"),
            },
            other => {
                let i = other.copy_index().expect("not the email");
                match f[i] {
                    Some(raw) => string(out, raw),
                    None => out.extend_from_slice(b"null"),
                }
            }
        }
    }
    out.extend_from_slice(b"}\n");
    Ok(())
}

/// What the writer wrote, for the manifest: the SHA-256 of the bytes, and the first and last events.
pub(super) struct Written {
    pub sha256: [u8; 32],
    pub first: Option<EventRef>,
    pub last: Option<EventRef>,
}

/// The cell as written: itself, or with a leading `'` (in `scratch`) when a spreadsheet would run it.
pub(super) fn neutralised<'a>(raw: &'a [u8], scratch: &'a mut Vec<u8>) -> &'a [u8] {
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
}
