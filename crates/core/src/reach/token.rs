//! Passwords that are tokens: a command run before every new server connection, whose first line of output
//! is the password (`aws rds generate-db-auth-token …`, `gcloud sql generate-login-token`,
//! `az account get-access-token --query accessToken -o tsv`).
//!
//! The token is never stored and never logged: it lives in a [`SecretString`] for one connection attempt.
//! The command runs through the platform's shell (`sh -c`, `cmd /C`), with nothing on its standard input,
//! within a time limit; when it fails, the last line of its standard error (control characters removed) says
//! why. Standard output is never quoted in a message: it may be a half-printed token.

use std::process::Stdio;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;
use zeroize::Zeroizing;

use crate::doctor::{Diagnosis, DiagnosisKind};
use crate::error::{Error, Result};

/// How long a password command may run.
pub const TIME_LIMIT: Duration = Duration::from_secs(30);

/// A shell command that prints a password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PasswordCommand(String);

impl std::fmt::Debug for PasswordCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The command is not a secret, but it can carry one someone pasted: it stays out of Debug output.
        f.write_str("PasswordCommand(…)")
    }
}

impl PasswordCommand {
    /// A command as typed; empty or multi-line commands are refused.
    pub fn new(command: &str) -> Result<Self> {
        let c = command.trim();
        if c.is_empty() {
            return Err(Error::InvalidInput("the password command is empty".into()));
        }
        if c.contains(['\n', '\r', '\0']) {
            return Err(Error::InvalidInput(
                "the password command must be one line".into(),
            ));
        }
        Ok(PasswordCommand(c.to_owned()))
    }

    /// The command's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Runs the command within [`TIME_LIMIT`] and returns the first line it printed.
    pub async fn run(&self) -> Result<SecretString> {
        self.run_within(TIME_LIMIT).await
    }

    /// Runs the command within `limit`.
    pub async fn run_within(&self, limit: Duration) -> Result<SecretString> {
        let mut c = shell(&self.0);
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = c.spawn().map_err(|e| {
            failed(
                format!("the password command could not be started: {e}"),
                "check that the shell and the command exist",
            )
        })?;
        let mut stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let work = async {
            let mut out = Zeroizing::new(Vec::new());
            let mut err = Vec::new();
            let (a, b) = tokio::join!(stdout.read_to_end(&mut out), stderr.read_to_end(&mut err));
            a.and(b)?;
            let status = child.wait().await?;
            Ok::<_, std::io::Error>((status, out, err))
        };
        let (status, out, err) = match tokio::time::timeout(limit, work).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                return Err(failed(
                    format!("the password command failed: {e}"),
                    "run it in a terminal to see what it needs",
                ))
            }
            Err(_) => {
                return Err(failed(
                    format!(
                        "the password command did not finish within {} s",
                        limit.as_secs()
                    ),
                    "check that it does not wait for input (a login prompt, a browser sign-in)",
                ))
            }
        };
        let last_err = String::from_utf8_lossy(&err)
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(crate::reach::ssh::clean_line);
        if !status.success() {
            let code = status
                .code()
                .map_or_else(|| "a signal".to_owned(), |c| format!("exit code {c}"));
            return Err(failed(
                format!(
                    "the password command failed ({code}){}",
                    last_err.map(|l| format!(": {l}")).unwrap_or_default()
                ),
                "run it in a terminal to see what it needs (a login to the cloud's CLI, a profile, a region)",
            ));
        }
        let text = Zeroizing::new(String::from_utf8_lossy(&out).into_owned());
        let first = text.lines().next().unwrap_or("").trim_end_matches('\r');
        if first.is_empty() {
            return Err(failed(
                "the password command printed no password (its first line of output was empty)"
                    .into(),
                "it must print the password or token on its first line",
            ));
        }
        Ok(SecretString::from(first.to_owned()))
    }
}

fn shell(command: &str) -> tokio::process::Command {
    #[cfg(windows)]
    {
        let mut c = tokio::process::Command::new("cmd");
        c.arg("/C").arg(command);
        c
    }
    #[cfg(not(windows))]
    {
        let mut c = tokio::process::Command::new("sh");
        c.arg("-c").arg(command);
        c
    }
}

fn failed(cause: String, hint: &str) -> Error {
    Error::Connect(Diagnosis::new(DiagnosisKind::PasswordCommand, cause, hint))
}

#[cfg(all(test, unix))]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[tokio::test]
    async fn the_first_line_is_the_password() {
        let pw = PasswordCommand::new("printf 'tok-1\\nsecond\\n'")
            .unwrap()
            .run()
            .await
            .unwrap();
        assert_eq!(pw.expose_secret(), "tok-1");
    }

    #[tokio::test]
    async fn a_failing_command_says_its_last_error_line_and_never_its_output() {
        let e = PasswordCommand::new(
            "echo half-a-token; echo first >&2; echo 'not logged in' >&2; exit 3",
        )
        .unwrap()
        .run()
        .await
        .unwrap_err();
        let m = e.to_string();
        assert_eq!(e.kind(), "connect_password_command");
        assert!(
            m.contains("exit code 3") && m.contains("not logged in"),
            "{m}"
        );
        assert!(!m.contains("half-a-token"), "{m}");
    }

    #[tokio::test]
    async fn a_command_that_hangs_is_stopped_at_the_limit() {
        let started = std::time::Instant::now();
        let e = PasswordCommand::new("sleep 30")
            .unwrap()
            .run_within(Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("did not finish"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn empty_output_and_bad_commands_are_refused() {
        let e = PasswordCommand::new("true")
            .unwrap()
            .run()
            .await
            .unwrap_err();
        assert!(e.to_string().contains("printed no password"), "{e}");
        assert!(PasswordCommand::new("  ").is_err());
        assert!(PasswordCommand::new("a\nb").is_err());
        assert_eq!(
            format!("{:?}", PasswordCommand::new("echo s3cret").unwrap()),
            "PasswordCommand(…)"
        );
    }
}
