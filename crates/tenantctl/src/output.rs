//! Printing results and failures: table, JSON (a stable contract, see the README) or CSV; exit codes.
//!
//! A list prints `{"items": [...], "next_cursor": ...}` plus context fields. Errors go to standard error as
//! one line, and with `--format json` also as `{"error": {"kind", "message"}}` on standard output.

use std::io::Write;

use serde::Serialize;
use serde_json::{Map, Value};
use tenant_console_core::Error;

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// Exit codes.
pub const EXIT_ERROR: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_ISOLATION: u8 = 3;
/// `verify`: the file is intact and validly signed, but by a key that is not trusted.
pub const EXIT_UNKNOWN_KEY: u8 = 4;

/// Why a command failed, with its exit code.
#[derive(Debug)]
pub struct Failure {
    pub kind: String,
    pub message: String,
    pub exit: u8,
    /// The command already printed its JSON result (the check's report): print no second object.
    pub result_printed: bool,
    /// Structured detail for scripts (an SSH failure's hop and host keys), in the JSON error.
    pub detail: Option<serde_json::Value>,
    /// Standard output is the data (`export-audit --out -`): the error, JSON included, goes to standard
    /// error only, never into the file or pipe that should hold the data.
    pub stderr_only: bool,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            kind: "usage".into(),
            message: message.into(),
            exit: EXIT_USAGE,
            result_printed: false,
            detail: None,
            stderr_only: false,
        }
    }

    /// A failure with its own exit code (the isolation check's findings).
    pub fn with_exit(kind: &str, message: impl Into<String>, exit: u8) -> Self {
        Failure {
            kind: kind.into(),
            message: message.into(),
            exit,
            result_printed: false,
            detail: None,
            stderr_only: false,
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let exit = match &e {
            Error::IsolationNotEnforced(_) => EXIT_ISOLATION,
            Error::InvalidInput(_) | Error::ReasonRequired(_) => EXIT_USAGE,
            _ => EXIT_ERROR,
        };
        tracing::warn!(kind = e.kind(), error = %e, "command failed");
        let detail = match &e {
            Error::Connect(d) => d.ssh.as_ref().and_then(|s| serde_json::to_value(s).ok()),
            _ => None,
        };
        Failure {
            kind: e.kind().to_owned(),
            message: with_cli_hint(&e),
            exit,
            result_printed: false,
            detail,
            stderr_only: false,
        }
    }
}

/// The core's message, and what to type about it here: the core speaks to both the app and this command, so
/// the commands that fix an error are named by each of them, not by the core.
fn with_cli_hint(e: &Error) -> String {
    use tenant_console_core::secret::SecretError;
    let mut m = e.to_string();
    match e {
        Error::Keyring(SecretError::Missing(name)) => m.push_str(&format!(
            "; store it with: tenantctl profile set-password {name} --password-stdin"
        )),
        Error::Keyring(SecretError::Unavailable) => {
            m.push_str(" (--password-stdin reads it from standard input)")
        }
        Error::UnknownProfile(_) => m.push_str(" (tenantctl profile list shows the names)"),
        Error::Connect(d) if d.kind.code() == "connect_auth" => m.push_str(
            "; to store another password: tenantctl profile set-password NAME --password-stdin",
        ),
        Error::Connect(d) if d.kind.code() == "connect_tls" => {
            m.push_str(" (tenantctl: --tls disable|require|verify-full, --ca FILE)")
        }
        Error::Connect(d) if d.kind.code() == "connect_ssh_host_key_unknown" => {
            if let Some(ssh) = &d.ssh {
                let flags: Vec<String> = ssh
                    .unknown_keys
                    .iter()
                    .map(|k| format!("--ssh-accept {}", k.fingerprint))
                    .collect();
                m.push_str(&format!(
                    "; no terminal to ask on: once you have checked the fingerprint, run again with {}",
                    flags.join(" ")
                ));
            }
        }
        Error::Keyring(SecretError::OtherServer(name)) => m.push_str(&format!(
            "; store it again with: tenantctl profile set-password {name} --password-stdin"
        )),
        Error::Standby(_) => m.push_str(
            " (tenantctl: profile add NAME --url ... --record-to PRIMARY names where accesses are recorded)",
        ),
        _ => {}
    }
    if m.contains("the log has") {
        if let Ok(dir) = tenant_console_core::profile::data_dir() {
            m.push_str(&format!(
                " (log: {})",
                dir.join("logs")
                    .join(format!(
                        "tenantctl.log.{}",
                        chrono::Utc::now().format("%Y-%m-%d")
                    ))
                    .display()
            ));
        }
    }
    m
}

