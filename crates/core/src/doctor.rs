//! The connection doctor: why a connection failed, in one line, with what to try.
//!
//! Connecting can fail for a dozen reasons that the driver reports in a dozen shapes. [`diagnose`] turns each into
//! a [`Diagnosis`] with a stable kind, a cause a support engineer understands and a hint. It never includes the
//! password or a connection string in what it says.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// What went wrong while connecting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosisKind {
    /// The host name does not resolve.
    Dns,
    /// Nothing listens on that host and port.
    Refused,
    /// No answer in time.
    Timeout,
    /// The TLS handshake or the server's certificate failed.
    Tls,
    /// The server refused the user name or password.
    Auth,
    /// The server has no database of that name.
    DatabaseMissing,
    /// The login lacks a privilege it needs (CONNECT, USAGE, SELECT).
    Privileges,
    /// The server is starting up, shutting down, or full.
    ServerUnavailable,
    /// Something listens on that host and port, but it is not PostgreSQL (or PgBouncer).
    NotPostgres,
    /// The first SSH hop (the bastion) could not be reached: no route, refused, unknown name, no answer.
    SshUnreachable,
    /// An SSH hop refused the login (no key it accepts, a key locked by a passphrase and no agent).
    SshAuth,
    /// An SSH hop works, but could not reach the next hop.
    SshHop,
    /// The SSH tunnel works, but its last hop could not reach the database's host and port.
    SshTarget,
    /// An SSH hop presented a host key that is neither in known_hosts nor pinned by the profile.
    SshHostKeyUnknown,
    /// An SSH hop presented a host key other than the one known_hosts or the profile has for it.
    SshHostKeyChanged,
    /// SSH failed otherwise (not installed, a bad destination, an option it refused).
    SshFailed,
    /// The profile's password command failed, timed out or printed no password.
    PasswordCommand,
    /// Anything else.
    Other,
}

impl DiagnosisKind {
    /// The stable error code for this kind.
    pub fn code(self) -> &'static str {
        match self {
            DiagnosisKind::Dns => "connect_dns",
            DiagnosisKind::Refused => "connect_refused",
            DiagnosisKind::Timeout => "connect_timeout",
            DiagnosisKind::Tls => "connect_tls",
            DiagnosisKind::Auth => "connect_auth",
            DiagnosisKind::DatabaseMissing => "connect_database_missing",
            DiagnosisKind::Privileges => "connect_privileges",
            DiagnosisKind::ServerUnavailable => "connect_server_unavailable",
            DiagnosisKind::NotPostgres => "connect_not_postgres",
            DiagnosisKind::SshUnreachable => "connect_ssh_unreachable",
            DiagnosisKind::SshAuth => "connect_ssh_auth",
            DiagnosisKind::SshHop => "connect_ssh_hop",
            DiagnosisKind::SshTarget => "connect_ssh_target",
            DiagnosisKind::SshHostKeyUnknown => "connect_ssh_host_key_unknown",
            DiagnosisKind::SshHostKeyChanged => "connect_ssh_host_key_changed",
            DiagnosisKind::SshFailed => "connect_ssh_failed",
            DiagnosisKind::PasswordCommand => "connect_password_command",
            DiagnosisKind::Other => "connect_failed",
        }
    }
}

/// One failed connection, explained.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Diagnosis {
    pub kind: DiagnosisKind,
    /// What happened, in one line.
    pub cause: String,
    /// What to try.
    pub hint: String,
    /// For SSH failures: the hop that failed and the host keys involved (what the app's prompt shows).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ssh: Option<Box<SshFailure>>,
    /// The server's or the driver's own words are in the log, not in `cause` (the hint says so).
    #[serde(skip)]
    #[ts(skip)]
    pub details_in_log: bool,
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.cause, self.hint)
    }
}

/// One hop's host key, as the tunnel saw and trusted it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct HopKey {
    /// `host:port` as ssh connected to it (after the SSH configuration).
    pub hop: String,
    /// The SSH user on that hop.
    pub user: String,
    /// The key type (`ssh-ed25519`).
    pub key_type: String,
    /// `SHA256:` fingerprint.
    pub fingerprint: String,
    /// Why it was trusted: `known_hosts`, `pinned` (the profile) or `accepted` (for this run).
    pub trusted_by: String,
}

/// What the app needs to show for an SSH failure: the hop, and for host keys both fingerprints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SshFailure {
    /// The hop that failed (`host:port`), when known.
    pub hop: Option<String>,
    /// Host keys no one vouched for (unknown) or the key presented (changed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[ts(optional = nullable)]
    pub unknown_keys: Vec<HopKey>,
    /// For a changed key: the fingerprint known_hosts or the profile expected.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub expected_fingerprint: Option<String>,
    /// For a changed key: what the hop presented.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub presented_fingerprint: Option<String>,
}

/// Where the connection was going, for the words of the diagnosis (never the password).
#[derive(Clone, Debug)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
}

impl Diagnosis {
    pub(crate) fn new(kind: DiagnosisKind, cause: String, hint: &str) -> Self {
        Diagnosis {
            kind,
            cause,
            hint: hint.to_owned(),
            ssh: None,
            details_in_log: false,
        }
    }

