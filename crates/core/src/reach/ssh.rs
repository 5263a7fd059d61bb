//! SSH tunnels through bastions, with the OpenSSH client the user already has.
//!
//! Why OpenSSH and not a library: it brings `~/.ssh/config` (Host aliases, HostName, User, Port, IdentityFile,
//! ProxyJump chains of any length), the agent, hardware keys and the user's known_hosts for free, on Linux,
//! macOS and Windows (which ships it), and a library would have to re-implement each and would differ from the
//! `ssh` the user tests with.
//!
//! One `ssh -N -L` process per connected database carries every pooled connection as a channel. Its local end
//! is a Unix socket in a private directory (0700) where the OS has them, so no other local user can use the
//! tunnel, and PostgreSQL's TLS still checks the database's own host name through it; on Windows it is a
//! loopback port. The database's host and port are resolved at the far end.
//!
//! Host keys are never trusted silently. ssh runs with a configuration of ours (written to the private
//! directory, no secrets in it) that puts `BatchMode yes` and `StrictHostKeyChecking accept-new` first and
//! then includes the user's own configuration. New keys land only in a per-tunnel file that is deleted with it
//! (the user's known_hosts is never written), and before anything goes through the tunnel each hop's key,
//! read from ssh's own log, must either be one known_hosts already had or the fingerprint the profile pins for
//! that hop (or one accepted for this run). A key known_hosts has for another key, or a pin that differs, is
//! refused with both fingerprints. Everything ssh says is parsed from its log into a diagnosis that names the
//! hop, and that log is never shown raw (it can hold host names only the user should see: it goes to the log
//! file at debug level).

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::AsyncBufReadExt;

use crate::doctor::{Diagnosis, DiagnosisKind};
use crate::error::{Error, Result};

/// The SSH program: `ssh` from the PATH (Windows: `ssh.exe`, the OpenSSH Client feature).
const SSH: &str = "ssh";

/// How many of ssh's log lines are kept for diagnosis (its verbose log grows with every channel).
const LOG_LINES: usize = 400;

/// The way to the database through SSH, as a profile or `--ssh` gives it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshRoute {
    /// What `ssh` itself takes: a `Host` alias of the SSH configuration, `user@host`, or
    /// `ssh://user@host:port`.
    pub destination: String,
    /// Jump hosts before the destination (`-J`), each `[user@]host[:port]` or an alias; they replace a
    /// `ProxyJump` of the configuration, as with `ssh -J`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jumps: Vec<String>,
    /// The SSH configuration file to read (default: the user's, `~/.ssh/config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<PathBuf>,
    /// Host keys the profile pins, by hop (`host:port` as ssh connects to it) to a `SHA256:` fingerprint.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub host_keys: BTreeMap<String, String>,
    /// Fingerprints accepted for this run only (`--ssh-accept`, the app's prompt): never stored by this type.
    #[serde(skip)]
    pub accept: Vec<String>,
}

pub use crate::doctor::{HopKey, SshFailure};

impl SshRoute {
    /// A route to `destination`, optionally through `jumps` (comma-separated lists allowed).
    pub fn new(destination: &str, jumps: &[String]) -> Self {
        SshRoute {
            destination: destination.trim().to_owned(),
            jumps: jumps
                .iter()
                .flat_map(|j| j.split(','))
                .map(|j| j.trim().to_owned())
                .filter(|j| !j.is_empty())
                .collect(),
            ..Default::default()
        }
    }

    /// Checks what a person typed: a destination and jump hosts that ssh reads as hosts, never as options,
    /// and nothing a shell would read (ssh runs its jump commands through one).
    pub fn validate(&self) -> Result<()> {
        check_host_spec("SSH destination", &self.destination)?;
        for j in &self.jumps {
            check_host_spec("SSH jump host", j)?;
        }
        for (hop, fp) in &self.host_keys {
            if !is_fingerprint(fp) || hop.is_empty() || hop.chars().any(char::is_whitespace) {
                return Err(Error::InvalidInput(format!(
                    "pinned host key {hop:?} = {fp:?} is not a hop and a SHA256:… fingerprint"
                )));
            }
        }
        for fp in &self.accept {
            if !is_fingerprint(fp) {
                return Err(Error::InvalidInput(format!(
                    "{fp:?} is not an SSH host key fingerprint: give it as ssh shows it, SHA256:…"
                )));
            }
        }
        Ok(())
    }

    /// The hops in order, as ssh will connect to them (`host:port`), resolved with `ssh -G` through the
    /// SSH configuration. Connects to nothing.
    pub async fn hops(&self) -> Result<Vec<String>> {
        let dir = private_dir()?;
        let config = write_config(dir.path(), self, Duration::from_secs(10)).await?;
        Ok(resolve_chain(&config, &self.destination, &self.jumps, 0)
            .await?
            .into_iter()
            .map(|h| h.name())
            .collect())
    }

