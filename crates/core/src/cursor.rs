//! Opaque keyset cursors.
//!
//! A cursor is the sort key of the last row of a page, so the next page starts strictly after it: stable at any
//! depth, and as fast at page 10,000 as at page 1 (never `OFFSET`). It is opaque to users (base64url of a small
//! versioned JSON array) and checked on the way back in: a damaged or foreign cursor is a clear input error,
//! never a database error. A cursor carries no tenant: it is only ever used inside a tenant scope.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::error::{Error, Result};

const VERSION: &str = "1";

/// Encodes a cursor of `kind` (`audit`, `tenants:name`, ...) with its key parts.
pub fn encode(kind: &str, parts: &[&str]) -> String {
    let mut v = vec![VERSION, kind];
    v.extend_from_slice(parts);
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&v).expect("strings serialize"))
}

/// Decodes a cursor that must be of `kind` with exactly `n` parts.
pub fn decode(cursor: &str, kind: &str, n: usize) -> Result<Vec<String>> {
    let bad = || invalid(cursor);
    if cursor.len() > MAX_CURSOR_BYTES {
        return Err(bad());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| bad())?;
    let v: Vec<String> = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    // A NUL cannot be bound as PostgreSQL text: refuse it here rather than as a database error.
    if v.len() != n + 2 || v[0] != VERSION || v[1] != kind || v.iter().any(|p| p.contains('\0')) {
        return Err(bad());
    }
    Ok(v[2..].to_vec())
}

/// The error for a cursor that is damaged, forged or belongs to another list.
pub fn invalid(cursor: &str) -> Error {
    Error::InvalidInput(format!(
        "invalid cursor {:?}: pass the next_cursor value of a previous page of the same list",
        truncate(cursor)
    ))
}

/// Real cursors are a few hundred bytes; anything much longer is not one of ours.
const MAX_CURSOR_BYTES: usize = 16 * 1024;

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let c = encode("audit", &["2026-01-01T00:00:00Z", "42"]);
        assert_eq!(
            decode(&c, "audit", 2).unwrap(),
            vec!["2026-01-01T00:00:00Z", "42"]
        );
    }

    #[test]
    fn damaged_or_foreign_cursors_are_input_errors() {
        let c = encode("audit", &["x", "1"]);
        for bad in ["", "!!!", "bm90IGpzb24", &c[..c.len() - 3]] {
            assert_eq!(
                decode(bad, "audit", 2).unwrap_err().kind(),
                "invalid_input",
                "{bad}"
            );
        }
        assert!(decode(&c, "members", 2).is_err());
        let nul = encode("audit", &["x\0", "1"]);
        assert_eq!(
            decode(&nul, "audit", 2).unwrap_err().kind(),
            "invalid_input"
        );
        assert!(decode(&"A".repeat(20_000), "audit", 2).is_err());
        assert!(decode(&c, "audit", 3).is_err());
    }
}
