//! One module per area of commands.

pub mod access;
pub mod admin;
pub mod browse;
pub mod check;
#[cfg(unix)]
pub mod demo;
pub mod evidence;
pub mod export;
pub mod fleet;
pub mod profile;
