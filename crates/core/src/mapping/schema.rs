//! A mapping bound to a live database: the tables found in the catalog, the types of their columns, and what
//! the query modules need to know to build SQL for them ([`Schema`]). The file format is the parent module's.

use std::collections::HashMap;

use sqlx::PgConnection;

use super::Mapping;
use crate::error::{Error, Result};
use crate::sql::{IdType, TableName};

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
    /// The support-access log the mapping names but that could not be found: every read is refused.
    pub access_log_unbound: Option<String>,
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
        // An access log that is mapped but cannot be bound (misspelled, dropped, not visible to this login) is
        // not an error here, so the isolation check can still run and report it; the door refuses every read
        // while it is so (`access_log_unbound`), because nothing may be read unrecorded.
        let (access_log, access_log_unbound) = match &m.access_log {
            Some(l) => match bind_table(conn, "access_log", &l.table).await {
                Ok(t) => (Some(t), None),
                Err(e) => {
                    tracing::warn!(table = %l.table, error = %e, "the mapped support-access log cannot be bound");
                    (None, Some(l.table.clone()))
                }
            },
            None => (None, None),
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
            access_log_unbound,
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
    let rows: Vec<(String, String, bool)> = crate::sql::query_as(
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
