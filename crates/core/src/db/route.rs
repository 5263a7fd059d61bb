//! The way to one server, kept open for a connected database: the SSH tunnel (re-opened when it dies) and the
//! password (run again from the password command before every new server connection).
//!
//! The pool connects lazily with fixed options; [`Route::prepare`] refreshes them just before the pool may
//! open a connection (no idle one left, or a tunnel that was re-opened), so a token that rotated an hour later
//! is picked up with nothing for the user to do.

use std::sync::Arc;

use secrecy::SecretString;
use serde::Serialize;
use sqlx::postgres::PgConnectOptions;

use super::ConnectSpec;
use crate::doctor::Diagnosis;
use crate::error::{Error, Result};
use crate::reach::ssh::{HopKey, LocalEnd, Tunnel};

/// How the console reached the server: what the access record and the export manifest say.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct RouteInfo {
    /// `direct`, or `ssh` (through the hops).
    pub via: String,
    /// The SSH hops in order, each with the host key it presented and why it was trusted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hops: Vec<HopKey>,
    /// The password came from a command (a short-lived token), not a stored password.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub password_command: bool,
}

impl RouteInfo {
    /// One line: `ssh bastion:22 (SHA256:…) → inner:22 (SHA256:…)`, or `direct`.
    pub fn describe(&self) -> String {
        if self.hops.is_empty() {
            return self.via.clone();
        }
        let hops: Vec<String> = self
            .hops
            .iter()
            .map(|h| format!("{} ({})", h.hop, h.fingerprint))
            .collect();
        format!("ssh {}", hops.join(" → "))
    }
}

/// What the app shows while the tunnel is re-opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RouteStatus {
    Up,
    Reconnecting { route: String },
    Down { message: String },
}

/// An open way to a server.
pub struct Route {
    spec: ConnectSpec,
    tunnel: Option<Arc<Tunnel>>,
    status: tokio::sync::watch::Sender<RouteStatus>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Route({})", self.info().describe())
    }
}

impl Route {
    /// Opens the tunnel, when the spec goes through SSH, with the spec's connect timeout.
    pub async fn open(spec: &ConnectSpec) -> Result<Self> {
        let tunnel = match &spec.ssh {
            Some(route) => Some(Arc::new(
                Tunnel::open(route, &spec.host, spec.port, spec.connect_timeout).await?,
            )),
            None => None,
        };
        Ok(Route {
            spec: spec.clone(),
            tunnel,
            status: tokio::sync::watch::channel(RouteStatus::Up).0,
        })
    }

    pub fn spec(&self) -> &ConnectSpec {
        &self.spec
    }

    /// Whether connections go through an SSH tunnel.
    pub fn tunnelled(&self) -> bool {
        self.tunnel.is_some()
    }

    /// The route as evidence.
    pub fn info(&self) -> RouteInfo {
        RouteInfo {
            via: if self.tunnel.is_some() {
                "ssh"
            } else {
                "direct"
            }
            .to_owned(),
            hops: self
                .tunnel
                .as_ref()
                .map(|t| t.hop_keys())
                .unwrap_or_default(),
            password_command: self.spec.password_command.is_some(),
        }
    }

    /// Changes of the tunnel's state (the app shows "reconnecting through bastion…").
    pub fn watch(&self) -> tokio::sync::watch::Receiver<RouteStatus> {
        self.status.subscribe()
    }

    /// The tunnel itself (tests kill it to see it re-opened).
    pub fn tunnel(&self) -> Option<&Arc<Tunnel>> {
        self.tunnel.as_ref()
    }

    /// Makes the way ready for a new server connection: re-opens a tunnel that died; returns whether it did.
    pub async fn ensure_up(&self) -> Result<bool> {
        let Some(t) = &self.tunnel else {
            return Ok(false);
        };
        if t.is_up() {
            return Ok(false);
        }
        self.status.send_replace(RouteStatus::Reconnecting {
            route: t.route().describe(),
        });
        match t.ensure_up().await {
            Ok(r) => {
                self.status.send_replace(RouteStatus::Up);
                Ok(r)
            }
            Err(e) => {
                self.status.send_replace(RouteStatus::Down {
                    message: e.to_string(),
                });
                Err(e)
            }
        }
    }

    /// The password for a new connection: the command's output now, else the spec's.
    async fn password(&self) -> Result<Option<SecretString>> {
        match &self.spec.password_command {
            Some(cmd) => Ok(Some(cmd.run().await?)),
            None => Ok(self.spec.password.clone()),
        }
    }

    /// Connect options for a new server connection, through the tunnel, with a fresh password.
    pub async fn options(&self) -> Result<PgConnectOptions> {
        self.ensure_up().await?;
        let password = self.password().await?;
        Ok(self
            .spec
            .options_via(self.tunnel.as_ref().map(|t| t.local()), password.as_ref()))
    }

    /// Options without running the password command (the pool's first, lazily used options).
    pub(crate) fn options_now(&self, password: Option<&SecretString>) -> PgConnectOptions {
        self.spec
            .options_via(self.tunnel.as_ref().map(|t| t.local()), password)
    }

    /// After a connection through a working tunnel failed: what the tunnel's last hop said about it.
    pub fn target_failure(&self) -> Option<Diagnosis> {
        self.tunnel.as_ref().and_then(|t| t.target_failure())
    }

    /// A connection error explained by the tunnel when it has something to say (the database refused at
    /// the far end), else as it is.
    pub(crate) fn explain(&self, e: Error) -> Error {
        match (&e, self.target_failure()) {
            (Error::Connect(_) | Error::ConnectionLost(_), Some(d)) => Error::Connect(d),
            _ => e,
        }
    }
}

/// Where the local end of a tunnel puts the driver.
pub(crate) fn apply_local(o: PgConnectOptions, local: Option<&LocalEnd>) -> PgConnectOptions {
    match local {
        // The host stays the database's, so TLS checks its name; the bytes go to the socket.
        Some(LocalEnd::Socket { dir, port }) => o.socket(dir).port(*port),
        Some(LocalEnd::Tcp(port)) => o.host("127.0.0.1").port(*port),
        None => o,
    }
}
