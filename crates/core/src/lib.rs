//! Tenant Console's core: everything the app and `tenantctl` do, with no window attached.
//!
//! - [`db`]: connect for a profile or URL (TLS, diagnosis), who the login is, the door to tenant scopes.
//! - [`scope`]: [`scope::TenantScope`], the read-only, tenant-set transaction every tenant read runs in.
//! - [`mapping`]: where tenant data lives (the reference schema, or a mapping file), bound to the catalog.
//! - [`sql`]: SQL building: validated, quoted identifiers (the only way a mapped name becomes SQL), LIKE
//!   escaping, values as bound parameters or settings, the tenant predicate, keyset pages.
//! - [`tenants`], [`members`], [`roles`], [`audit`]: the queries, keyset-paginated through [`cursor`].
//! - [`profile`]: connection profiles (no secrets) in the OS config directory.
//! - [`access`]: support access transparency: reasons, the access log (the console's only write).
//! - [`export`]: audit CSV export through COPY, streamed, atomic, cancellable.
//! - [`fleet`]: many databases as one: fleets of profiles searched, looked up and checked within one
//!   connection budget.
//! - [`isolation`]: the isolation check: catalog findings and a live leak probe.
//! - [`doctor`]: why a connection failed, and what to try.
//! - [`reach`]: the way to the database: SSH tunnels through bastions, password commands (tokens), libpq's
//!   service and password files.
//! - [`secret`]: passwords in the OS keyring, and nowhere else; [`harden`]: no core dumps to hold them.
//! - [`error`]: the core's error, with stable kinds.
//!
//! The core never imports Tauri: it takes plain values (a pool, a profile), so tests and the CLI use it
//! without a window.

pub mod access;
pub mod audit;
pub mod cursor;
pub mod db;
pub mod doctor;
pub mod error;
pub mod export;
pub mod fleet;
pub mod glance;
pub mod harden;
pub mod isolation;
pub mod mapping;
pub mod members;
pub mod profile;
pub mod reach;
pub mod roles;
pub mod scope;
pub mod secret;
pub mod signing;
pub mod sql;
pub mod tenants;
#[cfg(feature = "testing")]
pub mod testing;

pub use db::{ConnectSpec, Db, DbOptions, TlsMode};
pub use error::{Error, Result};
pub use mapping::Mapping;
pub use scope::{Tenant, TenantScope};

/// The reference schema's migrations (`migrations/` at the top of the repository).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");
