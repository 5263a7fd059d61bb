//! SECURITY DEFINER functions, judged by their owner's power, not by their text alone.
//!
//! A definer function runs with its owner's rights. One that a role the login can become may execute is
//! critical when its owner escapes RLS on a tenant table and its body reaches tenant data: through `pg_depend`
//! for SQL-standard bodies, through identifiers for text bodies (folded and quoted as PostgreSQL reads them,
//! so `AUDIT_LOGS` and `"audit_logs"` both count), through the functions it calls, or when it runs dynamic SQL
//! (`EXECUTE`, `query_to_xml`, dblink, ...), which no reading of its text can prove safe.

use std::collections::{HashMap, HashSet};

use sqlx::{PgConnection, Row};

use super::relations::Judge;
use super::{finding, Finding, Severity};
use crate::error::Result;

/// Built-in functions that run a query given as text or a relation given as a value.
const DYNAMIC_CALLS: [&str; 7] = [
    "query_to_xml",
    "cursor_to_xml",
    "table_to_xml",
    "schema_to_xml",
    "database_to_xml",
    "dblink",
    "ts_stat",
];

/// Identifiers of a function body as PostgreSQL would read them: unquoted words folded to lower case, quoted
/// identifiers as written; string literals and comments skipped, except dollar-quoted bodies nested in the text
/// (read as code: a plpgsql body may quote SQL that way). Also reports whether the body runs dynamic SQL.
pub(crate) fn identifiers(src: &str) -> (HashSet<String>, bool) {
    let b = src.as_bytes();
    let mut out = HashSet::new();
    let mut dynamic = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'-' && b.get(i + 1) == Some(&b'-') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == b'\'' {
            // A string literal ('' is a quote inside it; E'' strings may escape with a backslash).
            let escapes = i > 0 && (b[i - 1] == b'e' || b[i - 1] == b'E');
            i += 1;
            while i < b.len() {
                if escapes && b[i] == b'\\' {
                    i += 2;
                    continue;
                }
                if b[i] == b'\'' {
                    if b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
        } else if c == b'"' {
            let mut id = Vec::new();
            i += 1;
            while i < b.len() {
                if b[i] == b'"' {
                    if b.get(i + 1) == Some(&b'"') {
                        id.push(b'"');
                        i += 2;
                        continue;
                    }
                    break;
                }
                id.push(b[i]);
                i += 1;
            }
            i += 1;
            out.insert(String::from_utf8_lossy(&id).into_owned());
        } else if c == b'$' {
            // A dollar quote's tag ($$ or $tag$) is skipped; what it quotes is read as code.
            let mut j = i + 1;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            i = if j < b.len() && b[j] == b'$' {
                j + 1
            } else {
                j
            };
        } else if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            let start = i;
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80)
            {
                i += 1;
            }
            let word = String::from_utf8_lossy(&b[start..i]).to_lowercase();
            if word == "execute" || DYNAMIC_CALLS.iter().any(|d| word.starts_with(d)) {
                dynamic = true;
            }
            out.insert(word);
        } else {
            i += 1;
        }
    }
    (out, dynamic)
}

/// One function of a user schema.
#[derive(Clone, Debug)]
struct Func {
    oid: i64,
    name: String,
    proname: String,
    owner: i64,
    lang: String,
    src: String,
    secdef: bool,
    executable_by: Vec<i64>,
    rel_deps: Vec<i64>,
    fn_deps: Vec<i64>,
    sql_body: bool,
}

/// What a function's body reaches: relations by oid, and whether it runs SQL no reading can follow.
#[derive(Clone, Debug, Default)]
struct Reach {
    relations: HashSet<i64>,
    dynamic: bool,
}

struct Analysis<'a> {
    funcs: &'a [Func],
    by_name: HashMap<&'a str, Vec<usize>>,
    /// Relation names (as identifiers appear in code) to oids.
    rel_by_name: HashMap<String, Vec<i64>>,
    memo: HashMap<i64, Reach>,
}

