//! A real SSH topology on this machine, for the tests and benchmarks of tunnels: two network namespaces made
//! for one lab, a bastion and an inner host running Debian's OpenSSH server, and a PostgreSQL that listens
//! only on the inner host's own loopback. From the test's namespace the database cannot be reached: only
//! through the bastion, then the inner host.
//!
//! ```text
//!  test (this namespace)  ──veth 10.231.A.0/24──▶  bastion (sshd :22)  ──veth 10.231.A+1.0/24──▶  inner (sshd :22,
//!                                                                                                  postgres 127.0.0.1:5432)
//! ```
//!
//! Names only a hop knows: the bastion resolves `inner.internal`, the inner host `db.internal` (each
//! namespace's own `/etc/netns/NS/hosts`). Before any address of the lab is used, an `unreachable` route for
//! its /23 is added here, so nothing for that range can leave the machine; namespaces, links, routes and
//! processes are removed when the lab is dropped (a panicking test drops it too), and labs of processes that
//! died are swept when the next one starts. Keys and known_hosts are made per lab; a real `ssh-agent` holds
//! the agent-only key. Needs root (network namespaces), `ip`, `sshd`, `ssh-keygen`, `ssh-agent`, `ssh-add`
//! and `setpriv`: a missing one fails the lab with its name, never skips it.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use tenant_console_core::error::{Error, Result};

use crate::cluster::{ClusterOptions, LocalCluster, Running};

/// The reader's password in a lab's database.
pub const READER_PASSWORD: &str = "lab-reader-pw";
/// The database the demo data is in.
pub const DB: &str = "app";
/// The passphrase of the lab's passphrase-protected key.
pub const PASSPHRASE: &str = "correct horse battery";

static LABS: AtomicU32 = AtomicU32::new(0);

/// Which of the lab's user keys a configuration offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Identity {
    /// A key file with no passphrase.
    File,
    /// Only what the lab's agent holds (its key file is gone from disk).
    Agent,
    /// A key file protected by [`PASSPHRASE`].
    Passphrase,
}

/// Which host keys a known_hosts file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Known {
    Both,
    BastionOnly,
    None,
    /// The bastion's name with a key that is not its key (the bastion "changed").
    BastionChanged,
}

/// One running lab. Dropping it removes everything it made.
pub struct Lab {
    pub dir: tempfile::TempDir,
    tag: String,
    pub bastion_ns: String,
    pub inner_ns: String,
    /// The bastion's address, reachable from the test.
    pub bastion_ip: String,
    /// The inner host's address, reachable from the bastion only.
    pub inner_ip: String,
    /// The lab's /23 (its unreachable route on the host).
    pub range: String,
    sshd_bastion: Option<Child>,
    sshd_inner: Option<Child>,
    agent: Option<Child>,
    /// The agent's socket (SSH_AUTH_SOCK for commands that should use it).
    pub agent_sock: PathBuf,
    pg: Option<Running>,
    /// The database's socket directory and port (set-up only: the console goes through SSH).
    pub pg_socket: PathBuf,
    pub pg_port: u16,
    bastion_pub: String,
    inner_pub: String,
    /// A host key no hop has (what a changed key looks like).
    impostor_pub: String,
}

fn need(program: &str) -> Result<()> {
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .any(|d| d.join(program).exists());
    if found {
        Ok(())
    } else {
        Err(Error::Cluster(format!(
            "the SSH lab needs {program}; install it (Debian: openssh-server, openssh-client, iproute2, util-linux)"
        )))
    }
}

