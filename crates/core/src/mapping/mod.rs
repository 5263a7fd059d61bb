//! Where the tenant data lives: the mapping file, and the mapping bound to a real database.
//!
//! [`Mapping`] is what a user writes (TOML, documented in the README); [`Mapping::reference`] is the schema in
//! `migrations/`. [`Schema`] is a mapping checked against the live catalog: every table and column exists, and
//! the SQL types it needs to know (tenant id, audit id, timestamps, JSON) are read from the catalog, so the query
//! modules can cast bound parameters correctly. A name that does not exist is reported with the section and key
//! it came from. This module renders no values into SQL and no names except through [`crate::sql`].

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
pub use crate::sql::{col, Col, IdType};

mod schema;

use crate::sql::{Ident, TableName};
pub use schema::{BoundTable, ColumnInfo, ConsentTables, PermType, Reads, Schema, Tables, TsType};

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
    /// Consent the database enforces (optional): where a tenant says it requires approval, where the console
    /// asks and where the tenant's answers are.
    #[serde(default)]
    pub consent: Option<ConsentMap>,
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
    /// The action a failed sign-in is logged with (exact, or a prefix ending in `.` or `*`): the tenant at a
    /// glance lists them.
    #[serde(default = "default_failed_login_action")]
    pub failed_login_action: String,
}

fn default_failed_login_action() -> String {
    "auth.login_failed".to_owned()
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

/// Consent the database enforces. The request and approval tables have the reference schema's columns (the
/// README prints their SQL).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConsentMap {
    /// The column of the tenants table that says `required` when the tenant must approve each access.
    pub tenants_column: String,
    /// Where the console writes its requests (the login may INSERT there, like the access log).
    pub requests: String,
    /// Where the tenant's approvals are (written by the application, read by the console).
    pub approvals: String,
    /// The channel `pg_notify` announces a written or revoked approval on.
    #[serde(default = "default_consent_channel")]
    pub channel: String,
}

fn default_consent_channel() -> String {
    "support_access".to_owned()
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
                failed_login_action: default_failed_login_action(),
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
            consent: Some(ConsentMap {
                tenants_column: s("support_consent"),
                requests: s("support_access_requests"),
                approvals: s("support_access_approvals"),
                channel: default_consent_channel(),
            }),
        }
    }

    /// Parses a mapping from TOML text; errors name the line and the key.
    ///
    /// A mapping must say where accesses are recorded (`[access_log] table = "…"`) or, explicitly, that the
    /// database has none (`[access_log] none = true`): a forgotten or misspelled section must never turn
    /// recording off without anyone having said so.
    pub fn from_toml(text: &str) -> Result<Self> {
        let mut raw: toml::Table =
            toml::from_str(text).map_err(|e| Error::Mapping(crate::error::toml_error(&e, text)))?;
        const SAY: &str = "say where accesses are recorded, [access_log] table = \"support_access_log\", or that this database has no access log, [access_log] none = true (every read is then unrecorded, and every output says so)";
        match raw.get_mut("access_log") {
            None => return Err(Error::Mapping(format!("no [access_log] section: {SAY}"))),
            Some(toml::Value::Table(log)) => {
                let none = match log.remove("none") {
                    None => false,
                    Some(toml::Value::Boolean(b)) => b,
                    Some(_) => {
                        return Err(Error::Mapping("[access_log] none: true or false".into()))
                    }
                };
                match (none, log.contains_key("table")) {
                    (true, true) => {
                        return Err(Error::Mapping(
                            "[access_log] names a table and says none = true: say one of them"
                                .into(),
                        ))
                    }
                    (true, false) => {
                        if let Some(k) = log.keys().next() {
                            return Err(Error::Mapping(format!(
                                "[access_log] {k}: unknown key beside none = true"
                            )));
                        }
                        raw.remove("access_log");
                    }
                    (false, false) => {
                        return Err(Error::Mapping(format!("[access_log] has no table: {SAY}")))
                    }
                    (false, true) => {}
                }
            }
            Some(_) => {
                return Err(Error::Mapping(format!(
                    "access_log must be a section: {SAY}"
                )))
            }
        }
        let m: Mapping = toml::Value::Table(raw)
            .try_into()
            .map_err(|e: toml::de::Error| Error::Mapping(crate::error::toml_error(&e, text)))?;
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
            let r = if matches!(key, "table" | "requests" | "approvals") {
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
        if let Some(c) = &self.consent {
            v.extend([
                ("consent", "tenants_column", Some(c.tenants_column.as_str())),
                ("consent", "requests", Some(c.requests.as_str())),
                ("consent", "approvals", Some(c.approvals.as_str())),
                ("consent", "channel", Some(c.channel.as_str())),
            ]);
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
[access_log]
none = true
"#;

    #[test]
    fn a_mapping_must_say_where_accesses_are_recorded_or_that_there_is_no_log() {
        let without = PRISMA.replace("[access_log]\nnone = true\n", "");
        let e = Mapping::from_toml(&without).unwrap_err().to_string();
        assert!(
            e.contains("[access_log]") && e.contains("none = true"),
            "{e}"
        );
        let misspelt = PRISMA.replace(
            "[access_log]\nnone = true",
            "[access_log]\ntabel = \"AccessLog\"",
        );
        assert!(Mapping::from_toml(&misspelt).is_err());
        let both = PRISMA.replace("none = true", "none = true\ntable = \"AccessLog\"");
        assert!(Mapping::from_toml(&both)
            .unwrap_err()
            .to_string()
            .contains("one of them"));
        let named = PRISMA.replace("none = true", "table = \"AccessLog\"");
        assert_eq!(
            Mapping::from_toml(&named)
                .unwrap()
                .access_log
                .unwrap()
                .table,
            "AccessLog"
        );
    }

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