    /// The route in words, for messages: `bastion → db-host`.
    pub fn describe(&self) -> String {
        let mut parts: Vec<&str> = self.jumps.iter().map(String::as_str).collect();
        parts.push(&self.destination);
        parts.join(" → ")
    }
}

/// Whether `s` looks like an OpenSSH SHA256 fingerprint.
pub fn is_fingerprint(s: &str) -> bool {
    s.strip_prefix("SHA256:").is_some_and(|b| {
        (40..=50).contains(&b.len())
            && b.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
    })
}

fn check_host_spec(what: &str, s: &str) -> Result<()> {
    let ok = !s.is_empty()
        && s.len() <= 255
        && !s.starts_with('-')
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '.' | '-' | '_' | '@' | ':' | '/' | '[' | ']' | '%')
        });
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "{what} {s:?} is not a host: give a Host alias, user@host, or ssh://user@host:port"
        )))
    }
}

/// One hop as the configuration resolves it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Hop {
    host: String,
    port: u16,
    user: String,
}

impl Hop {
    fn name(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// A private directory for one tunnel: its configuration, its new host keys and its socket.
fn private_dir() -> Result<tempfile::TempDir> {
    let mut b = tempfile::Builder::new();
    b.prefix("tc-ssh-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o700));
    }
    b.tempdir()
        .map_err(|e| Error::io("creating a private directory in", std::env::temp_dir(), e))
}

fn quote(p: &Path) -> String {
    format!("\"{}\"", p.display())
}

/// The `ssh` command with the user's environment (the agent's socket) and nothing read from standard input.
fn ssh_command() -> tokio::process::Command {
    let mut c = tokio::process::Command::new(SSH);
    c.stdin(Stdio::null()).kill_on_drop(true);
    c
}

fn not_installed(e: &std::io::Error) -> Error {
    Error::Connect(Diagnosis::new(
        DiagnosisKind::SshFailed,
        format!("the OpenSSH client (ssh) could not be started: {e}"),
        "install it (Debian/Ubuntu: openssh-client; Windows: the OpenSSH Client optional feature; macOS ships it)",
    ))
}

/// `ssh -G`: the configuration ssh would use for a host, as `key value` lines.
async fn ssh_g(config: Option<&Path>, args: &[String]) -> Result<BTreeMap<String, String>> {
    let mut c = ssh_command();
    c.arg("-G");
    if let Some(cfg) = config {
        c.arg("-F").arg(cfg);
    }
    c.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    let out = tokio::time::timeout(Duration::from_secs(10), c.output())
        .await
        .map_err(|_| {
            Error::Connect(Diagnosis::new(
                DiagnosisKind::SshFailed,
                "ssh took more than 10 s to read its configuration".into(),
                "check the SSH configuration file for a Match exec that hangs",
            ))
        })?
        .map_err(|e| not_installed(&e))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(Error::Connect(Diagnosis::new(
            DiagnosisKind::SshFailed,
            format!(
                "ssh could not read its configuration: {}",
                clean_line(err.lines().last().unwrap_or("no reason given"))
            ),
            "check the SSH destination and the configuration file",
        )));
    }
    let mut map = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some((k, v)) = line.split_once(' ') {
            map.entry(k.to_ascii_lowercase())
                .or_insert_with(|| v.trim().to_owned());
        }
    }
    Ok(map)
}

/// `[user@]host[:port]` or `ssh://[user@]host[:port]` (a jump host as `-J` takes it) as `ssh -G` arguments.
fn host_args(spec: &str) -> Vec<String> {
    let s = spec.strip_prefix("ssh://").unwrap_or(spec);
    let (user, rest) = match s.rsplit_once('@') {
        Some((u, r)) => (Some(u), r),
        None => (None, s),
    };
    let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
        match inner.split_once(']') {
            Some((h, p)) => (h, p.strip_prefix(':')),
            None => (rest, None),
        }
    } else {
        match rest.split_once(':') {
            Some((h, p)) if !p.contains(':') => (h, Some(p)),
            _ => (rest, None),
        }
    };
    let mut args = Vec::new();
    if let Some(u) = user {
        args.extend(["-l".to_owned(), u.to_owned()]);
    }
    if let Some(p) = port.filter(|p| !p.is_empty()) {
        args.extend(["-p".to_owned(), p.to_owned()]);
    }
    args.extend(["--".to_owned(), host.to_owned()]);
    args
}

