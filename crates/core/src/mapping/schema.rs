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
    /// Whether the login may SELECT it (`has_column_privilege`): a column it may not is **masked**, read as
    /// null and named in every output that would have shown it.
    pub readable: bool,
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
    /// The consent tables, when the mapping names them and they bind.
    pub consent: Option<ConsentTables>,
    /// Consent the mapping names but that could not be bound (why): every read is refused, because the
    /// console cannot tell a tenant that requires approval from one that does not.
    pub consent_unbound: Option<String>,
}

/// The tables of consent the database enforces, bound.
#[derive(Clone, Debug)]
pub struct ConsentTables {
    /// The tenants table's column that says `required`.
    pub column: String,
    pub requests: BoundTable,
    pub approvals: BoundTable,
    pub channel: String,
}

/// Which mapped tables an output reads, to name the masked columns it would have shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reads {
    Members,
    Audit,
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

        // Consent the mapping names but that cannot be bound refuses every read (like the access log): the
        // console must not guess whether a tenant requires approval.
        let (consent, consent_unbound) = match &m.consent {
            Some(c) => match bind_consent(conn, &tenants, c).await {
                Ok(t) => (Some(t), None),
                Err(e) => {
                    tracing::warn!(error = %e, "the mapped consent tables cannot be bound");
                    (None, Some(e.to_string()))
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
            consent,
            consent_unbound,
            mapping,
        })
    }

    /// The setting the policies read.
    pub fn setting(&self) -> &str {
        &self.mapping.tenant_setting
    }

    /// Whether the login may read `column` of `table` (a column the table lacks is not readable).
    pub fn can_read(table: &BoundTable, column: &str) -> bool {
        table.columns.get(column).is_some_and(|c| c.readable)
    }

    /// Whether the users table can be joined and read at all: its id must be readable.
    pub fn users_readable(&self) -> bool {
        match (&self.mapping.users, &self.tables.users) {
            (Some(u), Some(ut)) => Self::can_read(ut, &u.id),
            _ => false,
        }
    }

    /// Whether a mapped users column (`email`, `name`) can be shown.
    pub fn user_column(
        &self,
        pick: impl Fn(&super::UsersMap) -> Option<&String>,
    ) -> Option<String> {
        let (u, ut) = (self.mapping.users.as_ref()?, self.tables.users.as_ref()?);
        let c = pick(u)?;
        (self.users_readable() && Self::can_read(ut, c)).then(|| c.clone())
    }

    /// The mapped columns the login may not read, as `table.column` (the mapping's names), for what `reads`.
    pub fn masked_columns(&self, reads: Reads) -> Vec<String> {
        let masks = match reads {
            Reads::Members => self.member_masks(),
            Reads::Audit => self.audit_masks(),
        };
        let mut out: Vec<String> = masks.into_iter().map(|(_, q)| q).collect();
        out.sort();
        out.dedup();
        out
    }

    /// The audit event's fields (as [`crate::audit::AuditEvent`] names them) the login may not read, each
    /// with the mapped column it comes from (`table.column`): pages and exports read them as null.
    pub fn audit_masks(&self) -> Vec<(&'static str, String)> {
        let a = &self.mapping.audit_logs;
        let t = &self.tables.audit;
        let mut out = Vec::new();
        for (field, column) in [
            ("actor_id", Some(&a.actor_id)),
            ("action", Some(&a.action)),
            ("resource_type", a.resource_type.as_ref()),
            ("resource_id", a.resource_id.as_ref()),
            ("ip", a.ip.as_ref()),
            ("user_agent", a.user_agent.as_ref()),
            ("metadata", a.metadata.as_ref()),
        ] {
            if let Some(c) = column {
                if !Self::can_read(t, c) {
                    out.push((field, format!("{}.{c}", a.table)));
                }
            }
        }
        if let (Some(u), Some(ut)) = (&self.mapping.users, &self.tables.users) {
            if !(Self::can_read(ut, &u.id)
                && Self::can_read(ut, &u.email)
                && Self::can_read(t, &a.actor_id))
            {
                out.push(("actor_email", format!("{}.{}", u.table, u.email)));
            }
        }
        out
    }

    /// The member's fields (as [`crate::members::Member`] names them) the login may not read, each with the
    /// mapped column it comes from (`table.column`).
    pub fn member_masks(&self) -> Vec<(&'static str, String)> {
        let mm = &self.mapping.members;
        let t = &self.tables.members;
        let mut out = Vec::new();
        for (field, column) in [
            ("role", Some(&mm.role)),
            ("joined_at", mm.created_at.as_ref()),
        ] {
            if let Some(c) = column {
                if !Self::can_read(t, c) {
                    out.push((field, format!("{}.{c}", mm.table)));
                }
            }
        }
        if let (Some(u), Some(ut)) = (&self.mapping.users, &self.tables.users) {
            let joinable = Self::can_read(ut, &u.id);
            if !joinable {
                out.push(("id_user", format!("{}.{}", u.table, u.id)));
            }
            for (field, column) in [("email", Some(&u.email)), ("name", u.name.as_ref())] {
                if let Some(c) = column {
                    if !joinable || !Self::can_read(ut, c) {
                        out.push((field, format!("{}.{c}", u.table)));
                    }
                }
            }
        }
        out
    }

    /// Whether an audit event's field is masked.
    pub fn audit_masked(&self, field: &str) -> bool {
        self.audit_masks().iter().any(|(f, _)| *f == field)
    }

    /// Refuses, in words, a read that needs a column the login may not read: the tenant column (every read
    /// carries the tenant predicate), and the keys a page is ordered and joined by. Everything else is masked.
    pub fn require_keys(&self, reads: Reads) -> Result<()> {
        let m = &self.mapping;
        let keys: Vec<(&str, &BoundTable, &str, &str)> = match reads {
            Reads::Members => vec![
                (
                    &m.members.table,
                    &self.tables.members,
                    &m.members.tenant_id,
                    "the tenant predicate every read carries",
                ),
                (
                    &m.members.table,
                    &self.tables.members,
                    &m.members.user_id,
                    "who each member is",
                ),
            ],
            Reads::Audit => vec![
                (
                    &m.audit_logs.table,
                    &self.tables.audit,
                    &m.audit_logs.tenant_id,
                    "the tenant predicate every read carries",
                ),
                (
                    &m.audit_logs.table,
                    &self.tables.audit,
                    &m.audit_logs.created_at,
                    "the order of the log and its time filters",
                ),
                (
                    &m.audit_logs.table,
                    &self.tables.audit,
                    &m.audit_logs.id,
                    "the order of the log between events of the same time",
                ),
            ],
        };
        for (table, bound, column, why) in keys {
            if !Self::can_read(bound, column) {
                return Err(Error::PermissionDenied(format!(
                    "read {table}.{column}: the console needs it for {why}, so it cannot be masked (GRANT SELECT ({}) ON {} TO the console's login; other columns may be withheld and are shown as masked)",
                    crate::sql::col(column),
                    bound.name
                )));
            }
        }
        Ok(())
    }
}

