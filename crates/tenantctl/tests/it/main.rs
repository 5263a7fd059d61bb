//! The CLI's tests: the real `tenantctl` binary against real servers, one test binary, a module per concern.
//! One module: `cargo test -p tenantctl --test it browse::`.

mod browse;
mod check;
mod common;
mod consent;
mod evidence;
mod export;
mod profile;
mod reach;
mod replica;
