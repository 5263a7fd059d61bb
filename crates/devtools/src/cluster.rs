//! A private PostgreSQL cluster under a directory of ours: the demo database, and the server the
//! authentication and TLS tests need (the machine's own server may trust every loopback login).
//!
//! It runs the distribution's `initdb` and `postgres` binaries: password logins over TCP
//! (`scram-sha-256`), socket logins only for the owner of the directory, optionally TLS with a CA and server
//! certificate made with `openssl`. The server is a child of this process and is told to stop when the thread
//! that started it ends ([`Running`] stops it on drop too), so a test run or a demo leaves no server behind.
//! PostgreSQL refuses to run as root: when we are root (containers), the server runs as the `postgres` user.

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tenant_console_core::error::{Error, Result};

/// How to create a cluster.
#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// Serve TLS with a certificate for `localhost` and `127.0.0.1`, signed by a CA made for this cluster.
    pub tls: bool,
    /// The password of the `postgres` superuser for TCP logins.
    pub superuser_password: String,
}

/// An initialised cluster directory (not necessarily running).
#[derive(Clone, Debug)]
pub struct LocalCluster {
    pub dir: PathBuf,
    bindir: PathBuf,
    /// (uid, gid) to run as when we are root.
    run_as: Option<(u32, u32)>,
}

/// A running server. Dropping it stops the server (fast shutdown) and waits for it.
pub struct Running {
    child: Option<Child>,
    pub port: u16,
    /// The socket directory (inside the cluster directory).
    pub socket_dir: PathBuf,
    /// The CA certificate that signed the server's certificate, when TLS is on.
    pub ca_file: Option<PathBuf>,
}

/// Finds PostgreSQL's server binaries: `$PG_BINDIR`, else the newest `/usr/lib/postgresql/*/bin`, else `$PATH`.
pub fn bindir() -> Result<PathBuf> {
    if let Some(d) = std::env::var_os("PG_BINDIR") {
        return Ok(PathBuf::from(d));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        if dir.join("initdb").exists() {
            return Ok(dir);
        }
    }
    Err(Error::Cluster(
        "PostgreSQL's server programs (initdb, postgres) were not found; install the postgresql package or set PG_BINDIR".into(),
    ))
}

pub(crate) fn postgres_user_when_root() -> Result<Option<(u32, u32)>> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let name = std::ffi::CString::new("postgres").expect("no NUL");
    // SAFETY: getpwnam returns NULL or a pointer to a static record, read at once.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return Err(Error::Cluster(
            "running as root, and there is no 'postgres' user to run the server as".into(),
        ));
    }
    // SAFETY: pw is non-null and points to a valid passwd record.
    Ok(Some(unsafe { ((*pw).pw_uid, (*pw).pw_gid) }))
}

/// Whether clusters started by this process run as another user (`postgres`, because we are root), so their
/// directory must be one that user can reach.
pub fn runs_as_postgres_user() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Checks that `uid`/`gid` may walk through every directory above `dir` (as root we create the cluster, but
/// the server runs as `postgres`: a data directory under `/root`, mode 0700, would fail deep inside initdb).
fn reachable_by(dir: &Path, (uid, gid): (u32, u32)) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let abs = std::path::absolute(dir).map_err(|e| Error::io("locating", dir, e))?;
    for ancestor in abs.ancestors().skip(1) {
        let Ok(m) = std::fs::metadata(ancestor) else {
            continue; // created below, by us, and handed over with the cluster
        };
        let mode = m.mode();
        let may_enter = if m.uid() == uid {
            mode & 0o100 != 0
        } else if m.gid() == gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        if !may_enter {
            return Err(Error::Cluster(format!(
                "running as root, the server runs as the postgres user, which cannot enter {}; choose a \
                 directory it can reach",
                ancestor.display()
            )));
        }
    }
    Ok(())
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Cluster(format!("could not run {what}: {e}")))?;
    if !out.status.success() {
        return Err(Error::Cluster(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

fn chown_tree(path: &Path, owner: Option<(u32, u32)>) -> Result<()> {
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(path, Some(uid), Some(gid))
            .map_err(|e| Error::io("changing the owner of", path, e))?;
        if path.is_dir() {
            for e in std::fs::read_dir(path).map_err(|e| Error::io("reading", path, e))? {
                let e = e.map_err(|e| Error::io("reading", path, e))?;
                chown_tree(&e.path(), owner)?;
            }
        }
    }
    Ok(())
}

/// Has the child sent SIGINT (a fast shutdown for postgres, a safe one for PgBouncer) when the thread that
/// started it ends, so a server cannot outlive whoever started it.
pub(crate) fn stop_with_parent(cmd: &mut Command) {
    // SAFETY: prctl is async-signal-safe; it only sets this child's parent-death signal.
    unsafe {
        cmd.pre_exec(|| {
            #[cfg(target_os = "linux")]
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT);
            Ok(())
        });
    }
}

/// The last lines of a server's log, for the message of a server that would not start.
pub(crate) fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines().rev().take(3).collect::<Vec<_>>().join(" | ")
}

