//! Keeping secrets out of crash dumps: the first thing `tenantctl` and the app do.
//!
//! A password typed or read from the keyring, a token from a password command, the signing key: each lives in
//! this process's memory for a while (in `SecretString`s that are wiped when dropped, but also, for a moment,
//! in the driver's own buffers). A core file would hold them. So, as ssh-agent does, the process asks for no
//! core file (`RLIMIT_CORE` 0, soft and hard, so a child cannot raise it back) and, on Linux, marks itself not
//! dumpable (which also keeps other processes of the same user from attaching a debugger to read it). Windows
//! writes no local dump unless Windows Error Reporting's LocalDumps policy asks for one: the README says so.

/// Turns core dumps off for this process, where the platform allows. Failures are logged, not fatal: a
/// platform without the call still runs.
pub fn no_core_dumps() {
    #[cfg(unix)]
    {
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads the struct we pass; no other memory is touched.
        if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &none) } != 0 {
            tracing::warn!(error = %std::io::Error::last_os_error(), "could not turn core dumps off");
        }
    }
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl(PR_SET_DUMPABLE, 0) only changes this process's dumpable flag.
        if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
            tracing::warn!(error = %std::io::Error::last_os_error(), "could not mark the process not dumpable");
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn after_it_no_core_file_can_be_written_nor_the_limit_raised() {
        super::no_core_dumps();
        // SAFETY: reading our own limits and flag.
        let mut now = libc::rlimit {
            rlim_cur: 1,
            rlim_max: 1,
        };
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut now) }, 0);
        assert_eq!((now.rlim_cur, now.rlim_max), (0, 0));
        assert_eq!(unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) }, 0);
        let up = libc::rlimit {
            rlim_cur: libc::RLIM_INFINITY,
            rlim_max: libc::RLIM_INFINITY,
        };
        // Root may raise a hard limit (CAP_SYS_RESOURCE); anyone else may not. Either way the flag stays.
        let raised = unsafe { libc::setrlimit(libc::RLIMIT_CORE, &up) } == 0;
        assert!(!raised || unsafe { libc::geteuid() } == 0);
        assert_eq!(unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) }, 0);
    }
}
