//! SQL building, in one place: validated and quoted identifiers ([`Ident`], [`TableName`], column references
//! with [`col`]), LIKE escaping, the sinks that carry values as bound parameters or transaction-local settings
//! (never as SQL text), the tenant predicate every tenant query carries, and the keyset-page helper.
//!
//! The query modules (tenants, members, roles, audit, access, export) are about their tables only: every name
//! they put into SQL is quoted here, every value they use is bound here, and every statement goes to the server
//! through here. The last is the compiler's to keep: the workspace's `clippy.toml` refuses sqlx's entry points
//! (`sqlx::query*`, `QueryBuilder::build*`, `Executor::execute`/`fetch*` with plain text, `copy_out_raw`)
//! everywhere but in this module, which allows them below.
#![allow(clippy::disallowed_methods)]

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{FromRow, Postgres, QueryBuilder};

mod ident;

pub use ident::{quote, Ident, TableName};

use serde::Serialize;

// Statements. Every statement the core sends with parameters is made here, in one of two ways ([`Statements`]):
// **unnamed** (`persistent(false)`), parsed, bound and run within the transaction that uses it, or **kept**
// (a named prepared statement cached on the connection, planned once). Behind a pooler in transaction mode
// (PgBouncer), the next transaction may run on another server connection, where a named `sqlx_s_1` left by
// another client makes ours fail (42P05), or ours is missing: there every statement is unnamed, and every
// parameterised statement runs inside a transaction (the `db` module hands out transactions, not pooled
// connections). Connected directly, the browse path keeps its statements: unnamed ones are planned anew on every
// page, which costs 1-2 ms a page (benches/browse.sh). The free functions below are always unnamed (statements
// that run rarely: the isolation check, access records). `scripts/floors.py` refuses `sqlx::query*` and
// `QueryBuilder::build*` anywhere else in the core.

/// Whether the browse path keeps its statements prepared on the connection (directly connected) or sends them
/// unnamed (behind a pooler in transaction mode, where a named statement must not outlive its transaction).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Statements {
    Kept,
    Unnamed,
}

impl Statements {
    fn persistent(self) -> bool {
        self == Statements::Kept
    }

    pub(crate) fn query(self, sql: &str) -> Query<'_, Postgres, PgArguments> {
        sqlx::query(sql).persistent(self.persistent())
    }

    pub(crate) fn query_as<'q, O>(self, sql: &'q str) -> QueryAs<'q, Postgres, O, PgArguments>
    where
        O: for<'r> FromRow<'r, PgRow>,
    {
        sqlx::query_as(sql).persistent(self.persistent())
    }

    pub(crate) fn built<'q>(
        self,
        qb: &'q mut QueryBuilder<'_, Postgres>,
    ) -> Query<'q, Postgres, PgArguments> {
        qb.build().persistent(self.persistent())
    }

    pub(crate) fn built_scalar<'q, O>(
        self,
        qb: &'q mut QueryBuilder<'_, Postgres>,
    ) -> QueryScalar<'q, Postgres, O, PgArguments>
    where
        (O,): for<'r> FromRow<'r, PgRow>,
    {
        qb.build_query_scalar().persistent(self.persistent())
    }
}

/// A statement with parameters, unnamed.
pub(crate) fn query(sql: &str) -> Query<'_, Postgres, PgArguments> {
    sqlx::query(sql).persistent(false)
}

/// A statement whose rows become `O`, unnamed.
pub(crate) fn query_as<'q, O>(sql: &'q str) -> QueryAs<'q, Postgres, O, PgArguments>
where
    O: for<'r> FromRow<'r, PgRow>,
{
    sqlx::query_as(sql).persistent(false)
}

/// A statement whose first column is the answer, unnamed.
pub(crate) fn query_scalar<'q, O>(sql: &'q str) -> QueryScalar<'q, Postgres, O, PgArguments>
where
    (O,): for<'r> FromRow<'r, PgRow>,
{
    sqlx::query_scalar(sql).persistent(false)
}

/// The statement a [`QueryBuilder`] built, its rows as `O`, unnamed.
pub(crate) fn built_as<'q, O>(
    qb: &'q mut QueryBuilder<'_, Postgres>,
) -> QueryAs<'q, Postgres, O, PgArguments>
where
    O: for<'r> FromRow<'r, PgRow>,
{
    qb.build_query_as().persistent(false)
}

/// The SQL type of an id column, as far as the console needs to know it: how to cast a bound text value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IdType {
    Uuid,
    Text,
    Integer,
}

