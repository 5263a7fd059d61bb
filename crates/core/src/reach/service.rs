//! libpq's own files: connection services (`pg_service.conf`) and passwords (`.pgpass`), read the way libpq
//! reads them, so a profile can be imported from what `psql service=NAME` already uses.
//!
//! Services: `PGSERVICEFILE`, else `~/.pg_service.conf` (Windows: `%APPDATA%\postgresql\.pg_service.conf`),
//! then `PGSYSCONFDIR/pg_service.conf`; the first file with the service wins, as in libpq. Passwords:
//! `PGPASSFILE`, else `~/.pgpass` (Windows: `%APPDATA%\postgresql\pgpass.conf`); on Unix a file others can read
//! is ignored, as libpq ignores it. Neither file is ever written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// One service's settings, as written (keys lower-case).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    /// The file it was read from.
    pub file: PathBuf,
    pub settings: BTreeMap<String, String>,
}

/// Where a service says to connect, as a profile takes it (libpq's defaults where it says nothing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceTarget {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    /// libpq's sslmode, as written (the profile maps it to its TLS modes).
    pub sslmode: Option<String>,
    pub ca_file: Option<PathBuf>,
    /// The service file holds a password: it is not imported (a service file is no place for one).
    pub has_password: bool,
}

impl Service {
    /// The connection this service describes: the first of a host list, libpq's defaults (localhost, 5432,
    /// the user for the database, `PGUSER` or `postgres` for the user).
    pub fn target(&self) -> Result<ServiceTarget> {
        let get = |k: &str| self.settings.get(k).cloned();
        let host = get("host")
            .or_else(|| get("hostaddr"))
            .unwrap_or_else(|| "localhost".into());
        let host = host
            .split(',')
            .next()
            .unwrap_or("localhost")
            .trim()
            .to_owned();
        let port = match get("port") {
            Some(p) => p
                .split(',')
                .next()
                .unwrap_or("")
                .trim()
                .parse()
                .map_err(|_| {
                    Error::InvalidInput(format!(
                        "service {:?}: port {p:?} is not a port",
                        self.name
                    ))
                })?,
            None => 5432,
        };
        let user = get("user")
            .or_else(|| std::env::var("PGUSER").ok())
            .unwrap_or_else(|| "postgres".into());
        let database = get("dbname").unwrap_or_else(|| user.clone());
        Ok(ServiceTarget {
            host,
            port,
            database,
            user,
            sslmode: get("sslmode"),
            ca_file: get("sslrootcert").map(PathBuf::from),
            has_password: self.settings.contains_key("password"),
        })
    }
}

fn home() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf())
}

/// The service files libpq reads, in its order.
pub fn service_files() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(f) = std::env::var_os("PGSERVICEFILE") {
        v.push(PathBuf::from(f));
    } else if cfg!(windows) {
        if let Some(a) = std::env::var_os("APPDATA") {
            v.push(PathBuf::from(a).join("postgresql").join(".pg_service.conf"));
        }
    } else if let Some(h) = home() {
        v.push(h.join(".pg_service.conf"));
    }
    if let Some(d) = std::env::var_os("PGSYSCONFDIR") {
        v.push(PathBuf::from(d).join("pg_service.conf"));
    } else if cfg!(unix) {
        // Debian's libpq is built with this sysconfdir.
        v.push(PathBuf::from("/etc/postgresql-common/pg_service.conf"));
    }
    v
}

/// Finds service `name` in libpq's service files.
pub fn find_service(name: &str) -> Result<Service> {
    let files = service_files();
    for f in &files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io("reading", f, e)),
        };
        if let Some(settings) = parse_service(&text, name, f)? {
            return Ok(Service {
                name: name.to_owned(),
                file: f.clone(),
                settings,
            });
        }
    }
    let looked: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    Err(Error::InvalidInput(format!(
        "no service {name:?} in {}",
        if looked.is_empty() {
            "any service file (set PGSERVICEFILE)".to_owned()
        } else {
            looked.join(" or ")
        }
    )))
}

/// The settings of `[name]` in a service file's text; `None` when the file has no such section.
fn parse_service(text: &str, name: &str, file: &Path) -> Result<Option<BTreeMap<String, String>>> {
    let mut current: Option<&str> = None;
    let mut found: Option<BTreeMap<String, String>> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[') {
            let Some(section) = section.strip_suffix(']') else {
                return Err(Error::InvalidInput(format!(
                    "{} line {}: a section header must end with ']'",
                    file.display(),
                    i + 1
                )));
            };
            if found.is_some() {
                break;
            }
            current = Some(section.trim());
            if current == Some(name) {
                found = Some(BTreeMap::new());
            }
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(Error::InvalidInput(format!(
                "{} line {}: expected key=value",
                file.display(),
                i + 1
            )));
        };
        if current == Some(name) {
            if let Some(map) = found.as_mut() {
                map.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
        }
    }
    Ok(found)
}

