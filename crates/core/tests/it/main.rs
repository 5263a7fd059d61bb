//! The core's integration tests, one binary (one link of the core instead of one per file), a module per
//! concern. Each test makes its own database (`common::TestDb`) or its own servers, so modules run in parallel.
//! One module: `cargo test -p tenant-console-core --test it browse::`.

// Tests set up their fixtures as the superuser, in SQL of their own: the rule that only the core's `sql`
// module sends statements (clippy.toml) is the product's, not the tests'.
#![allow(clippy::disallowed_methods)]
mod access_log;
mod browse;
mod common;
mod consent;
mod doctor;
mod evidence;
mod export;
mod fleet;
mod isolation_check;
mod isolation_scenarios;
mod keyring;
mod mapping_prisma;
mod masking;
mod parsers;
mod pooler;
mod reach;
mod replica;
mod tenant_scope;
