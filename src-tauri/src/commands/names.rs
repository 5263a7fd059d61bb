// The app's command names, one list for two readers: the build script (each gets an ACL permission, the
// capability allows exactly those) and `commands::NAMES` (a test checks each is registered). Keep in step with
// `commands::handler`.
&[
    "app_info",
    "app_ready",
    "profiles_list",
    "profiles_save",
    "profiles_remove",
    "profiles_test",
    "session_connect",
    "session_disconnect",
    "tenants_search",
    "tenants_stats",
    "tenant_open",
    "members_page",
    "roles_list",
    "audit_page",
    "audit_count",
    "access_history",
    "isolation_check",
    "export_destination",
    "audit_export",
    "audit_export_cancel",
    "show_in_folder",
    "open_export",
    "signing_key_show",
    "verify_file",
]
