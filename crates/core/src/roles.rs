//! A tenant's roles: built-in and custom, their permissions, and how many members hold each.
//!
//! With a mapped roles table, roles come from it (a null tenant there is a global role, shown to every tenant).
//! Without one, the roles are the distinct roles of the tenant's members.

use serde::Serialize;
use sqlx::Row;

use crate::error::Result;
use crate::mapping::PermType;
use crate::scope::TenantScope;
use crate::sql::col;

/// One role of a tenant.
#[derive(Clone, Debug, Serialize, PartialEq, ts_rs::TS)]
pub struct Role {
    /// The role's name (roles are identified by name within a tenant).
    pub id: String,
    pub description: Option<String>,
    pub permissions: Vec<String>,
    pub builtin: bool,
    /// Whether the role is global (a null tenant in the roles table) rather than the tenant's own.
    pub global: bool,
    pub members: i64,
}

/// The tenant's roles, with a permission matrix' worth of data: sorted built-in first, then by name.
#[tracing::instrument(skip(scope), fields(tenant = %scope.tenant().id))]
pub async fn list(scope: &mut TenantScope) -> Result<Vec<Role>> {
    let s = scope.schema().clone();
    let m = &s.mapping.members;
    let cast = s.tenant_id_type.cast();
    let member_count = |role_expr: &str| {
        format!(
            "(SELECT count(*) FROM {} mm WHERE mm.{} = CAST($1 AS {cast}) AND mm.{}::text = {role_expr})",
            s.tables.members.name,
            col(&m.tenant_id),
            col(&m.role)
        )
    };
    let sql = match (&s.mapping.roles, &s.tables.roles, s.perm_type) {
        (Some(r), Some(rt), Some(perm)) => {
            let name = format!("r.{}::text", col(&r.name));
            let perms = match perm {
                PermType::TextArray => format!("r.{}::text[]", col(&r.permissions)),
                // Anything but a JSON array (an object, a scalar, null) shows as no permissions rather
                // than failing the whole list.
                PermType::Json => format!(
                    "ARRAY(SELECT jsonb_array_elements_text(CASE WHEN jsonb_typeof(to_jsonb(r.{p})) = 'array' \
                     THEN to_jsonb(r.{p}) ELSE '[]'::jsonb END))",
                    p = col(&r.permissions)
                ),
            };
            let desc = r
                .description
                .as_ref()
                .map(|d| format!("r.{}::text", col(d)))
                .unwrap_or_else(|| "NULL::text".into());
            let builtin = r
                .builtin
                .as_ref()
                .map(|b| format!("coalesce(r.{}::boolean, false)", col(b)))
                .unwrap_or_else(|| "false".into());
            let (global, where_tenant) = match &r.tenant_id {
                Some(tc) => (
                    format!("(r.{} IS NULL)", col(tc)),
                    format!(
                        "(r.{tc} = CAST($1 AS {cast}) OR r.{tc} IS NULL)",
                        tc = col(tc)
                    ),
                ),
                None => ("true".into(), "true".into()),
            };
            // Built-in roles first when the table says which they are. (Not `ORDER BY false DESC`: a constant
            // in ORDER BY is a syntax error in PostgreSQL.)
            let order = match &r.builtin {
                Some(_) => format!("{builtin} DESC, {name}"),
                None => name.clone(),
            };
            format!(
                "SELECT {name} AS id, {desc} AS description, {perms} AS permissions, {builtin} AS builtin,
                        {global} AS global, {count} AS members FROM {table} r
                  WHERE {where_tenant} ORDER BY {order}",
                count = member_count(&name),
                table = rt.name,
            )
        }
        _ => format!(
            "SELECT role AS id, NULL::text AS description, ARRAY[]::text[] AS permissions, false AS builtin,
                    false AS global, count(*) AS members FROM
               (SELECT {}::text AS role FROM {} WHERE {} = CAST($1 AS {cast})) m
              GROUP BY role ORDER BY role",
            col(&m.role),
            s.tables.members.name,
            col(&m.tenant_id)
        ),
    };
    let tenant = scope.tenant().id.clone();
    let rows = scope
        .statements()
        .query(&sql)
        .bind(&tenant)
        .fetch_all(scope.conn())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Role {
                id: r.try_get("id")?,
                description: r.try_get("description")?,
                permissions: r
                    .try_get::<Option<Vec<String>>, _>("permissions")?
                    .unwrap_or_default(),
                builtin: r.try_get("builtin")?,
                global: r.try_get("global")?,
                members: r.try_get("members")?,
            })
        })
        .collect()
}