impl Analysis<'_> {
    fn reach(&mut self, idx: usize, depth: usize) -> Reach {
        let f = &self.funcs[idx];
        if let Some(r) = self.memo.get(&f.oid) {
            return r.clone();
        }
        // Break recursion (a function calling itself or a cycle): what is known so far.
        self.memo.insert(f.oid, Reach::default());
        let mut r = Reach::default();
        let mut callees: Vec<usize> = Vec::new();
        if f.sql_body {
            r.relations.extend(f.rel_deps.iter().copied());
            callees.extend(
                f.fn_deps
                    .iter()
                    .filter_map(|o| self.funcs.iter().position(|g| g.oid == *o)),
            );
        } else if f.lang == "sql" || f.lang == "plpgsql" {
            let (ids, dynamic) = identifiers(&f.src);
            r.dynamic = dynamic;
            for id in &ids {
                if let Some(oids) = self.rel_by_name.get(id) {
                    r.relations.extend(oids.iter().copied());
                }
                if let Some(idxs) = self.by_name.get(id.as_str()) {
                    callees.extend(idxs.iter().copied().filter(|i| *i != idx));
                }
            }
        } else {
            // C, internal, or a procedural language this check does not read: nothing can be proven.
            r.dynamic = true;
        }
        if depth < 16 {
            for c in callees {
                let sub = self.reach(c, depth + 1);
                r.relations.extend(sub.relations);
                r.dynamic |= sub.dynamic;
            }
        }
        self.memo.insert(f.oid, r.clone());
        r
    }
}

