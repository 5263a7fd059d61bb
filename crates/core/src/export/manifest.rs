//! The evidence manifest of an export (`FILE.manifest.json`), and its verification.
//!
//! The manifest says what the file is and how it was made: the tenant, the filters as given and as a closed UTC
//! range, the exact statement and its values, columns, zone, BOM and format, the row count, the first and last
//! event, the size and SHA-256 of the file's bytes, the snapshot time, who exported it (database login, OS user,
//! host), the console and server versions, the access record of the export, and the isolation evidence read in
//! the export's own transaction (rows of other tenants the audit table returned in the tenant's scope: 0).
//! It is signed with the Ed25519 key kept in the OS keyring ([`crate::signing`]) over its canonical bytes: the
//! JSON of every field but `signature`, object keys sorted, no whitespace.
//!
//! [`verify`] checks a file against its manifest the way an auditor would: the signature (against the public key
//! they were given), the size and SHA-256 of the bytes, the file parsed again (RFC 4180) and its rows counted,
//! and the first and last event. Each failure is named.

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::AuditFilter;
use crate::error::{Error, Result};
use crate::signing::{PublicKey, SigningIdentity};

/// The format string of this manifest version.
pub const MANIFEST_FORMAT: &str = "tenant-console-export-manifest/1";

/// An event named in the manifest.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EventRef {
    pub id: String,
    pub occurred_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FileFacts {
    /// The file's name when it was written (not its folder).
    pub name: String,
    pub file_format: String,
    pub compression: Option<String>,
    pub bom: bool,
    pub bytes: u64,
    /// Lowercase hex.
    pub sha256: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct TenantFacts {
    pub id: String,
    pub slug: Option<String>,
    pub name: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FilterFacts {
    /// The filters as given.
    pub given: AuditFilter,
    /// The time range they select, closed, in UTC: from `since` (or the beginning) to `until` (or the snapshot).
    pub from_utc: Option<DateTime<Utc>>,
    pub to_utc: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct QueryFacts {
    /// The statement the server ran, in the tenant's scope.
    pub sql: String,
    /// The values it read from transaction-local settings `tenant_console.p1`, `p2`, ... in order.
    pub parameters: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Exporter {
    pub db_login: String,
    pub os_user: String,
    pub host: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct IsolationFacts {
    /// The relation the rows came from.
    pub relation: String,
    /// Rows the tenant's scope returned (the export's own rows).
    pub rows_in_scope: u64,
    /// Rows of any other tenant the relation returned in the tenant's scope, asked in the export's transaction.
    pub foreign_rows: i64,
    /// Whether row-level security applied to the login (a bypassing login exports only with --allow-bypass).
    pub login_bypasses_rls: bool,
    pub checked_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SignatureFacts {
    pub algorithm: String,
    /// `ed25519:<base64>`.
    pub public_key: String,
    pub key_fingerprint: String,
    /// Base64 Ed25519 signature of the manifest's canonical bytes.
    pub value: String,
}

/// An export's manifest.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: String,
    pub file: FileFacts,
    pub tenant: TenantFacts,
    pub filters: FilterFacts,
    pub query: QueryFacts,
    pub columns: Vec<String>,
    pub time_zone: String,
    pub rows: u64,
    pub first_event: Option<EventRef>,
    pub last_event: Option<EventRef>,
    pub snapshot_at: DateTime<Utc>,
    pub exported_at: DateTime<Utc>,
    pub exporter: Exporter,
    pub console_version: String,
    pub server_version: String,
    pub database: String,
    /// The fleet and shard the tenant was found on, when it was exported through a fleet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::access::ShardFacts>,
    pub access_record_id: Option<String>,
    /// The tenant's approval the export went through (consent the database enforces), where it requires one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
    /// The exported columns this login may not read (`table.column`): empty in every row of the file.
    #[serde(default)]
    pub masked_columns: Vec<String>,
    /// How the data left the database's network: the SSH hops with their host keys, a token command
    /// (absent for a direct connection with a stored password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<crate::db::RouteInfo>,
    pub isolation: IsolationFacts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureFacts>,
}

impl Manifest {
    /// The bytes the signature covers: the manifest without `signature`, as JSON with object keys sorted at
    /// every level and no whitespace (independent of how a file was pretty-printed or its keys ordered).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut unsigned = self.clone();
        unsigned.signature = None;
        let value = serde_json::to_value(&unsigned).expect("a manifest serialises");
        let mut out = String::new();
        canonical(&value, &mut out);
        out.into_bytes()
    }

    /// Signs the manifest with `key`.
    pub fn sign(&mut self, key: &SigningIdentity) {
        self.signature = None;
        let value = key.sign(&self.canonical_bytes());
        let public = key.public_key();
        self.signature = Some(SignatureFacts {
            algorithm: "ed25519".into(),
            public_key: public.to_text(),
            key_fingerprint: public.fingerprint(),
            value,
        });
    }

    /// The manifest as people read it (pretty JSON, a final newline).
    pub fn to_pretty(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("a manifest serialises");
        v.push(b'\n');
        v
    }
}

/// JSON with sorted keys and no whitespace.
fn canonical(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).expect("a string serialises"));
                out.push(':');
                canonical(&map[k], out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Where the manifest of `file` goes: `FILE.manifest.json` beside it.
pub fn manifest_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".manifest.json");
    file.with_file_name(name)
}

/// The result of [`verify`].
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct Verification {
    /// Everything checked out (and the signing key was the one given, when one was).
    pub ok: bool,
    /// What is wrong, each in a sentence; empty when `ok`.
    pub problems: Vec<String>,
    pub file: PathBuf,
    pub manifest: PathBuf,
    pub tenant: Option<TenantFacts>,
    pub rows_counted: Option<u64>,
    pub sha256: String,
    /// The fingerprint of the key that signed the manifest.
    pub signed_by: Option<String>,
    /// Whether that key is one the verifier trusts (given with --public-key, this machine's own, or listed in
    /// the trusted keys).
    pub key_trusted: bool,
    /// Which trusted key it was: `this machine's key`, `the key given`, or a trusted key's name.
    pub trusted_as: Option<String>,
    /// Validly signed, but by a key the verifier does not trust: the file may be anyone's.
    pub unknown_key: bool,
}

/// A public key a verifier trusts, and why.
#[derive(Clone, Debug)]
pub struct TrustedKey {
    pub key: PublicKey,
    /// Where the trust comes from, in words (`this machine's key`, `the key given`, a trusted key's name).
    pub source: String,
}

impl TrustedKey {
    pub fn new(key: PublicKey, source: &str) -> Self {
        TrustedKey {
            key,
            source: source.to_owned(),
        }
    }
}

/// The trusted keys file: `trusted_keys.toml` in the configuration directory, `[[key]]` tables with `name` and
/// `public_key` (`ed25519:…`). The keys of the export servers and colleagues whose manifests you accept.
pub fn trusted_keys_file() -> Result<PathBuf> {
    Ok(crate::profile::config_dir()?.join("trusted_keys.toml"))
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct TrustedKeysFile {
    #[serde(default)]
    key: Vec<TrustedKeyEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustedKeyEntry {
    name: String,
    public_key: String,
}

/// The keys listed in the trusted keys file (none when there is no file).
pub fn load_trusted_keys() -> Result<Vec<TrustedKey>> {
    let path = trusted_keys_file()?;
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("reading", &path, e)),
    };
    let file: TrustedKeysFile = toml::from_str(&text).map_err(|e| {
        Error::InvalidInput(format!(
            "{} is not a trusted keys file ({})",
            path.display(),
            crate::error::toml_error(&e, &text)
        ))
    })?;
    file.key
        .into_iter()
        .map(|k| {
            Ok(TrustedKey {
                key: PublicKey::parse(&k.public_key).map_err(|_| {
                    Error::InvalidInput(format!(
                        "{}: the key {:?} is not an ed25519:… public key",
                        path.display(),
                        k.name
                    ))
                })?,
                source: format!("trusted key {:?}", k.name),
            })
        })
        .collect()
}

/// The keys a verification trusts, decided once for the app and tenantctl: the key given (`--public-key`, the
/// dialog's field), and then only it; otherwise this machine's own signing key (when the keyring has one) and
/// the keys of the trusted keys file.
pub async fn trusted_keys(
    given: Option<&str>,
    secrets: Option<&crate::secret::Secrets>,
) -> Result<Vec<TrustedKey>> {
    if let Some(text) = given.map(str::trim).filter(|k| !k.is_empty()) {
        return Ok(vec![TrustedKey::new(
            PublicKey::parse(text)?,
            "the key given",
        )]);
    }
    let mut keys = Vec::new();
    if let Some(s) = secrets {
        if let Some(own) = SigningIdentity::own_public_key(s).await {
            keys.push(TrustedKey::new(own, "this machine's key"));
        }
    }
    keys.extend(load_trusted_keys()?);
    Ok(keys)
}

/// The key that signs an export's manifest: one rule for the app and tenantctl. With a usable keyring, its
/// key (made on first use). Without one, the manifest is written unsigned only when the caller asked for that
/// (`unsigned_ok`: tenantctl's `--unsigned`, the app's checkbox); otherwise the export does not start, and the
/// error names the signing key, not a password.
pub async fn manifest_signer(
    secrets: std::result::Result<&crate::secret::Secrets, &crate::error::SecretError>,
    unsigned_ok: bool,
) -> Result<Option<std::sync::Arc<SigningIdentity>>> {
    let why = match secrets {
        Ok(s) => match SigningIdentity::load_or_create(s).await {
            Ok(key) => return Ok(Some(std::sync::Arc::new(key))),
            Err(Error::Keyring(e)) => keyring_words(&e),
            Err(e) => return Err(e),
        },
        Err(e) => keyring_words(e),
    };
    if unsigned_ok {
        tracing::info!(why = %why, "the manifest is written unsigned, as asked");
        Ok(None)
    } else {
        Err(Error::SigningKeyUnavailable(why))
    }
}

fn keyring_words(e: &crate::error::SecretError) -> String {
    use crate::error::SecretError as S;
    match e {
        S::NotPersistent => "this build has no persistent system keyring".into(),
        S::Unavailable => "the system keyring is locked or unavailable".into(),
        _ => "the system keyring failed (the log has the details)".into(),
    }
}

/// Adds a key to the trusted keys file (replacing one of the same name).
pub fn trust_key(name: &str, key: &PublicKey) -> Result<PathBuf> {
    let path = trusted_keys_file()?;
    let mut file: TrustedKeysFile = match std::fs::read_to_string(&path) {
        Ok(t) => toml::from_str(&t).map_err(|e| {
            Error::InvalidInput(format!(
                "{} is not a trusted keys file ({})",
                path.display(),
                crate::error::toml_error(&e, &t)
            ))
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => TrustedKeysFile::default(),
        Err(e) => return Err(Error::io("reading", &path, e)),
    };
    file.key.retain(|k| k.name != name);
    file.key.push(TrustedKeyEntry {
        name: name.to_owned(),
        public_key: key.to_text(),
    });
    let text = toml::to_string_pretty(&file)
        .map_err(|e| Error::InvalidInput(format!("cannot write the trusted keys: {e}")))?;
    crate::profile::atomic_write(&path, text.as_bytes(), 0o644)?;
    Ok(path)
}

/// Checks `file` against its manifest (`manifest`, else `FILE.manifest.json`), trusting only the keys in
/// `trusted`. A manifest validly signed by any other key is not ok: it says `unknown_key` and names the key.
///
/// The signature is checked over the manifest's own bytes as read (canonical JSON of every field in the file
/// but `signature`), never over a re-serialised struct: a field added anywhere (an `auditor_note`, a
/// `tenant.former_name`) breaks it, and is also named as a field no manifest has. The `key_fingerprint` the
/// manifest states must be its key's.
pub fn verify(
    file: &Path,
    manifest: Option<&Path>,
    trusted: &[TrustedKey],
) -> Result<Verification> {
    let manifest_file = manifest
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest_path(file));
    let m = read_manifest(&manifest_file)?;
    let mut problems = Vec::new();
    let raw: serde_json::Value = {
        let bytes =
            std::fs::read(&manifest_file).map_err(|e| Error::io("reading", &manifest_file, e))?;
        serde_json::from_slice(&bytes)
            .map_err(|_| Error::InvalidInput(format!("{} is not JSON", manifest_file.display())))?
    };
    let mut signed_part = raw.clone();
    if let serde_json::Value::Object(map) = &mut signed_part {
        map.remove("signature");
    }
    let mut known = serde_json::to_value(&m).expect("a manifest serialises");
    if let serde_json::Value::Object(map) = &mut known {
        map.remove("signature");
    }
    let mut extra = Vec::new();
    unknown_fields(&signed_part, &known, "", &mut extra);
    if let Some(serde_json::Value::Object(sig)) = raw.get("signature") {
        for k in sig.keys() {
            if !["algorithm", "public_key", "key_fingerprint", "value"].contains(&k.as_str()) {
                extra.push(format!("signature.{}", cut(k, 40)));
            }
        }
    }
    if !extra.is_empty() {
        problems.push(format!(
            "the manifest holds fields no export writes ({}): they were added after the export",
            extra.join(", ")
        ));
    }
    let signed_bytes = {
        let mut out = String::new();
        canonical(&signed_part, &mut out);
        out.into_bytes()
    };
    if m.format != MANIFEST_FORMAT {
        problems.push(format!(
            "the manifest's format is {:?}, not {MANIFEST_FORMAT:?}",
            cut(&m.format, 60)
        ));
    }

    // The signature, over the manifest's bytes as they are now.
    let mut signed_by = None;
    let mut key_trusted = false;
    let mut trusted_as = None;
    let mut unknown_key = false;
    match &m.signature {
        None => problems.push("the manifest is not signed".into()),
        Some(sig) => match PublicKey::parse(&sig.public_key) {
            Err(_) => {
                problems.push("the manifest's signing key is not an Ed25519 public key".into())
            }
            Ok(key) => {
                signed_by = Some(key.fingerprint());
                if sig.key_fingerprint != key.fingerprint() {
                    problems.push(format!(
                        "the manifest states the key fingerprint {}, but its key's is {}",
                        cut(&sig.key_fingerprint, 80),
                        key.fingerprint()
                    ));
                }
                match trusted.iter().find(|t| t.key == key) {
                    Some(t) => {
                        key_trusted = true;
                        trusted_as = Some(t.source.clone());
                    }
                    None => {
                        unknown_key = true;
                        problems.push(match trusted {
                            [] => format!(
                                "the manifest is signed by an unknown key {}: no key to trust it against (this machine has none; give the exporter's with --public-key, or list it in the trusted keys)",
                                key.fingerprint()
                            ),
                            [only] if only.source == "the key given" => format!(
                                "the manifest was signed with key {}, not with the key given ({})",
                                key.fingerprint(),
                                only.key.fingerprint()
                            ),
                            many => format!(
                                "the manifest is signed by an unknown key {}, not one you trust ({})",
                                key.fingerprint(),
                                many.iter().map(|t| t.source.as_str()).collect::<Vec<_>>().join(", ")
                            ),
                        });
                    }
                }
                if sig.algorithm != "ed25519" || !key.verifies(&signed_bytes, &sig.value) {
                    problems.push(
                        "the signature does not match the manifest: the manifest was changed after it was signed"
                            .into(),
                    );
                }
            }
        },
    }

    // The bytes: size and SHA-256, in one pass.
    let mut f = std::fs::File::open(file).map_err(|e| Error::io("opening", file, e))?;
    let mut hash = Sha256::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| Error::io("reading", file, e))?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        size += n as u64;
    }
    let sha256 = hex(&hash.finalize());
    if size < m.file.bytes {
        problems.push(format!(
            "the file has {size} bytes, {} fewer than the manifest's {}: it was cut short",
            m.file.bytes - size,
            m.file.bytes
        ));
    } else if size > m.file.bytes {
        problems.push(format!(
            "the file has {size} bytes, {} more than the manifest's {}: something was added",
            size - m.file.bytes,
            m.file.bytes
        ));
    }
    if sha256 != m.file.sha256 {
        problems.push(format!(
            "the file's SHA-256 is {sha256}, not the manifest's {}: its bytes differ from the export's",
            cut(&m.file.sha256, 64)
        ));
    }

    // The rows, parsed again.
    let rows_counted = match count_rows(file, &m) {
        Ok((rows, first, last)) => {
            if rows != m.rows {
                problems.push(format!(
                    "the file has {rows} rows, the manifest says {}",
                    m.rows
                ));
            }
            if first.as_deref() != m.first_event.as_ref().map(|e| e.id.as_str())
                || last.as_deref() != m.last_event.as_ref().map(|e| e.id.as_str())
            {
                problems.push(
                    "the file's first or last event is not the one the manifest names".into(),
                );
            }
            Some(rows)
        }
        Err(why) => {
            problems.push(why);
            None
        }
    };
    Ok(Verification {
        ok: problems.is_empty(),
        problems,
        file: file.to_path_buf(),
        manifest: manifest_file,
        tenant: Some(m.tenant),
        rows_counted,
        sha256,
        signed_by,
        key_trusted,
        trusted_as,
        unknown_key,
    })
}

/// Paths of fields in `file` that `known` (the manifest as this version writes it) does not have.
fn unknown_fields(
    file: &serde_json::Value,
    known: &serde_json::Value,
    at: &str,
    out: &mut Vec<String>,
) {
    if let (serde_json::Value::Object(f), serde_json::Value::Object(k)) = (file, known) {
        for (key, v) in f {
            let path = if at.is_empty() {
                cut(key, 40)
            } else {
                format!("{at}.{}", cut(key, 40))
            };
            match k.get(key) {
                None => out.push(path),
                Some(kv) => unknown_fields(v, kv, &path, out),
            }
        }
    }
}

/// What a recount in the tenant's scope found, against what the manifest says was exported.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct Recount {
    /// The database's own record of this file (the `export-complete` record with its SHA-256), or none: an
    /// export the database never witnessed (a file edited and re-signed, or made elsewhere).
    pub witnessed: Option<crate::access::Witness>,
    /// The events in the manifest's range now, read as the tenant.
    pub rows_now: u64,
    pub rows_in_manifest: u64,
    /// `rows_now - rows_in_manifest`: events added to (positive) or gone from (negative) the range since.
    pub difference: i64,
    /// The range counted, in UTC: from (inclusive) to (exclusive).
    pub from_utc: Option<DateTime<Utc>>,
    pub to_utc: DateTime<Utc>,
}

