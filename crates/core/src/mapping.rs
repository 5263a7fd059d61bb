//! Where the tenant data lives: the mapping file, and the mapping bound to a real database.
//!
//! [`Mapping`] is what a user writes (TOML, documented in the README); [`Mapping::reference`] is the schema in
//! `migrations/`. [`Schema`] is a mapping checked against the live catalog: every table and column exists, and
//! the SQL types it needs to know (tenant id, audit id, timestamps, JSON) are read from the catalog, so the query
//! modules can cast bound parameters correctly. A name that does not exist is reported with the section and key
//! it came from. This module renders no values into SQL and no names except through [`crate::sql`].

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use crate::error::{Error, Result};
pub use crate::sql::{col, Col, IdType};
use crate::sql::{Ident, TableName};

/// The setting the reference schema's policies read.
pub const DEFAULT_TENANT_SETTING: &str = "app.current_tenant_id";

/// A mapping file as written by the user. Unknown keys are refused (a typo would otherwise be silently ignored).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The setting the RLS policies read (`current_setting(...)`).
    #[serde(default = "default_setting")]
    pub tenant_setting: String,
    pub tenants: TenantsMap,
    #[serde(default)]
    pub users: Option<UsersMap>,
    pub members: MembersMap,
    pub audit_logs: AuditMap,
    #[serde(default)]
    pub roles: Option<RolesMap>,
    #[serde(default)]
    pub access_log: Option<AccessLogMap>,
}

