//! One module per area of commands.

pub mod admin;
pub mod browse;
pub mod check;
pub mod export;
pub mod profile;