/// Counts again, through `door` (a read of the tenant's data: the reason policy applies and it is recorded), the
/// events of the manifest's tenant in its closed range with its filters, and looks for the database's own
/// record of the file (the SHA-256 the console wrote in the `export-complete` record, with the server's clock).
pub async fn recount(
    door: &crate::access::Door,
    manifest: &Manifest,
    reason: Option<&crate::access::AccessReason>,
) -> Result<Recount> {
    let mut filter = manifest.filters.given.clone();
    // No `until`: the export read up to its snapshot; count up to the same instant (exclusive bound).
    let to = filter
        .until
        .unwrap_or(manifest.filters.to_utc + chrono::Duration::microseconds(1));
    filter.until = Some(to);
    let (_, mut scope) = door.open_scope(&manifest.tenant.id, reason).await?;
    let rows_now = crate::audit::count_exact(&mut scope, &filter).await?.max(0) as u64;
    let witnessed = crate::access::witness(&mut scope, &manifest.file.sha256).await?;
    scope.finish().await?;
    Ok(Recount {
        witnessed,
        rows_now,
        rows_in_manifest: manifest.rows,
        difference: rows_now as i64 - manifest.rows as i64,
        from_utc: filter.since,
        to_utc: to,
    })
}

/// Reads a manifest file.
pub fn read_manifest(path: &Path) -> Result<Manifest> {
    let text = std::fs::read(path).map_err(|e| Error::io("reading", path, e))?;
    serde_json::from_slice(&text).map_err(|e| {
        Error::InvalidInput(format!(
            "{} is not an export manifest: {} (line {}, column {})",
            path.display(),
            match e.classify() {
                serde_json::error::Category::Data => "a field is missing or of the wrong kind",
                _ => "not valid JSON",
            },
            e.line(),
            e.column()
        ))
    })
}