/// The chain of hops to `spec`, as ssh builds it: the first jump with its own jumps, the others as given
/// (ssh hands each the ones before it with `-J`), then the host itself.
fn resolve_chain<'a>(
    config: &'a Path,
    spec: &'a str,
    jumps: &'a [String],
    depth: usize,
) -> futures::future::BoxFuture<'a, Result<Vec<Hop>>> {
    Box::pin(async move {
        if depth > 16 {
            return Err(Error::Connect(Diagnosis::new(
                DiagnosisKind::SshFailed,
                format!("the SSH configuration's ProxyJump chain to {spec} does not end"),
                "check ProxyJump in the SSH configuration for a loop",
            )));
        }
        let mut args = Vec::new();
        if !jumps.is_empty() {
            args.extend(["-J".to_owned(), jumps.join(",")]);
        }
        args.extend(host_args(spec));
        let g = ssh_g(Some(config), &args).await?;
        let this = Hop {
            host: g
                .get("hostname")
                .cloned()
                .unwrap_or_else(|| spec.to_owned()),
            port: g.get("port").and_then(|p| p.parse().ok()).unwrap_or(22),
            user: g.get("user").cloned().unwrap_or_default(),
        };
        let jumps: Vec<String> = match g.get("proxyjump").map(String::as_str) {
            None | Some("none") | Some("") => Vec::new(),
            Some(list) => list.split(',').map(|j| j.trim().to_owned()).collect(),
        };
        let mut chain = Vec::new();
        if let Some((first, rest)) = jumps.split_first() {
            chain.extend(resolve_chain(config, first, &[], depth + 1).await?);
            for j in rest {
                // ssh gives this jump the ones before it with -J, which replaces its own ProxyJump.
                let before = [first.clone()];
                let mut hops = resolve_chain(config, j, &before, depth + 1).await?;
                chain.extend(hops.pop());
            }
        }
        chain.push(this);
        Ok(chain)
    })
}

/// Writes our ssh configuration: our rules first (ssh takes the first value it reads), then the user's.
async fn write_config(dir: &Path, route: &SshRoute, timeout: Duration) -> Result<PathBuf> {
    // The known_hosts files the user's configuration names for the destination, so ours adds to them.
    let mut probe_args = Vec::new();
    probe_args.extend(host_args(&route.destination));
    let user_config = route.config.clone();
    if let Some(cfg) = &user_config {
        if !cfg.is_file() {
            return Err(Error::Connect(Diagnosis::new(
                DiagnosisKind::SshFailed,
                format!(
                    "the SSH configuration file {} does not exist",
                    cfg.display()
                ),
                "give the path of an ssh_config file, or none for ~/.ssh/config",
            )));
        }
    }
    let user_files = ssh_g(user_config.as_deref(), &probe_args)
        .await?
        .get("userknownhostsfile")
        .cloned()
        .unwrap_or_else(|| "~/.ssh/known_hosts ~/.ssh/known_hosts2".into());
    let accepted = dir.join("new_host_keys");
    let include_user = match &user_config {
        Some(cfg) => quote(cfg),
        None => "~/.ssh/config".to_owned(),
    };
    let text = format!(
        "# Tenant Console: the rules of one SSH tunnel, then the user's configuration. No secrets.\n\
         Host *\n\
         \x20 BatchMode yes\n\
         \x20 StrictHostKeyChecking accept-new\n\
         \x20 UserKnownHostsFile {accepted} {user_files}\n\
         \x20 UpdateHostKeys no\n\
         \x20 Ciphers ^aes128-gcm@openssh.com,aes256-gcm@openssh.com\n\
         \x20 ConnectTimeout {secs}\n\
         \x20 ServerAliveInterval 10\n\
         \x20 ServerAliveCountMax 3\n\
         \x20 ExitOnForwardFailure yes\n\
         \x20 StreamLocalBindUnlink yes\n\
         \x20 ControlMaster no\n\
         \x20 ControlPath none\n\
         \x20 ForwardAgent no\n\
         \x20 ForwardX11 no\n\
         \x20 PermitLocalCommand no\n\
         \x20 RequestTTY no\n\
         \x20 Include {include_user}\n\
         \x20 Include /etc/ssh/ssh_config\n",
        accepted = quote(&accepted),
        secs = timeout.as_secs().max(1),
    );
    let path = dir.join("ssh_config");
    tokio::fs::write(&path, text)
        .await
        .map_err(|e| Error::io("writing", &path, e))?;
    Ok(path)
}

/// Where pooled connections enter the tunnel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocalEnd {
    /// A directory holding `.s.PGSQL.<port>`, PostgreSQL's socket name (the driver's `socket` option).
    Socket { dir: PathBuf, port: u16 },
    /// A loopback port (where the OS has no Unix sockets for ssh).
    Tcp(u16),
}

/// What ssh said so far, and whether its forward is listening.
#[derive(Default)]
struct Log {
    lines: VecDeque<String>,
    listening: bool,
    closed: bool,
}