impl IdType {
    /// The cast target for a bound text parameter (`CAST($1 AS <this>)`).
    pub fn cast(self) -> &'static str {
        match self {
            IdType::Uuid => "uuid",
            IdType::Text => "text",
            IdType::Integer => "bigint",
        }
    }

    /// Whether `value` is a well-formed id of this type (checked before any query: a bad id is the user's
    /// mistake, not a database error).
    pub fn accepts(self, value: &str) -> bool {
        match self {
            IdType::Uuid => uuid::Uuid::parse_str(value).is_ok(),
            IdType::Integer => value.parse::<i64>().is_ok(),
            IdType::Text => !value.is_empty() && value.len() <= 512 && !value.contains('\0'),
        }
    }

    pub(crate) fn from_catalog(typname: &str) -> Option<Self> {
        match typname {
            "uuid" => Some(IdType::Uuid),
            "text" | "varchar" | "bpchar" | "citext" | "name" => Some(IdType::Text),
            "int2" | "int4" | "int8" => Some(IdType::Integer),
            _ => None,
        }
    }
}

/// A column reference rendered for SQL: always quoted.
#[derive(Clone, Debug)]
pub struct Col(Ident);

impl std::fmt::Display for Col {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A column name from the mapping, quoted. Mapping names are validated once, when the mapping is parsed and
/// bound ([`Ident::parse`]); here they are only quoted, never parsed again.
pub fn col(name: &str) -> Col {
    Col(Ident::trusted(name))
}

/// The ESCAPE clause for patterns made with [`like_escape`]: an `E''` literal, so the backslash means the same
/// whether or not the server has `standard_conforming_strings` on (legacy databases still run with it off).
pub(crate) const LIKE_ESCAPE: &str = " ESCAPE E'\\\\'";

/// Escapes LIKE wildcards so user text is matched literally.
pub(crate) fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Where filter SQL goes: text, and values that must never become SQL text.
pub(crate) trait SqlSink {
    fn text(&mut self, sql: &str) -> &mut Self;
    /// A value: a bound parameter, or (for COPY, which takes no parameters) a transaction-local setting.
    fn value(&mut self, v: String) -> &mut Self;
    /// A point in time, as `timestamptz`. A bound value by default; COPY writes it as a literal (chrono's own
    /// RFC 3339 rendering, digits and punctuation only), so the planner sees the range it filters on.
    fn timestamp(&mut self, t: DateTime<Utc>) -> &mut Self {
        self.text("CAST(")
            .value(t.to_rfc3339())
            .text(" AS timestamptz)")
    }
    /// The tenant id, as its column's type. A bound value by default; COPY writes it as a literal re-rendered
    /// from its parsed value ([`tenant_literal`]), so the planner sees which tenant it reads.
    fn tenant(&mut self, id: &str, ty: IdType) -> &mut Self {
        self.text("CAST(")
            .value(id.to_owned())
            .text(&format!(" AS {})", ty.cast()))
    }
}

impl SqlSink for QueryBuilder<'_, Postgres> {
    fn text(&mut self, sql: &str) -> &mut Self {
        self.push(sql)
    }
    fn value(&mut self, v: String) -> &mut Self {
        self.push_bind(v)
    }
}

/// SQL whose values are read from transaction-local settings (`tenant_console.pN`), set with bound
/// `set_config` calls before the statement runs: for COPY, which cannot take parameters. The values still
/// never become SQL text. Each is read as `(SELECT current_setting(..))`, an init plan the executor runs once
/// per statement: a bare `current_setting()` in a filter is evaluated again for every row scanned.
#[derive(Default)]
pub(crate) struct SettingsSql {
    pub sql: String,
    pub values: Vec<String>,
}

impl SettingsSql {
    /// `SELECT set_config('standard_conforming_strings', 'on', true), set_config('tenant_console.p1', $1, true),
    /// ...`, to run first in the same transaction with [`SettingsSql::values`] bound. The statement may hold
    /// literals (a text tenant id) whose quoting relies on `standard_conforming_strings`: the default since
    /// PostgreSQL 9.1, but a server may differ, so it is set here, in the same round trip.
    pub fn setter(&self) -> String {
        let calls: Vec<String> =
            std::iter::once("set_config('standard_conforming_strings', 'on', true)".to_owned())
                .chain(
                    (1..=self.values.len())
                        .map(|n| format!("set_config('tenant_console.p{n}', ${n}, true)")),
                )
                .collect();
        format!("SELECT {}", calls.join(", "))
    }
}