impl From<tenant_console_core::secret::SecretError> for Failure {
    fn from(e: tenant_console_core::secret::SecretError) -> Self {
        Error::Keyring(e).into()
    }
}

/// Writes one line to standard output (see [`outln`]).
pub fn line(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        output_failed(e)
    }
}

/// Standard output cannot be written. A reader that went away (`tenantctl ... | head -1`) ends the program
/// quietly with 141 (128 + SIGPIPE, what a shell shows for a filter stopped that way), as Unix filters do;
/// anything else is said on standard error. Never a panic.
pub fn output_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(141);
    }
    eprintln!("tenantctl: cannot write the output: {e}");
    std::process::exit(EXIT_ERROR.into());
}

/// `println!` for results: a closed pipe ends the program quietly instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::line(format_args!($($arg)*))
    };
}
pub(crate) use outln;

/// Text for a terminal: every C0 and C1 control character (escape sequences that retitle the window, clear the
/// screen or write the clipboard) and every bidirectional override (text that reads backwards) is replaced by a
/// visible escape such as `\x1b` or `\u{202e}`, so hostile data stays text. Line breaks become `⏎`: one value, one
/// line. JSON output is never passed through this (it is data, escaped by JSON itself).
pub fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    fn hostile(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }
    if !text.chars().any(hostile) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push('⏎'),
            c if hostile(c) && (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if hostile(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Prints a failure; returns the exit code.
pub fn report(f: &Failure, format: Format) -> u8 {
    eprintln!("tenantctl: {}", safe(&f.message));
    if format == Format::Json && !f.result_printed {
        let mut v = serde_json::json!({"error": {"kind": f.kind, "message": f.message}});
        if let Some(d) = &f.detail {
            v["error"]["ssh"] = d.clone();
        }
        if f.stderr_only {
            eprintln!("{v}");
            return f.exit;
        }
        outln!("{v}");
    }
    f.exit
}

/// A list result: items, the cursor of the next page, and context fields.
pub struct Listing<'a, T: Serialize> {
    pub items: &'a [T],
    pub next_cursor: Option<&'a str>,
    pub context: Map<String, Value>,
    /// Table columns: (header, JSON pointer into an item).
    pub columns: &'a [(&'a str, &'a str)],
    /// Pointers of the columns the login may not read: `masked` in a table (never confused with an empty
    /// value), empty in CSV; JSON has them null and names the columns in `masked_columns`.
    pub masked: Vec<String>,
}

fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| cell(Some(x)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    }
}

/// A CSV cell that a spreadsheet would run as a formula gets a leading `'`, exactly as in the audit export
/// ([`tenant_console_core::export::neutralise`]): audit data is written by the tenant's users, and a support
/// engineer opens this file in a spreadsheet. JSON output is never altered.
fn neutralise(cell: String) -> String {
    tenant_console_core::export::neutralise(&cell).into_owned()
}