async fn bind_consent(
    conn: &mut PgConnection,
    tenants: &BoundTable,
    c: &super::ConsentMap,
) -> Result<ConsentTables> {
    need(tenants, "consent", "tenants_column", &c.tenants_column)?;
    let requests = bind_table(conn, "consent", &c.requests).await?;
    let approvals = bind_table(conn, "consent", &c.approvals).await?;
    for col in [
        "tenant_id",
        "id",
        "db_user",
        "os_user",
        "category",
        "detail",
        "minutes",
        "scope",
        "created_at",
    ] {
        need(&requests, "consent", "requests", col)?;
    }
    for col in [
        "tenant_id",
        "id",
        "request_id",
        "grantee",
        "approved_by",
        "expires_at",
        "revoked_at",
        "scope",
        "created_at",
    ] {
        need(&approvals, "consent", "approvals", col)?;
    }
    Ok(ConsentTables {
        column: c.tenants_column.clone(),
        requests,
        approvals,
        channel: c.channel.clone(),
    })
}

async fn bind_table(conn: &mut PgConnection, section: &str, spec: &str) -> Result<BoundTable> {
    let name =
        TableName::parse(spec).map_err(|e| Error::Mapping(format!("[{section}] table: {e}")))?;
    // to_regclass parses the quoted name itself: the name is a bound value, never SQL text.
    // Readable: what the login may SELECT now, table-wide or by column grant.
    let rows: Vec<(String, String, bool, bool)> = crate::sql::query_as(
        "SELECT a.attname::text, t.typname::text, a.attnotnull,
                has_column_privilege(a.attrelid, a.attnum, 'SELECT')
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
        .map(|(n, typname, not_null, readable)| {
            (
                n,
                ColumnInfo {
                    typname,
                    not_null,
                    readable,
                },
            )
        })
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