impl SqlSink for SettingsSql {
    fn text(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }
    fn value(&mut self, v: String) -> &mut Self {
        self.values.push(v);
        self.sql.push_str(&format!(
            "(SELECT current_setting('tenant_console.p{}'))",
            self.values.len()
        ));
        self
    }
    fn timestamp(&mut self, t: DateTime<Utc>) -> &mut Self {
        // Only digits, '-', ':', '.', 'T' and '+': nothing a user typed survives parsing into `t`.
        let lit = t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        debug_assert!(lit
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-:.+".contains(&b)));
        self.text(&format!("'{lit}'::timestamptz"))
    }
    fn tenant(&mut self, id: &str, ty: IdType) -> &mut Self {
        match tenant_literal(id, ty) {
            Some(lit) => self.text(&lit),
            // An id that does not parse as its type is still carried, as a setting.
            None => self
                .text("CAST(")
                .value(id.to_owned())
                .text(&format!(" AS {})", ty.cast())),
        }
    }
}

/// The tenant id as an SQL literal of its type, re-rendered from its parsed value (uuid, integer), or quoted
/// (text; [`SettingsSql::setter`] sets `standard_conforming_strings`, so doubling `'` is the whole of quoting).
/// `None` when it does not parse, and then the caller passes it as a setting instead. Only COPY, which takes
/// no parameters, uses it.
pub(crate) fn tenant_literal(id: &str, ty: IdType) -> Option<String> {
    match ty {
        IdType::Uuid => uuid::Uuid::parse_str(id)
            .ok()
            .map(|u| format!("'{}'::uuid", u.hyphenated())),
        IdType::Integer => id.parse::<i64>().ok().map(|n| format!("'{n}'::bigint")),
        IdType::Text => (!id.contains('\0')).then(|| format!("'{}'::text", id.replace('\'', "''"))),
    }
}

/// The explicit tenant predicate every tenant query carries besides RLS (defence in depth):
/// `<column> = CAST(<tenant> AS <type>)`, the tenant id a bound value.
pub(crate) fn tenant_eq<Q: SqlSink>(q: &mut Q, column: &str, tenant_id: &str, ty: IdType) {
    q.text(&format!("{column} = ")).tenant(tenant_id, ty);
}

/// How many rows of `table` other tenants have that this transaction can see, capped at `cap` on each side:
/// bounded index ranges below and above the tenant `$1` (cast to `cast`), and the rows with no tenant. The
/// isolation probe asks it of every readable table; an export asks it of the audit table for its manifest.
/// `table` and `column` are already quoted ([`Ident`], [`TableName`]).
pub(crate) fn foreign_rows_sql(table: &str, column: &str, cast: &str, cap: i64) -> String {
    format!(
        "SELECT (SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {column} < CAST($1 AS {cast}) LIMIT {cap}) a)
              + (SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {column} > CAST($1 AS {cast}) LIMIT {cap}) b)
              + (SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {column} IS NULL LIMIT {cap}) z)"
    )
}

/// Sends a statement without parameters in the simple query protocol (`SET LOCAL ...`): nothing is prepared,
/// so it is safe behind a pooler. Only constant text: a statement with values binds them ([`query`]).
pub(crate) async fn simple(conn: &mut sqlx::PgConnection, sql: &'static str) -> sqlx::Result<()> {
    sqlx::Executor::execute(conn, sql).await.map(|_| ())
}

/// A snapshot id as the server gives it (`pg_export_snapshot()`: hex digits and dashes, e.g.
/// `00000003-0000001B-1`): `SET TRANSACTION SNAPSHOT` takes no parameter, so anything else is refused, not quoted.
pub(crate) struct SnapshotId(String);

impl SnapshotId {
    pub(crate) fn parse(id: &str) -> Option<Self> {
        (!id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
            .then(|| SnapshotId(id.to_owned()))
    }
}

/// `SET TRANSACTION SNAPSHOT '<id>'`: the transaction sees what the exporting one sees.
pub(crate) async fn set_transaction_snapshot(
    conn: &mut sqlx::PgConnection,
    snapshot: &SnapshotId,
) -> sqlx::Result<()> {
    let sql = format!("SET TRANSACTION SNAPSHOT '{}'", snapshot.0);
    sqlx::Executor::execute(conn, sql.as_str())
        .await
        .map(|_| ())
}

/// The statement that asks a fleet's directory for a tenant's shard: the fleet owner's query (rows of
/// `tenant_id, slug, shard`), one statement, wrapped so that `$1` (the id or slug asked for) is bound, never
/// written into the text. The query itself is configuration, like a mapping file: it runs read-only as the
/// directory profile's login. Refused: an empty query, or more than one statement.
pub fn directory_lookup(sql: &str) -> std::result::Result<String, String> {
    let q = sql.trim().trim_end_matches(';').trim();
    if q.is_empty() {
        return Err("the directory query is empty".into());
    }
    if q.contains(';') || q.contains('\0') {
        return Err("the directory query must be one statement (no ';')".into());
    }
    Ok(format!(
        "SELECT DISTINCT d.shard::text FROM ({q}) AS d(tenant_id, slug, shard) \
         WHERE d.tenant_id::text = $1 OR d.slug::text = $1"
    ))
}

/// Starts `COPY ... TO STDOUT` (its values already set by [`SettingsSql::setter`] in the same transaction).
pub(crate) async fn copy_out<'c>(
    conn: &'c mut sqlx::PgConnection,
    q: &SettingsSql,
) -> sqlx::Result<futures::stream::BoxStream<'c, sqlx::Result<bytes::Bytes>>> {
    conn.copy_out_raw(&q.sql).await
}