/// The I/O error inside a CSV error (a closed pipe must stay recognisable as one).
fn csv_io(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// Prints a list in the chosen format.
pub fn print_list<T: Serialize>(format: Format, l: &Listing<'_, T>) -> Result<(), Failure> {
    let items: Vec<Value> = l
        .items
        .iter()
        .map(|i| serde_json::to_value(i).expect("results serialize"))
        .collect();
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| -> Failure { output_failed(e) };
    match format {
        Format::Json => {
            let mut obj = l.context.clone();
            obj.insert("items".into(), Value::Array(items));
            obj.insert(
                "next_cursor".into(),
                l.next_cursor
                    .map(|c| Value::String(c.into()))
                    .unwrap_or(Value::Null),
            );
            writeln!(out, "{}", Value::Object(obj)).map_err(io)?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(l.columns.iter().map(|(h, _)| *h))
                .map_err(|e| io(csv_io(e)))?;
            for item in &items {
                w.write_record(
                    l.columns
                        .iter()
                        .map(|(_, p)| neutralise(cell(item.pointer(p)))),
                )
                .map_err(|e| io(csv_io(e)))?;
            }
            w.flush().map_err(io)?;
        }
        Format::Table => {
            for (k, v) in &l.context {
                writeln!(out, "{k}: {}", safe(&cell(Some(v)))).map_err(io)?;
            }
            let mut table = comfy_table::Table::new();
            table
                .load_preset(comfy_table::presets::UTF8_BORDERS_ONLY)
                .set_header(l.columns.iter().map(|(h, _)| *h));
            for item in &items {
                table.add_row(l.columns.iter().map(|(_, p)| {
                    if l.masked.iter().any(|m| m == p) {
                        return "‹masked›".to_owned();
                    }
                    // One line per cell (a newline inside user data must not forge table rows), and no
                    // control sequence reaches the terminal.
                    safe(&cell(item.pointer(p))).into_owned()
                }));
            }
            writeln!(out, "{table}").map_err(io)?;
            match l.next_cursor {
                Some(c) => writeln!(out, "more: --after {}", safe(c)).map_err(io)?,
                None => writeln!(out, "({} shown, end of list)", items.len()).map_err(io)?,
            }
        }
    }
    Ok(())
}

/// Prints one object (JSON) or its fields (table/CSV).
pub fn print_object<T: Serialize>(format: Format, value: &T) -> Result<(), Failure> {
    let v = serde_json::to_value(value).expect("results serialize");
    match format {
        Format::Json => outln!("{v}"),
        Format::Table | Format::Csv => {
            if let Value::Object(map) = &v {
                for (k, val) in map {
                    outln!("{k}: {}", safe(&cell(Some(val))));
                }
            } else {
                outln!("{}", cell(Some(&v)));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_that_would_run_as_formulas_are_neutralised() {
        for bad in [
            "=HYPERLINK(\"x\")",
            "+SUM(A1)",
            "-2+3",
            "@SUM(1)",
            "\tTab",
            "\rCR",
        ] {
            assert_eq!(neutralise(bad.into()), format!("'{bad}"));
        }
        for fine in [
            "acme",
            "",
            "2026-01-01T00:00:00Z",
            "a=b",
            "user@example.com",
        ] {
            assert_eq!(neutralise(fine.into()), fine);
        }
    }
}

#[cfg(test)]
mod safe_tests {
    use super::safe;

    #[test]
    fn control_and_bidi_characters_become_visible_escapes() {
        assert_eq!(safe("acme"), "acme");
        assert_eq!(safe("\u{1b}]0;owned\u{7}"), "\\x1b]0;owned\\x07");
        assert_eq!(safe("\u{1b}[2J"), "\\x1b[2J");
        assert_eq!(
            safe("\u{1b}]52;c;ZXZpbA==\u{7}"),
            "\\x1b]52;c;ZXZpbA==\\x07"
        );
        assert_eq!(safe("a\u{9b}31mb"), "a\\x9b31mb");
        assert_eq!(safe("user\u{202e}gpj.exe"), "user\\u{202e}gpj.exe");
        assert_eq!(safe("x\u{2066}y\u{2069}"), "x\\u{2066}y\\u{2069}");
        assert_eq!(safe("two\nlines\r"), "two⏎lines⏎");
        assert_eq!(safe("tab\there"), "tab\\x09here");
        assert_eq!(safe("日本語 é"), "日本語 é");
    }
}
