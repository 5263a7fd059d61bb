//! Support access transparency: why a person at the vendor opened a tenant, recorded where the tenant can read it.
//!
//! A profile's [`ReasonPolicy`] says whether opening a tenant needs a reason. [`record`] writes one row to the
//! support-access log in its own short transaction with the tenant set (the log is tenant-scoped under RLS, so
//! the tenant's own admins can read it): the only write the console's role is granted, and the only write the
//! console makes. If recording fails, the caller must not open the tenant. [`history`] reads the log back,
//! inside the tenant scope like every other tenant read. [`door`] applies all of this to every tenant read.

pub mod consent;
mod door;

pub use consent::{AccessStatus, Approval, ConsentScope, ConsentState};
pub use door::{Door, ExportPass, Opened, ShardFacts, DEFAULT_GRANT};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{Postgres, QueryBuilder, Row};

use crate::cursor;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::scope::{Tenant, TenantScope};
use crate::sql::{col, keyset_page, tenant_eq};

/// Whether opening a tenant needs a reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum ReasonPolicy {
    /// Never asked; accesses are still recorded when a log exists.
    #[default]
    Off,
    /// Asked, may be left empty.
    Optional,
    /// Required: no tenant opens without one.
    Required,
}

impl std::str::FromStr for ReasonPolicy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "off" => Ok(ReasonPolicy::Off),
            "optional" => Ok(ReasonPolicy::Optional),
            "required" => Ok(ReasonPolicy::Required),
            other => Err(Error::InvalidInput(format!(
                "unknown access-reason policy {other:?}: use off, optional or required"
            ))),
        }
    }
}

/// The kind of reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum ReasonCategory {
    SupportTicket,
    Incident,
    AuditRequest,
    Other,
}

impl ReasonCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCategory::SupportTicket => "support-ticket",
            ReasonCategory::Incident => "incident",
            ReasonCategory::AuditRequest => "audit-request",
            ReasonCategory::Other => "other",
        }
    }
}

/// Why a tenant is opened: a category and a detail (a ticket id, an incident number, free text).
///
/// There is one way to make one, [`AccessReason::new`], and every other (`FromStr` for `CATEGORY:DETAIL`, serde
/// for the app's IPC and any JSON) goes through it: an unchecked reason cannot exist, whoever sends it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(try_from = "ReasonInput")]
pub struct AccessReason {
    category: ReasonCategory,
    detail: String,
}

/// A reason as it arrives, before [`AccessReason::new`] has checked it.
#[derive(Deserialize)]
struct ReasonInput {
    category: ReasonCategory,
    detail: String,
}

impl TryFrom<ReasonInput> for AccessReason {
    type Error = Error;
    fn try_from(r: ReasonInput) -> Result<Self> {
        AccessReason::new(r.category, &r.detail)
    }
}

/// The most characters a reason's detail may have.
pub const MAX_DETAIL_CHARS: usize = 500;

/// Characters that are invisible or reorder text when shown: controls (C0, C1, DEL, escape sequences start
/// with one), format characters (Unicode Cf: zero-width spaces and joiners, bidi embeddings, overrides and
/// isolates, the BOM, soft hyphen, invisible operators, tags) and the line and paragraph separators.
fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{0600}'..='\u{0605}' | '\u{061C}' | '\u{06DD}' | '\u{070F}' | '\u{0890}'..='\u{0891}'
            | '\u{08E2}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{110BD}' | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}')
}

impl AccessReason {
    /// A reason, if its detail is visible text: 1-500 characters once trimmed, at least one of them not
    /// white space, none a control or format character (which could hide or reorder what the tenant's admins
    /// read in their access history, or drive a terminal).
    pub fn new(category: ReasonCategory, detail: &str) -> Result<Self> {
        let detail = detail.trim();
        let count = detail.chars().count();
        if count == 0 || count > MAX_DETAIL_CHARS {
            return Err(Error::ReasonRequired(format!(
                "the reason's detail must be 1-{MAX_DETAIL_CHARS} characters of visible text (a ticket id, an incident number, a sentence)"
            )));
        }
        if let Some(c) = detail.chars().find(|c| invisible(*c)) {
            return Err(Error::ReasonRequired(format!(
                "the reason's detail may not hold control or invisible characters (it has U+{:04X}): write it as plain text",
                c as u32
            )));
        }
        Ok(AccessReason {
            category,
            detail: detail.to_owned(),
        })
    }

