//! The COPY fields that travel in their types' own binary form, turned into the text a `::text` cast (or
//! `host()`) would have given, on the client.
//!
//! Casting on the server costs it more than the rest of the row: measured on the bench tenant, a slice's COPY
//! with `id::text, actor_id::text, host(ip)` took 0.9-1.2 s, with the raw bigint, uuid and inet 0.7 s. An
//! export's wall time is what the server and the client spend together on two cores, so the text is made here,
//! where it is cheap (a uuid is 16 bytes to hex, an integer to decimal).

use super::binary::{stream_error, Fields, COPY_FIELDS};
use crate::error::Result;

/// How one COPY field arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wire {
    /// Text (the column's own, or cast on the server), or a timestamp read by the writer itself.
    Text,
    Int2,
    Int4,
    Int8,
    Uuid,
    /// `inet`, written as `host()` writes it.
    Inet,
}

impl Wire {
    /// The wire for a column of type `typname` sent raw, or `None` when it is cast to text on the server.
    pub(crate) fn raw(typname: &str) -> Option<Wire> {
        match typname {
            "int2" => Some(Wire::Int2),
            "int4" => Some(Wire::Int4),
            "int8" => Some(Wire::Int8),
            "uuid" => Some(Wire::Uuid),
            "inet" => Some(Wire::Inet),
            _ => None,
        }
    }
}

/// The wires of a COPY's fields, and the buffers their text is made in.
pub(super) struct Decoder {
    wires: [Wire; COPY_FIELDS],
    bufs: [Vec<u8>; COPY_FIELDS],
}

impl Decoder {
    pub(super) fn new(wires: [Wire; COPY_FIELDS]) -> Self {
        Decoder {
            wires,
            bufs: std::array::from_fn(|_| Vec::with_capacity(40)),
        }
    }

    /// The row's fields as text (those sent as text unchanged).
    pub(super) fn decode<'a>(&'a mut self, raw: &Fields<'a>) -> Result<Fields<'a>> {
        let mut out: Fields<'a> = *raw;
        for (i, (wire, buf)) in self.wires.iter().zip(self.bufs.iter_mut()).enumerate() {
            if *wire == Wire::Text {
                continue;
            }
            let Some(bytes) = raw[i] else { continue };
            buf.clear();
            push_text(buf, *wire, bytes)?;
            out[i] = Some(buf.as_slice());
        }
        Ok(out)
    }
}

/// Appends the text of one raw field.
pub(crate) fn push_text(out: &mut Vec<u8>, wire: Wire, b: &[u8]) -> Result<()> {
    let bad = |what: &str| stream_error(&format!("a {what} field has {} bytes", b.len()));
    let mut num = itoa::Buffer::new();
    match wire {
        Wire::Text => out.extend_from_slice(b),
        Wire::Int2 => {
            let v = i16::from_be_bytes(b.try_into().map_err(|_| bad("smallint"))?);
            out.extend_from_slice(num.format(v).as_bytes());
        }
        Wire::Int4 => {
            let v = i32::from_be_bytes(b.try_into().map_err(|_| bad("integer"))?);
            out.extend_from_slice(num.format(v).as_bytes());
        }
        Wire::Int8 => {
            let v = i64::from_be_bytes(b.try_into().map_err(|_| bad("bigint"))?);
            out.extend_from_slice(num.format(v).as_bytes());
        }
        Wire::Uuid => {
            let bytes: [u8; 16] = b.try_into().map_err(|_| bad("uuid"))?;
            let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
            out.extend_from_slice(
                uuid::Uuid::from_bytes(bytes)
                    .hyphenated()
                    .encode_lower(&mut text)
                    .as_bytes(),
            );
        }
        Wire::Inet => push_inet_host(out, b)?,
    }
    Ok(())
}

