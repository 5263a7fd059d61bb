//! The app's commands, one short function per action, grouped by area. Names say their area
//! (`profiles_list`, `tenants_search`, `audit_page`); `handler` registers them all.

pub mod browse;
pub mod check;
pub mod export;
pub mod fleet;
pub mod profiles;
pub mod session;

/// The names of every command `handler` registers, from the same list the build script declares (each gets
/// an ACL permission, and the capability allows exactly those).
pub const NAMES: &[&str] = include!("names.rs");

/// The invoke handler with every command of the app.
pub fn handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static
{
    tauri::generate_handler![
        session::app_info,
        session::app_ready,
        session::app_quit,
        profiles::profiles_list,
        profiles::profiles_save,
        profiles::profiles_remove,
        profiles::profiles_test,
        profiles::profiles_test_draft,
        profiles::profiles_pin_host_keys,
        profiles::profiles_import_service,
        session::session_connect,
        session::session_disconnect,
        session::session_route_watch,
        browse::tenants_search,
        browse::tenants_stats,
        browse::tenant_open,
        browse::members_page,
        browse::roles_list,
        browse::audit_page,
        browse::audit_count,
        browse::tenant_glance,
        browse::access_history,
        browse::access_request,
        browse::access_status,
        browse::access_watch,
        check::isolation_check,
        fleet::fleets_list,
        fleet::fleet_open,
        fleet::fleet_close,
        fleet::fleet_search,
        fleet::fleet_locate,
        fleet::fleet_check,
        export::export_destination,
        export::audit_export,
        export::audit_export_cancel,
        export::show_in_folder,
        export::open_export,
        export::open_log,
        export::signing_key_show,
        export::verify_file,
    ]
}
