//! Tenant Console's development tools, kept out of the product core (which does not depend on this crate):
//!
//! - [`seed`]: demo and benchmark data for the reference schema.
//! - [`cluster`]: a private PostgreSQL cluster for the demo and for tests of authentication and TLS.
//! - [`testing`] (feature `testing`): a fresh, migrated database per test on a real server.
//! - [`sshlab`] (feature `testing`): a real SSH topology in network namespaces (bastion, inner host, a database
//!   reachable only through them) for the tests and benchmarks of tunnels.

// Set-up statements (seeding, creating databases and roles) are this crate's whole purpose: the workspace's rule
// that statements are sent only by the core's `sql` module (clippy.toml) does not apply to it.
#![allow(clippy::disallowed_methods)]

#[cfg(unix)]
pub mod cluster;
#[cfg(unix)]
pub mod pooler;
pub mod seed;
#[cfg(all(unix, feature = "testing"))]
pub mod sshlab;
#[cfg(feature = "testing")]
pub mod testing;
