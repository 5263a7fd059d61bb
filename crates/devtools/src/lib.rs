//! Tenant Console's development tools, kept out of the product core (which does not depend on this crate):
//!
//! - [`seed`]: demo and benchmark data for the reference schema.
//! - [`cluster`]: a private PostgreSQL cluster for the demo and for tests of authentication and TLS.
//! - [`testing`] (feature `testing`): a fresh, migrated database per test on a real server.

#[cfg(unix)]
pub mod cluster;
#[cfg(unix)]
pub mod pooler;
pub mod seed;
#[cfg(feature = "testing")]
pub mod testing;