/// `host(inet)` as PostgreSQL writes it (`inet_net_ntop` with all bits, the mask left off): a dotted quad, or
/// IPv6 in hex words with the longest run of two or more zero words (the first of equals) as `::`, and the
/// last 32 bits as a dotted quad for IPv4-compatible (`::a.b.c.d`) and IPv4-mapped (`::ffff:a.b.c.d`) ones.
/// The binary form: family (2 for IPv4, 3 for IPv6), bits, is-cidr, address length, the address.
fn push_inet_host(out: &mut Vec<u8>, b: &[u8]) -> Result<()> {
    let bad = || stream_error("an inet field is malformed");
    let (&[family, _bits, _cidr, len], addr) = b.split_first_chunk::<4>().ok_or_else(bad)?;
    let quad = |out: &mut Vec<u8>, a: &[u8]| {
        let mut num = itoa::Buffer::new();
        for (i, octet) in a.iter().enumerate() {
            if i > 0 {
                out.push(b'.');
            }
            out.extend_from_slice(num.format(*octet).as_bytes());
        }
    };
    match (family, len as usize, addr.len()) {
        (2, 4, 4) => quad(out, addr),
        (3, 16, 16) => {
            let words: [u16; 8] =
                std::array::from_fn(|i| u16::from_be_bytes([addr[2 * i], addr[2 * i + 1]]));
            // The longest run of zero words; the first of equal runs.
            let (mut best, mut cur): ((usize, usize), Option<(usize, usize)>) = ((0, 0), None);
            for (i, w) in words.iter().enumerate() {
                if *w == 0 {
                    let c = cur.get_or_insert((i, 0));
                    c.1 += 1;
                    if c.1 > best.1 {
                        best = *c;
                    }
                } else {
                    cur = None;
                }
            }
            let run = (best.1 >= 2).then_some(best);
            let mut i = 0;
            while i < 8 {
                if let Some((base, len)) = run {
                    if i == base {
                        out.push(b':');
                        i += len;
                        if i == 8 {
                            out.push(b':');
                        }
                        continue;
                    }
                }
                if i != 0 {
                    out.push(b':');
                }
                if i == 6
                    && run.is_some_and(|(base, len)| {
                        base == 0 && (len == 6 || (len == 5 && words[5] == 0xffff))
                    })
                {
                    quad(out, &addr[12..]);
                    break;
                }
                out.extend_from_slice(format!("{:x}", words[i]).as_bytes());
                i += 1;
            }
        }
        _ => return Err(bad()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inet(addr: &str) -> String {
        let ip: std::net::IpAddr = addr.parse().unwrap();
        let mut b = match ip {
            std::net::IpAddr::V4(a) => vec![
                2,
                32,
                0,
                4,
                a.octets()[0],
                a.octets()[1],
                a.octets()[2],
                a.octets()[3],
            ],
            std::net::IpAddr::V6(a) => {
                let mut v = vec![3, 128, 0, 16];
                v.extend_from_slice(&a.octets());
                v
            }
        };
        let mut out = Vec::new();
        push_inet_host(&mut out, &b).unwrap();
        b.truncate(3);
        assert!(
            push_inet_host(&mut Vec::new(), &b).is_err(),
            "short input is an error, not a panic"
        );
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn inet_is_written_as_host_writes_it() {
        // The expected texts are PostgreSQL's own (SELECT host('…'::inet)); the integration test
        // `export_fields_match_the_servers_text` checks these and more against a live server.
        assert_eq!(inet("10.0.0.1"), "10.0.0.1");
        assert_eq!(inet("::"), "::");
        assert_eq!(inet("::1"), "::1");
        assert_eq!(inet("2001:db8::1"), "2001:db8::1");
        assert_eq!(inet("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(inet("::1.2.3.4"), "::1.2.3.4");
        assert_eq!(inet("1:0:0:2:0:0:0:3"), "1:0:0:2::3");
        assert_eq!(inet("1:0:0:2:0:0:3:4"), "1::2:0:0:3:4");
        assert_eq!(inet("1::"), "1::");
        assert_eq!(inet("1:2:3:4:5:6:7:0"), "1:2:3:4:5:6:7:0");
    }

    #[test]
    fn numbers_and_uuids() {
        let text = |w, b: &[u8]| {
            let mut out = Vec::new();
            push_text(&mut out, w, b).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(text(Wire::Int8, &(-42i64).to_be_bytes()), "-42");
        assert_eq!(text(Wire::Int4, &i32::MAX.to_be_bytes()), "2147483647");
        assert_eq!(text(Wire::Int2, &7i16.to_be_bytes()), "7");
        assert_eq!(
            text(Wire::Uuid, &[0xab; 16]),
            "abababab-abab-abab-abab-abababababab"
        );
        assert!(push_text(&mut Vec::new(), Wire::Int8, &[1, 2, 3]).is_err());
    }
}
