//! The CLI's tests: the real `tenantctl` binary against real servers, one test binary, a module per concern.
//! One module: `cargo test -p tenantctl --test it browse::`.

// Tests set up their fixtures as the superuser, in SQL of their own: the rule that only the core's `sql`
// module sends statements (clippy.toml) is the product's, not the tests'.
#![allow(clippy::disallowed_methods)]
mod browse;
mod check;
mod common;
mod consent;
mod evidence;
mod export;
mod fleet;
mod profile;
mod reach;
mod replica;