/// Asks the OS for a free TCP port on loopback.
pub fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::Cluster(format!("no free port: {e}")))?;
    Ok(l.local_addr().expect("bound").port())
}

impl LocalCluster {
    /// The cluster in `dir` (not made yet): PostgreSQL's programs found, and, as root, the directory made
    /// reachable by the `postgres` user the server runs as.
    fn at(dir: &Path) -> Result<Self> {
        let run_as = postgres_user_when_root()?;
        let c = LocalCluster {
            dir: dir.to_path_buf(),
            bindir: bindir()?,
            run_as,
        };
        if let Some(owner) = run_as {
            reachable_by(dir, owner)?;
        }
        Ok(c)
    }

    /// Opens the cluster in `dir`, creating it with `initdb` first when the directory holds none.
    pub fn open_or_init(dir: &Path, opts: &ClusterOptions) -> Result<Self> {
        let c = Self::at(dir)?;
        if dir.join("PG_VERSION").exists() {
            return Ok(c);
        }
        std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io("protecting", dir, e))?;
        let pwfile = dir.with_extension("pw.tmp");
        {
            let mut f =
                std::fs::File::create(&pwfile).map_err(|e| Error::io("writing", &pwfile, e))?;
            std::fs::set_permissions(&pwfile, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| Error::io("protecting", &pwfile, e))?;
            f.write_all(opts.superuser_password.as_bytes())
                .map_err(|e| Error::io("writing", &pwfile, e))?;
        }
        chown_tree(dir, c.run_as)?;
        chown_tree(&pwfile, c.run_as)?;
        let mut cmd = c.command("initdb");
        cmd.arg("-D")
            .arg(dir)
            .args([
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ])
            .args(["--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"])
            .arg(format!("--pwfile={}", pwfile.display()));
        let result = run(&mut cmd, "initdb");
        std::fs::remove_file(&pwfile).ok();
        result?;
        if opts.tls {
            c.make_certificates()?;
        }
        Ok(c)
    }

    /// Makes a streaming hot standby of the running server `primary` in `dir` (`pg_basebackup -R`, over the
    /// primary's socket, where its owner replicates without a password). Start it like any cluster.
    pub fn standby_of(primary: &ProcessServer, dir: &Path) -> Result<Self> {
        let c = Self::at(dir)?;
        std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io("protecting", dir, e))?;
        chown_tree(dir, c.run_as)?;
        let mut cmd = c.command("pg_basebackup");
        cmd.arg("-D")
            .arg(dir)
            .args(["-R", "-X", "stream", "-c", "fast", "-U", "postgres", "-h"])
            .arg(&primary.socket_dir)
            .args(["-p", &primary.port.to_string()]);
        run(&mut cmd, "pg_basebackup")?;
        Ok(c)
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bindir.join(program));
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid).gid(gid);
        }
        cmd.env_remove("PGPASSWORD").env("LC_ALL", "C.UTF-8");
        cmd
    }

    /// `program` run inside network namespace `ns` (`ip netns exec`), as the postgres user when we are root
    /// (setpriv executes it in place, so signals reach the server itself).
    fn command_in(&self, ns: &str, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns]);
        if let Some((uid, gid)) = self.run_as {
            cmd.args([
                "setpriv",
                &format!("--reuid={uid}"),
                &format!("--regid={gid}"),
                "--init-groups",
                "--",
            ]);
        }
        cmd.arg(self.bindir.join(program));
        cmd.env_remove("PGPASSWORD").env("LC_ALL", "C.UTF-8");
        cmd
    }

    fn tls_dir(&self) -> PathBuf {
        self.dir.join("tls")
    }

    /// Makes a CA and a server certificate for localhost/127.0.0.1 with openssl, and turns ssl on.
    fn make_certificates(&self) -> Result<()> {
        let d = self.tls_dir();
        std::fs::create_dir_all(&d).map_err(|e| Error::io("creating", &d, e))?;
        let ext = d.join("server.ext");
        std::fs::write(
            &ext,
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        )
        .map_err(|e| Error::io("writing", &ext, e))?;
        let openssl = |args: &[&str]| {
            run(
                Command::new("openssl").current_dir(&d).args(args),
                "openssl (install the openssl package)",
            )
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        openssl(
            &[
                &["req", "-x509"][..],
                &ec,
                &[
                    "-days",
                    "3650",
                    "-subj",
                    "/CN=Tenant Console local CA",
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.crt",
                ],
            ]
            .concat(),
        )?;
        openssl(
            &[
                &["req"][..],
                &ec,
                &[
                    "-subj",
                    "/CN=localhost",
                    "-keyout",
                    "server.key",
                    "-out",
                    "server.csr",
                ],
            ]
            .concat(),
        )?;
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "3650",
            "-out",
            "server.crt",
            "-extfile",
            "server.ext",
        ])?;
        let key = d.join("server.key");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io("protecting", &key, e))?;
        chown_tree(&d, self.run_as)?;
        let conf = self.dir.join("postgresql.conf");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&conf)
            .map_err(|e| Error::io("writing", &conf, e))?;
        writeln!(
            f,
            "\nssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'",
            d.join("server.crt").display(),
            key.display()
        )
        .map_err(|e| Error::io("writing", &conf, e))?;
        Ok(())
    }

    /// Starts the server on `port` (loopback only) and waits until it accepts connections.
    ///
    /// The server is asked to stop when the calling thread ends; callers that share one server between
    /// threads start it from a thread that lives as long as the process.
    pub fn start(&self, port: u16) -> Result<Running> {
        self.start_in(port, None)
    }

    /// Starts the server inside the network namespace `netns` (listening on that namespace's loopback only),
    /// or in this one when `None`. Its socket stays in the cluster directory, reachable from here: that is how
    /// a test sets the database up; the console reaches it only through the namespace's own network.
    pub fn start_in(&self, port: u16, netns: Option<&str>) -> Result<Running> {
        let socket_dir = self.dir.clone();
        let log = self.dir.join("server.log");
        let log_file = std::fs::File::create(&log).map_err(|e| Error::io("creating", &log, e))?;
        chown_tree(&log, self.run_as)?;
        let mut cmd = match netns {
            None => self.command("postgres"),
            Some(ns) => self.command_in(ns, "postgres"),
        };
        cmd.arg("-D")
            .arg(&self.dir)
            .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
            .arg("-k")
            .arg(&socket_dir)
            .args(["-c", "fsync=off", "-c", "max_connections=60"])
            .stdin(Stdio::null())
            .stdout(
                log_file
                    .try_clone()
                    .map_err(|e| Error::io("opening", &log, e))?,
            )
            .stderr(log_file);
        stop_with_parent(&mut cmd);
        let child = cmd
            .spawn()
            .map_err(|e| Error::Cluster(format!("could not start postgres: {e}")))?;
        let mut running = Running {
            child: Some(child),
            port,
            socket_dir: socket_dir.clone(),
            ca_file: self
                .tls_dir()
                .join("ca.crt")
                .exists()
                .then(|| self.tls_dir().join("ca.crt")),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = running
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                running.child = None;
                return Err(Error::Cluster(format!(
                    "postgres exited ({status}) while starting: {}",
                    log_tail(&log)
                )));
            }
            // Asked over its socket, which works from any namespace.
            let ready = Command::new(self.bindir.join("pg_isready"))
                .arg("-q")
                .arg("-h")
                .arg(&socket_dir)
                .args(["-p", &port.to_string()])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if ready {
                return Ok(running);
            }
            if Instant::now() > deadline {
                return Err(Error::Cluster(
                    "postgres did not become ready within 60 s".into(),
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Running {
    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Stops the server now (fast shutdown) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: sending a signal to our own child's pid.
            unsafe {
                libc::kill(child.id() as i32, libc::SIGINT);
            }
            let _ = child.wait();
        }
    }

    /// Stops the server abruptly (SIGKILL), as a crash would: for tests of a database dying mid-work.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Where a server started by [`start_for_process`] listens.
#[derive(Clone, Debug)]
pub struct ProcessServer {
    /// The temporary directory holding the cluster (removed at exit).
    pub dir: PathBuf,
    pub port: u16,
    /// The socket directory: `postgres` logs in there without a password.
    pub socket_dir: PathBuf,
    /// The CA certificate that signed the server's certificate, when TLS is on.
    pub ca_file: Option<PathBuf>,
}

/// Servers to stop, and their directories to remove, when the process exits.
static AT_EXIT: Mutex<Vec<(u32, PathBuf)>> = Mutex::new(Vec::new());

const PROCESS_PREFIX: &str = "tc-cluster-";

extern "C" fn stop_process_servers() {
    let servers = std::mem::take(&mut *AT_EXIT.lock().unwrap_or_else(|e| e.into_inner()));
    for (pid, dir) in servers {
        // SAFETY: signalling and reaping our own child process.
        unsafe {
            libc::kill(pid as i32, libc::SIGINT);
            libc::waitpid(pid as i32, std::ptr::null_mut(), 0);
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// Removes the directories of earlier runs that died without cleaning up (killed): those whose owner
/// process is gone.
fn sweep_stale(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().starts_with(PROCESS_PREFIX) {
            continue;
        }
        let owner = std::fs::read_to_string(e.path().join("owner.pid"))
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok());
        if let Some(pid) = owner {
            if !Path::new(&format!("/proc/{pid}")).exists() {
                std::fs::remove_dir_all(e.path()).ok();
            }
        }
    }
}

/// Creates a cluster in a fresh temporary directory and starts it for the rest of this process: from a
/// thread that never ends (the server is told to stop when its starting thread ends), stopped and removed
/// by an exit handler, and swept by the next run if this process is killed. For test binaries that share one
/// server between their tests, and for tools that need one for their whole run.
pub fn start_for_process(opts: &ClusterOptions) -> Result<ProcessServer> {
    let dir = process_dir()?;
    let cluster = LocalCluster::open_or_init(&dir.join("pg"), opts).inspect_err(|_| {
        std::fs::remove_dir_all(&dir).ok();
    })?;
    run_for_process(cluster, dir)
}

/// A streaming hot standby of `primary` (itself started with [`start_for_process`]), started for the rest of
/// this process in the same way.
pub fn start_standby_for_process(primary: &ProcessServer) -> Result<ProcessServer> {
    let dir = process_dir()?;
    let cluster = LocalCluster::standby_of(primary, &dir.join("pg")).inspect_err(|_| {
        std::fs::remove_dir_all(&dir).ok();
    })?;
    run_for_process(cluster, dir)
}

/// A fresh temporary directory for a server of this process, marked with its pid for [`sweep_stale`].
fn process_dir() -> Result<PathBuf> {
    let base = std::env::temp_dir();
    sweep_stale(&base);
    let dir = tempfile::Builder::new()
        .prefix(PROCESS_PREFIX)
        .tempdir_in(&base)
        .map_err(|e| Error::io("creating a temporary directory in", &base, e))?
        .keep();
    // When we are root the server runs as `postgres`, which must be able to walk into its data directory.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| Error::io("opening up", &dir, e))?;
    let owner = dir.join("owner.pid");
    std::fs::write(&owner, std::process::id().to_string())
        .map_err(|e| Error::io("writing", &owner, e))?;
    Ok(dir)
}

fn run_for_process(cluster: LocalCluster, dir: PathBuf) -> Result<ProcessServer> {
    let fail = |e: Error| {
        std::fs::remove_dir_all(&dir).ok();
        e
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let started = std::thread::Builder::new()
        .name("tc-cluster".into())
        .spawn(move || {
            // Another process may take a free port before the server binds it: try a few.
            let mut last = None;
            for _ in 0..3 {
                match free_port().and_then(|port| cluster.start(port)) {
                    Ok(running) => {
                        let pid = running.pid().expect("a started server has a pid");
                        let _ = tx.send(Ok((
                            pid,
                            running.port,
                            running.socket_dir.clone(),
                            running.ca_file.clone(),
                        )));
                        loop {
                            std::thread::park();
                        }
                    }
                    Err(e) => last = Some(e),
                }
            }
            let _ = tx.send(Err(last.expect("tried at least once")));
        })
        .map_err(|e| fail(Error::Cluster(format!("cannot start a thread: {e}"))))?;
    drop(started);
    let (pid, port, socket_dir, ca_file) = rx
        .recv()
        .map_err(|_| Error::Cluster("the server thread ended".into()))
        .and_then(|r| r)
        .map_err(fail)?;
    static REGISTER: std::sync::Once = std::sync::Once::new();
    REGISTER.call_once(|| {
        // SAFETY: registers a plain extern "C" function that runs once, at exit.
        unsafe {
            libc::atexit(stop_process_servers);
        }
    });
    AT_EXIT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((pid, dir.clone()));
    Ok(ProcessServer {
        dir,
        port,
        socket_dir,
        ca_file,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_the_server_user_cannot_enter_is_named_before_initdb_runs() {
        let base = tempfile::tempdir().unwrap();
        let private = base.path().join("home");
        std::fs::create_dir(&private).unwrap();
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
        // nobody:nogroup is neither the owner nor in the group of these directories.
        let nobody = (65534, 65534);
        let e = reachable_by(&private.join("demo").join("pg"), nobody).unwrap_err();
        assert!(e.to_string().contains("cannot enter"), "{e}");
        assert!(e.to_string().contains(&*private.to_string_lossy()), "{e}");
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o711)).unwrap();
        reachable_by(&private.join("demo").join("pg"), nobody).unwrap();
    }
}