/// A running SSH tunnel to one database host and port. Dropping it ends ssh and removes its directory.
pub struct Tunnel {
    route: SshRoute,
    target_host: String,
    target_port: u16,
    timeout: Duration,
    dir: tempfile::TempDir,
    config: PathBuf,
    chain: Vec<Hop>,
    local: LocalEnd,
    state: Mutex<Running>,
    /// Serialises restarts: one reconnect at a time.
    restart: tokio::sync::Mutex<()>,
}

struct Running {
    child: Option<tokio::process::Child>,
    log: Arc<Mutex<Log>>,
    keys: Vec<HopKey>,
    restarts: u32,
}

impl std::fmt::Debug for Tunnel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tunnel({})", self.route.describe())
    }
}

impl Tunnel {
    /// Opens a tunnel through `route` to `host:port` (resolved at the far end), within `timeout`, with
    /// every hop's host key checked. Nothing goes through it before that check passed.
    pub async fn open(route: &SshRoute, host: &str, port: u16, timeout: Duration) -> Result<Self> {
        route.validate()?;
        let dir = private_dir()?;
        let config = write_config(dir.path(), route, timeout).await?;
        let chain = resolve_chain(&config, &route.destination, &route.jumps, 0).await?;
        let local = if cfg!(unix) && std::env::var_os("TENANT_CONSOLE_SSH_TCP").is_none() {
            LocalEnd::Socket {
                dir: dir.path().join("pg"),
                port,
            }
        } else {
            LocalEnd::Tcp(free_loopback_port()?)
        };
        if let LocalEnd::Socket { dir: d, .. } = &local {
            std::fs::create_dir_all(d).map_err(|e| Error::io("creating", d, e))?;
        }
        let tunnel = Tunnel {
            route: route.clone(),
            target_host: host.to_owned(),
            target_port: port,
            timeout,
            dir,
            config,
            chain,
            local,
            state: Mutex::new(Running {
                child: None,
                log: Arc::default(),
                keys: Vec::new(),
                restarts: 0,
            }),
            restart: tokio::sync::Mutex::new(()),
        };
        tunnel.start().await?;
        Ok(tunnel)
    }

    /// Where connections enter the tunnel.
    pub fn local(&self) -> &LocalEnd {
        &self.local
    }

    /// The hops and their keys, as checked when the tunnel (re)started: the route an auditor sees.
    pub fn hop_keys(&self) -> Vec<HopKey> {
        self.state.lock().expect("not poisoned").keys.clone()
    }

    /// How often the tunnel was re-opened after it died.
    pub fn restarts(&self) -> u32 {
        self.state.lock().expect("not poisoned").restarts
    }

    /// The route as given.
    pub fn route(&self) -> &SshRoute {
        &self.route
    }

