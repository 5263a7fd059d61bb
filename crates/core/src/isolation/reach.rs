//! The login's reach in the role graph: every role it can become, and the roles whose rights views and
//! functions run with (their owners), with the attributes that decide whether RLS applies to them.
//!
//! "Can become" is `pg_has_role(login, role, 'MEMBER')`: inherited membership (the login has the role's
//! privileges at once) and plain membership of a NOINHERIT login (it has them after `SET ROLE`). Both count:
//! whoever holds the console's password can type `SET ROLE`.

use std::collections::HashMap;

use sqlx::{PgConnection, Row};

use super::{finding, Finding, Severity};
use crate::db::LoginInfo;
use crate::error::Result;
use crate::sql::quote;

/// Predefined roles that read or run anything on the server as the server: RLS cannot hold against them.
const SERVER_POWER_ROLES: [&str; 3] = [
    "pg_read_server_files",
    "pg_write_server_files",
    "pg_execute_server_program",
];

/// One role the check reasons about.
#[derive(Clone, Debug)]
pub(crate) struct RoleInfo {
    pub oid: i64,
    pub name: String,
    pub superuser: bool,
    pub bypassrls: bool,
    pub createrole: bool,
    /// The login can become it (it is the login, inherits it, or may `SET ROLE` to it).
    pub becomeable: bool,
    /// The login has its privileges without `SET ROLE`.
    pub inherited: bool,
    pub is_login: bool,
}

impl RoleInfo {
    /// Why RLS never applies to this role, if it does not.
    pub fn bypass(&self) -> Option<&'static str> {
        if self.superuser {
            Some("is a superuser")
        } else if self.bypassrls {
            Some("has BYPASSRLS")
        } else {
            None
        }
    }
}

/// The roles of the check: the login's reach plus the owners of views and definer functions.
#[derive(Clone, Debug, Default)]
pub(crate) struct Roles {
    pub by_oid: HashMap<i64, RoleInfo>,
    pub server_version_num: i32,
}

impl Roles {
    /// The roles the login can become (itself included), login first.
    pub fn becomeable(&self) -> Vec<&RoleInfo> {
        let mut v: Vec<&RoleInfo> = self.by_oid.values().filter(|r| r.becomeable).collect();
        v.sort_by(|a, b| (!a.is_login, &a.name).cmp(&(!b.is_login, &b.name)));
        v
    }

    pub fn becomeable_oids(&self) -> Vec<i64> {
        self.becomeable().iter().map(|r| r.oid).collect()
    }

    pub fn all_oids(&self) -> Vec<i64> {
        self.by_oid.keys().copied().collect()
    }

    pub fn get(&self, oid: i64) -> Option<&RoleInfo> {
        self.by_oid.get(&oid)
    }

    pub fn name(&self, oid: i64) -> String {
        self.get(oid)
            .map(|r| r.name.clone())
            .unwrap_or_else(|| format!("role {oid}"))
    }

    /// "the login x" or "role y, which the login can become (by SET ROLE)".
    pub fn describe(&self, oid: i64) -> String {
        match self.get(oid) {
            Some(r) if r.is_login => format!("the login {}", r.name),
            Some(r) if r.becomeable && r.inherited => {
                format!("role {} (the login inherits it)", r.name)
            }
            Some(r) if r.becomeable => format!("role {} (the login can SET ROLE to it)", r.name),
            Some(r) => format!("role {}", r.name),
            None => format!("role {oid}"),
        }
    }

    /// The reach for the report: every role besides the login, and how the login gets it.
    pub fn described(&self) -> Vec<String> {
        self.becomeable()
            .into_iter()
            .filter(|r| !r.is_login)
            .map(|r| {
                format!(
                    "{} ({})",
                    r.name,
                    if r.inherited { "inherited" } else { "set role" }
                )
            })
            .collect()
    }

    fn login(&self) -> Option<&RoleInfo> {
        self.by_oid.values().find(|r| r.is_login)
    }
}