    /// A diagnosis whose details went to the log (the hint says where to look).
    fn logged(kind: DiagnosisKind, cause: String, hint: &str) -> Self {
        Diagnosis {
            details_in_log: true,
            ..Diagnosis::new(kind, cause, hint)
        }
    }

    /// The connection attempt ran out of time (after `waited`, when we know how long).
    pub fn timeout(t: &Target, waited: Option<Duration>) -> Self {
        let within = match waited {
            Some(d) => format!("within {:.1} s", d.as_secs_f64()),
            None => "in time".to_owned(),
        };
        Diagnosis::new(
            DiagnosisKind::Timeout,
            format!("{}:{} did not answer {within}", t.host, t.port),
            "check the host and port, a firewall or VPN in between, and that the server is not overloaded",
        )
    }
}

/// PostgreSQL's SSLRequest: length 8, code 80877103. Every PostgreSQL server and PgBouncer answers it with one
/// byte, `S` or `N`, before anything else.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// What answers at a host and port, asked the way every PostgreSQL client starts (an SSLRequest).
#[derive(Debug)]
pub enum Answer {
    /// PostgreSQL (or PgBouncer), or nothing reachable (the connection attempt says why).
    PostgresOrUnreachable,
    /// Something else answered: certain, the connection cannot succeed.
    NotPostgres(Diagnosis),
    /// It accepted the connection and kept silent: what to say if the connection times out.
    Silent(Diagnosis),
}

/// Asks the target what it is, waiting at most `silence` for each step.
pub async fn what_answers(t: &Target, silence: Duration) -> Answer {
    what_answers_inner(t, silence)
        .await
        .unwrap_or(Answer::PostgresOrUnreachable)
}

async fn what_answers_inner(t: &Target, silence: Duration) -> Option<Answer> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if t.host.starts_with('/') {
        return Some(Answer::PostgresOrUnreachable);
    }
    let at = format!("{}:{}", t.host, t.port);
    let mut stream = tokio::time::timeout(
        silence,
        tokio::net::TcpStream::connect((t.host.as_str(), t.port)),
    )
    .await
    .ok()?
    .ok()?;
    stream.write_all(&SSL_REQUEST).await.ok()?;
    let mut first = [0u8; 48];
    let not_postgres = |said: &str| {
        Diagnosis::new(
            DiagnosisKind::NotPostgres,
            format!("something at {at} answered, but it is not PostgreSQL{said}"),
            "check the port: PostgreSQL usually listens on 5432 and PgBouncer on 6432; this one may be a web server or another service",
        )
    };
    match tokio::time::timeout(silence, stream.read(&mut first)).await {
        Ok(Ok(n)) if n > 0 && matches!(first[0], b'S' | b'N') => Some(Answer::PostgresOrUnreachable),
        Ok(Ok(n)) if n > 0 => {
            // The first printable words it said (a web server's status line), never control characters.
            let said: String = String::from_utf8_lossy(&first[..n])
                .chars()
                .take_while(|c| *c != '\r' && *c != '\n')
                .filter(|c| !c.is_control())
                .take(40)
                .collect();
            Some(Answer::NotPostgres(not_postgres(&if said.trim().is_empty() {
                String::new()
            } else {
                format!(" (it said {:?})", said.trim())
            })))
        }
        // Closed at once without a word.
        Ok(_) => Some(Answer::NotPostgres(not_postgres(
            " (it closed the connection without a word)",
        ))),
        // Not a firewall (that would not have accepted the connection): a hung server, or a service that waits
        // for its own kind of request.
        Err(_) => Some(Answer::Silent(Diagnosis::new(
            DiagnosisKind::Timeout,
            format!(
                "{at} accepted the connection but did not answer as PostgreSQL does (silent for {:.1} s)",
                silence.as_secs_f64()
            ),
            "check the port: something other than PostgreSQL may be listening there (PostgreSQL usually listens on 5432, PgBouncer on 6432), or the server is hung",
        ))),
    }
}

