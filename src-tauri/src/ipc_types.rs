//! The IPC contract, written for the page from the Rust types (ts-rs): `ui/ipc.d.ts` declares every type a
//! command takes or returns and every event it streams, and `ui/error-kinds.js` holds the error kinds the page
//! branches on (the core's [`KINDS`], and the app's own). `ui/api.js` takes its types from the first and its
//! `ErrorKind` from the second, and `tsc --checkJs` (`npm run typecheck`) reads them: a field renamed or dropped
//! on the Rust side, once the files are written again, fails the page's type check where the page uses it.
//!
//! The test below fails when either file is not what the Rust types say now; `TC_WRITE_IPC=1 cargo test -p
//! tenant-console ipc_types` writes them again.

use std::any::TypeId;
use std::collections::{BTreeMap, HashSet};

use tenant_console_core::error::KINDS;
use ts_rs::{Config, TypeVisitor, TS};

/// Every declared (named) type reachable from the roots, by name, with its declaration.
struct Collect<'a> {
    cfg: &'a Config,
    seen: HashSet<TypeId>,
    decls: BTreeMap<String, String>,
}

impl TypeVisitor for Collect<'_> {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        if !self.seen.insert(TypeId::of::<T>()) {
            return;
        }
        // Only the types ts-rs would write a file for are declared; the rest (strings, numbers, arrays,
        // options, maps) are written inline where they are used.
        if T::output_path().is_some() {
            let name = T::ident(self.cfg);
            let docs = T::docs().unwrap_or_default();
            self.decls
                .entry(name)
                .or_insert_with(|| format!("{docs}export {}", T::decl(self.cfg)));
        }
        T::visit_dependencies(self);
        T::visit_generics(self);
    }
}

macro_rules! roots {
    ($c:expr; $($t:ty),* $(,)?) => { $( $c.visit::<$t>(); )* };
}

/// `ui/ipc.d.ts`, as the Rust types say it should be.
pub fn declarations() -> String {
    use crate::commands::{browse, export, fleet, profiles, session};
    use tenant_console_core as core;
    // Numbers are JSON numbers: serde writes i64 and u64 as numbers, and JavaScript reads them as such.
    let cfg = Config::new().with_large_int("number");
    let mut c = Collect {
        cfg: &cfg,
        seen: HashSet::new(),
        decls: BTreeMap::new(),
    };
    roots!(c;
        // Profiles and the session.
        core::profile::Profile, profiles::ProfileView, profiles::AcceptedKey, profiles::ServiceImport,
        core::db::ConnectionReport, session::SessionInfo, session::AppInfo, core::db::RouteStatus,
        // Browsing a tenant.
        core::tenants::TenantPage, core::tenants::TenantSort, core::tenants::TenantStatsRow,
        core::tenants::Count, browse::TenantOverview, browse::AccessRequested,
        core::access::consent::AccessStatus, core::access::consent::ConsentChange,
        core::access::consent::ConsentScope, core::access::AccessReason, core::members::MemberPage,
        core::members::MemberSort, core::roles::Role, core::audit::AuditPage, core::audit::AuditFilter,
        core::glance::Glance, core::access::AccessPage,
        // Fleets.
        fleet::FleetView, fleet::FleetOpened, core::fleet::FleetTenantPage, core::fleet::Located,
        core::fleet::FleetCheck,
        // The check and the export.
        core::isolation::Report, core::export::Progress, core::export::ExportSummary,
        export::ExportDialogOptions, export::Destination, export::SigningKeyInfo, export::VerifyReport,
        // What a failed command rejects with.
        crate::error::IpcError,
    );
    let mut out = String::from(
        "// Generated from the Rust types by src-tauri/src/ipc_types.rs (ts-rs): do not edit.\n\
         // TC_WRITE_IPC=1 cargo test -p tenant-console ipc_types writes it again.\n",
    );
    for decl in c.decls.values() {
        out.push('\n');
        out.push_str(decl.trim_end());
        out.push('\n');
    }
    out
}

/// Every kind a command can reject with: the core's, and the app's own.
fn kinds() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = KINDS.to_vec();
    all.extend([crate::state::NOT_CONNECTED, crate::state::DESKTOP]);
    all
}

/// `ui/error-kinds.js`, as the Rust kinds say it should be.
pub fn error_kinds() -> String {
    let mut out = String::from(
        "// @ts-check\n\
         // Generated from the core's error kinds (crates/core/src/error.rs KINDS) and the app's own\n\
         // (src-tauri/src/state.rs) by src-tauri/src/ipc_types.rs: do not edit.\n\
         // TC_WRITE_IPC=1 cargo test -p tenant-console ipc_types writes it again. docs/ipc.md says what each means.\n\n\
         /** The error kinds a command rejects with; `ipc` is the page's own (the IPC itself failed). */\n\
         export const ErrorKind = Object.freeze({\n",
    );
    for kind in kinds().into_iter().chain(["ipc"]) {
        let key: String = kind
            .split('_')
            .map(|w| {
                let mut cs = w.chars();
                cs.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + cs.as_str())
                    .unwrap_or_default()
            })
            .collect();
        out.push_str(&format!("  {key}: \"{kind}\",\n"));
    }
    out.push_str(
        "});\n\n/** @typedef {(typeof ErrorKind)[keyof typeof ErrorKind]} ErrorKindName */\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    fn ui(file: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("ui")
            .join(file)
    }

    fn check(file: &str, want: String) {
        let path = ui(file);
        if std::env::var_os("TC_WRITE_IPC").is_some() {
            std::fs::write(&path, &want).unwrap();
            return;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "ui/{file} is not what the Rust types say: run `TC_WRITE_IPC=1 cargo test -p tenant-console ipc_types`, \
             then `npm run typecheck` (the page must follow)"
        );
    }

    /// The page's types are the Rust types: a change on either side that the other does not follow fails here
    /// (Rust changed, the file not written) or in `npm run typecheck` (written, and the page uses what is gone).
    #[test]
    fn the_pages_types_and_error_kinds_are_generated_from_the_rust_ones() {
        let d = super::declarations();
        for name in [
            "Profile",
            "ProfileView",
            "TenantOverview",
            "AuditEvent",
            "Finding",
            "IpcError",
        ] {
            assert!(
                d.contains(&format!("export type {name} ")),
                "{name} missing"
            );
        }
        check("ipc.d.ts", d);
        check("error-kinds.js", super::error_kinds());
    }
}
