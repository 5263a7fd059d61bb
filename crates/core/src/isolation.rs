//! The isolation check (filled in by the isolation work).
