//! Reaching a database where it lives: through SSH bastions ([`ssh`]), with passwords that are short-lived
//! tokens made by a command ([`token`]), and from libpq's own service and password files ([`service`]).
//!
//! None of it talks PostgreSQL: [`crate::db`] asks this module for a way in (a tunnel's local end, a fresh
//! token) before every new server connection. Nothing here writes a secret anywhere: a token lives in memory
//! for one connection, a `.pgpass` password goes to the keyring through [`crate::profile`].

pub mod service;
pub mod ssh;
pub mod token;

pub use ssh::{HopKey, SshRoute, Tunnel};
pub use token::PasswordCommand;