/// Parses the file as the manifest says it was written (RFC 4180 CSV with its header, or one JSON object per
/// line; gunzipped first when compressed) and counts its rows; also returns the first and last event ids.
fn count_rows(
    file: &Path,
    m: &Manifest,
) -> std::result::Result<(u64, Option<String>, Option<String>), String> {
    let raw = std::fs::File::open(file).map_err(|e| format!("the file cannot be read: {e}"))?;
    let mut reader: Box<dyn std::io::BufRead> = match m.file.compression.as_deref() {
        None => Box::new(std::io::BufReader::new(raw)),
        Some("gzip") => Box::new(std::io::BufReader::new(flate2::read::GzDecoder::new(raw))),
        Some(other) => {
            return Err(format!(
                "the manifest names an unknown compression {:?}",
                cut(other, 20)
            ))
        }
    };
    match m.file.file_format.as_str() {
        "csv" => count_csv(&mut reader, m),
        "jsonl" => count_jsonl(&mut reader, m),
        other => Err(format!(
            "the manifest names an unknown file format {:?}",
            cut(other, 20)
        )),
    }
}

fn count_csv(
    reader: &mut dyn std::io::BufRead,
    m: &Manifest,
) -> std::result::Result<(u64, Option<String>, Option<String>), String> {
    if m.file.bom {
        let mut bom = [0u8; 3];
        reader
            .read_exact(&mut bom)
            .map_err(|_| "the file is shorter than a byte order mark".to_owned())?;
        if bom != *"\u{feff}".as_bytes() {
            return Err(
                "the manifest says the file starts with a byte order mark, and it does not".into(),
            );
        }
    }
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(reader);
    let header: Vec<String> = r
        .headers()
        .map_err(|e| format!("the file is not valid CSV: {e}"))?
        .iter()
        .map(str::to_owned)
        .collect();
    if header != m.columns {
        return Err(format!(
            "the file's header ({}) is not the manifest's columns ({})",
            cut(&header.join(","), 200),
            m.columns.join(",")
        ));
    }
    let id_at = header.iter().position(|h| h == "id");
    let (mut rows, mut first, mut last) = (0u64, None, None);
    for record in r.records() {
        let record =
            record.map_err(|e| format!("the file is not valid CSV after row {rows}: {e}"))?;
        if let Some(i) = id_at {
            let id = record.get(i).unwrap_or_default().to_owned();
            if first.is_none() {
                first = Some(id.clone());
            }
            last = Some(id);
        }
        rows += 1;
    }
    if id_at.is_none() {
        // Without an id column the events cannot be named: compare what the manifest says with itself.
        first = m.first_event.as_ref().map(|e| e.id.clone());
        last = m.last_event.as_ref().map(|e| e.id.clone());
    }
    Ok((rows, first, last))
}