/// A keyset page: the rows read with `LIMIT page + 1`, cut to the page, and the cursor of the last row kept
/// when there were more.
pub(crate) fn keyset_page<T>(
    mut rows: Vec<T>,
    limit: usize,
    cursor_of: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    if rows.len() > limit {
        rows.truncate(limit);
        let next = rows.last().map(cursor_of);
        (rows, next)
    } else {
        (rows, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_in_user_text_match_literally() {
        assert_eq!(like_escape("50%_off\\"), "50\\%\\_off\\\\");
        assert_eq!(like_escape("acme"), "acme");
    }

    #[test]
    fn a_keyset_page_keeps_the_cursor_only_when_more_rows_came() {
        let (rows, next) = keyset_page(vec![1, 2, 3], 2, |n| n.to_string());
        assert_eq!((rows, next), (vec![1, 2], Some("2".to_owned())));
        let (rows, next) = keyset_page(vec![1, 2], 2, |n| n.to_string());
        assert_eq!((rows, next), (vec![1, 2], None));
    }

    #[test]
    fn column_references_are_quoted_with_quotes_doubled() {
        assert_eq!(col("tenantId").to_string(), "\"tenantId\"");
        assert_eq!(col("we\"ird").to_string(), "\"we\"\"ird\"");
    }

    #[test]
    fn the_tenant_predicate_in_copy_is_a_literal_of_the_parsed_id_or_a_setting() {
        let mut q = SettingsSql::default();
        tenant_eq(&mut q, "e.\"tenant_id\"", "o'brien", IdType::Text);
        assert_eq!(q.sql, "e.\"tenant_id\" = 'o''brien'::text");
        assert!(q.values.is_empty());
        // An id that is not of its column's type is never written into the text: it travels as a setting.
        let mut q = SettingsSql::default();
        tenant_eq(
            &mut q,
            "e.\"tenant_id\"",
            "x'); drop table t; --",
            IdType::Uuid,
        );
        assert_eq!(
            q.sql,
            "e.\"tenant_id\" = CAST((SELECT current_setting('tenant_console.p1')) AS uuid)"
        );
        assert_eq!(q.values, vec!["x'); drop table t; --".to_owned()]);
    }

    #[test]
    fn tenant_ids_become_literals_of_their_type_or_nothing() {
        assert_eq!(
            tenant_literal("6F9619FF-8B86-D011-B42D-00C04FC964FF", IdType::Uuid).as_deref(),
            Some("'6f9619ff-8b86-d011-b42d-00c04fc964ff'::uuid")
        );
        assert_eq!(tenant_literal("x'); drop table t; --", IdType::Uuid), None);
        assert_eq!(
            tenant_literal("-42", IdType::Integer).as_deref(),
            Some("'-42'::bigint")
        );
        assert_eq!(tenant_literal("1 OR true", IdType::Integer), None);
        assert_eq!(
            tenant_literal(r"o'brien\x", IdType::Text).as_deref(),
            Some(r"'o''brien\x'::text")
        );
    }
}

/// Letters with accents, upper and lower case, and what they fold to for search ([`folded`]).
pub(crate) const FOLD_FROM: &str = "ÀÁÂÃÄÅàáâãäåĀāĂăĄąÇçĆćĈĉĊċČčĎďĐđÈÉÊËèéêëĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĦħÌÍÎÏìíîïĨĩĪīĬĭĮįİıĴĵĶķĹĺĻļĽľĿŀŁłÑñŃńŅņŇňÒÓÔÕÖØòóôõöøŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšȘșŢţȚțŤťŦŧÙÚÛÜùúûüŨũŪūŬŭŮůŰűŲųŴŵÝýÿŶŷŸŹźŻżŽž";
pub(crate) const FOLD_TO: &str = "aaaaaaaaaaaaaaaaaaccccccccccddddeeeeeeeeeeeeeeeeeegggggggghhhhiiiiiiiiiiiiiiiiiijjkkllllllllllnnnnnnnnoooooooooooooooooorrrrrrssssssssssttttttttuuuuuuuuuuuuuuuuuuuuwwyyyyyyzzzzzz";

/// `expr` folded for an accent- and case-insensitive match: lowercased, and accented Latin letters replaced by
/// their base letter (`Société` -> `societe`, `ZÜRICH` -> `zurich`). Plain SQL (`translate(lower(..))`),
/// immutable, so an index on the folded name serves the search (migration 20261126000020 adds one to the
/// reference schema; a mapped database without it is scanned, as before). The letters are listed upper case
/// too, so the fold does not depend on the database's ctype lowercasing non-ASCII letters.
///
/// Only a name with a non-ASCII letter is translated (in UTF-8 it is longer in bytes than in characters); an
/// ASCII name is only lowercased: translate() over every name made a search that tests every tenant (1-2
/// letters) 12x slower, and the index's recheck of long searches 3x slower (benches/browse.sh).
pub(crate) fn folded(expr: &str) -> String {
    format!(
        "(CASE WHEN octet_length({expr}) <> char_length({expr}) \
         THEN translate(lower({expr}), '{FOLD_FROM}', '{FOLD_TO}') ELSE lower({expr}) END)"
    )
}

/// A text value, folded on the server as [`folded`] folds a column (lowercased, accents removed), for comparing
/// with a folded expression: `translate(lower(CAST($n AS text)), …)`. The value stays a bound parameter.
pub(crate) fn push_folded<Q: SqlSink>(q: &mut Q, value: String) {
    q.text("translate(lower(CAST(")
        .value(value)
        .text(&format!(" AS text)), '{FOLD_FROM}', '{FOLD_TO}')"));
}

/// Characters a tenant search ignores, on both sides: white space and punctuation ("Globex Inc" finds
/// "Globex, Inc.", "globexinc" too). No quoting is needed in SQL but the one doubled quote, and there is no
/// backslash (it would be an escape where `standard_conforming_strings` is off).
pub(crate) const SEARCH_STRIP: &str =
    " \t!\"#$%&''()*+,-./:;<=>?@[]^_`{|}~\u{a0}\u{2018}\u{2019}\u{201c}\u{201d}\u{2013}\u{2014}\u{b7}\u{ab}\u{bb}";

/// The search text as the searchable name has it: without the characters of [`SEARCH_STRIP`].
pub(crate) fn search_text(text: &str) -> String {
    let strip: String = SEARCH_STRIP.replace("''", "'");
    text.chars().filter(|c| !strip.contains(*c)).collect()
}

/// A tenant name as search compares it: folded ([`folded`]) and without white space or punctuation. The
/// reference schema's trigram index `tenants_name_search_trgm` is on exactly this expression.
pub(crate) fn searchable(expr: &str) -> String {
    format!("translate({}, '{SEARCH_STRIP}', '')", folded(expr))
}

#[cfg(test)]
mod fold_tests {
    use super::*;

    #[test]
    fn the_migrations_folded_index_is_the_searchs_expression() {
        let migration = include_str!(
            "../../../../migrations/20261126000020_folded_search_and_member_sorts.sql"
        );
        assert!(
            migration.contains(&folded("name")),
            "the index and the search differ"
        );
        assert_eq!(FOLD_FROM.chars().count(), FOLD_TO.chars().count());
        assert!(FOLD_TO.chars().all(|c| c.is_ascii_lowercase()));
    }

    #[test]
    fn the_migrations_search_index_is_the_searchs_expression() {
        let migration =
            include_str!("../../../../migrations/20261207000060_search_ignores_punctuation.sql");
        assert!(
            migration.contains(&searchable("name")),
            "the index and the search differ"
        );
        // The letter pairs of a short search (20261207000080) are taken from the same expression, as a function.
        let pairs =
            include_str!("../../../../migrations/20261207000080_short_search_by_letter_pairs.sql");
        assert!(
            pairs.contains(&format!("RETURN {};", searchable("t"))),
            "tc_searchable and the search differ"
        );
        assert_eq!(search_text("Globex, Inc."), "GlobexInc");
        assert_eq!(search_text("  Globex   Inc "), "GlobexInc");
        assert_eq!(search_text("O’Brien & Söhne"), "OBrienSöhne");
        assert_eq!(search_text("100% _x_"), "100x");
    }
}