    pub fn category(&self) -> ReasonCategory {
        self.category
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl std::str::FromStr for AccessReason {
    type Err = Error;
    /// Parses `category:detail`, e.g. `support-ticket:ZD-1234`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::ReasonRequired(format!(
                "cannot read the reason {:?}: write CATEGORY:DETAIL with CATEGORY one of support-ticket, incident, audit-request, other (e.g. support-ticket:ZD-1234)",
                s.chars().take(80).collect::<String>()
            ))
        };
        let (cat, detail) = s.split_once(':').ok_or_else(bad)?;
        let category = match cat.trim() {
            "support-ticket" => ReasonCategory::SupportTicket,
            "incident" => ReasonCategory::Incident,
            "audit-request" => ReasonCategory::AuditRequest,
            "other" => ReasonCategory::Other,
            _ => return Err(bad()),
        };
        AccessReason::new(category, detail)
    }
}

/// Checks a reason against the profile's policy before a tenant is opened.
pub(crate) fn require(policy: ReasonPolicy, reason: Option<&AccessReason>) -> Result<()> {
    if policy == ReasonPolicy::Required && reason.is_none() {
        return Err(Error::ReasonRequired(
            "this profile requires a reason to open a tenant: give one as CATEGORY:DETAIL, e.g. --reason support-ticket:ZD-1234".into(),
        ));
    }
    Ok(())
}

/// What was done to the tenant.
#[derive(Clone, Debug, PartialEq)]
pub enum AccessAction {
    /// Opened the tenant to browse it.
    View,
    /// Exported its audit log (filters, columns and file name, never the path), recorded before it starts.
    Export { details: serde_json::Value },
    /// An export finished (its row and byte counts, and the id of the export's own record).
    Completed { details: serde_json::Value },
}

/// Whether an access was recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Recorded {
    Yes,
    /// The mapped database has no support-access log table.
    NoLogTable,
}

/// Who is acting, as recorded: the OS user and the client host (the database login is the row's `db_user`).
/// The environment's `USER` (or `LOGNAME`, `USERNAME`), else, where none is set (cron, systemd units), the
/// account the process runs as.
pub(crate) fn os_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .or_else(account_name)
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(unix)]
fn account_name() -> Option<String> {
    let mut buf = vec![0u8; 4096];
    // SAFETY: a zeroed passwd is a valid out-parameter; getpwuid_r writes into it and `buf` (of the length
    // given) and sets `found` to it, or to null.
    unsafe {
        let mut pw: libc::passwd = std::mem::zeroed();
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(
            libc::geteuid(),
            &mut pw,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut found,
        );
        if rc != 0 || found.is_null() || pw.pw_name.is_null() {
            return None;
        }
        std::ffi::CStr::from_ptr(pw.pw_name)
            .to_str()
            .ok()
            .map(str::to_owned)
    }
}

#[cfg(not(unix))]
fn account_name() -> Option<String> {
    None
}

#[cfg(not(unix))]
pub(crate) fn client_host() -> String {
    std::env::var("COMPUTERNAME").unwrap_or_else(|_| "unknown".to_owned())
}

#[cfg(unix)]
pub(crate) fn client_host() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc == 0 {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        "unknown".to_owned()
    }
}

/// Records an access in the tenant's support-access log, in its own short write transaction. The record must
/// come back from `RETURNING` as exactly one row and be readable in the tenant's scope after commit.
pub async fn record(
    db: &Db,
    tenant: &Tenant,
    reason: Option<&AccessReason>,
    action: &AccessAction,
) -> Result<Recorded> {
    Ok(record_action(db, tenant, reason, action, None, None)
        .await?
        .0)
}