/// Explains a failed connection attempt.
pub fn diagnose(err: &sqlx::Error, t: &Target) -> Diagnosis {
    use DiagnosisKind::*;
    let at = format!("{}:{}", t.host, t.port);
    match err {
        sqlx::Error::Io(io) => {
            let text = io.to_string();
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => Diagnosis::new(
                    Refused,
                    format!("connection refused by {at}"),
                    "is PostgreSQL running there, and listening on that port (listen_addresses, port)?",
                ),
                std::io::ErrorKind::TimedOut => Diagnosis::timeout(t, None),
                // getaddrinfo's words differ by platform and by cause (unknown name, no DNS server at all).
                _ if text.contains("lookup address")
                    || text.contains("Name or service not known")
                    || text.contains("Temporary failure in name resolution")
                    || text.contains("No address associated with hostname")
                    || text.contains("nodename nor servname")
                    || text.contains("No such host") =>
                {
                    Diagnosis::new(
                        Dns,
                        format!("the host name {:?} does not resolve", t.host),
                        "check the spelling of the host, and your DNS or VPN",
                    )
                }
                // rustls reports a refused certificate or a fatal alert through the stream, as InvalidData.
                std::io::ErrorKind::InvalidData
                    if text.contains("certificate") || text.contains("alert") || text.contains("TLS") =>
                {
                    tls_diagnosis(&text, t)
                }
                std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => {
                    Diagnosis::new(
                        Tls,
                        format!("{at} closed the connection during the handshake"),
                        "the server may require TLS (try the TLS mode require) or refuse this client in pg_hba.conf",
                    )
                }
                _ => Diagnosis::new(
                    Other,
                    format!("could not reach {at}: {}", io.kind()),
                    "check the host, port and network",
                ),
            }
        }
        sqlx::Error::Tls(e) => tls_diagnosis(&e.to_string(), t),
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            tracing::info!(sqlstate = %code, error = %db.message(), "connection refused by the server");
            match code.as_str() {
                "28P01" => Diagnosis::new(
                    Auth,
                    format!("password authentication failed for user {:?}", t.user),
                    "check the password (enter it again) and the user name",
                ),
                "28000" => Diagnosis::new(
                    Auth,
                    format!("the server does not let user {:?} connect to {:?}", t.user, t.database),
                    "check that the role exists, can LOGIN, and that pg_hba.conf allows this host",
                ),
                "3D000" => Diagnosis::new(
                    DatabaseMissing,
                    format!("the server at {at} has no database {:?}", t.database),
                    "check the database name",
                ),
                "42501" => Diagnosis::new(
                    Privileges,
                    format!("user {:?} lacks a privilege on {:?}", t.user, t.database),
                    "GRANT CONNECT on the database, USAGE on the schema and SELECT on the tenant tables",
                ),
                "53300" | "57P03" | "57P01" => Diagnosis::new(
                    ServerUnavailable,
                    format!("{at} is not accepting connections right now (SQLSTATE {code})"),
                    "the server is starting, shutting down or full; try again shortly",
                ),
                _ => Diagnosis::logged(
                    Other,
                    format!("the server refused the connection (SQLSTATE {code})"),
                    "the log has the server's message",
                ),
            }
        }
        sqlx::Error::PoolTimedOut => Diagnosis::timeout(t, None),
        other => {
            tracing::info!(error = %other, "connection failed");
            Diagnosis::logged(
                Other,
                format!("could not connect to {at}"),
                "the log has the details",
            )
        }
    }
}

/// Explains a TLS failure from the words of sqlx or rustls (their types are not part of our API, their
/// messages are stable enough: both the Debug and the Display spellings of rustls's errors are matched).
fn tls_diagnosis(text: &str, t: &Target) -> Diagnosis {
    let at = format!("{}:{}", t.host, t.port);
    let lower = text.to_lowercase();
    let (cause, hint) = if lower.contains("unknownissuer") || lower.contains("unknown issuer") {
        (
            format!("the certificate of {at} is not signed by a trusted authority"),
            "give the server's CA file (the profile's CA file) or add it to the system trust store",
        )
    } else if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        (
            format!(
                "the certificate of {at} is not issued for the host name {:?}",
                t.host
            ),
            "connect with the host name in the certificate",
        )
    } else if lower.contains("expired") {
        (
            format!("the certificate of {at} has expired"),
            "renew the server certificate",
        )
    } else if lower.contains("not support") {
        (
            format!("{at} does not accept TLS connections"),
            "turn ssl on at the server, or use the TLS mode disable on a trusted network",
        )
    } else {
        (
            format!("the TLS handshake with {at} failed"),
            "check the TLS mode, the CA file and the server's certificate",
        )
    };
    tracing::info!(error = %text, "TLS failure");
    Diagnosis::new(DiagnosisKind::Tls, cause, hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            host: "db.example".into(),
            port: 5432,
            database: "app".into(),
            user: "console".into(),
        }
    }

    #[test]
    fn refused_connections_say_where() {
        let err = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        let d = diagnose(&err, &target());
        assert_eq!(d.kind, DiagnosisKind::Refused);
        assert!(d.cause.contains("db.example:5432"), "{}", d.cause);
    }

    #[test]
    fn certificate_failures_inside_the_stream_are_tls_diagnoses() {
        let err = sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "invalid peer certificate: certificate expired: verification time 2 (UNIX), but certificate is not valid after 1 (1 seconds ago)",
        ));
        let d = diagnose(&err, &target());
        assert_eq!(d.kind, DiagnosisKind::Tls);
        assert!(d.cause.contains("expired"), "{d}");
        let err = sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "invalid peer certificate: certificate not valid for name \"db.example\"; certificate is only valid for localhost",
        ));
        let d = diagnose(&err, &target());
        assert_eq!(d.kind, DiagnosisKind::Tls);
        assert!(d.cause.contains("not issued for the host name"), "{d}");
    }

    #[test]
    fn dns_failures_name_the_host() {
        let err = sqlx::Error::Io(std::io::Error::other(
            "failed to lookup address information: Name or service not known",
        ));
        let d = diagnose(&err, &target());
        assert_eq!(d.kind, DiagnosisKind::Dns);
        assert!(d.cause.contains("db.example"));
    }
}