/// The password file libpq reads.
pub fn pgpass_file() -> Option<PathBuf> {
    if let Some(f) = std::env::var_os("PGPASSFILE") {
        return Some(PathBuf::from(f));
    }
    if cfg!(windows) {
        std::env::var_os("APPDATA").map(|a| PathBuf::from(a).join("postgresql").join("pgpass.conf"))
    } else {
        home().map(|h| h.join(".pgpass"))
    }
}

/// What looking in the password file found.
#[derive(Debug)]
pub enum PgPass {
    /// A line matched: its password, and the file and line it came from.
    Found {
        password: SecretString,
        file: PathBuf,
        line: usize,
    },
    /// No file, or no line for this server.
    NotFound,
    /// The file exists but others may read it, so libpq (and we) ignore it.
    Ignored { file: PathBuf, why: String },
}

/// The password `.pgpass` has for host, port, database and user (`*` matches anything; `\:` and `\\` escape).
pub fn pgpass_lookup(
    file: &Path,
    host: &str,
    port: u16,
    database: &str,
    user: &str,
) -> Result<PgPass> {
    let meta = match std::fs::metadata(file) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(PgPass::NotFound),
        Err(e) => return Err(Error::io("reading", file, e)),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Ok(PgPass::Ignored {
                file: file.to_path_buf(),
                why: format!(
                    "it has mode {:o}: group or others may read it, so libpq ignores it too (chmod 0600 it)",
                    mode & 0o777
                ),
            });
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let text =
        Zeroizing::new(std::fs::read_to_string(file).map_err(|e| Error::io("reading", file, e))?);
    let port = port.to_string();
    // libpq compares "localhost" for a socket; a host given as a socket directory matches it too.
    let wanted = [host, port.as_str(), database, user];
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = split_pgpass(line);
        if fields.len() < 5 {
            continue;
        }
        let matches = fields[..4]
            .iter()
            .zip(wanted)
            .all(|(f, w)| f.as_str() == "*" || f.as_str() == w);
        if matches {
            let password = fields[4].to_string();
            return Ok(PgPass::Found {
                password: SecretString::from(password),
                file: file.to_path_buf(),
                line: i + 1,
            });
        }
    }
    Ok(PgPass::NotFound)
}

/// Splits a `.pgpass` line at unescaped colons, unescaping `\:` and `\\`.
fn split_pgpass(line: &str) -> Vec<Zeroizing<String>> {
    let mut out = vec![Zeroizing::new(String::new())];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.last_mut().expect("one field").push(n);
                }
            }
            ':' if out.len() < 5 => out.push(Zeroizing::new(String::new())),
            c => out.last_mut().expect("one field").push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn a_service_is_read_from_its_section_only() {
        let text = "# comment\n[other]\nhost=x\n\n[prod]\nhost = db.internal\nport=6432\ndbname=app\nuser=console_reader\nsslmode=verify-full\n[later]\nhost=y\n";
        let s = parse_service(text, "prod", Path::new("f"))
            .unwrap()
            .unwrap();
        assert_eq!(s["host"], "db.internal");
        assert_eq!(s["port"], "6432");
        assert_eq!(s.len(), 5);
        assert!(parse_service(text, "nope", Path::new("f"))
            .unwrap()
            .is_none());
        assert!(parse_service("[x\nhost=1", "x", Path::new("f")).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn pgpass_lines_match_with_wildcards_and_escapes_and_a_readable_file_is_ignored() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pgpass");
        std::fs::write(
            &f,
            "# c\nother:5432:app:u:nope\ndb:*:app:console_reader:pa\\:ss\\\\word\n*:*:*:*:fallback\n",
        )
        .unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        match pgpass_lookup(&f, "db", 6432, "app", "console_reader").unwrap() {
            PgPass::Found { password, line, .. } => {
                assert_eq!(password.expose_secret(), "pa:ss\\word");
                assert_eq!(line, 3);
            }
            other => panic!("{other:?}"),
        }
        match pgpass_lookup(&f, "x", 1, "y", "z").unwrap() {
            PgPass::Found { password, .. } => assert_eq!(password.expose_secret(), "fallback"),
            other => panic!("{other:?}"),
        }
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            pgpass_lookup(&f, "db", 6432, "app", "console_reader").unwrap(),
            PgPass::Ignored { .. }
        ));
        assert!(matches!(
            pgpass_lookup(&dir.path().join("none"), "db", 1, "a", "b").unwrap(),
            PgPass::NotFound
        ));
    }
}