pub(crate) async fn findings(
    conn: &mut PgConnection,
    judge: &Judge<'_>,
    out: &mut Vec<Finding>,
) -> Result<()> {
    let sql_body = if judge.roles.server_version_num >= 140000 {
        "p.prosqlbody IS NOT NULL"
    } else {
        "false"
    };
    let rows = crate::sql::query(&format!(
        "SELECT p.oid::int8 AS oid, p.oid::regprocedure::text AS name, p.proname::text AS proname,
                p.proowner::int8 AS owner, l.lanname::text AS lang, coalesce(p.prosrc, '') AS src,
                p.prosecdef AS secdef, {sql_body} AS sql_body,
                CASE WHEN p.prosecdef THEN ARRAY(SELECT a FROM unnest($1::int8[]) a
                       WHERE has_function_privilege(a::oid, p.oid, 'EXECUTE')) ELSE '{{}}' END::int8[] AS executable_by,
                ARRAY(SELECT d.refobjid::int8 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                         AND d.objid = p.oid AND d.refclassid = 'pg_class'::regclass)::int8[] AS rel_deps,
                ARRAY(SELECT d.refobjid::int8 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                         AND d.objid = p.oid AND d.refclassid = 'pg_proc'::regclass)::int8[] AS fn_deps
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
            AND p.prokind IN ('f', 'p')
            AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid
                             AND e.deptype = 'e')"
    ))
    .bind(judge.roles.becomeable_oids())
    .fetch_all(&mut *conn)
    .await?;
    let mut funcs = Vec::with_capacity(rows.len());
    for r in rows {
        funcs.push(Func {
            oid: r.try_get("oid")?,
            name: r.try_get("name")?,
            proname: r.try_get("proname")?,
            owner: r.try_get("owner")?,
            lang: r.try_get("lang")?,
            src: r.try_get("src")?,
            secdef: r.try_get("secdef")?,
            executable_by: r.try_get("executable_by")?,
            rel_deps: r.try_get("rel_deps")?,
            fn_deps: r.try_get("fn_deps")?,
            sql_body: r.try_get("sql_body")?,
        });
    }
    let mut rel_by_name: HashMap<String, Vec<i64>> = HashMap::new();
    for t in &judge.catalog.tables {
        rel_by_name
            .entry(t.relname.clone())
            .or_default()
            .push(t.oid);
    }
    for r in judge.catalog.relations.values() {
        // The relation name as the catalog stores it (last part of the regclass rendering, unquoted).
        let bare = r
            .name
            .rsplit_once('.')
            .map(|(_, n)| n)
            .unwrap_or(&r.name)
            .trim_matches('"')
            .replace("\"\"", "\"");
        rel_by_name.entry(bare).or_default().push(r.oid);
    }
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, f) in funcs.iter().enumerate() {
        by_name.entry(f.proname.as_str()).or_default().push(i);
    }
    let mut analysis = Analysis {
        funcs: &funcs,
        by_name,
        rel_by_name,
        memo: HashMap::new(),
    };
    for (idx, f) in funcs.iter().enumerate() {
        let callers: Vec<i64> = f
            .executable_by
            .iter()
            .copied()
            .filter(|r| judge.roles.get(*r).is_some_and(|r| r.bypass().is_none()))
            .collect();
        if !f.secdef || callers.is_empty() {
            continue;
        }
        let reach = analysis.reach(idx, 0);
        let owner = judge.roles.name(f.owner);
        let who = callers
            .iter()
            .map(|c| judge.roles.describe(*c))
            .collect::<Vec<_>>()
            .join(", ");
        let fix = Some(format!(
            "REVOKE EXECUTE ON FUNCTION {} FROM PUBLIC, <console login>; -- or ALTER FUNCTION {} SECURITY INVOKER;",
            f.name, f.name
        ));
        let mut leaks = Vec::new();
        let mut rels: Vec<i64> = reach.relations.iter().copied().collect();
        rels.sort();
        for rel in rels {
            leaks.extend(judge.walk(rel, f.owner));
        }
        if let Some(l) = leaks.first() {
            out.push(finding(
                "DEFINER_FUNCTION_BYPASS",
                Severity::Critical,
                &f.name,
                format!(
                    "{who} may execute the SECURITY DEFINER function {}, which reads {}{} with the rights of {owner}: {}",
                    f.name,
                    l.table,
                    if l.path.is_empty() { String::new() } else { format!(" (through {})", l.path.join(" → ")) },
                    l.why
                ),
                "whatever the function returns comes from every tenant's rows unless it filters them itself",
                fix,
            ));
            continue;
        }
        if reach.dynamic {
            let escape = judge
                .catalog
                .tables
                .iter()
                .find_map(|t| judge.escapes(f.owner, t).map(|why| (t, why)));
            if let Some((t, why)) = escape {
                out.push(finding(
                    "DEFINER_FUNCTION_DYNAMIC",
                    Severity::Critical,
                    &f.name,
                    format!(
                        "{who} may execute the SECURITY DEFINER function {}, which runs dynamic SQL (or code this check cannot read) with the rights of {owner}, to whom RLS does not apply on {}: {why}",
                        f.name, t.name
                    ),
                    "dynamic SQL cannot be proven safe: with its owner's rights it can read every tenant's rows",
                    fix,
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(src: &str) -> HashSet<String> {
        identifiers(src).0
    }

    #[test]
    fn unquoted_identifiers_fold_to_lower_case_and_quoted_ones_stay() {
        let i = ids("SELECT * FROM PUBLIC.AUDIT_LOGS a JOIN \"Members\" m ON true");
        assert!(i.contains("audit_logs"));
        assert!(i.contains("public"));
        assert!(i.contains("Members"));
        assert!(!i.contains("members"));
    }

    #[test]
    fn strings_and_comments_are_not_code_but_dollar_quoted_bodies_are() {
        let i = ids("SELECT 'audit_logs' -- roles\n /* memberships /* nested */ x */ FROM t");
        assert!(!i.contains("audit_logs"));
        assert!(!i.contains("roles"));
        assert!(!i.contains("memberships"));
        assert!(i.contains("t"));
        let i = ids("BEGIN RETURN QUERY SELECT * FROM $q$ audit_logs $q$; END");
        assert!(i.contains("audit_logs"));
        let i = ids("SELECT E'it\\'s audit_logs' FROM x");
        assert!(!i.contains("audit_logs"));
    }

    #[test]
    fn dynamic_sql_is_recognised_in_any_case() {
        assert!(identifiers("BEGIN RETURN QUERY EXECUTE format('SELECT * FROM %I', t); END").1);
        assert!(identifiers("begin execute 'select 1'; end").1);
        assert!(identifiers("SELECT query_to_xml('select * from x', true, false, '')").1);
        assert!(identifiers("SELECT * FROM dblink('dbname=x', 'select 1') AS t(a int)").1);
        assert!(!identifiers("SELECT 'execute' FROM t").1);
        assert!(!identifiers("SELECT executed FROM t").1);
    }

    #[test]
    fn hostile_bodies_do_not_panic() {
        for src in [
            "'",
            "\"",
            "/*",
            "$",
            "$a",
            "E'\\",
            "--",
            "\u{00e9}t\u{00e9}",
            "\"\"\"",
            "$$$$",
        ] {
            let _ = identifiers(src);
        }
    }
}