/// [`record`], with the id of the record written.
#[tracing::instrument(skip(db, action, reason), fields(tenant = %tenant.id))]
pub(crate) async fn record_action(
    db: &Db,
    tenant: &Tenant,
    reason: Option<&AccessReason>,
    action: &AccessAction,
    route: Option<&crate::db::RouteInfo>,
    approval: Option<&str>,
) -> Result<(Recorded, Option<String>)> {
    let s = db.schema();
    let Some(log) = &s.tables.access_log else {
        return Ok((Recorded::NoLogTable, None));
    };
    let (action_name, details) = match action {
        AccessAction::View => ("view", serde_json::json!({})),
        AccessAction::Export { details } => ("export", details.clone()),
        AccessAction::Completed { details } => ("export-complete", details.clone()),
    };
    // How the data left the network (SSH hops with their host keys, a token), when not directly.
    let mut details = details;
    if let (Some(r), serde_json::Value::Object(map)) = (route, &mut details) {
        map.insert(
            "route".into(),
            serde_json::to_value(r).unwrap_or(serde_json::Value::Null),
        );
    }
    // The tenant's approval this access went through (consent the database enforces).
    if let (Some(id), serde_json::Value::Object(map)) = (approval, &mut details) {
        map.insert(
            "approval_id".into(),
            serde_json::Value::String(id.to_owned()),
        );
    }
    let mut tx = db.write_tx().await?;
    crate::sql::query("SELECT set_config($1, $2, true)")
        .bind(s.setting())
        .bind(&tenant.id)
        .execute(&mut *tx)
        .await?;
    let sql = format!(
        "INSERT INTO {} (tenant_id, os_user, client_host, category, detail, action, details)
         VALUES (CAST($1 AS {}), $2, $3, $4, $5, $6, $7::jsonb) RETURNING id::text",
        log.name,
        s.tenant_id_type.cast()
    );
    let returned: Vec<String> = crate::sql::query_scalar(&sql)
        .bind(&tenant.id)
        .bind(os_user())
        .bind(client_host())
        .bind(reason.map(|r| r.category.as_str()).unwrap_or("none"))
        .bind(reason.map(|r| r.detail.as_str()).unwrap_or(""))
        .bind(action_name)
        .bind(details.to_string())
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| match Error::from(e) {
            Error::PermissionDenied(_) => Error::PermissionDenied(format!(
                "write to the support-access log {} (GRANT INSERT ON it TO the console's role)",
                log.name
            )),
            // A rule that rewrites the insert without RETURNING makes the database refuse RETURNING.
            Error::Database { code } if code == "0A000" => not_recorded(
                &log.name.to_string(),
                "a rule on it rewrites inserts".into(),
            ),
            other => other,
        })?;
    let [id] = returned.as_slice() else {
        return Err(not_recorded(
            &log.name.to_string(),
            format!(
                "the insert returned {} rows instead of one (a rule or trigger swallows or multiplies records)",
                returned.len()
            ),
        ));
    };
    tx.commit().await?;
    // The record must be there for the tenant to read, after commit: an AFTER trigger, a deferred trigger
    // or a rule could have moved or removed it.
    let mut check = db.read_tx().await?;
    crate::sql::query("SELECT set_config($1, $2, true)")
        .bind(s.setting())
        .bind(&tenant.id)
        .execute(&mut *check)
        .await?;
    let found: i64 = crate::sql::query_scalar(&format!(
        "SELECT count(*) FROM {} WHERE {} = CAST($1 AS {}) AND id::text = $2",
        log.name,
        col("tenant_id"),
        s.tenant_id_type.cast()
    ))
    .bind(&tenant.id)
    .bind(id)
    .fetch_one(&mut *check)
    .await?;
    check.commit().await?;
    if found != 1 {
        return Err(not_recorded(
            &log.name.to_string(),
            "the record did not stay where the tenant can read it (a trigger or rule moved or removed it)".into(),
        ));
    }
    tracing::info!(record = %id, "access recorded");
    Ok((Recorded::Yes, Some(id.clone())))
}

fn not_recorded(log: &str, why: String) -> Error {
    Error::AccessNotRecorded(format!(
        "the support-access log {log} did not record this access: {why}; nothing was read (the isolation check lists the log's rules and triggers)"
    ))
}