fn default_setting() -> String {
    DEFAULT_TENANT_SETTING.to_owned()
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TenantsMap {
    pub table: String,
    pub id: String,
    #[serde(default)]
    pub slug: Option<String>,
    pub name: String,
    #[serde(default)]
    pub created_at: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UsersMap {
    pub table: String,
    pub id: String,
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MembersMap {
    pub table: String,
    pub tenant_id: String,
    pub user_id: String,
    pub role: String,
    #[serde(default)]
    pub created_at: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuditMap {
    pub table: String,
    pub id: String,
    pub tenant_id: String,
    pub actor_id: String,
    pub action: String,
    #[serde(default)]
    pub resource_type: Option<String>,
    #[serde(default)]
    pub resource_id: Option<String>,
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
    pub created_at: String,
    #[serde(default)]
    pub metadata: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RolesMap {
    pub table: String,
    /// A null tenant in this column means a global role, shown to every tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    pub name: String,
    pub permissions: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub builtin: Option<String>,
}

/// The support-access log; its columns are those of the reference schema (the isolation check prints the SQL).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AccessLogMap {
    pub table: String,
}

impl Mapping {
    /// The reference schema of `migrations/`.
    pub fn reference() -> Self {
        let s = |v: &str| v.to_owned();
        Mapping {
            tenant_setting: default_setting(),
            tenants: TenantsMap {
                table: s("tenants"),
                id: s("id"),
                slug: Some(s("slug")),
                name: s("name"),
                created_at: Some(s("created_at")),
            },
            users: Some(UsersMap {
                table: s("users"),
                id: s("id"),
                email: s("email"),
                name: Some(s("display_name")),
            }),
            members: MembersMap {
                table: s("memberships"),
                tenant_id: s("tenant_id"),
                user_id: s("user_id"),
                role: s("role"),
                created_at: Some(s("created_at")),
            },
            audit_logs: AuditMap {
                table: s("audit_logs"),
                id: s("id"),
                tenant_id: s("tenant_id"),
                actor_id: s("actor_id"),
                action: s("action"),
                resource_type: Some(s("resource_type")),
                resource_id: Some(s("resource_id")),
                ip: Some(s("ip")),
                user_agent: Some(s("user_agent")),
                created_at: s("created_at"),
                metadata: Some(s("metadata")),
            },
            roles: Some(RolesMap {
                table: s("roles"),
                tenant_id: Some(s("tenant_id")),
                name: s("name"),
                permissions: s("permissions"),
                description: Some(s("description")),
                builtin: Some(s("is_builtin")),
            }),
            access_log: Some(AccessLogMap {
                table: s("support_access_log"),
            }),
        }
    }

    /// Parses a mapping from TOML text; errors name the line and the key.
    pub fn from_toml(text: &str) -> Result<Self> {
        let m: Mapping =
            toml::from_str(text).map_err(|e| Error::Mapping(crate::error::toml_error(&e, text)))?;
        m.validate_names()?;
        Ok(m)
    }

    /// Reads and parses a mapping file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("reading", path, e))?;
        Self::from_toml(&text).map_err(|e| match e {
            Error::Mapping(m) => Error::Mapping(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Checks every name is a valid identifier and the setting a valid custom setting name, before any SQL.
    fn validate_names(&self) -> Result<()> {
        validate_setting_name(&self.tenant_setting)?;
        for (section, key, value) in self.names() {
            let r = if key == "table" {
                TableName::parse(value).map(|_| ())
            } else {
                Ident::parse(value).map(|_| ())
            };
            r.map_err(|e| Error::Mapping(format!("[{section}] {key}: {e}")))?;
        }
        Ok(())
    }

    /// Every (section, key, name) of the mapping, for validation and error messages.
    fn names(&self) -> Vec<(&'static str, &'static str, &str)> {
        let (t, mm, a) = (&self.tenants, &self.members, &self.audit_logs);
        let mut v: Vec<(&'static str, &'static str, Option<&str>)> = vec![
            ("tenants", "table", Some(&t.table)),
            ("tenants", "id", Some(&t.id)),
            ("tenants", "name", Some(&t.name)),
            ("tenants", "slug", t.slug.as_deref()),
            ("tenants", "created_at", t.created_at.as_deref()),
            ("members", "table", Some(&mm.table)),
            ("members", "tenant_id", Some(&mm.tenant_id)),
            ("members", "user_id", Some(&mm.user_id)),
            ("members", "role", Some(&mm.role)),
            ("members", "created_at", mm.created_at.as_deref()),
            ("audit_logs", "table", Some(&a.table)),
            ("audit_logs", "id", Some(&a.id)),
            ("audit_logs", "tenant_id", Some(&a.tenant_id)),
            ("audit_logs", "actor_id", Some(&a.actor_id)),
            ("audit_logs", "action", Some(&a.action)),
            ("audit_logs", "created_at", Some(&a.created_at)),
            ("audit_logs", "resource_type", a.resource_type.as_deref()),
            ("audit_logs", "resource_id", a.resource_id.as_deref()),
            ("audit_logs", "ip", a.ip.as_deref()),
            ("audit_logs", "user_agent", a.user_agent.as_deref()),
            ("audit_logs", "metadata", a.metadata.as_deref()),
        ];
        if let Some(u) = &self.users {
            v.extend([
                ("users", "table", Some(u.table.as_str())),
                ("users", "id", Some(&u.id)),
                ("users", "email", Some(&u.email)),
                ("users", "name", u.name.as_deref()),
            ]);
        }
        if let Some(r) = &self.roles {
            v.extend([
                ("roles", "table", Some(r.table.as_str())),
                ("roles", "name", Some(&r.name)),
                ("roles", "permissions", Some(&r.permissions)),
                ("roles", "tenant_id", r.tenant_id.as_deref()),
                ("roles", "description", r.description.as_deref()),
                ("roles", "builtin", r.builtin.as_deref()),
            ]);
        }
        if let Some(l) = &self.access_log {
            v.push(("access_log", "table", Some(l.table.as_str())));
        }
        v.into_iter()
            .filter_map(|(s, k, n)| n.map(|n| (s, k, n)))
            .collect()
    }
}

/// A custom setting name as `set_config` accepts it: `prefix.name`, letters, digits and underscores.
pub fn validate_setting_name(name: &str) -> Result<()> {
    let ok_part = |p: &str| {
        !p.is_empty()
            && p.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() >= 2 && parts.iter().all(|p| ok_part(p)) && name.len() <= 63 {
        Ok(())
    } else {
        Err(Error::Mapping(format!(
            "tenant_setting {name:?} is not a custom setting name like app.current_tenant_id"
        )))
    }
}

/// How a timestamp column is stored. `timestamp without time zone` is read as UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsType {
    WithZone,
    WithoutZone,
}

impl TsType {
    /// An expression giving the column as `timestamptz`.
    pub fn select(self, col: &str) -> String {
        match self {
            TsType::WithZone => col.to_owned(),
            TsType::WithoutZone => format!("({col} AT TIME ZONE 'UTC')"),
        }
    }

    /// A cast of a bound `timestamptz` text parameter to the column's own type (keeps the index usable).
    pub fn param(self, placeholder: &str) -> String {
        match self {
            TsType::WithZone => format!("CAST({placeholder} AS timestamptz)"),
            TsType::WithoutZone => {
                format!("(CAST({placeholder} AS timestamptz) AT TIME ZONE 'UTC')")
            }
        }
    }
}

/// How a roles table stores permissions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PermType {
    TextArray,
    Json,
}

/// A mapped table bound to the catalog: its quoted name and its columns' types.
#[derive(Clone, Debug)]
pub struct BoundTable {
    pub name: TableName,
    pub columns: HashMap<String, ColumnInfo>,
}

/// One column as the catalog describes it.
#[derive(Clone, Debug)]
pub struct ColumnInfo {
    /// `pg_type.typname` (e.g. `uuid`, `int8`, `_text` for text[]).
    pub typname: String,
    pub not_null: bool,
}

/// A mapping checked against a live database, ready for the query modules.
#[derive(Clone, Debug)]
pub struct Schema {
    pub mapping: Mapping,
    pub tenant_id_type: IdType,
    pub audit_id_type: IdType,
    pub audit_ts: TsType,
    pub audit_has_metadata: bool,
    pub members_ts: Option<TsType>,
    pub tenants_ts: Option<TsType>,
    pub perm_type: Option<PermType>,
    pub tables: Tables,
}

/// The bound tables, each present only when mapped.
#[derive(Clone, Debug)]
pub struct Tables {
    pub tenants: BoundTable,
    pub users: Option<BoundTable>,
    pub members: BoundTable,
    pub audit: BoundTable,
    pub roles: Option<BoundTable>,
    pub access_log: Option<BoundTable>,
}

impl Schema {
    /// Checks the mapping against the database and reads the column types it needs.
    pub async fn bind(conn: &mut PgConnection, mapping: Mapping) -> Result<Self> {
        mapping.validate_names()?;
        let m = &mapping;
        let tenants = bind_table(conn, "tenants", &m.tenants.table).await?;
        let members = bind_table(conn, "members", &m.members.table).await?;
        let audit = bind_table(conn, "audit_logs", &m.audit_logs.table).await?;
        let users = match &m.users {
            Some(u) => Some(bind_table(conn, "users", &u.table).await?),
            None => None,
        };
        let roles = match &m.roles {
            Some(r) => Some(bind_table(conn, "roles", &r.table).await?),
            None => None,
        };
        // An access log that is mapped but missing is not an error here: the isolation check reports it, and
        // recording refuses with a clear message. Only a present one is bound.
        let access_log = match &m.access_log {
            Some(l) => bind_table(conn, "access_log", &l.table).await.ok(),
            None => None,
        };

        let t = &m.tenants;
        let tenant_id_type = id_type(&tenants, "tenants", &t.id)?;
        need(&tenants, "tenants", "name", &t.name)?;
        if let Some(slug) = &t.slug {
            need(&tenants, "tenants", "slug", slug)?;
        }
        let tenants_ts = match &t.created_at {
            Some(c) => Some(ts_type(&tenants, "tenants", c)?),
            None => None,
        };

        let mm = &m.members;
        for (k, c) in [
            ("tenant_id", &mm.tenant_id),
            ("user_id", &mm.user_id),
            ("role", &mm.role),
        ] {
            need(&members, "members", k, c)?;
        }
        let members_ts = match &mm.created_at {
            Some(c) => Some(ts_type(&members, "members", c)?),
            None => None,
        };

        let a = &m.audit_logs;
        let audit_id_type = id_type(&audit, "audit_logs", &a.id)?;
        for (k, c) in [
            ("tenant_id", Some(&a.tenant_id)),
            ("actor_id", Some(&a.actor_id)),
            ("action", Some(&a.action)),
            ("resource_type", a.resource_type.as_ref()),
            ("resource_id", a.resource_id.as_ref()),
            ("ip", a.ip.as_ref()),
            ("user_agent", a.user_agent.as_ref()),
        ] {
            if let Some(c) = c {
                need(&audit, "audit_logs", k, c)?;
            }
        }
        let audit_ts = ts_type(&audit, "audit_logs", &a.created_at)?;
        if let Some(meta) = &a.metadata {
            let info = need(&audit, "audit_logs", "metadata", meta)?;
            if !matches!(info.typname.as_str(), "json" | "jsonb" | "text") {
                return Err(Error::Mapping(format!(
                    "[audit_logs] metadata: column {meta:?} of {} is {}, expected json or jsonb",
                    audit.name, info.typname
                )));
            }
        }

        if let Some(u) = &m.users {
            let ut = users.as_ref().expect("bound above");
            id_type(ut, "users", &u.id)?;
            need(ut, "users", "email", &u.email)?;
            if let Some(n) = &u.name {
                need(ut, "users", "name", n)?;
            }
        }

        let perm_type = match (&m.roles, &roles) {
            (Some(r), Some(rt)) => {
                need(rt, "roles", "name", &r.name)?;
                if let Some(tc) = &r.tenant_id {
                    need(rt, "roles", "tenant_id", tc)?;
                }
                if let Some(d) = &r.description {
                    need(rt, "roles", "description", d)?;
                }
                if let Some(b) = &r.builtin {
                    need(rt, "roles", "builtin", b)?;
                }
                let p = need(rt, "roles", "permissions", &r.permissions)?;
                Some(match p.typname.as_str() {
                    "_text" | "_varchar" => PermType::TextArray,
                    "json" | "jsonb" => PermType::Json,
                    other => {
                        return Err(Error::Mapping(format!(
                            "[roles] permissions: column {:?} of {} is {other}, expected text[] or a json array",
                            r.permissions, rt.name
                        )))
                    }
                })
            }
            _ => None,
        };

        Ok(Schema {
            tenant_id_type,
            audit_id_type,
            audit_ts,
            audit_has_metadata: a.metadata.is_some(),
            members_ts,
            tenants_ts,
            perm_type,
            tables: Tables {
                tenants,
                users,
                members,
                audit,
                roles,
                access_log,
            },
            mapping,
        })
    }

    /// The setting the policies read.
    pub fn setting(&self) -> &str {
        &self.mapping.tenant_setting
    }
}

async fn bind_table(conn: &mut PgConnection, section: &str, spec: &str) -> Result<BoundTable> {
    let name =
        TableName::parse(spec).map_err(|e| Error::Mapping(format!("[{section}] table: {e}")))?;
    // to_regclass parses the quoted name itself: the name is a bound value, never SQL text.
    let rows: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT a.attname::text, t.typname::text, a.attnotnull
           FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
          WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped",
    )
    .bind(name.to_string())
    .fetch_all(&mut *conn)
    .await?;
    if rows.is_empty() {
        return Err(Error::Mapping(format!(
            "[{section}] table: table {name} does not exist, or this login cannot see it"
        )));
    }
    let columns = rows
        .into_iter()
        .map(|(n, typname, not_null)| (n, ColumnInfo { typname, not_null }))
        .collect();
    Ok(BoundTable { name, columns })
}

fn need<'a>(t: &'a BoundTable, section: &str, key: &str, column: &str) -> Result<&'a ColumnInfo> {
    t.columns.get(column).ok_or_else(|| {
        Error::Mapping(format!(
            "[{section}] {key}: table {} has no column {column:?}",
            t.name
        ))
    })
}

fn id_type(t: &BoundTable, section: &str, column: &str) -> Result<IdType> {
    let info = need(t, section, "id", column)?;
    IdType::from_catalog(&info.typname).ok_or_else(|| {
        Error::Mapping(format!(
            "[{section}] column {column:?} of {} has type {}; ids must be uuid, text or integer",
            t.name, info.typname
        ))
    })
}

fn ts_type(t: &BoundTable, section: &str, column: &str) -> Result<TsType> {
    let info = need(t, section, "created_at", column)?;
    match info.typname.as_str() {
        "timestamptz" => Ok(TsType::WithZone),
        "timestamp" => Ok(TsType::WithoutZone),
        other => Err(Error::Mapping(format!(
            "[{section}] column {column:?} of {} has type {other}; expected timestamptz or timestamp",
            t.name
        ))),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_secrets_file_given_as_a_mapping_is_refused_without_quoting_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.toml");
        std::fs::write(
            &path,
            "# prod\n[database]\ndb_admin_password = \"Tr0ub4dor&3-prod\"\napi_key = sk_live_51HxYz\n",
        )
        .unwrap();
        let e = Mapping::load(&path).unwrap_err();
        let m = e.to_string();
        assert_eq!(e.kind(), "mapping");
        assert!(!m.contains("Tr0ub4dor") && !m.contains("sk_live"), "{m}");
        assert!(m.contains(&path.display().to_string()), "{m}");
        assert!(m.contains("line 4"), "{m}");
    }

    use super::*;

    const PRISMA: &str = r#"
tenant_setting = "app.current_tenant_id"
[tenants]
table = "Tenant"
id = "id"
slug = "slug"
name = "name"
created_at = "createdAt"
[users]
table = "User"
id = "id"
email = "email"
[members]
table = "TenantMembership"
tenant_id = "tenantId"
user_id = "userId"
role = "role"
[audit_logs]
table = "AuditLog"
id = "id"
tenant_id = "tenantId"
actor_id = "userId"
action = "action"
resource_type = "resource"
resource_id = "resourceId"
created_at = "createdAt"
metadata = "metadata"
[roles]
table = "Role"
tenant_id = "tenantId"
name = "name"
permissions = "permissions"
"#;

    #[test]
    fn the_documented_prisma_mapping_parses() {
        let m = Mapping::from_toml(PRISMA).unwrap();
        assert_eq!(m.tenants.table, "Tenant");
        assert_eq!(m.audit_logs.resource_type.as_deref(), Some("resource"));
        assert!(m.access_log.is_none());
    }

    #[test]
    fn a_misspelt_key_is_refused_with_its_name() {
        let bad = PRISMA.replace("resource_id =", "resourceid =");
        let err = Mapping::from_toml(&bad).unwrap_err().to_string();
        assert!(err.contains("resourceid"), "{err}");
    }

    #[test]
    fn a_missing_required_section_is_named() {
        let bad = PRISMA.replace("[members]", "[memberz]");
        let err = Mapping::from_toml(&bad).unwrap_err().to_string();
        assert!(err.contains("memberz") || err.contains("members"), "{err}");
    }

    #[test]
    fn malformed_toml_is_an_error_not_a_panic() {
        for text in [
            "[tenants",
            "tenants = 3",
            "",
            "\u{0}",
            "[tenants]\ntable = \"\"\nid=\"id\"\nname=\"n\"",
        ] {
            assert!(Mapping::from_toml(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn a_setting_name_must_be_a_custom_setting() {
        assert!(validate_setting_name("app.current_tenant_id").is_ok());
        assert!(validate_setting_name("app.tenant.id").is_ok());
        for bad in ["tenant", "app.", ".x", "app.x; drop", "app.x'", ""] {
            assert!(validate_setting_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_reference_mapping_is_valid() {
        Mapping::reference().validate_names().unwrap();
    }

    #[test]
    fn id_types_check_their_values_before_any_query() {
        assert!(IdType::Uuid.accepts("6f1c2b8e-2f4e-4d8e-9a51-0c8f3b1e7d20"));
        assert!(!IdType::Uuid.accepts("acme"));
        assert!(IdType::Integer.accepts("-42"));
        assert!(!IdType::Integer.accepts("4x"));
        assert!(IdType::Text.accepts("ckq1x2y3z0000"));
        assert!(!IdType::Text.accepts(""));
        assert!(!IdType::Text.accepts("a\0b"));
    }
}
