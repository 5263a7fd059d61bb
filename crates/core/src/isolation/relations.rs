//! What the login's roles can read: the tenant tables (mapped ones, any table with a tenant-looking column, and
//! their partitions and inheritance children), and every view, materialized view and foreign table, with the
//! view dependency graph from `pg_rewrite`/`pg_depend`. Readable means table **or** column privilege, for any
//! role the login can become.
//!
//! [`Judge`] decides, for a role acting on a tenant table, whether RLS holds for it there, and walks every
//! readable view down to its base tables through any depth of views, switching to the view owner's rights at
//! each view that is not `security_invoker`, as the executor does.

use std::collections::{BTreeSet, HashMap, HashSet};

use sqlx::{PgConnection, Row};

use super::policies::{Policies, PolicyClass};
use super::reach::Roles;
use super::{finding, Finding, Severity};
use crate::db::Db;
use crate::error::Result;
use crate::sql::quote;

/// Column names that make a table a tenant table, besides the mapped ones.
pub(crate) const TENANT_COLUMNS: [&str; 4] =
    ["tenant_id", "tenantId", "organization_id", "organizationId"];

/// A tenant table as the catalog describes it.
#[derive(Clone, Debug)]
pub(crate) struct TenantTable {
    pub oid: i64,
    /// regclass rendering: schema-qualified where needed, quoted where needed.
    pub name: String,
    pub relname: String,
    pub column: String,
    pub attnum: i16,
    pub not_null: bool,
    pub rls: bool,
    pub forced: bool,
    pub foreign: bool,
    pub parent: Option<String>,
    /// Becomeable roles that may read it (table or column privilege).
    pub readable_by: Vec<i64>,
    /// The check's roles that have its owner's privileges.
    pub owned_by: HashSet<i64>,
}

/// A view, materialized view or foreign table.
#[derive(Clone, Debug)]
pub(crate) struct Relation {
    pub oid: i64,
    pub name: String,
    /// `v`, `m` or `f`.
    pub kind: char,
    pub owner: i64,
    pub security_invoker: bool,
    pub readable_by: Vec<i64>,
    /// A column named like a tenant column, if any.
    pub tenant_column: Option<String>,
    /// For a foreign table: the remote table name in its options.
    pub remote_table: Option<String>,
}

/// Everything readable, and how views depend on relations.
#[derive(Clone, Debug, Default)]
pub(crate) struct Catalog {
    pub tables: Vec<TenantTable>,
    pub relations: HashMap<i64, Relation>,
    /// View or materialized view -> the relations its query reads.
    pub deps: HashMap<i64, Vec<i64>>,
}

impl Catalog {
    pub fn table(&self, oid: i64) -> Option<&TenantTable> {
        self.tables.iter().find(|t| t.oid == oid)
    }

    /// Whether a foreign table mirrors tenant data: it has a tenant column, or names a tenant table remotely.
    pub fn foreign_is_tenant_data(&self, r: &Relation) -> bool {
        r.tenant_column.is_some()
            || r.remote_table.as_deref().is_some_and(|remote| {
                self.tables
                    .iter()
                    .any(|t| t.relname.eq_ignore_ascii_case(remote))
            })
    }
}

fn parse_bool_option(v: &str) -> bool {
    // PostgreSQL's parse_bool: prefixes of true/yes, on, 1.
    let v = v.trim().to_ascii_lowercase();
    !v.is_empty() && ("true".starts_with(&v) || "yes".starts_with(&v) || v == "on" || v == "1")
}

/// `security_invoker` from a view's reloptions.
pub(crate) fn security_invoker(reloptions: &[String]) -> bool {
    reloptions.iter().any(|o| {
        o.split_once('=').is_some_and(|(k, v)| {
            k.trim().eq_ignore_ascii_case("security_invoker") && parse_bool_option(v)
        })
    })
}