fn sh(program: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Cluster(format!("could not run {program}: {e}")))?;
    if !out.status.success() {
        return Err(Error::Cluster(format!(
            "{program} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn ip(args: &[&str]) -> Result<String> {
    sh("ip", args)
}

/// Removes the namespaces, their processes and `/etc/netns` entries of labs whose process is gone, and the
/// unreachable routes of the lab range when no lab is left.
fn sweep_stale() {
    let Ok(list) = ip(&["netns", "list"]) else {
        return;
    };
    let mut live = 0;
    for line in list.lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(rest) = name
            .strip_prefix("tcb-")
            .or_else(|| name.strip_prefix("tci-"))
        else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        match pid {
            Some(pid) if Path::new(&format!("/proc/{pid}")).exists() => live += 1,
            _ => remove_netns(name),
        }
    }
    if live == 0 {
        if let Ok(routes) = ip(&["route", "show", "type", "unreachable"]) {
            for r in routes.lines() {
                if let Some(net) = r
                    .split_whitespace()
                    .nth(1)
                    .filter(|n| n.starts_with("10.231."))
                {
                    ip(&["route", "del", "unreachable", net]).ok();
                }
            }
        }
    }
}

/// Labs of this process not yet removed: (bastion namespace, inner namespace, range).
static LIVE: std::sync::Mutex<Vec<(String, String, String)>> = std::sync::Mutex::new(Vec::new());

extern "C" fn remove_live_labs() {
    let labs = std::mem::take(&mut *LIVE.lock().unwrap_or_else(|e| e.into_inner()));
    for (b, i, range) in labs {
        remove_netns(&b);
        remove_netns(&i);
        ip(&["route", "del", "unreachable", &range]).ok();
    }
}

fn remove_netns(name: &str) {
    if let Ok(pids) = ip(&["netns", "pids", name]) {
        for pid in pids
            .split_whitespace()
            .filter_map(|p| p.parse::<i32>().ok())
        {
            // SAFETY: signalling a process left in our own lab's namespace.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
    ip(&["netns", "del", name]).ok();
    std::fs::remove_dir_all(format!("/etc/netns/{name}")).ok();
}

fn keygen(path: &Path, passphrase: &str) -> Result<String> {
    sh(
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            passphrase,
            "-C",
            "tenant-console-lab",
            "-f",
            path.to_str().expect("utf-8 path"),
        ],
    )?;
    let public = std::fs::read_to_string(path.with_extension("pub"))
        .map_err(|e| Error::io("reading", path.with_extension("pub"), e))?;
    Ok(public
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" "))
}

/// OpenSSH's fingerprint of a public key line (`ssh-keygen -l`).
pub fn fingerprint(public: &str) -> String {
    let blob = public.split_whitespace().nth(1).unwrap_or("");
    tenant_console_core::reach::ssh::fingerprint_of_blob(blob).unwrap_or_default()
}

fn write(path: &Path, text: &str, mode: u32) -> Result<()> {
    let mut f = std::fs::File::create(path).map_err(|e| Error::io("writing", path, e))?;
    f.write_all(text.as_bytes())
        .map_err(|e| Error::io("writing", path, e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("protecting", path, e))?;
    Ok(())
}

impl Lab {
    /// Builds the topology, starts both SSH servers, the agent and the database (migrated, demo data,
    /// `console_reader` with [`READER_PASSWORD`]).
    ///
    /// Its servers are started from a thread that lives as long as the process (they are told to stop when
    /// the thread that started them ends, so a lab shared by tests outlives each test's runtime); a lab never
    /// dropped (a shared one) is removed by an exit handler.
    pub async fn start() -> Result<Lab> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let _ = tx.send(Lab::build());
            loop {
                std::thread::park();
            }
        });
        rx.await
            .map_err(|_| Error::Cluster("the SSH lab's set-up panicked".into()))?
    }

    fn build() -> Result<Lab> {
        for p in [
            "ip",
            "sshd",
            "ssh",
            "ssh-keygen",
            "ssh-agent",
            "ssh-add",
            "setpriv",
        ] {
            need(p)?;
        }
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err(Error::Cluster(
                "the SSH lab makes network namespaces, which needs root".into(),
            ));
        }
        sweep_stale();
        static AT_EXIT: std::sync::Once = std::sync::Once::new();
        // SAFETY: registering a plain extern "C" function.
        AT_EXIT.call_once(|| unsafe {
            libc::atexit(remove_live_labs);
        });
        let pid = std::process::id();
        let n = LABS.fetch_add(1, Ordering::SeqCst);
        let tag = format!("{pid}-{n}");
        let short = format!("{:x}{n}", pid % 0xfffff);
        let a = 2 * ((pid as usize + 37 * n as usize) % 120);
        let range = format!("10.231.{a}.0/23");
        let dir = tempfile::Builder::new()
            .prefix("tc-sshlab-")
            .tempdir_in(std::env::temp_dir())
            .map_err(|e| Error::io("creating", std::env::temp_dir(), e))?;
        // The postgres user must enter it to reach the cluster below.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::io("protecting", dir.path(), e))?;
        let mut lab = Lab {
            dir,
            tag: tag.clone(),
            bastion_ns: format!("tcb-{tag}"),
            inner_ns: format!("tci-{tag}"),
            bastion_ip: format!("10.231.{a}.2"),
            inner_ip: format!("10.231.{}.2", a + 1),
            range: range.clone(),
            sshd_bastion: None,
            sshd_inner: None,
            agent: None,
            agent_sock: PathBuf::new(),
            pg: None,
            pg_socket: PathBuf::new(),
            pg_port: 5432,
            bastion_pub: String::new(),
            inner_pub: String::new(),
            impostor_pub: String::new(),
        };
        // First: nothing for the lab's range may leave this machine.
        ip(&["route", "replace", "unreachable", &range])?;
        LIVE.lock().unwrap_or_else(|e| e.into_inner()).push((
            lab.bastion_ns.clone(),
            lab.inner_ns.clone(),
            range.clone(),
        ));
        let (h, b, c, i) = (
            format!("tvh{short}"),
            format!("tvb{short}"),
            format!("tvc{short}"),
            format!("tvi{short}"),
        );
        let (bns, ins) = (lab.bastion_ns.clone(), lab.inner_ns.clone());
        ip(&["netns", "add", &bns])?;
        ip(&["netns", "add", &ins])?;
        ip(&["link", "add", &h, "type", "veth", "peer", "name", &b])?;
        ip(&["link", "set", &b, "netns", &bns])?;
        ip(&["link", "add", &c, "type", "veth", "peer", "name", &i])?;
        ip(&["link", "set", &c, "netns", &bns])?;
        ip(&["link", "set", &i, "netns", &ins])?;
        ip(&["addr", "add", &format!("10.231.{a}.1/24"), "dev", &h])?;
        ip(&["link", "set", &h, "up"])?;
        let in_ns = |ns: &str, args: &[&str]| {
            let mut v = vec!["netns", "exec", ns, "ip"];
            v.extend_from_slice(args);
            ip(&v)
        };
        in_ns(&bns, &["link", "set", "lo", "up"])?;
        in_ns(
            &bns,
            &["addr", "add", &format!("10.231.{a}.2/24"), "dev", &b],
        )?;
        in_ns(&bns, &["link", "set", &b, "up"])?;
        in_ns(
            &bns,
            &["addr", "add", &format!("10.231.{}.1/24", a + 1), "dev", &c],
        )?;
        in_ns(&bns, &["link", "set", &c, "up"])?;
        in_ns(&ins, &["link", "set", "lo", "up"])?;
        in_ns(
            &ins,
            &["addr", "add", &format!("10.231.{}.2/24", a + 1), "dev", &i],
        )?;
        in_ns(&ins, &["link", "set", &i, "up"])?;
        // Names that only one hop can resolve.
        for (ns, hosts) in [
            (
                &bns,
                format!("127.0.0.1 localhost\n{} inner.internal\n", lab.inner_ip),
            ),
            (&ins, "127.0.0.1 localhost db.internal\n".to_owned()),
        ] {
            let d = PathBuf::from(format!("/etc/netns/{ns}"));
            std::fs::create_dir_all(&d).map_err(|e| Error::io("creating", &d, e))?;
            write(&d.join("hosts"), &hosts, 0o644)?;
        }

        let d = lab.dir.path().to_path_buf();
        lab.bastion_pub = keygen(&d.join("bastion_host_key"), "")?;
        lab.inner_pub = keygen(&d.join("inner_host_key"), "")?;
        lab.impostor_pub = keygen(&d.join("impostor_host_key"), "")?;
        let mut authorized = String::new();
        for (name, pass) in [("id_file", ""), ("id_agent", ""), ("id_pass", PASSPHRASE)] {
            authorized.push_str(&keygen(&d.join(name), pass)?);
            authorized.push('\n');
        }
        write(&d.join("authorized_keys"), &authorized, 0o600)?;

        std::fs::create_dir_all("/run/sshd").ok();
        lab.sshd_bastion = Some(lab.sshd(&bns, &lab.bastion_ip.clone(), "bastion")?);
        lab.sshd_inner = Some(lab.sshd(&ins, &lab.inner_ip.clone(), "inner")?);

        // The agent holds id_agent; its file leaves the disk, so only the agent can offer it.
        lab.agent_sock = d.join("agent.sock");
        // Inside the bastion's namespace, so removing the lab ends it too; its socket is a file, usable here.
        let agent = Command::new("ip")
            .args(["netns", "exec", &bns, "ssh-agent", "-D"])
            .arg("-a")
            .arg(&lab.agent_sock)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Error::Cluster(format!("could not start ssh-agent: {e}")))?;
        lab.agent = Some(agent);
        wait_for(
            &lab.agent_sock,
            Duration::from_secs(10),
            "ssh-agent's socket",
        )?;
        let added = Command::new("ssh-add")
            .arg(d.join("id_agent"))
            .env("SSH_AUTH_SOCK", &lab.agent_sock)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::Cluster(format!("could not run ssh-add: {e}")))?;
        if !added.status.success() {
            return Err(Error::Cluster(format!(
                "ssh-add failed: {}",
                String::from_utf8_lossy(&added.stderr)
            )));
        }
        std::fs::remove_file(d.join("id_agent")).ok();

        // The database, on the inner host's loopback only.
        let pgdir = d.join("pg");
        let cluster = LocalCluster::open_or_init(
            &pgdir,
            &ClusterOptions {
                tls: false,
                superuser_password: "lab-super-pw".into(),
            },
        )?;
        lab.pg = Some(cluster.start_in(lab.pg_port, Some(&ins))?);
        lab.pg_socket = pgdir;
        Ok(lab)
    }

    fn sshd(&self, ns: &str, listen: &str, name: &str) -> Result<Child> {
        let d = self.dir.path();
        let cfg = d.join(format!("sshd_{name}.conf"));
        write(
            &cfg,
            &format!(
                "ListenAddress {listen}:22\nHostKey {key}\nAuthorizedKeysFile {ak}\nPidFile none\nUsePAM no\n\
                 StrictModes no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nAllowTcpForwarding yes\nX11Forwarding no\nMaxStartups 100\n\
                 LogLevel VERBOSE\n",
                key = d.join(format!("{name}_host_key")).display(),
                ak = d.join("authorized_keys").display(),
            ),
            0o600,
        )?;
        let log = d.join(format!("sshd_{name}.log"));
        let log_file = std::fs::File::create(&log).map_err(|e| Error::io("creating", &log, e))?;
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns, "/usr/sbin/sshd", "-D", "-e", "-f"])
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file);
        crate::cluster::stop_with_parent(&mut cmd);
        let child = cmd
            .spawn()
            .map_err(|e| Error::Cluster(format!("could not start sshd: {e}")))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains("Server listening on") {
                return Ok(child);
            }
            if Instant::now() > deadline {
                return Err(Error::Cluster(format!(
                    "sshd ({name}) did not start: {}",
                    text.trim()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sets the lab's database up: the `app` database with the reference schema, the demo data and the
    /// reader's password. Over the database's socket (the console itself only ever goes through SSH).
    pub async fn seed_demo(&self) {
        crate::testing::prepare_demo_database(&self.pg_socket, self.pg_port, DB, READER_PASSWORD)
            .await
    }

    /// The admin pool of the lab's database (over its socket).
    pub async fn admin(&self) -> sqlx::PgPool {
        crate::testing::socket_admin(&self.pg_socket, self.pg_port, DB).await
    }

    /// The bastion's host key fingerprint.
    pub fn bastion_fingerprint(&self) -> String {
        fingerprint(&self.bastion_pub)
    }

    /// The inner host's host key fingerprint.
    pub fn inner_fingerprint(&self) -> String {
        fingerprint(&self.inner_pub)
    }

    /// A known_hosts file holding what `known` says (named as ssh connects: the bastion by address, the
    /// inner host by the name the bastion resolves).
    pub fn known_hosts(&self, known: Known) -> PathBuf {
        let path = self
            .dir
            .path()
            .join(format!("known_hosts_{known:?}").to_lowercase());
        let wrong = &self.impostor_pub;
        let mut text = String::new();
        match known {
            Known::Both => {
                text.push_str(&format!("{} {}\n", self.bastion_ip, self.bastion_pub));
                text.push_str(&format!("inner.internal {}\n", self.inner_pub));
            }
            Known::BastionOnly => {
                text.push_str(&format!("{} {}\n", self.bastion_ip, self.bastion_pub))
            }
            Known::None => {}
            Known::BastionChanged => {
                text.push_str(&format!("{} {}\n", self.bastion_ip, wrong));
                text.push_str(&format!("inner.internal {}\n", self.inner_pub));
            }
        }
        write(&path, &text, 0o600).expect("known_hosts");
        path
    }

    /// An ssh_config with the Host aliases `bastion` and `inner` (inner through ProxyJump bastion), offering
    /// `identity`, reading `known_hosts`.
    pub fn ssh_config(&self, identity: Identity, known_hosts: &Path) -> PathBuf {
        let d = self.dir.path();
        let ident = match identity {
            Identity::File => format!(
                "  IdentityFile {}\n  IdentitiesOnly yes\n  IdentityAgent none\n",
                d.join("id_file").display()
            ),
            Identity::Agent => format!("  IdentityAgent {}\n", self.agent_sock.display()),
            // The agent is asked only for this key: it has it once the person ran ssh-add.
            Identity::Passphrase => format!(
                "  IdentityFile {}\n  IdentitiesOnly yes\n  IdentityAgent {}\n",
                d.join("id_pass").display(),
                self.agent_sock.display()
            ),
        };
        let text = format!(
            "Host bastion\n  HostName {bip}\n  User root\n{ident}  UserKnownHostsFile {kh}\n\
             Host inner\n  HostName inner.internal\n  User root\n  ProxyJump bastion\n{ident}  UserKnownHostsFile {kh}\n\
             Host {bip} inner.internal\n  User root\n{ident}  UserKnownHostsFile {kh}\n",
            bip = self.bastion_ip,
            kh = known_hosts.display(),
        );
        let path = d.join(format!(
            "ssh_config_{}_{}",
            format!("{identity:?}").to_lowercase(),
            known_hosts.file_name().unwrap().to_string_lossy()
        ));
        write(&path, &text, 0o600).expect("ssh_config");
        path
    }

    /// Stops the bastion's SSH server (a bastion that is down).
    pub fn stop_bastion(&mut self) {
        if let Some(mut c) = self.sshd_bastion.take() {
            c.kill().ok();
            c.wait().ok();
        }
    }

    /// Starts the bastion's SSH server again.
    pub fn start_bastion(&mut self) -> Result<()> {
        if self.sshd_bastion.is_none() {
            let (ns, ip) = (self.bastion_ns.clone(), self.bastion_ip.clone());
            self.sshd_bastion = Some(self.sshd(&ns, &ip, "bastion")?);
        }
        Ok(())
    }

    /// Loads the passphrase-protected key into the lab's agent (as a person would with `ssh-add`).
    pub fn add_passphrase_key_to_agent(&self) -> Result<()> {
        let askpass = self.dir.path().join("askpass.sh");
        write(
            &askpass,
            &format!("#!/bin/sh\necho '{PASSPHRASE}'\n"),
            0o700,
        )?;
        let out = Command::new("ssh-add")
            .arg(self.dir.path().join("id_pass"))
            .env("SSH_AUTH_SOCK", &self.agent_sock)
            .env("SSH_ASKPASS", &askpass)
            .env("SSH_ASKPASS_REQUIRE", "force")
            .env("DISPLAY", ":0")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::Cluster(format!("could not run ssh-add: {e}")))?;
        if !out.status.success() {
            return Err(Error::Cluster(format!(
                "ssh-add (passphrase key) failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(())
    }

    /// Whether a TCP connection from the test's own namespace to the database's host gets through.
    pub fn database_reachable_directly(&self) -> bool {
        let addr: std::net::SocketAddr = format!("{}:{}", self.inner_ip, self.pg_port)
            .parse()
            .expect("address");
        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
    }

    /// The lab's tag (in its namespace names).
    pub fn tag(&self) -> &str {
        &self.tag
    }
}

fn wait_for(path: &Path, limit: Duration, what: &str) -> Result<()> {
    let deadline = Instant::now() + limit;
    while !path.exists() {
        if Instant::now() > deadline {
            return Err(Error::Cluster(format!("{what} did not appear")));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in [
            self.sshd_bastion.take(),
            self.sshd_inner.take(),
            self.agent.take(),
        ]
        .into_iter()
        .flatten()
        {
            let mut c = c;
            c.kill().ok();
            c.wait().ok();
        }
        if let Some(mut pg) = self.pg.take() {
            pg.stop();
        }
        remove_netns(&self.bastion_ns);
        remove_netns(&self.inner_ns);
        ip(&["route", "del", "unreachable", &self.range]).ok();
        LIVE.lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(b, _, _)| b != &self.bastion_ns);
    }
}