fn count_jsonl(
    reader: &mut dyn std::io::BufRead,
    m: &Manifest,
) -> std::result::Result<(u64, Option<String>, Option<String>), String> {
    let has_id = m.columns.iter().any(|c| c == "id");
    let (mut rows, mut first, mut last) = (0u64, None, None);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("the file cannot be read after line {rows}: {e}"))?;
        if n == 0 {
            break;
        }
        if line.last() != Some(&b'\n') {
            return Err(format!(
                "line {} does not end with a newline: the file was cut short",
                rows + 1
            ));
        }
        let v: serde_json::Value = serde_json::from_slice(&line)
            .map_err(|e| format!("line {} is not one JSON object: {e}", rows + 1))?;
        let serde_json::Value::Object(map) = v else {
            return Err(format!("line {} is not a JSON object", rows + 1));
        };
        if map.len() != m.columns.len() || m.columns.iter().any(|c| !map.contains_key(c)) {
            return Err(format!(
                "line {} has the fields ({}), not the manifest's columns ({})",
                rows + 1,
                cut(&map.keys().cloned().collect::<Vec<_>>().join(","), 200),
                m.columns.join(",")
            ));
        }
        // An id is written as the server's text: a string (integer ids too, so none loses precision).
        let id = map.get("id").map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        if first.is_none() {
            first = id.clone();
        }
        last = id;
        rows += 1;
    }
    if !has_id {
        // Without an id column the events cannot be named: compare what the manifest says with itself.
        first = m.first_event.as_ref().map(|e| e.id.clone());
        last = m.last_event.as_ref().map(|e| e.id.clone());
    }
    Ok((rows, first, last))
}

/// At most `max` characters of a value read from a file, for a message.
fn cut(s: &str, max: usize) -> String {
    let mut out: String = s.chars().filter(|c| !c.is_control()).take(max).collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `manifest` next to nothing yet: to a hidden temporary file in `dir`, to be put in place with the file.
pub(super) fn write_temp(dir: &Path, manifest: &Manifest) -> Result<tempfile::NamedTempFile> {
    use std::io::Write;
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{}{}-", super::PARTIAL_PREFIX, std::process::id()))
        .suffix(super::PARTIAL_SUFFIX)
        .tempfile_in(dir)
        .map_err(|e| Error::io("creating a temporary file in", dir, e))?;
    tmp.write_all(&manifest.to_pretty())
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| Error::io("writing", tmp.path().to_path_buf(), e))?;
    Ok(tmp)
}
