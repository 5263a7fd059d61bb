//! Audit CSV export (filled in by the export work).