    /// Whether ssh is still running.
    pub fn is_up(&self) -> bool {
        let mut st = self.state.lock().expect("not poisoned");
        match st.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Re-opens the tunnel when ssh has ended (a bastion restarted, a network change): `Ok(true)` when it
    /// was re-opened. The host keys are checked again.
    pub async fn ensure_up(&self) -> Result<bool> {
        if self.is_up() {
            return Ok(false);
        }
        let _one = self.restart.lock().await;
        if self.is_up() {
            return Ok(false);
        }
        tracing::warn!(route = %self.route.describe(), "the SSH tunnel ended: reconnecting through the bastion");
        self.start().await?;
        self.state.lock().expect("not poisoned").restarts += 1;
        Ok(true)
    }

    /// Ends ssh (tests: a tunnel that dies).
    pub fn kill(&self) {
        if let Some(c) = self.state.lock().expect("not poisoned").child.as_mut() {
            c.start_kill().ok();
        }
    }

    /// After a database connection through a working tunnel failed: what ssh said about it, as a
    /// diagnosis naming the last hop, when it said anything.
    pub fn target_failure(&self) -> Option<Diagnosis> {
        let log = self.state.lock().expect("not poisoned").log.clone();
        let log = log.lock().expect("not poisoned");
        let reason = log
            .lines
            .iter()
            .rev()
            .find_map(|l| l.split_once("open failed: ").map(|(_, r)| r.to_owned()))?;
        let last = self.chain.last().map(Hop::name).unwrap_or_default();
        let mut d = Diagnosis::new(
            DiagnosisKind::SshTarget,
            format!(
                "the SSH tunnel works, but its last hop {last} could not reach the database at {}:{}: {}",
                self.target_host,
                self.target_port,
                clean_line(reason.trim_start_matches("connect failed: "))
            ),
            "check the database host and port as that hop sees them (they are resolved there), and that the server listens",
        );
        d.ssh = Some(Box::new(SshFailure {
            hop: Some(last),
            unknown_keys: Vec::new(),
            expected_fingerprint: None,
            presented_fingerprint: None,
        }));
        Some(d)
    }

    async fn start(&self) -> Result<()> {
        {
            let mut st = self.state.lock().expect("not poisoned");
            if let Some(mut old) = st.child.take() {
                old.start_kill().ok();
            }
        }
        let accepted = self.dir.path().join("new_host_keys");
        std::fs::remove_file(&accepted).ok();
        let forward = match &self.local {
            LocalEnd::Socket { dir, port } => {
                let sock = dir.join(format!(".s.PGSQL.{port}"));
                std::fs::remove_file(&sock).ok();
                format!(
                    "{}:{}:{}",
                    sock.display(),
                    bracket(&self.target_host),
                    self.target_port
                )
            }
            LocalEnd::Tcp(p) => format!(
                "127.0.0.1:{p}:{}:{}",
                bracket(&self.target_host),
                self.target_port
            ),
        };
        let mut c = ssh_command();
        c.arg("-F")
            .arg(&self.config)
            .args(["-v", "-N", "-T", "-L", &forward]);
        if !self.route.jumps.is_empty() {
            c.args(["-J", &self.route.jumps.join(",")]);
        }
        c.args(host_args(&self.route.destination));
        c.stdout(Stdio::null()).stderr(Stdio::piped());
        #[cfg(target_os = "linux")]
        // SAFETY: prctl is async-signal-safe; it only sets this child's parent-death signal, so the tunnel
        // ends with the process that opened it even when that one is killed (no Drop runs then).
        unsafe {
            c.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let mut child = c.spawn().map_err(|e| not_installed(&e))?;
        let log: Arc<Mutex<Log>> = Arc::default();
        let notify = Arc::new(tokio::sync::Notify::new());
        if let Some(stderr) = child.stderr.take() {
            let (log, notify) = (log.clone(), notify.clone());
            tokio::spawn(async move {
                let mut lines = tokio::io::BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    tracing::debug!(target: "tenant_console_core::ssh", "{line}");
                    let mut l = log.lock().expect("not poisoned");
                    if line.starts_with("debug1: Local forwarding listening on") {
                        l.listening = true;
                    }
                    if l.lines.len() == LOG_LINES {
                        l.lines.pop_front();
                    }
                    l.lines.push_back(line);
                    drop(l);
                    notify.notify_waiters();
                }
                log.lock().expect("not poisoned").closed = true;
                notify.notify_waiters();
            });
        }
        let deadline = Instant::now() + self.timeout;
        let outcome = loop {
            let waiter = notify.notified();
            let (listening, closed) = {
                let l = log.lock().expect("not poisoned");
                (l.listening, l.closed)
            };
            if listening {
                break Ok(());
            }
            let exited = closed || matches!(child.try_wait(), Ok(Some(_)));
            if exited {
                // Let the reader take the last lines.
                tokio::time::sleep(Duration::from_millis(20)).await;
                break Err(false);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break Err(true);
            }
            tokio::select! {
                _ = waiter => {}
                _ = tokio::time::sleep(left.min(Duration::from_millis(100))) => {}
            }
        };
        let lines: Vec<String> = log
            .lock()
            .expect("not poisoned")
            .lines
            .iter()
            .cloned()
            .collect();
        let seen = parse_hops(&lines);
        match outcome {
            Ok(()) => match self.check_keys(&seen) {
                Ok(keys) => {
                    let mut st = self.state.lock().expect("not poisoned");
                    st.child = Some(child);
                    st.log = log;
                    st.keys = keys;
                    Ok(())
                }
                Err(e) => {
                    child.start_kill().ok();
                    Err(e)
                }
            },
            Err(timed_out) => {
                child.start_kill().ok();
                // A refused key is a key problem even when other lines follow.
                if let Err(e) = self.check_keys(&seen) {
                    if seen.iter().any(|h| h.fingerprint.is_some()) {
                        return Err(e);
                    }
                }
                Err(Error::Connect(self.failure(&lines, &seen, timed_out)))
            }
        }
    }

    /// Every hop's key must be known (known_hosts), pinned or accepted; a pin that differs is a changed key.
    fn check_keys(&self, seen: &[SeenHop]) -> Result<Vec<HopKey>> {
        let mut keys = Vec::new();
        let mut unknown = Vec::new();
        for h in seen {
            let Some(fp) = &h.fingerprint else { continue };
            let mut key = HopKey {
                hop: h.hop.clone(),
                user: h.user.clone(),
                key_type: h.key_type.clone(),
                fingerprint: fp.clone(),
                trusted_by: String::new(),
            };
            if let Some(changed) = &h.changed {
                let expected = changed
                    .clone()
                    .unwrap_or_else(|| "(the key known_hosts has)".into());
                return Err(changed_key(&key, &expected, "known_hosts"));
            }
            match self.route.host_keys.get(&h.hop) {
                Some(pin) if pin != fp => return Err(changed_key(&key, pin, "the profile")),
                Some(_) => key.trusted_by = "pinned".into(),
                None if h.known => key.trusted_by = "known_hosts".into(),
                None if self.route.accept.contains(fp) => key.trusted_by = "accepted".into(),
                None => {
                    unknown.push(key);
                    continue;
                }
            }
            keys.push(key);
        }
        if !unknown.is_empty() {
            let names: Vec<String> = unknown
                .iter()
                .map(|k| format!("{} ({} {})", k.hop, k.key_type, k.fingerprint))
                .collect();
            let mut d = Diagnosis::new(
                DiagnosisKind::SshHostKeyUnknown,
                format!(
                    "the SSH host key of {} is not known: nothing was sent through it",
                    names.join(", ")
                ),
                "compare the fingerprint with the one your administrator gives you, then accept it (it is pinned in the profile), or add the key to known_hosts",
            );
            d.ssh = Some(Box::new(SshFailure {
                hop: unknown.first().map(|k| k.hop.clone()),
                unknown_keys: unknown,
                expected_fingerprint: None,
                presented_fingerprint: None,
            }));
            return Err(Error::Connect(d));
        }
        Ok(keys)
    }

    /// Why ssh ended (or did not get ready in time), naming the hop.
    fn failure(&self, lines: &[String], seen: &[SeenHop], timed_out: bool) -> Diagnosis {
        let names: Vec<String> = self.chain.iter().map(Hop::name).collect();
        let first = names
            .first()
            .cloned()
            .unwrap_or_else(|| self.route.destination.clone());
        // The first hop not yet logged in to is the one that failed; the one before it could not reach it.
        let authenticated: Vec<&SeenHop> = seen.iter().filter(|h| h.authenticated).collect();
        let failing = seen
            .iter()
            .find(|h| !h.authenticated)
            .map(|h| h.hop.clone())
            .or_else(|| names.get(authenticated.len()).cloned());
        let with = |kind, cause: String, hint: &str, hop: Option<String>| {
            let mut d = Diagnosis::new(kind, cause, hint);
            d.ssh = Some(Box::new(SshFailure {
                hop,
                unknown_keys: Vec::new(),
                expected_fingerprint: None,
                presented_fingerprint: None,
            }));
            d
        };
        let find = |needle: &str| lines.iter().find(|l| l.contains(needle));
        if let Some(l) =
            find("ssh: connect to host ").or_else(|| find("ssh: Could not resolve hostname"))
        {
            let why = l.rsplit(": ").next().unwrap_or("").trim();
            return with(
                DiagnosisKind::SshUnreachable,
                format!("the SSH bastion {first} could not be reached: {}", clean_line(why)),
                "check the bastion's name and port, your network or VPN, and that its SSH server runs",
                Some(first),
            );
        }
        if let Some(l) = find("Permission denied (") {
            let hop = seen
                .iter()
                .rev()
                .find(|h| !h.authenticated && h.fingerprint.is_some())
                .map(|h| (h.hop.clone(), h.user.clone()))
                .or_else(|| failing.clone().map(|h| (h, String::new())));
            let (hop, user) = hop.unwrap_or_default();
            let methods = l
                .rsplit('(')
                .next()
                .unwrap_or("")
                .trim_end_matches(").")
                .trim_end_matches(')');
            let locked = seen
                .iter()
                .rev()
                .find(|h| h.hop == hop)
                .and_then(|h| h.accepted_key.clone());
            let hint = match &locked {
                Some(path) => format!(
                    "the hop accepts the key {path}, but it is locked by a passphrase: add it to your SSH agent (ssh-add {path}) and try again"
                ),
                None => "check that the hop has your public key (authorized_keys), and that your agent or IdentityFile offers it".into(),
            };
            return with(
                DiagnosisKind::SshAuth,
                format!(
                    "the SSH hop {hop} refused the login{} ({methods})",
                    if user.is_empty() {
                        String::new()
                    } else {
                        format!(" of user {user:?}")
                    }
                ),
                &hint,
                Some(hop),
            );
        }
        let stdio_failed = find("stdio forwarding failed").is_some();
        if let Some(l) = find("open failed: ").filter(|_| !authenticated.is_empty()) {
            let from = authenticated
                .last()
                .map(|h| h.hop.clone())
                .unwrap_or_default();
            let next = names
                .get(authenticated.len())
                .cloned()
                .unwrap_or_else(|| "the next hop".into());
            let why = l.split_once("open failed: ").map(|(_, r)| r).unwrap_or("");
            return with(
                DiagnosisKind::SshHop,
                format!(
                    "the SSH hop {from} could not reach the next hop {next}: {}",
                    clean_line(why.trim_start_matches("connect failed: "))
                ),
                "check the next hop's name and port as the previous hop sees them, and that its SSH server runs",
                Some(next),
            );
        }
        if stdio_failed || find("kex_exchange_identification").is_some() {
            let from = authenticated.last().map(|h| h.hop.clone());
            let next = failing.clone().unwrap_or_else(|| "the next hop".into());
            return with(
                DiagnosisKind::SshHop,
                match &from {
                    Some(f) => format!("the SSH hop {f} could not reach the next hop {next}"),
                    None => format!("the SSH connection to {next} closed before it began"),
                },
                "check the next hop's name and port as the previous hop sees them, and that its SSH server runs",
                Some(next),
            );
        }
        if timed_out {
            let hop = failing.unwrap_or(first);
            return with(
                DiagnosisKind::SshUnreachable,
                format!(
                    "the SSH route did not open within {:.0} s (stuck at {hop})",
                    self.timeout.as_secs_f64()
                ),
                "check that hop's name and port, your network or VPN, and that its SSH server answers",
                Some(hop),
            );
        }
        let last = lines
            .iter()
            .rev()
            .find(|l| !l.starts_with("debug") && !l.trim().is_empty())
            .map(|l| clean_line(l))
            .unwrap_or_else(|| "no reason given".into());
        with(
            DiagnosisKind::SshFailed,
            format!("ssh ended before the tunnel opened: {last}"),
            "run the same ssh destination in a terminal to see more (the app's log has ssh's own lines)",
            failing,
        )
    }
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        if let Ok(mut st) = self.state.lock() {
            if let Some(c) = st.child.as_mut() {
                c.start_kill().ok();
            }
        }
    }
}

