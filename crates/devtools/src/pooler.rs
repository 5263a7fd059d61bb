//! A real PgBouncer (Debian's `pgbouncer` package) in front of a PostgreSQL server, for the tests and the
//! benchmark of the console behind a pooler. It listens on a free loopback port, pools in the mode asked for,
//! trusts the users it is given (the server behind it does the real authentication, or trusts them too), and
//! is stopped when dropped. PgBouncer refuses to run as root: when we are root it runs as `postgres`.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tenant_console_core::error::{Error, Result};

use crate::cluster::{free_port, log_tail, postgres_user_when_root, stop_with_parent};

/// How the pooler is set up.
#[derive(Clone, Debug)]
pub struct PoolerOptions {
    /// The server behind it.
    pub upstream_host: String,
    pub upstream_port: u16,
    /// `transaction`, `session` or `statement`.
    pub mode: &'static str,
    /// Server connections per database and user.
    pub pool_size: u32,
    /// The logins it lets in (with any password: it does not check them).
    pub users: Vec<String>,
}

/// A running PgBouncer. Dropping it stops it.
pub struct Pooler {
    child: Option<Child>,
    pub port: u16,
    dir: PathBuf,
}

/// Finds the `pgbouncer` program: `$PGBOUNCER`, else Debian's `/usr/sbin/pgbouncer`, else `$PATH`.
pub fn program() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("PGBOUNCER") {
        return Ok(PathBuf::from(p));
    }
    let debian = Path::new("/usr/sbin/pgbouncer");
    if debian.exists() {
        return Ok(debian.to_path_buf());
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        if dir.join("pgbouncer").exists() {
            return Ok(dir.join("pgbouncer"));
        }
    }
    Err(Error::Cluster(
        "pgbouncer was not found: install Debian's pgbouncer package (scripts/test.sh does)".into(),
    ))
}

impl Pooler {
    /// Starts PgBouncer and waits until it accepts connections.
    pub fn start(opts: &PoolerOptions) -> Result<Pooler> {
        let program = program()?;
        let dir = tempfile::Builder::new()
            .prefix("tc-pgbouncer-")
            .tempdir()
            .map_err(|e| Error::io("creating a temporary directory in", std::env::temp_dir(), e))?
            .keep();
        let result = Self::start_in(&program, &dir, opts);
        if result.is_err() {
            std::fs::remove_dir_all(&dir).ok();
        }
        result
    }

    fn start_in(program: &Path, dir: &Path, opts: &PoolerOptions) -> Result<Pooler> {
        // PgBouncer refuses to run as root.
        let run_as = postgres_user_when_root()?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::io("opening up", dir, e))?;
        let users = dir.join("userlist.txt");
        let mut list = String::new();
        for u in &opts.users {
            list.push_str(&format!("\"{}\" \"\"\n", u.replace('"', "\"\"")));
        }
        std::fs::write(&users, list).map_err(|e| Error::io("writing", &users, e))?;
        let log = dir.join("pgbouncer.log");
        let ini = dir.join("pgbouncer.ini");
        let mut last = None;
        // Another process may take the free port before PgBouncer binds it: try a few.
        for _ in 0..3 {
            let port = free_port()?;
            let mut f = std::fs::File::create(&ini).map_err(|e| Error::io("writing", &ini, e))?;
            // No ignore_startup_parameters: the console must connect to a stock PgBouncer as it is.
            write!(
                f,
                "[databases]\n* = host={} port={}\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\n\
                 unix_socket_dir =\nauth_type = trust\nauth_file = {}\npool_mode = {}\ndefault_pool_size = {}\n\
                 min_pool_size = 0\nreserve_pool_size = 0\nmax_client_conn = 500\nmax_db_connections = {}\n\
                 query_wait_timeout = 60\nlogfile = {}\nadmin_users = postgres\n",
                opts.upstream_host,
                opts.upstream_port,
                users.display(),
                opts.mode,
                opts.pool_size,
                opts.pool_size,
                log.display(),
            )
            .map_err(|e| Error::io("writing", &ini, e))?;
            drop(f);
            if let Some((uid, gid)) = run_as {
                for p in [dir, users.as_path(), ini.as_path()] {
                    std::os::unix::fs::chown(p, Some(uid), Some(gid))
                        .map_err(|e| Error::io("changing the owner of", p, e))?;
                }
            }
            let mut cmd = Command::new(program);
            cmd.arg(&ini)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if let Some((uid, gid)) = run_as {
                cmd.uid(uid).gid(gid);
            }
            stop_with_parent(&mut cmd);
            let child = cmd
                .spawn()
                .map_err(|e| Error::Cluster(format!("could not start pgbouncer: {e}")))?;
            let mut pooler = Pooler {
                child: Some(child),
                port,
                dir: dir.to_path_buf(),
            };
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if let Some(status) = pooler
                    .child
                    .as_mut()
                    .and_then(|c| c.try_wait().ok().flatten())
                {
                    pooler.child = None;
                    last = Some(Error::Cluster(format!(
                        "pgbouncer exited ({status}) while starting: {}",
                        log_tail(&log)
                    )));
                    std::mem::forget(pooler); // its directory is reused for the next try
                    break;
                }
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Ok(pooler);
                }
                if Instant::now() > deadline {
                    return Err(Error::Cluster(
                        "pgbouncer did not accept connections within 20 s".into(),
                    ));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Err(last.expect("tried at least once"))
    }

    /// A `postgres://` URL through the pooler for `user` on `database`.
    pub fn url(&self, user: &str, password: &str, database: &str) -> String {
        format!(
            "postgres://{user}:{password}@127.0.0.1:{}/{database}",
            self.port
        )
    }

    /// The pooler's log (for a failing test's message).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pgbouncer.log")).unwrap_or_default()
    }
}

impl Drop for Pooler {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: signalling our own child (SIGTERM: PgBouncer's immediate shutdown).
            unsafe {
                libc::kill(child.id() as i32, libc::SIGTERM);
            }
            let _ = child.wait();
        }
        std::fs::remove_dir_all(&self.dir).ok();
    }
}
