//! The policies of the tenant tables, and to which of the check's roles each one really applies.
//!
//! A policy applies to a role when its `polroles` hold PUBLIC or a role whose privileges that role has
//! (`pg_has_role(role, policy_role, 'USAGE')`, as PostgreSQL itself decides). A policy of another role is not
//! the login's concern, however open it is.

use std::collections::{HashMap, HashSet};

use sqlx::{PgConnection, Row};

use super::reach::Roles;
use super::relations::Catalog;
use crate::error::Result;

/// What a policy's `USING` expression compares rows with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PolicyClass {
    /// It reads the console's tenant setting.
    Tenant,
    /// It reads another setting: the console's scope does not drive it.
    OtherSetting,
    /// It calls a user-defined function: the catalog cannot tell what it compares with (the probe can).
    Unverified,
    /// It reads nothing but the row and constants (`true`, `is_public`): every tenant's rows pass.
    Open,
}

/// One policy of a tenant table.
#[derive(Clone, Debug)]
pub(crate) struct Policy {
    pub name: String,
    pub permissive: bool,
    /// `r` SELECT, `*` ALL, `a`, `w`, `d`.
    pub cmd: String,
    pub qual: String,
    /// The check's roles it applies to.
    pub applies_to: HashSet<i64>,
    pub class: PolicyClass,
    /// Its roles as written (`PUBLIC`, `app_user`).
    pub roles: String,
}

impl Policy {
    pub fn governs_select(&self) -> bool {
        self.cmd == "r" || self.cmd == "*"
    }
}

/// The policies of every tenant table, by table oid.
#[derive(Clone, Debug, Default)]
pub(crate) struct Policies {
    pub by_rel: HashMap<i64, Vec<Policy>>,
}

impl Policies {
    pub fn of(&self, rel: i64) -> &[Policy] {
        self.by_rel.get(&rel).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The SELECT policies that apply to `actor` on `rel`.
    pub fn select_for(&self, rel: i64, actor: i64) -> impl Iterator<Item = &Policy> {
        self.of(rel)
            .iter()
            .filter(move |p| p.governs_select() && p.applies_to.contains(&actor))
    }

    /// A permissive policy that lets every tenant's rows through for `actor`, unless a restrictive policy that
    /// may hold the tenant boundary applies to it too.
    pub fn open_for(&self, rel: i64, actor: i64) -> Option<&Policy> {
        let restricted = self
            .select_for(rel, actor)
            .any(|p| !p.permissive && p.class != PolicyClass::Open);
        if restricted {
            return None;
        }
        self.select_for(rel, actor)
            .find(|p| p.permissive && p.class == PolicyClass::Open)
    }
}

/// Classifies a policy expression as PostgreSQL deparses it (`pg_get_expr`), so spelling and spacing are
/// the server's, not the author's.
pub(crate) fn classify(qual: &str, setting: &str, calls_user_function: bool) -> PolicyClass {
    let q = qual.to_ascii_lowercase();
    let ours = format!("current_setting('{}'", setting.to_ascii_lowercase());
    if q.contains(&ours) {
        PolicyClass::Tenant
    } else if calls_user_function {
        PolicyClass::Unverified
    } else if q.contains("current_setting(") {
        PolicyClass::OtherSetting
    } else {
        PolicyClass::Open
    }
}

pub(crate) async fn load(
    conn: &mut PgConnection,
    catalog: &Catalog,
    roles: &Roles,
    setting: &str,
) -> Result<Policies> {
    let rels: Vec<i64> = catalog.tables.iter().map(|t| t.oid).collect();
    let rows = crate::sql::query(
        "SELECT p.polrelid::int8 AS rel, p.polname::text AS name, p.polpermissive AS permissive,
                p.polcmd::text AS cmd, coalesce(pg_get_expr(p.polqual, p.polrelid), '') AS qual,
                ARRAY(SELECT a FROM unnest($2::int8[]) a
                       WHERE 0::oid = ANY (p.polroles)
                          OR EXISTS (SELECT 1 FROM unnest(p.polroles) pr WHERE pg_has_role(a::oid, pr, 'USAGE'))
                )::int8[] AS applies_to,
                EXISTS (SELECT 1 FROM pg_depend d JOIN pg_proc f ON f.oid = d.refobjid
                          JOIN pg_namespace fn ON fn.oid = f.pronamespace
                         WHERE d.classid = 'pg_policy'::regclass AND d.objid = p.oid
                           AND d.refclassid = 'pg_proc'::regclass AND fn.nspname <> 'pg_catalog') AS calls_user_function,
                array_to_string(ARRAY(SELECT CASE WHEN pr = 0 THEN 'PUBLIC' ELSE pr::regrole::text END
                                        FROM unnest(p.polroles) pr), ', ') AS roles
           FROM pg_policy p WHERE p.polrelid = ANY ($1::int8[]::oid[])
          ORDER BY p.polrelid, p.polname",
    )
    .bind(&rels)
    .bind(roles.all_oids())
    .fetch_all(&mut *conn)
    .await?;
    let mut by_rel: HashMap<i64, Vec<Policy>> = HashMap::new();
    for r in rows {
        let qual: String = r.try_get("qual")?;
        let calls: bool = r.try_get("calls_user_function")?;
        let applies: Vec<i64> = r.try_get("applies_to")?;
        let p = Policy {
            name: r.try_get("name")?,
            permissive: r.try_get("permissive")?,
            cmd: r.try_get("cmd")?,
            class: classify(&qual, setting, calls),
            qual,
            applies_to: applies.into_iter().collect(),
            roles: r.try_get("roles")?,
        };
        by_rel.entry(r.try_get("rel")?).or_default().push(p);
    }
    Ok(Policies { by_rel })
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: &str = "app.current_tenant_id";

    #[test]
    fn a_policy_on_the_setting_is_a_tenant_policy_in_any_case() {
        let q = "(tenant_id = (NULLIF(current_setting('app.current_tenant_id'::text, true), ''::text))::uuid)";
        assert_eq!(classify(q, S, false), PolicyClass::Tenant);
        assert_eq!(classify(&q.to_uppercase(), S, false), PolicyClass::Tenant);
    }

    #[test]
    fn a_policy_on_row_data_alone_is_open() {
        assert_eq!(classify("true", S, false), PolicyClass::Open);
        assert_eq!(classify("is_public", S, false), PolicyClass::Open);
        assert_eq!(classify("", S, false), PolicyClass::Open);
    }

    #[test]
    fn another_setting_or_a_function_is_not_judged_open() {
        assert_eq!(
            classify(
                "(tenant_id = (current_setting('app.other'::text))::uuid)",
                S,
                false
            ),
            PolicyClass::OtherSetting
        );
        assert_eq!(
            classify("(tenant_id = current_tenant())", S, true),
            PolicyClass::Unverified
        );
    }
}