fn changed_key(key: &HopKey, expected: &str, source: &str) -> Error {
    let mut d = Diagnosis::new(
        DiagnosisKind::SshHostKeyChanged,
        format!(
            "THE SSH HOST KEY OF {} HAS CHANGED: {source} has {expected}, the hop presented {} ({}). Someone may be intercepting the connection: nothing was sent",
            key.hop, key.fingerprint, key.key_type
        ),
        "do not accept it before your administrator confirms the new key; then correct known_hosts or the profile's pinned key",
    );
    d.ssh = Some(Box::new(SshFailure {
        hop: Some(key.hop.clone()),
        unknown_keys: Vec::new(),
        expected_fingerprint: Some(expected.to_owned()),
        presented_fingerprint: Some(key.fingerprint.clone()),
    }));
    Error::Connect(d)
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

fn free_loopback_port() -> Result<u16> {
    let l = std::net::TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| Error::io("finding a free port on", "127.0.0.1", e))?;
    Ok(l.local_addr()
        .map_err(|e| Error::io("finding a free port on", "127.0.0.1", e))?
        .port())
}

/// One line of someone else's text made safe to show: no control characters, not too long.
pub(crate) fn clean_line(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let s = s.trim();
    match s.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// One hop as ssh's log tells it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct SeenHop {
    hop: String,
    user: String,
    key_type: String,
    fingerprint: Option<String>,
    known: bool,
    authenticated: bool,
    /// The key known_hosts has instead (its fingerprint, when the file could be read).
    changed: Option<Option<String>>,
    /// A key the hop accepted but that could not be used (a passphrase and no agent).
    accepted_key: Option<String>,
}

