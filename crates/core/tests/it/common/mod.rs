//! The core's test support, shared with the CLI and app tests (feature `testing`).
#![allow(unused_imports)]

pub use tenant_console_dev::testing::*;