pub(crate) async fn load(db: &Db, conn: &mut PgConnection, roles: &Roles) -> Result<Catalog> {
    let s = db.schema();
    // Mapped tables with their tenant column, then any table with a tenant-looking column.
    let mut mapped: Vec<(String, String)> = vec![
        (
            s.tables.members.name.to_string(),
            s.mapping.members.tenant_id.clone(),
        ),
        (
            s.tables.audit.name.to_string(),
            s.mapping.audit_logs.tenant_id.clone(),
        ),
    ];
    if let (Some(r), Some(rt)) = (&s.mapping.roles, &s.tables.roles) {
        if let Some(tc) = &r.tenant_id {
            mapped.push((rt.name.to_string(), tc.clone()));
        }
    }
    if let Some(l) = &s.tables.access_log {
        mapped.push((l.name.to_string(), "tenant_id".into()));
    }
    let mut names: BTreeSet<String> = TENANT_COLUMNS.iter().map(|s| s.to_string()).collect();
    names.extend(mapped.iter().map(|(_, c)| c.clone()));
    let names: Vec<String> = names.into_iter().collect();
    let tables: Vec<String> = mapped.iter().map(|(t, _)| t.clone()).collect();
    let columns: Vec<String> = mapped.iter().map(|(_, c)| c.clone()).collect();
    let becomeable = roles.becomeable_oids();
    let all = roles.all_oids();
    let rows = crate::sql::query(
        "WITH RECURSIVE roots AS (
             SELECT c.oid, a.attname::text AS col
               FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                AND n.nspname NOT LIKE 'pg_toast%'
                AND (a.attname = ANY ($1::text[])
                     OR (c.oid, a.attname::text) IN (SELECT to_regclass(t), col FROM unnest($2::text[], $3::text[]) AS m(t, col)))
         ), tree AS (
             SELECT r.oid, r.col, NULL::oid AS parent FROM roots r
             UNION
             SELECT i.inhrelid, tree.col, tree.oid FROM pg_inherits i JOIN tree ON i.inhparent = tree.oid
         )
         SELECT DISTINCT ON (c.oid) c.oid::int8 AS oid, c.oid::regclass::text AS name, c.relname::text AS relname,
                tree.col, a.attnum, a.attnotnull AS not_null, c.relrowsecurity AS rls,
                c.relforcerowsecurity AS forced, c.relkind = 'f' AS is_foreign,
                tree.parent::regclass::text AS parent,
                ARRAY(SELECT rr FROM unnest($4::int8[]) rr
                       WHERE has_table_privilege(rr::oid, c.oid, 'SELECT')
                          OR has_any_column_privilege(rr::oid, c.oid, 'SELECT'))::int8[] AS readable_by,
                ARRAY(SELECT rr FROM unnest($5::int8[]) rr WHERE pg_has_role(rr::oid, c.relowner, 'USAGE'))::int8[] AS owned_by
           FROM tree JOIN pg_class c ON c.oid = tree.oid
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = tree.col
          ORDER BY c.oid, tree.parent NULLS LAST",
    )
    .bind(&names)
    .bind(&tables)
    .bind(&columns)
    .bind(&becomeable)
    .bind(&all)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let owned_by: Vec<i64> = r.try_get("owned_by")?;
        out.push(TenantTable {
            oid: r.try_get("oid")?,
            name: r.try_get("name")?,
            relname: r.try_get("relname")?,
            column: r.try_get("col")?,
            attnum: r.try_get("attnum")?,
            not_null: r.try_get("not_null")?,
            rls: r.try_get("rls")?,
            forced: r.try_get("forced")?,
            foreign: r.try_get("is_foreign")?,
            parent: r.try_get("parent")?,
            readable_by: r.try_get("readable_by")?,
            owned_by: owned_by.into_iter().collect(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));

    let rows = crate::sql::query(
        "SELECT c.oid::int8 AS oid, c.oid::regclass::text AS name, c.relkind::text AS kind, c.relowner::int8 AS owner,
                coalesce(c.reloptions, '{}')::text[] AS options,
                ARRAY(SELECT rr FROM unnest($1::int8[]) rr
                       WHERE has_table_privilege(rr::oid, c.oid, 'SELECT')
                          OR has_any_column_privilege(rr::oid, c.oid, 'SELECT'))::int8[] AS readable_by,
                (SELECT a.attname::text FROM pg_attribute a
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = ANY ($2::text[])
                  ORDER BY a.attnum LIMIT 1) AS tenant_column,
                (SELECT o.option_value FROM pg_foreign_table ft, pg_options_to_table(ft.ftoptions) o
                  WHERE ft.ftrelid = c.oid AND o.option_name = 'table_name') AS remote_table
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('v', 'm', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema')",
    )
    .bind(&becomeable)
    .bind(&names)
    .fetch_all(&mut *conn)
    .await?;
    let mut relations = HashMap::new();
    for r in rows {
        let kind: String = r.try_get("kind")?;
        let options: Vec<String> = r.try_get("options")?;
        let rel = Relation {
            oid: r.try_get("oid")?,
            name: r.try_get("name")?,
            kind: kind.chars().next().unwrap_or('v'),
            owner: r.try_get("owner")?,
            security_invoker: security_invoker(&options),
            readable_by: r.try_get("readable_by")?,
            tenant_column: r.try_get("tenant_column")?,
            remote_table: r.try_get("remote_table")?,
        };
        relations.insert(rel.oid, rel);
    }
    let edges: Vec<(i64, i64)> = crate::sql::query_as(
        "SELECT DISTINCT r.ev_class::int8, d.refobjid::int8
           FROM pg_rewrite r
           JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                           AND d.refclassid = 'pg_class'::regclass
           JOIN pg_class v ON v.oid = r.ev_class JOIN pg_namespace n ON n.oid = v.relnamespace
          WHERE v.relkind IN ('v', 'm') AND d.refobjid <> r.ev_class
            AND n.nspname NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut deps: HashMap<i64, Vec<i64>> = HashMap::new();
    for (view, rel) in edges {
        deps.entry(view).or_default().push(rel);
    }
    Ok(Catalog {
        tables: out,
        relations,
        deps,
    })
}

/// A way to other tenants' rows: the tenant table reached, the role whose rights reach it, and why RLS does not
/// hold for that role there.
#[derive(Clone, Debug)]
pub(crate) struct Leak {
    pub table: String,
    pub actor: i64,
    pub why: String,
    /// The relations passed through, outermost first (the entry point included).
    pub path: Vec<String>,
    /// Whether some hop ran with other rights than the reader's (a definer view, a materialized view's owner,
    /// a foreign server's user mapping).
    pub switched: bool,
}

/// Judges what the login's roles can do with the catalog and the policies.
pub(crate) struct Judge<'a> {
    pub roles: &'a Roles,
    pub catalog: &'a Catalog,
    pub policies: &'a Policies,
}

impl Judge<'_> {
    /// Why RLS does not hold for `actor` on tenant table `t`, if it does not.
    pub fn escapes(&self, actor: i64, t: &TenantTable) -> Option<String> {
        if let Some(why) = self.roles.get(actor).and_then(|r| r.bypass()) {
            return Some(format!("{} {why}", self.roles.name(actor)));
        }
        if t.foreign {
            return Some(format!(
                "{} is a foreign table: row-level security cannot apply to it",
                t.name
            ));
        }
        if !t.rls {
            return Some(format!("row-level security is disabled on {}", t.name));
        }
        if t.owned_by.contains(&actor) && !t.forced {
            return Some(format!(
                "{} owns {} and its row-level security is not forced",
                self.roles.name(actor),
                t.name
            ));
        }
        if let Some(p) = self.policies.open_for(t.oid, actor) {
            return Some(format!(
                "the permissive policy {} (USING {}) applies to {}",
                p.name,
                p.qual,
                self.roles.name(actor)
            ));
        }
        None
    }

    /// Every way from relation `oid`, read with `actor`'s rights, to rows RLS does not guard.
    pub fn walk(&self, oid: i64, actor: i64) -> Vec<Leak> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        self.walk_into(oid, actor, &mut Vec::new(), false, &mut seen, &mut out);
        out
    }

    fn walk_into(
        &self,
        oid: i64,
        actor: i64,
        path: &mut Vec<String>,
        switched: bool,
        seen: &mut HashSet<(i64, i64)>,
        out: &mut Vec<Leak>,
    ) {
        if path.len() > 64 || !seen.insert((oid, actor)) {
            return;
        }
        if let Some(t) = self.catalog.table(oid) {
            if let Some(why) = self.escapes(actor, t) {
                out.push(Leak {
                    table: t.name.clone(),
                    actor,
                    why,
                    path: path.clone(),
                    switched,
                });
            }
            return;
        }
        let Some(rel) = self.catalog.relations.get(&oid) else {
            return;
        };
        path.push(rel.name.clone());
        match rel.kind {
            'f' if self.catalog.foreign_is_tenant_data(rel) => {
                out.push(Leak {
                    table: rel.name.clone(),
                    actor,
                    why: format!(
                        "{} is a foreign table of tenant data: row-level security cannot apply to it, and the remote side answers as its user mapping's login",
                        rel.name
                    ),
                    path: path.clone(),
                    switched: true,
                });
            }
            'm' | 'v' => {
                // A view not marked security_invoker reads with its owner's rights; a materialized view holds
                // what its owner read when it was refreshed.
                let (next, switch) = if rel.kind == 'v' && rel.security_invoker {
                    (actor, switched)
                } else {
                    (rel.owner, switched || rel.owner != actor || rel.kind == 'm')
                };
                for dep in self.catalog.deps.get(&oid).into_iter().flatten() {
                    self.walk_into(*dep, next, path, switch, seen, out);
                }
            }
            _ => {}
        }
        path.pop();
    }

    /// The tenant tables reachable from relation `oid` at all (for copies that RLS never guards).
    pub fn reaches_tenant_table(&self, oid: i64) -> bool {
        let mut stack = vec![oid];
        let mut seen = HashSet::new();
        while let Some(o) = stack.pop() {
            if !seen.insert(o) || seen.len() > 10_000 {
                continue;
            }
            if self.catalog.table(o).is_some() {
                return true;
            }
            if let Some(r) = self.catalog.relations.get(&o) {
                if r.kind == 'f' && self.catalog.foreign_is_tenant_data(r) {
                    return true;
                }
            }
            stack.extend(self.catalog.deps.get(&o).into_iter().flatten());
        }
        false
    }

    fn role_list(&self, oids: &[i64]) -> String {
        oids.iter()
            .map(|o| self.roles.describe(*o))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Findings about reading the tenant tables directly, their ownership and their policies.
    pub fn table_findings(&self, setting: &str, out: &mut Vec<Finding>) {
        let login = self.roles.becomeable().first().map(|r| r.oid);
        for t in &self.catalog.tables {
            let name = &t.name;
            let before = out.len();
            // Roles that read it and to which RLS does not apply anyway are the role's own finding.
            let readers: Vec<i64> = t
                .readable_by
                .iter()
                .copied()
                .filter(|r| self.roles.get(*r).is_some_and(|r| r.bypass().is_none()))
                .collect();
            let is_child = t.parent.is_some();
            if (!t.rls || t.foreign) && !readers.is_empty() {
                out.push(finding(
                    if is_child {
                        "PARTITION_RLS_DISABLED"
                    } else {
                        "RLS_DISABLED"
                    },
                    Severity::Critical,
                    name,
                    format!(
                        "row-level security {} {name}{}, and {} may read it",
                        if t.foreign {
                            "cannot apply to the foreign table"
                        } else {
                            "is disabled on"
                        },
                        t.parent
                            .as_ref()
                            .map(|p| format!(" (a partition or child of {p})"))
                            .unwrap_or_default(),
                        self.role_list(&readers)
                    ),
                    "without RLS every row of every tenant is visible to anyone who can read the table, by table or column privilege",
                    Some(if t.foreign {
                        format!("REVOKE SELECT ON {name} FROM PUBLIC, <console login>;")
                    } else {
                        format!("ALTER TABLE {name} ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;")
                    }),
                ));
            }
            // Owners: a role the login can become that owns the table can switch RLS off.
            let owners: Vec<i64> = self
                .roles
                .becomeable()
                .iter()
                .filter(|r| t.owned_by.contains(&r.oid) && r.bypass().is_none())
                .map(|r| r.oid)
                .collect();
            for o in &owners {
                let role = self.roles.get(*o).expect("becomeable roles are loaded");
                if t.rls && !t.forced && !t.foreign {
                    out.push(finding(
                        "OWNER_NOT_FORCED",
                        Severity::Critical,
                        name,
                        format!(
                            "{} has the owner's rights on {name}, whose row-level security is not forced",
                            self.roles.describe(*o)
                        ),
                        "a table's owner is exempt from its policies unless RLS is forced: it reads every tenant",
                        Some(format!("ALTER TABLE {name} FORCE ROW LEVEL SECURITY;")),
                    ));
                }
                out.push(finding(
                    if role.is_login {
                        "LOGIN_OWNS_TABLE"
                    } else {
                        "ROLE_OWNS_TENANT_TABLE"
                    },
                    Severity::Critical,
                    name,
                    format!(
                        "{} has the owner's rights on {name}",
                        self.roles.describe(*o)
                    ),
                    "an owner can ALTER TABLE … NO FORCE / DISABLE ROW LEVEL SECURITY or drop the policy, then read every tenant and erase the access log: a leaked console password opens everything",
                    Some(format!(
                        "ALTER TABLE {name} OWNER TO <an application owner role the console cannot become>;{}",
                        if role.is_login {
                            String::new()
                        } else {
                            format!(
                                " -- or REVOKE {} FROM <console login>;",
                                quote(&role.name)
                            )
                        }
                    )),
                ));
            }
            if t.rls && !t.forced && owners.is_empty() && !t.foreign {
                out.push(finding(
                    "RLS_NOT_FORCED",
                    Severity::Warning,
                    name,
                    format!("row-level security on {name} is enabled but not forced"),
                    "its owner (and any login that becomes the owner) reads every tenant's rows",
                    Some(format!("ALTER TABLE {name} FORCE ROW LEVEL SECURITY;")),
                ));
            }
            // Policies that open the table to a role the login can become.
            if t.rls && !t.foreign {
                let mut open: HashMap<String, Vec<i64>> = HashMap::new();
                for r in &readers {
                    if t.owned_by.contains(r) && !t.forced {
                        continue;
                    }
                    if let Some(p) = self.policies.open_for(t.oid, *r) {
                        open.entry(p.name.clone()).or_default().push(*r);
                    }
                }
                let mut open: Vec<_> = open.into_iter().collect();
                open.sort();
                for (polname, who) in open {
                    let p = self
                        .policies
                        .of(t.oid)
                        .iter()
                        .find(|p| p.name == polname)
                        .expect("named from the list");
                    out.push(finding(
                        "PERMISSIVE_POLICY_OPEN",
                        Severity::Critical,
                        &format!("{name} policy {polname}"),
                        format!(
                            "the permissive policy {polname} on {name} (TO {}) does not read {setting}: USING ({}); it applies to {}",
                            p.roles,
                            p.qual,
                            self.role_list(&who)
                        ),
                        "permissive policies are ORed: this one opens rows to every tenant whatever the tenant policy says",
                        Some(format!(
                            "DROP POLICY {} ON {name}; -- or make it RESTRICTIVE / add the tenant predicate",
                            quote(&polname)
                        )),
                    ));
                }
                // A tenant policy with a branch that does not pin the tenant column to the tenant setting: the
                // login opens every tenant by setting something itself (or the row alone lets it through).
                let mut branchy: HashMap<String, (Vec<i64>, Vec<String>)> = HashMap::new();
                for r in &readers {
                    if t.owned_by.contains(r) && !t.forced {
                        continue;
                    }
                    let restricted = self.policies.select_for(t.oid, *r).any(|p| {
                        !p.permissive
                            && p.class == super::policies::PolicyClass::Tenant
                            && super::policies::unpinned_branches(&p.qual, setting, &t.column)
                                .is_empty()
                    });
                    if restricted {
                        continue;
                    }
                    for p in self
                        .policies
                        .select_for(t.oid, *r)
                        .filter(|p| p.permissive && p.class == super::policies::PolicyClass::Tenant)
                    {
                        let open = super::policies::unpinned_branches(&p.qual, setting, &t.column);
                        if !open.is_empty() {
                            let e = branchy.entry(p.name.clone()).or_default();
                            e.0.push(*r);
                            e.1 = open;
                        }
                    }
                }
                let mut branchy: Vec<_> = branchy.into_iter().collect();
                branchy.sort_by(|a, b| a.0.cmp(&b.0));
                for (polname, (who, branches)) in branchy {
                    out.push(finding(
                        "POLICY_BRANCH_OPEN",
                        Severity::Critical,
                        &format!("{name} policy {polname}"),
                        format!(
                            "the policy {polname} on {name} reads {setting}, but also lets rows through where {}: that does not pin {} to the tenant; it applies to {}",
                            branches.join(" or where "),
                            t.column,
                            self.role_list(&who)
                        ),
                        "whoever holds the login can set that setting (SET, set_config) or meet that condition and read every tenant: the probe's fixed states cannot see it",
                        Some(format!(
                            "-- keep only the tenant branch of {polname}: ALTER POLICY {} ON {name} USING ({} = NULLIF(current_setting('{setting}', true), '')::<type>);",
                            quote(&polname),
                            quote(&t.column)
                        )),
                    ));
                }
                self.policy_warnings(t, login, setting, out);
            }
            if out.len() == before {
                out.push(finding(
                    "TABLE_ISOLATED",
                    Severity::Info,
                    name,
                    format!(
                        "RLS enabled and forced on {name}, a policy of the login reads {setting}, no role the login can become owns it or escapes its policies"
                    ),
                    "this table holds the tenant boundary for every role the login can become",
                    None,
                ));
            }
        }
    }

    fn policy_warnings(
        &self,
        t: &TenantTable,
        login: Option<i64>,
        setting: &str,
        out: &mut Vec<Finding>,
    ) {
        let name = &t.name;
        let fix_policy = Some(format!(
            "CREATE POLICY tenant_isolation ON {name} USING ({} = NULLIF(current_setting('{setting}', true), '')::<type>);",
            quote(&t.column)
        ));
        let Some(login) = login else { return };
        if !t.readable_by.contains(&login) || t.parent.is_some() {
            return;
        }
        let all = self.policies.of(t.oid);
        let mine: Vec<_> = self.policies.select_for(t.oid, login).collect();
        // Restrictive policies only narrow: with no permissive one, RLS denies everything just the same.
        if !all.iter().any(|p| p.permissive) {
            out.push(finding(
                "RLS_NO_POLICY",
                Severity::Warning,
                name,
                if all.is_empty() {
                    format!("RLS is enabled on {name} but it has no policy")
                } else {
                    format!("RLS is enabled on {name} but it has only restrictive policies, which allow nothing by themselves")
                },
                "with no policy RLS denies everything: the console shows this table empty for every tenant",
                fix_policy,
            ));
            return;
        }
        if !mine.iter().any(|p| p.permissive) {
            out.push(finding(
                "NO_POLICY_FOR_LOGIN",
                Severity::Warning,
                name,
                format!(
                    "no permissive SELECT policy of {name} applies to the login (its policies are for {})",
                    all.iter()
                        .map(|p| format!("{} TO {}", p.name, p.roles))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                "RLS then denies every row to the login: the console shows this table empty for every tenant, which is not evidence of isolation",
                fix_policy,
            ));
            return;
        }
        if !mine.iter().any(|p| p.class == PolicyClass::Tenant) {
            let unverified = mine.iter().any(|p| p.class == PolicyClass::Unverified);
            out.push(finding(
                if unverified {
                    "POLICY_UNVERIFIED"
                } else {
                    "NO_TENANT_POLICY"
                },
                Severity::Warning,
                name,
                if unverified {
                    format!("the login's policies on {name} call functions the catalog cannot judge; none reads {setting} directly")
                } else {
                    format!("no policy of {name} that applies to the login reads the setting {setting}")
                },
                if unverified {
                    "run the check with --probe: it proves with rows whether the policy holds the tenant boundary"
                } else {
                    "the console scopes reads with that setting: policies reading something else show the console nothing, and hold a boundary the console does not set"
                },
                fix_policy,
            ));
        }
        for p in mine.iter().filter(|p| p.class == PolicyClass::Tenant) {
            let object = format!("{name} policy {}", p.name);
            let q = p.qual.to_ascii_lowercase();
            if q.contains(&format!(
                "current_setting('{}'::text)",
                setting.to_ascii_lowercase()
            )) {
                out.push(finding(
                    "POLICY_SETTING_NOT_MISSING_OK",
                    Severity::Warning,
                    &object,
                    "the policy calls current_setting without missing_ok".into(),
                    "an unset setting raises an error instead of denying; tools and jobs that forget it fail loudly (fine) but inconsistently",
                    Some(format!("-- in the policy: NULLIF(current_setting('{setting}', true), '')")),
                ));
            }
            let casts =
                q.contains(")::uuid") || q.contains(")::integer") || q.contains(")::bigint");
            if casts && !q.contains("nullif(current_setting") {
                out.push(finding(
                    "POLICY_CAST_WITHOUT_NULLIF",
                    Severity::Warning,
                    &object,
                    "the policy casts the setting to uuid/integer without NULLIF(..., '')".into(),
                    "after a transaction-local set_config the setting is '' (not NULL) on that connection, and the cast raises",
                    Some(format!("-- in the policy: NULLIF(current_setting('{setting}', true), '')::<type>")),
                ));
            }
        }
    }

    /// Findings about views, materialized views and foreign tables the login's roles can read.
    pub fn relation_findings(&self, out: &mut Vec<Finding>) {
        let mut rels: Vec<&Relation> = self.catalog.relations.values().collect();
        rels.sort_by(|a, b| a.name.cmp(&b.name));
        for rel in rels {
            let readers: Vec<i64> = rel
                .readable_by
                .iter()
                .copied()
                .filter(|r| self.roles.get(*r).is_some_and(|r| r.bypass().is_none()))
                .collect();
            if readers.is_empty() {
                continue;
            }
            let mut leaks = Vec::new();
            for r in &readers {
                leaks.extend(self.walk(rel.oid, *r).into_iter().filter(|l| l.switched));
            }
            let name = &rel.name;
            let Some(first) = leaks.first() else {
                if rel.kind == 'm' && self.reaches_tenant_table(rel.oid) {
                    out.push(finding(
                        "MATVIEW_TENANT_COPY",
                        Severity::Warning,
                        name,
                        format!(
                            "the materialized view {name} is a copy of tenant data that {} may read; its owner {} is subject to RLS, so it holds only what a refresh could see",
                            self.role_list(&readers),
                            self.roles.name(rel.owner)
                        ),
                        "RLS never applies to a materialized view: a refresh run with a tenant set shows that tenant's rows to every tenant",
                        Some(format!("REVOKE SELECT ON {name} FROM PUBLIC, <console login>;")),
                    ));
                }
                continue;
            };
            let through = if first.path.len() > 1 {
                format!(" (through {})", first.path.join(" → "))
            } else {
                String::new()
            };
            let readers = self.role_list(&readers);
            match rel.kind {
                'f' => out.push(finding(
                    "FOREIGN_TABLE_TENANT_DATA",
                    Severity::Critical,
                    name,
                    format!("{readers} may read the foreign table {name}, which mirrors tenant data"),
                    "row-level security cannot apply to a foreign table: the remote server answers as the user mapping's login, often one that bypasses RLS",
                    Some(format!("REVOKE SELECT ON {name} FROM PUBLIC, <console login>; -- or drop it")),
                )),
                'm' => out.push(finding(
                    "MATVIEW_TENANT_DATA",
                    Severity::Critical,
                    name,
                    format!(
                        "{readers} may read the materialized view {name}, a copy of {}{through} made with the rights of {}: {}",
                        first.table,
                        self.roles.name(first.actor),
                        first.why
                    ),
                    "a materialized view is a copy: row-level security never applies to it, and this one holds every tenant's rows",
                    Some(format!("REVOKE SELECT ON {name} FROM PUBLIC, <console login>; -- or drop it")),
                )),
                _ => out.push(finding(
                    "DEFINER_VIEW_BYPASS",
                    Severity::Critical,
                    name,
                    format!(
                        "{readers} may read the view {name}, which reads {}{through} with the rights of {}: {}",
                        first.table,
                        self.roles.name(first.actor),
                        first.why
                    ),
                    "a view runs with its owner's rights unless security_invoker is set: every tenant's rows come through it",
                    Some(format!("ALTER VIEW {name} SET (security_invoker = true);")),
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_invoker_follows_postgres_boolean_spellings() {
        let o = |s: &str| vec![s.to_owned()];
        for yes in [
            "security_invoker=true",
            "security_invoker=on",
            "security_invoker=1",
            "security_invoker=t",
            "SECURITY_INVOKER=Yes",
        ] {
            assert!(security_invoker(&o(yes)), "{yes}");
        }
        for no in [
            "security_invoker=false",
            "security_invoker=off",
            "security_invoker=0",
            "security_barrier=true",
        ] {
            assert!(!security_invoker(&o(no)), "{no}");
        }
        assert!(!security_invoker(&[]));
    }
}