/// Loads the login's reach and the owners of every view, materialized view and SECURITY DEFINER function.
pub(crate) async fn load(conn: &mut PgConnection, login: &LoginInfo) -> Result<Roles> {
    let server_version_num: i32 =
        crate::sql::query_scalar("SELECT current_setting('server_version_num')::int4")
            .fetch_one(&mut *conn)
            .await?;
    // A superuser "is a member" of every role: its reach is everything, which its own finding already says.
    let rows = crate::sql::query(
        "WITH becomeable AS (
             SELECT r.oid FROM pg_roles r
              WHERE CASE WHEN $1 THEN r.rolname = current_user ELSE pg_has_role(current_user, r.oid, 'MEMBER') END
         ), actors AS (
             SELECT oid FROM becomeable
             UNION SELECT c.relowner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE c.relkind IN ('v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
             UNION SELECT p.proowner FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                    WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')
         )
         SELECT r.oid::int8 AS oid, r.rolname::text AS name, r.rolsuper AS superuser,
                r.rolbypassrls AS bypassrls, r.rolcreaterole AS createrole,
                r.oid IN (SELECT oid FROM becomeable) AS becomeable,
                pg_has_role(current_user, r.oid, 'USAGE') AS inherited,
                r.rolname = current_user AS is_login
           FROM pg_roles r WHERE r.oid IN (SELECT oid FROM actors)",
    )
    .bind(login.superuser)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_oid = HashMap::new();
    for r in rows {
        let info = RoleInfo {
            oid: r.try_get("oid")?,
            name: r.try_get("name")?,
            superuser: r.try_get("superuser")?,
            bypassrls: r.try_get("bypassrls")?,
            createrole: r.try_get("createrole")?,
            becomeable: r.try_get("becomeable")?,
            inherited: r.try_get("inherited")?,
            is_login: r.try_get("is_login")?,
        };
        by_oid.insert(info.oid, info);
    }
    Ok(Roles {
        by_oid,
        server_version_num,
    })
}

/// Findings about the login and the roles it can become.
pub(crate) fn findings(roles: &Roles, login: &LoginInfo, out: &mut Vec<Finding>) {
    let user = quote(&login.user);
    if login.superuser {
        out.push(finding(
            "LOGIN_SUPERUSER",
            Severity::Critical,
            &login.user,
            format!("the login {:?} is a superuser", login.user),
            "superusers bypass row-level security entirely: every policy is ignored for them",
            Some(format!(
                "CREATE ROLE console_reader LOGIN NOSUPERUSER NOBYPASSRLS; -- and connect as it instead of {}",
                login.user
            )),
        ));
        return;
    }
    if login.bypassrls {
        out.push(finding(
            "LOGIN_BYPASSRLS",
            Severity::Critical,
            &login.user,
            format!("the login {:?} has the BYPASSRLS attribute", login.user),
            "BYPASSRLS makes every policy inapplicable to the login",
            Some(format!("ALTER ROLE {user} NOBYPASSRLS;")),
        ));
    }
    let fix_revoke = |r: &RoleInfo| Some(format!("REVOKE {} FROM {user};", quote(&r.name)));
    let how = |r: &RoleInfo| {
        if r.inherited {
            "inherits"
        } else {
            "can SET ROLE to"
        }
    };
    for r in roles.becomeable() {
        // Before PostgreSQL 16, CREATEROLE may grant itself any non-superuser role.
        if r.createrole && (r.is_login || r.bypass().is_none()) && roles.server_version_num < 160000
        {
            let (problem, fix) = if r.is_login {
                (
                    format!("the login {} has CREATEROLE", r.name),
                    Some(format!("ALTER ROLE {user} NOCREATEROLE;")),
                )
            } else {
                (
                    format!("the login {} {}, which has CREATEROLE", how(r), r.name),
                    fix_revoke(r),
                )
            };
            out.push(finding(
                "ROLE_CREATEROLE",
                Severity::Critical,
                &r.name,
                problem,
                "before PostgreSQL 16, CREATEROLE may grant itself any non-superuser role: the tables' owner, a BYPASSRLS role",
                fix,
            ));
        }
        if r.is_login {
            continue;
        }
        let how = how(r);
        if let Some(why) = r.bypass() {
            out.push(finding(
                "SET_ROLE_BYPASS",
                Severity::Critical,
                &r.name,
                format!("the login {how} {}, which {why}", r.name),
                "anyone with the console's password becomes a role that RLS does not apply to, and reads every tenant",
                fix_revoke(r),
            ));
        }
        if SERVER_POWER_ROLES.contains(&r.name.as_str()) {
            out.push(finding(
                "ROLE_SERVER_FILES",
                Severity::Critical,
                &r.name,
                format!("the login {how} {}", r.name),
                "it reads the server's files or runs programs as the server: the data files of every tenant are open to it",
                fix_revoke(r),
            ));
        }
    }
    if roles.login().is_none() {
        tracing::warn!("the login was not found among its own roles");
    }
}
