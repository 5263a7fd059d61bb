//! The policies of the tenant tables, and to which of the check's roles each one really applies.
//!
//! A policy applies to a role when its `polroles` hold PUBLIC or a role whose privileges that role has
//! (`pg_has_role(role, policy_role, 'USAGE')`, as PostgreSQL itself decides). A policy of another role is not
//! the login's concern, however open it is.

use std::collections::{HashMap, HashSet};

use sqlx::{PgConnection, Row};

use super::reach::Roles;
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
    /// It can never be true (`false`, `NULL`, `1 = 0`): it opens nothing.
    Never,
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
    /// A branch of its condition (OR) does not pin the tenant column to the tenant setting: as a restrictive
    /// policy it then does not hold the tenant boundary by itself (a consent policy that lets through every row
    /// of a tenant that needs no approval, say).
    pub unpinned: bool,
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
        let restricted = self.select_for(rel, actor).any(|p| {
            !p.permissive
                && p.class != PolicyClass::Open
                && !(p.class == PolicyClass::Tenant && p.unpinned)
        });
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
    if never_true(qual) {
        return PolicyClass::Never;
    }
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

/// Strips parentheses that enclose the whole expression.
fn unwrap_parens(e: &str) -> &str {
    let mut e = e.trim();
    loop {
        if !(e.starts_with('(') && e.ends_with(')')) {
            return e;
        }
        // Only when the first parenthesis closes at the very end.
        let mut depth = 0i32;
        let mut in_quote = false;
        let mut closes_at_end = true;
        for (i, c) in e.char_indices() {
            match c {
                '\'' => in_quote = !in_quote,
                '(' if !in_quote => depth += 1,
                ')' if !in_quote => {
                    depth -= 1;
                    if depth == 0 && i != e.len() - 1 {
                        closes_at_end = false;
                        break;
                    }
                }
                _ => {}
            }
        }
        if !closes_at_end {
            return e;
        }
        e = e[1..e.len() - 1].trim();
    }
}

/// Whether a deparsed expression can never be true: `false`, `NULL` (of any cast), a comparison of two
/// different integer constants.
pub(crate) fn never_true(expr: &str) -> bool {
    let e = unwrap_parens(expr).to_ascii_lowercase();
    let e = e.trim();
    if e == "false" || e == "null" || e.starts_with("null::") {
        return true;
    }
    if let Some((a, b)) = e.split_once(" = ") {
        let (a, b) = (unwrap_parens(a), unwrap_parens(b));
        if let (Ok(x), Ok(y)) = (a.parse::<i64>(), b.parse::<i64>()) {
            return x != y;
        }
    }
    false
}

/// The top-level OR branches of a deparsed expression (one branch when it is not an OR).
pub(crate) fn or_branches(expr: &str) -> Vec<String> {
    let e = unwrap_parens(expr);
    let mut out = Vec::new();
    let (mut depth, mut in_quote, mut start) = (0i32, false, 0usize);
    let bytes = e.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => in_quote = !in_quote,
            b'(' if !in_quote => depth += 1,
            b')' if !in_quote => depth -= 1,
            b' ' if !in_quote && depth == 0 && e[i..].to_ascii_uppercase().starts_with(" OR ") => {
                out.push(e[start..i].trim().to_owned());
                i += 4;
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(e[start..].trim().to_owned());
    out
}

/// The OR branches of a policy that let rows through without pinning the tenant column to the tenant setting:
/// each is a way in that the login's own settings or the row alone control. A branch that reads the tenant
/// setting, limits the tenant column to NULL (rows of no tenant), or can never be true is not one.
pub(crate) fn unpinned_branches(qual: &str, setting: &str, tenant_column: &str) -> Vec<String> {
    let ours = format!("current_setting('{}'", setting.to_ascii_lowercase());
    let col = tenant_column.to_ascii_lowercase();
    or_branches(qual)
        .into_iter()
        .filter(|b| {
            let l = unwrap_parens(b).to_ascii_lowercase();
            let no_tenant = l == format!("{col} is null") || l == format!("\"{col}\" is null");
            !(l.contains(&ours) || no_tenant || never_true(b))
        })
        .collect()
}

/// Loads the policies of `tables` (each table's oid and its tenant column), as they apply to `roles`.
pub(crate) async fn load(
    conn: &mut PgConnection,
    tables: &[(i64, String)],
    roles: &Roles,
    setting: &str,
) -> Result<Policies> {
    let rels: Vec<i64> = tables.iter().map(|(oid, _)| *oid).collect();
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
        let rel: i64 = r.try_get("rel")?;
        let column = tables
            .iter()
            .find(|(oid, _)| *oid == rel)
            .map(|(_, c)| c.as_str())
            .unwrap_or("tenant_id");
        let unpinned = !unpinned_branches(&qual, setting, column).is_empty();
        let p = Policy {
            name: r.try_get("name")?,
            permissive: r.try_get("permissive")?,
            cmd: r.try_get("cmd")?,
            class: classify(&qual, setting, calls),
            qual,
            applies_to: applies.into_iter().collect(),
            roles: r.try_get("roles")?,
            unpinned,
        };
        by_rel.entry(rel).or_default().push(p);
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
    fn policies_that_can_never_be_true_open_nothing() {
        for q in ["false", "(false)", "NULL::boolean", "(1 = 0)", "((2 = 3))"] {
            assert_eq!(classify(q, S, false), PolicyClass::Never, "{q}");
        }
        assert_eq!(classify("(1 = 1)", S, false), PolicyClass::Open);
    }

    #[test]
    fn branches_the_login_controls_are_found_and_safe_ones_are_not() {
        let t = "(tenant_id = (NULLIF(current_setting('app.current_tenant_id'::text, true), ''::text))::uuid)";
        let bypass =
            format!("({t} OR (current_setting('app.bypass_rls'::text, true) = 'on'::text))");
        assert_eq!(
            unpinned_branches(&bypass, S, "tenant_id"),
            ["(current_setting('app.bypass_rls'::text, true) = 'on'::text)"]
        );
        let claims = format!("({t} OR ((current_setting('request.jwt.claims'::text, true))::json ->> 'role'::text) = 'admin'::text)");
        assert_eq!(unpinned_branches(&claims, S, "tenant_id").len(), 1);
        assert_eq!(
            unpinned_branches(&format!("({t} OR is_public)"), S, "tenant_id"),
            ["is_public"]
        );
        assert!(unpinned_branches(t, S, "tenant_id").is_empty());
        assert!(
            unpinned_branches(&format!("((\"tenantId\" IS NULL) OR {t})"), S, "tenantId")
                .is_empty()
        );
        assert!(unpinned_branches(&format!("({t} OR false)"), S, "tenant_id").is_empty());
        // An OR inside a quoted string or a nested expression is not a branch of the policy.
        assert!(unpinned_branches(
            &format!("({t} AND ((x = 'a OR b') OR (y = 1)))"),
            S,
            "tenant_id"
        )
        .is_empty());
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
