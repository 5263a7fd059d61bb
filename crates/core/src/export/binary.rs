//! PostgreSQL's binary COPY format, decoded as it arrives in arbitrary pieces.

use crate::error::{Error, Result};

/// The fields of one COPY row, in [`audit::select_list`] order (index 3, the email, is always NULL).
pub(super) const COPY_FIELDS: usize = 10;

/// PostgreSQL's binary COPY stream, read as it arrives in arbitrary pieces: an 11-byte signature, 32-bit flags
/// and a header extension; then per row a 16-bit field count and, per field, a 32-bit length (-1 for NULL) and
/// that many bytes; a field count of -1 ends the data. All integers are big-endian.
#[derive(Default)]
pub(super) struct BinaryCopy {
    /// Bytes of a row (or the header) that arrived without its end.
    pending: Vec<u8>,
    header_read: bool,
    ended: bool,
}

pub(super) const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

/// One row: each field's bytes, `None` for NULL.
pub(super) type Fields<'a> = [Option<&'a [u8]>; COPY_FIELDS];

impl BinaryCopy {
    /// Feeds the next piece of the stream; calls `row` for every row completed by it.
    pub(super) fn feed(
        &mut self,
        chunk: &[u8],
        row: &mut dyn FnMut(&Fields<'_>) -> Result<()>,
    ) -> Result<()> {
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
    pub(super) fn parse(
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
    pub(super) fn finish(&self) -> Result<()> {
        if self.ended && self.pending.is_empty() {
            Ok(())
        } else {
            Err(stream_error("it ended in the middle of the data"))
        }
    }
}

pub(super) fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

pub(super) fn stream_error(what: &str) -> Error {
    Error::io(
        "reading",
        "the database's export stream",
        std::io::Error::other(what.to_owned()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Result;

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
}
