//! Where the app's log is: errors that say "the log has the details" name it, and the window can open it.

use std::path::PathBuf;

use tenant_console_core::profile::data_dir;

/// Today's log file (the appender in `state::init_logging` starts a new one each day, named by the UTC date).
pub fn log_file() -> Option<PathBuf> {
    Some(
        data_dir()
            .ok()?
            .join("logs")
            .join(format!("app.log.{}", chrono::Utc::now().format("%Y-%m-%d"))),
    )
}