/// One recorded access.
#[derive(Clone, Debug, Serialize, PartialEq, ts_rs::TS)]
pub struct AccessEntry {
    pub id: String,
    pub at: DateTime<Utc>,
    pub db_user: String,
    pub os_user: String,
    pub client_host: String,
    pub category: String,
    pub detail: String,
    pub action: String,
    pub details: serde_json::Value,
}

/// A page of the access history, newest first.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct AccessPage {
    pub items: Vec<AccessEntry>,
    pub next_cursor: Option<String>,
}

/// What the tenant's access log says about one finished export: the `export-complete` record whose SHA-256
/// is `sha256`, written by the console at the end of the export with the server's clock.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct Witness {
    pub record_id: String,
    pub recorded_at: DateTime<Utc>,
    pub db_user: String,
    pub rows: Option<u64>,
}

/// Finds, in the tenant's scope, the `export-complete` record of a file with this SHA-256 (none: the database
/// never saw an export of these bytes).
pub async fn witness(scope: &mut TenantScope, sha256: &str) -> Result<Option<Witness>> {
    let s = scope.schema().clone();
    let Some(log) = &s.tables.access_log else {
        return Ok(None);
    };
    let mut qb = QueryBuilder::<Postgres>::new(format!(
        "SELECT id::text AS id, created_at, db_user, (details->>'rows')::bigint AS rows FROM {} WHERE ",
        log.name,
    ));
    tenant_eq(
        &mut qb,
        &col("tenant_id").to_string(),
        &scope.tenant().id,
        s.tenant_id_type,
    );
    qb.push(" AND action = 'export-complete' AND details->>'sha256' = ")
        .push_bind(sha256.to_owned())
        .push(" ORDER BY created_at DESC, id DESC LIMIT 1");
    let row = scope
        .statements()
        .built(&mut qb)
        .fetch_optional(scope.conn())
        .await?;
    row.map(|r| {
        Ok(Witness {
            record_id: r.try_get("id")?,
            recorded_at: r.try_get("created_at")?,
            db_user: r.try_get("db_user")?,
            rows: r
                .try_get::<Option<i64>, _>("rows")?
                .map(|n| n.max(0) as u64),
        })
    })
    .transpose()
}