/// Reads the hops out of ssh's verbose log (each ssh of a ProxyJump chain logs in turn).
fn parse_hops(lines: &[String]) -> Vec<SeenHop> {
    let mut hops: Vec<SeenHop> = Vec::new();
    for line in lines {
        let l = line.as_str();
        if let Some(rest) = l.strip_prefix("debug1: Authenticating to ") {
            if let Some((hp, user)) = rest.split_once(" as '") {
                hops.push(SeenHop {
                    hop: hp.to_owned(),
                    user: user.trim_end_matches('\'').to_owned(),
                    ..Default::default()
                });
            }
            continue;
        }
        let Some(h) = hops.last_mut() else { continue };
        if let Some(rest) = l.strip_prefix("debug1: Server host key: ") {
            let mut parts = rest.split_whitespace();
            h.key_type = parts.next().unwrap_or_default().to_owned();
            h.fingerprint = parts.next().map(str::to_owned);
        } else if l.starts_with("debug1: Host '") && l.contains("' is known and matches the ") {
            h.known = true;
        } else if l.starts_with("Authenticated to ") {
            h.authenticated = true;
        } else if l.contains("has changed and you have requested strict checking")
            || l.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
        {
            if h.changed.is_none() {
                h.changed = Some(None);
            }
        } else if let Some(rest) = l.strip_prefix("Offending ") {
            // "Offending ED25519 key in /home/u/.ssh/known_hosts:3"
            if let Some((_, at)) = rest.split_once(" key in ") {
                h.changed = Some(known_hosts_fingerprint(at));
            }
        } else if let Some(rest) = l.strip_prefix("debug1: Server accepts key: ") {
            h.accepted_key = rest.split_whitespace().next().map(str::to_owned);
        }
    }
    hops
}

