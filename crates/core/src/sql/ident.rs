//! SQL identifiers from the mapping file, validated and quoted.
//!
//! The mapped path builds SQL from table and column names a user wrote in a file. This module is the only place
//! such names become SQL text: an [`Ident`] can only be made by [`Ident::parse`], which refuses names PostgreSQL
//! itself would refuse (empty, NUL, longer than 63 bytes), and it always renders double-quoted with embedded
//! quotes doubled, so a hostile name is at worst a table that does not exist. Values are never rendered here:
//! they are always bound parameters.

use std::fmt;

/// A validated, always-quoted SQL identifier (case-sensitive, as PostgreSQL stores it).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ident(String);

/// PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes; we refuse instead of silently truncating.
const MAX_IDENT_BYTES: usize = 63;

impl Ident {
    /// Validates a name as written in the database (no quotes of its own).
    pub fn parse(name: &str) -> Result<Self, String> {
        if name.is_empty() {
            return Err("an identifier may not be empty".into());
        }
        if name.len() > MAX_IDENT_BYTES {
            return Err(format!(
                "identifier {name:?} is longer than PostgreSQL's {MAX_IDENT_BYTES}-byte limit"
            ));
        }
        if name.chars().any(|c| c == '\0' || c.is_control()) {
            return Err(format!(
                "identifier {:?} contains a control character",
                name.escape_debug().to_string()
            ));
        }
        Ok(Ident(name.to_owned()))
    }

    /// A name already validated (a bound mapping's): quoted on output, not checked again.
    pub(crate) fn trusted(name: &str) -> Self {
        Ident(name.to_owned())
    }

    /// The name as stored in the catalog (for catalog lookups with bound parameters).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Ident {
    /// Renders the identifier double-quoted, with any `"` doubled.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&quote(&self.0))
    }
}

/// A name from the catalog (a role, a policy, a column the server itself reported), double-quoted with any `"`
/// doubled: for the isolation check's probe statements and the fix SQL it prints. Names a user wrote go through
/// [`Ident::parse`] instead.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A table name, optionally schema-qualified (`schema.table`), each part an [`Ident`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TableName {
    /// The schema, when the mapping names one; otherwise the search path decides.
    pub schema: Option<Ident>,
    /// The table itself.
    pub name: Ident,
}

impl TableName {
    /// Parses `table` or `schema.table`. A dot inside a name can be written by double-quoting that part:
    /// `"my.schema".table`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let parts = split_qualified(spec)?;
        match parts.as_slice() {
            [name] => Ok(TableName {
                schema: None,
                name: Ident::parse(name)?,
            }),
            [schema, name] => Ok(TableName {
                schema: Some(Ident::parse(schema)?),
                name: Ident::parse(name)?,
            }),
            _ => Err(format!(
                "table {spec:?} has more than one dot; write it as schema.table"
            )),
        }
    }

    /// The schema name for catalog lookups: the given one, or `None` for the search path.
    pub fn schema_str(&self) -> Option<&str> {
        self.schema.as_ref().map(Ident::as_str)
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(schema) = &self.schema {
            write!(f, "{schema}.")?;
        }
        write!(f, "{}", self.name)
    }
}

fn split_qualified(spec: &str) -> Result<Vec<String>, String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = spec.chars().peekable();
    let mut quoted_part = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if cur.is_empty() && !quoted_part => {
                quoted_part = true;
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            cur.push('"');
                        }
                        Some('"') => break,
                        Some(ch) => cur.push(ch),
                        None => return Err(format!("unterminated quote in table name {spec:?}")),
                    }
                }
            }
            '.' => {
                parts.push(std::mem::take(&mut cur));
                quoted_part = false;
            }
            _ if quoted_part => {
                return Err(format!("unexpected {c:?} after a quoted name in {spec:?}"))
            }
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_render_quoted_with_inner_quotes_doubled() {
        assert_eq!(
            Ident::parse("tenantId").unwrap().to_string(),
            "\"tenantId\""
        );
        assert_eq!(
            Ident::parse("a\"; DROP TABLE x; --").unwrap().to_string(),
            "\"a\"\"; DROP TABLE x; --\""
        );
    }

    #[test]
    fn hostile_identifiers_never_escape_their_quotes() {
        // Whatever the input, the rendering is one quoted token: strip the outer quotes and no lone quote remains.
        for hostile in [
            "\"",
            "\"\"",
            "x\" OR 1=1 --",
            "'; select pg_sleep(10); --",
            "\u{202e}evil",
            "Tenant\"",
        ] {
            let rendered = Ident::parse(hostile).unwrap().to_string();
            let inner = &rendered[1..rendered.len() - 1];
            assert!(
                !inner.replace("\"\"", "").contains('"'),
                "{hostile:?} rendered as {rendered}"
            );
        }
    }

    #[test]
    fn empty_overlong_and_control_character_identifiers_are_refused() {
        assert!(Ident::parse("").is_err());
        assert!(Ident::parse(&"x".repeat(64)).is_err());
        assert!(Ident::parse(&"x".repeat(63)).is_ok());
        assert!(Ident::parse("a\0b").is_err());
        assert!(Ident::parse("a\nb").is_err());
    }

    #[test]
    fn table_names_may_be_schema_qualified_and_quoted() {
        let t = TableName::parse("app.Tenant").unwrap();
        assert_eq!(t.to_string(), "\"app\".\"Tenant\"");
        let t = TableName::parse("\"my.schema\".\"Audit\"\"Log\"").unwrap();
        assert_eq!(t.schema_str(), Some("my.schema"));
        assert_eq!(t.name.as_str(), "Audit\"Log");
        assert_eq!(t.to_string(), "\"my.schema\".\"Audit\"\"Log\"");
        assert!(TableName::parse("a.b.c").is_err());
        assert!(TableName::parse("a.").is_err());
        assert!(TableName::parse("\"open").is_err());
    }
}
