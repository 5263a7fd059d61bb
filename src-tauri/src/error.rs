//! The error the UI receives: `{ "kind": "...", "message": "..." }`.
//!
//! `kind` is the core's stable code (the UI branches on it: `secret_missing` asks for the password,
//! `isolation_not_enforced` shows the bypass banner, `reason_required` the reason prompt). `message` is the
//! core's user-facing text. The source chain goes to the log, never to the window.

use serde::Serialize;
use tenant_console_core::Error;

/// An error crossing the IPC boundary.
#[derive(Debug, Serialize, PartialEq, Eq, ts_rs::TS)]
pub struct IpcError {
    pub kind: String,
    pub message: String,
    /// Where the app's log is, when the error's details went there ([`Error::details_in_log`]; its message then
    /// says "the log has the details"): the window shows it, with Copy and Open.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub log_file: Option<String>,
    /// For SSH failures: the hop, and the host keys the window asks the user to compare and accept.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ssh: Option<Box<tenant_console_core::reach::ssh::SshFailure>>,
}

impl IpcError {
    /// An error of the app's own (its message says everything there is to say).
    pub fn new(kind: &str, message: impl Into<String>) -> Self {
        IpcError {
            kind: kind.to_owned(),
            message: message.into(),
            log_file: None,
            ssh: None,
        }
    }
}

impl From<Error> for IpcError {
    fn from(e: Error) -> Self {
        let mut chain = String::new();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            chain.push_str(" <- ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        tracing::warn!(kind = e.kind(), error = %e, chain = %chain, "command failed");
        let ssh = match &e {
            Error::Connect(d) => d.ssh.clone(),
            _ => None,
        };
        let log_file = e
            .details_in_log()
            .then(crate::logs::log_file)
            .flatten()
            .map(|p| p.display().to_string());
        IpcError {
            ssh,
            log_file,
            ..IpcError::new(e.kind(), e.to_string())
        }
    }
}

impl From<tenant_console_core::secret::SecretError> for IpcError {
    fn from(e: tenant_console_core::secret::SecretError) -> Self {
        Error::Keyring(e).into()
    }
}

/// What every command returns.
pub type CmdResult<T> = Result<T, IpcError>;

#[cfg(test)]
mod tests {
    use super::*;

    /// The window names the log because the core says the details are there, whatever the words: a database
    /// error does, an unknown tenant does not, and the app's own errors never do.
    #[test]
    fn the_log_is_named_when_the_core_says_its_details_are_there() {
        let db: IpcError = Error::Database {
            code: "XX000".into(),
        }
        .into();
        assert!(db
            .log_file
            .as_deref()
            .is_some_and(|f| f.contains("app.log.")));
        let tenant: IpcError = Error::UnknownTenant("the log has it".into()).into();
        assert_eq!(tenant.log_file, None);
        assert_eq!(
            IpcError::new("io", "the log has the details").log_file,
            None
        );
    }

    #[test]
    fn errors_serialize_as_kind_and_message() {
        let e: IpcError = Error::UnknownTenant("acme2".into()).into();
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"kind":"unknown_tenant","message":"unknown tenant \"acme2\": no tenant has that id or slug"}"#
        );
    }
}