/// The fingerprint of the key on `file:line` of a known_hosts file.
fn known_hosts_fingerprint(at: &str) -> Option<String> {
    let (file, line) = at.trim().rsplit_once(':')?;
    let n: usize = line.parse().ok()?;
    let text = std::fs::read_to_string(file).ok()?;
    let entry = text.lines().nth(n.checked_sub(1)?)?;
    let mut fields = entry.split_whitespace();
    let mut f = fields.next()?;
    if f.starts_with('@') {
        f = fields.next()?;
    }
    let _ = f;
    let _key_type = fields.next()?;
    let blob = fields.next()?;
    fingerprint_of_blob(blob)
}

/// OpenSSH's `SHA256:` fingerprint of a base64 public key blob.
pub fn fingerprint_of_blob(blob_b64: &str) -> Option<String> {
    use base64::Engine;
    use sha2::Digest;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(blob_b64)
        .ok()?;
    let digest = sha2::Sha256::digest(raw);
    Some(format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &str) -> Vec<String> {
        s.lines().map(str::to_owned).collect()
    }

    #[test]
    fn destinations_that_ssh_or_a_shell_would_read_as_something_else_are_refused() {
        for bad in [
            "-oProxyCommand=touch /tmp/x",
            "host;rm -rf ~",
            "a b",
            "$(id)",
            "`id`",
            "h\nProxyCommand x",
            "",
            "host|x",
        ] {
            assert!(SshRoute::new(bad, &[]).validate().is_err(), "{bad:?}");
            assert!(
                SshRoute::new("ok", &[bad.to_owned()]).validate().is_err() || bad.is_empty(),
                "{bad:?}"
            );
        }
        for good in [
            "bastion",
            "ops@bastion.example",
            "ssh://ops@10.0.0.1:2222",
            "[::1]",
            "a_b.c-d",
        ] {
            SshRoute::new(good, &["j1,j2".into()]).validate().unwrap();
        }
        assert_eq!(
            SshRoute::new("d", &["a, b".into(), "c".into()]).jumps,
            ["a", "b", "c"]
        );
    }

    #[test]
    fn jump_specs_become_ssh_arguments() {
        assert_eq!(
            host_args("ops@b:2222"),
            ["-l", "ops", "-p", "2222", "--", "b"]
        );
        assert_eq!(host_args("ssh://b"), ["--", "b"]);
        assert_eq!(host_args("[::1]:22"), ["-p", "22", "--", "::1"]);
        assert_eq!(host_args("alias"), ["--", "alias"]);
    }

    #[test]
    fn fingerprints_are_openssh_sha256() {
        // An ed25519 key and the fingerprint `ssh-keygen -l` printed for it.
        let blob = "AAAAC3NzaC1lZDI1NTE5AAAAIAe83ARCrao45GwvQZNwORTiLVBzLY3f0c3jwWiNR/3S";
        let fp = fingerprint_of_blob(blob).unwrap();
        assert_eq!(fp, "SHA256:PKtcAqLa5eq8M01Nfehq/wG7UyyxidlrGmxOkAx6DZE");
        assert!(is_fingerprint(&fp), "{fp}");
        assert!(!is_fingerprint("MD5:aa:bb"));
        assert!(!is_fingerprint("SHA256:short"));
    }

    #[test]
    fn the_log_of_a_two_hop_chain_names_each_hop_and_its_key() {
        let log = lines(
            "debug1: Authenticating to 10.1.1.2:22 as 'ops'\n\
             debug1: Server host key: ssh-ed25519 SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n\
             debug1: Host '10.1.1.2' is known and matches the ED25519 host key.\n\
             Authenticated to 10.1.1.2 ([10.1.1.2]:22) using \"publickey\".\n\
             debug1: Authenticating to inner:22 as 'ops'\n\
             debug1: Server host key: ssh-ed25519 SHA256:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\n\
             Warning: Permanently added 'inner' (ED25519) to the list of known hosts.\n\
             debug1: Server accepts key: /k/id_ed25519 ED25519 SHA256:x explicit\n\
             ops@inner: Permission denied (publickey).",
        );
        let hops = parse_hops(&log);
        assert_eq!(hops.len(), 2);
        assert!(hops[0].known && hops[0].authenticated);
        assert_eq!(hops[1].hop, "inner:22");
        assert!(!hops[1].known && !hops[1].authenticated);
        assert_eq!(hops[1].accepted_key.as_deref(), Some("/k/id_ed25519"));
    }
}