/// Reads the tenant's support-access history, newest first.
pub async fn history(
    scope: &mut TenantScope,
    limit: u32,
    after: Option<&str>,
) -> Result<AccessPage> {
    let s = scope.schema().clone();
    let Some(log) = &s.tables.access_log else {
        return Err(Error::Mapping(
            "this database has no support-access log table (the isolation check prints the SQL that adds one)".into(),
        ));
    };
    let limit = limit.clamp(1, 1000) as i64;
    let mut qb = QueryBuilder::<Postgres>::new(format!(
        "SELECT id::text AS id, created_at, db_user, os_user, client_host, category, detail, action,
                details::text AS details
           FROM {} WHERE ",
        log.name,
    ));
    tenant_eq(
        &mut qb,
        &col("tenant_id").to_string(),
        &scope.tenant().id,
        s.tenant_id_type,
    );
    if let Some(after) = after {
        let parts = cursor::decode(after, "access", 2)?;
        let ts = DateTime::parse_from_rfc3339(&parts[0]).map_err(|_| cursor::invalid(after))?;
        let id: i64 = parts[1].parse().map_err(|_| cursor::invalid(after))?;
        qb.push(" AND (created_at, id) < (CAST(")
            .push_bind(ts.to_rfc3339())
            .push(" AS timestamptz), ")
            .push_bind(id)
            .push(")");
    }
    qb.push(" ORDER BY created_at DESC, id DESC LIMIT ")
        .push_bind(limit + 1);
    let rows = scope
        .statements()
        .built(&mut qb)
        .fetch_all(scope.conn())
        .await?;
    let items = rows
        .iter()
        .map(|r| {
            let details: String = r.try_get("details")?;
            Ok(AccessEntry {
                id: r.try_get("id")?,
                at: r.try_get("created_at")?,
                db_user: r.try_get("db_user")?,
                os_user: r.try_get("os_user")?,
                client_host: r.try_get("client_host")?,
                category: r.try_get("category")?,
                detail: r.try_get("detail")?,
                action: r.try_get("action")?,
                details: serde_json::from_str(&details).unwrap_or(serde_json::Value::Null),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let (items, next_cursor) = keyset_page(items, limit as usize, |last| {
        cursor::encode(
            "access",
            &[
                &last.at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                &last.id,
            ],
        )
    });
    Ok(AccessPage { items, next_cursor })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Details that show nothing, hide something, or drive a terminal; each is refused by every way in.
    const HOSTILE: &[&str] = &[
        "",
        "   ",
        "\t\n",
        "\u{1}",
        "ZD-1\u{1}",
        "\x1b[31mred",
        "\u{200B}",
        "ZD\u{200B}-1",
        "\u{202E}4321-DZ",
        "ok\u{2066}hidden\u{2069}",
        "\u{FEFF}",
        "\u{E0041}tag",
        "next\u{85}line",
        "a\u{2028}b",
    ];

    #[test]
    fn a_reason_is_visible_text_whoever_sends_it() {
        let long = "x".repeat(MAX_DETAIL_CHARS + 1);
        let four_mb = "y".repeat(4 << 20);
        for detail in HOSTILE
            .iter()
            .copied()
            .chain([long.as_str(), four_mb.as_str()])
        {
            // The CLI's CATEGORY:DETAIL ...
            let e = format!("support-ticket:{detail}")
                .parse::<AccessReason>()
                .unwrap_err();
            assert_eq!(e.kind(), "reason_required", "{detail:?}");
            // ... the constructor ...
            assert!(
                AccessReason::new(ReasonCategory::Incident, detail).is_err(),
                "{detail:?}"
            );
            // ... and JSON, as the app's IPC and any script send it.
            let json = serde_json::json!({"category": "incident", "detail": detail});
            assert!(
                serde_json::from_value::<AccessReason>(json).is_err(),
                "{detail:?}"
            );
        }
        let ok: AccessReason = serde_json::from_value(
            serde_json::json!({"category": "incident", "detail": "  INC-7 Zürich 東京  "}),
        )
        .unwrap();
        assert_eq!(ok.detail(), "INC-7 Zürich 東京");
        assert_eq!(
            AccessReason::new(ReasonCategory::Other, &"é".repeat(MAX_DETAIL_CHARS))
                .unwrap()
                .detail()
                .chars()
                .count(),
            MAX_DETAIL_CHARS
        );
    }

    #[test]
    fn reasons_parse_as_category_and_detail() {
        let r: AccessReason = "support-ticket:ZD-1234".parse().unwrap();
        assert_eq!(r.category, ReasonCategory::SupportTicket);
        assert_eq!(r.detail, "ZD-1234");
        let r: AccessReason = "other: customer asked on the phone, call 2"
            .parse()
            .unwrap();
        assert_eq!(r.detail, "customer asked on the phone, call 2");
    }

    #[test]
    fn malformed_reasons_say_how_to_write_one() {
        for bad in ["", "ZD-1234", "gossip:ZD-1", "incident:", "incident:   "] {
            let e = bad.parse::<AccessReason>().unwrap_err();
            assert_eq!(e.kind(), "reason_required", "{bad}");
        }
    }

    #[test]
    fn the_os_user_comes_from_the_account_when_the_environment_names_none() {
        // The process's own account, as the access log records it under cron (no USER, LOGNAME, USERNAME).
        #[cfg(unix)]
        assert_eq!(
            account_name().as_deref(),
            Some(
                std::str::from_utf8(
                    &std::process::Command::new("id")
                        .arg("-un")
                        .output()
                        .unwrap()
                        .stdout
                )
                .unwrap()
                .trim()
            )
        );
    }

    #[test]
    fn a_required_reason_is_required() {
        assert!(require(ReasonPolicy::Required, None).is_err());
        assert!(require(ReasonPolicy::Optional, None).is_ok());
        let r: AccessReason = "incident:INC-7".parse().unwrap();
        assert!(require(ReasonPolicy::Required, Some(&r)).is_ok());
    }
}
