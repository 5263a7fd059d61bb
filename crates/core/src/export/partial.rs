//! Partial files: an export writes to a hidden file beside its target and renames it into place when complete;
//! one left by a process that was killed (`kill -9`) is removed by the next export into that folder.

use std::path::Path;

/// Removes partial files that earlier exports into `dir` left behind when their process was killed (a
/// partial's name carries its process id; one whose process is gone is stale).
pub(super) fn remove_stale_partials(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(pid) = partial_pid(name) else {
            continue;
        };
        if pid != std::process::id() && !process_alive(pid) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => {
                    tracing::info!(file = %name, "removed the partial file of an export that was killed")
                }
                Err(e) => {
                    tracing::warn!(file = %name, error = %e, "could not remove a stale partial export")
                }
            }
        }
    }
}

/// The process id in a partial export's name (`.tenant-console-partial-<pid>-<random>.tmp`).
fn partial_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PARTIAL_PREFIX)?;
    let (pid, _) = rest.split_once('-')?;
    rest.ends_with(PARTIAL_SUFFIX).then_some(())?;
    pid.parse().ok()
}

#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    // Signal 0 checks existence; EPERM means it exists but is someone else's.
    // SAFETY: kill with signal 0 sends nothing.
    let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    // Without a cheap existence check, keep partials: never delete a running export's file.
    true
}

/// A partial export's name: hidden, with the exporting process's id, and an ending no spreadsheet opens.
pub(super) const PARTIAL_PREFIX: &str = ".tenant-console-partial-";
pub(super) const PARTIAL_SUFFIX: &str = ".tmp";
