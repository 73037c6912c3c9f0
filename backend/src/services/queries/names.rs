//! Names as the engine decodes them, so that what the classifier compares and what the runner
//! asks the target about is the object the server will call — not its spelling.
//!
//! PostgreSQL: `U&"d\0061t"` and `U&"d!0061t" UESCAPE '!'` are the identifier `dat` (the parser
//! in front of us reads `U & "…"`, so the text is rewritten before it is parsed); a quoted name
//! keeps its case, an unquoted one is folded to lower case (ASCII only, as the server does in
//! UTF-8); every name is cut to 63 bytes (NAMEDATALEN - 1). Oracle folds unquoted names to upper
//! case; MySQL/MariaDB and SQLite function names are case-insensitive (lower case here).

use std::borrow::Cow;

use sqlparser::ast::{Ident, ObjectName, ObjectNamePart};
use sqlparser::dialect::Dialect;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use crate::connectors::Engine;

/// PostgreSQL's identifier length limit: longer names are truncated, not refused.
const NAMEDATALEN_1: usize = 63;

/// A function or relation as the engine will look it up: `schema` when the text qualified it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    pub schema: Option<String>,
    pub name: String,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(s) => write!(f, "{s}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// One identifier as `engine` reads it.
pub fn ident(engine: Engine, i: &Ident) -> String {
    let quoted = i.quote_style.is_some();
    match engine {
        Engine::Postgres => {
            let v = if quoted {
                i.value.clone()
            } else {
                i.value.to_ascii_lowercase()
            };
            truncate_bytes(v, NAMEDATALEN_1)
        }
        Engine::Oracle if !quoted => i.value.to_uppercase(),
        Engine::Oracle => i.value.clone(),
        Engine::Mysql | Engine::Sqlite => i.value.to_lowercase(),
    }
}

/// A possibly qualified name: the last part is the object, the one before it its schema
/// (`db.schema.f` names `schema.f`). `None` for a name part that is not an identifier.
pub fn object(engine: Engine, name: &ObjectName) -> Option<ObjectRef> {
    let mut parts = Vec::with_capacity(name.0.len());
    for part in &name.0 {
        match part {
            ObjectNamePart::Identifier(i) => parts.push(ident(engine, i)),
            ObjectNamePart::Function(_) => return None,
        }
    }
    let name = parts.pop()?;
    Some(ObjectRef {
        schema: parts.pop(),
        name,
    })
}

fn truncate_bytes(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// PostgreSQL: rewrites every `U&"…"` identifier (with its optional `UESCAPE 'c'`) into the plain
/// quoted identifier it decodes to, so the parser sees the name the server will. Strings,
/// comments and everything else are left byte for byte. `Err` for an escape the server refuses.
pub fn decode_unicode_identifiers<'a>(
    dialect: &dyn Dialect,
    sql: &'a str,
) -> Result<Cow<'a, str>, String> {
    if !sql.contains('&') {
        return Ok(Cow::Borrowed(sql));
    }
    let tokens = Tokenizer::new(dialect, sql)
        .tokenize_with_location()
        .map_err(|e| format!("could not be read ({e})"))?;
    let offsets = Offsets::new(sql);
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    let mut i = 0;
    while i < tokens.len() {
        let Some((value, end_idx)) = unicode_identifier(&tokens, i, &offsets)? else {
            i += 1;
            continue;
        };
        let start = offsets.at(&tokens[i]);
        let end = tokens.get(end_idx + 1).map_or(sql.len(), |t| offsets.at(t));
        out.push_str(&sql[copied..start]);
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
        copied = end;
        i = end_idx + 1;
    }
    if copied == 0 {
        return Ok(Cow::Borrowed(sql));
    }
    out.push_str(&sql[copied..]);
    Ok(Cow::Owned(out))
}

/// At `i`: `U` `&` `"…"` with nothing between them (the server's `U&"` token), then optionally
/// `UESCAPE 'c'`. Returns the decoded name and the index of the last token it used.
fn unicode_identifier(
    tokens: &[TokenWithSpan],
    i: usize,
    offsets: &Offsets,
) -> Result<Option<(String, usize)>, String> {
    let [u, amp, quoted, ..] = &tokens[i..] else {
        return Ok(None);
    };
    let is_u = matches!(&u.token, Token::Word(w)
        if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("u"));
    let Token::Word(q) = &quoted.token else {
        return Ok(None);
    };
    let adjacent =
        offsets.at(amp) == offsets.at(u) + 1 && offsets.at(quoted) == offsets.at(amp) + 1;
    if !is_u || amp.token != Token::Ampersand || q.quote_style != Some('"') || !adjacent {
        return Ok(None);
    }
    let mut last = i + 2;
    let mut escape = '\\';
    let mut j = last + 1;
    while matches!(tokens.get(j).map(|t| &t.token), Some(Token::Whitespace(_))) {
        j += 1;
    }
    if matches!(tokens.get(j).map(|t| &t.token), Some(Token::Word(w))
        if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("uescape"))
    {
        j += 1;
        while matches!(tokens.get(j).map(|t| &t.token), Some(Token::Whitespace(_))) {
            j += 1;
        }
        let c = match tokens.get(j).map(|t| &t.token) {
            Some(Token::SingleQuotedString(s)) if s.chars().count() == 1 => s.chars().next(),
            _ => None,
        };
        escape = c.ok_or("has a UESCAPE that is not one character in quotes")?;
        if escape.is_ascii_hexdigit() || escape.is_whitespace() || "+'\"".contains(escape) {
            return Err(format!(
                "has an invalid Unicode escape character {escape:?}"
            ));
        }
        last = j;
    }
    Ok(Some((unescape(&q.value, escape)?, last)))
}

/// The server's `str_udeescape`: `<e>XXXX`, `<e>+XXXXXX`, `<e><e>`; surrogate pairs joined.
pub fn unescape(s: &str, escape: char) -> Result<String, String> {
    let chars: Vec<char> = s.chars().collect();
    let bad = || "has an invalid Unicode escape in a U& identifier".to_string();
    let mut out = String::with_capacity(s.len());
    let mut pending_high: Option<u32> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != escape {
            if pending_high.is_some() {
                return Err(bad());
            }
            out.push(c);
            i += 1;
            continue;
        }
        if chars.get(i + 1) == Some(&escape) {
            if pending_high.is_some() {
                return Err(bad());
            }
            out.push(escape);
            i += 2;
            continue;
        }
        let (digits, skip) = if chars.get(i + 1) == Some(&'+') {
            (chars.get(i + 2..i + 8), 8)
        } else {
            (chars.get(i + 1..i + 5), 5)
        };
        let digits = digits.filter(|d| d.iter().all(char::is_ascii_hexdigit));
        let code = digits
            .and_then(|d| u32::from_str_radix(&d.iter().collect::<String>(), 16).ok())
            .ok_or_else(bad)?;
        i += skip;
        match (pending_high.take(), code) {
            (None, 0xD800..=0xDBFF) => pending_high = Some(code),
            (Some(high), 0xDC00..=0xDFFF) => {
                let joined = 0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00);
                out.push(char::from_u32(joined).ok_or_else(bad)?);
            }
            (Some(_), _) => return Err(bad()),
            (None, 0) => return Err(bad()),
            (None, _) => out.push(char::from_u32(code).ok_or_else(bad)?),
        }
    }
    if pending_high.is_some() {
        return Err(bad());
    }
    Ok(out)
}

/// Byte offsets of the tokenizer's (line, column) locations; columns count characters.
struct Offsets<'a> {
    sql: &'a str,
    lines: Vec<usize>,
}

impl<'a> Offsets<'a> {
    fn new(sql: &'a str) -> Self {
        let mut lines = vec![0];
        lines.extend(sql.match_indices('\n').map(|(i, _)| i + 1));
        Self { sql, lines }
    }

    fn at(&self, t: &TokenWithSpan) -> usize {
        let line = usize::try_from(t.span.start.line).unwrap_or(1).max(1);
        let col = usize::try_from(t.span.start.column).unwrap_or(1).max(1);
        let start = self.lines.get(line - 1).copied().unwrap_or(self.sql.len());
        self.sql[start..]
            .char_indices()
            .nth(col - 1)
            .map_or(self.sql.len(), |(i, _)| start + i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::PostgreSqlDialect;

    fn decoded(sql: &str) -> String {
        match decode_unicode_identifiers(&PostgreSqlDialect {}, sql) {
            Ok(s) => s.into_owned(),
            Err(e) => format!("ERR {e}"),
        }
    }

    #[test]
    fn unicode_identifiers_are_rewritten_to_the_name_the_server_reads() {
        assert_eq!(
            decoded(r#"SELECT U&"dblink\005fexec"('a', 'b')"#),
            r#"SELECT "dblink_exec"('a', 'b')"#
        );
        assert_eq!(
            decoded(r#"SELECT u&"dblink!005Fexec" UESCAPE '!' ('a')"#),
            r#"SELECT "dblink_exec" ('a')"#
        );
        assert_eq!(
            decoded("SELECT\n  x, U&\"d\\+000061t\\\\\"\"x\" FROM t"),
            "SELECT\n  x, \"dat\\\"\"x\" FROM t"
        );
        assert_eq!(decoded(r#"SELECT U&"\D83D\DE00""#), "SELECT \"\u{1F600}\"");
        // Not U&: a column u AND-ed with a quoted column, a string, a comment.
        assert_eq!(
            decoded(r#"SELECT u & "x" FROM t"#),
            r#"SELECT u & "x" FROM t"#
        );
        assert_eq!(
            decoded(
                r#"SELECT 'U&"a\0062"' -- U&"x"
"#
            ),
            "SELECT 'U&\"a\\0062\"' -- U&\"x\"\n"
        );
        assert_eq!(decoded("SELECT é, U&\"\\0041\""), "SELECT é, \"A\"");
    }

    #[test]
    fn escapes_the_server_refuses_are_refused() {
        for bad in [
            r#"SELECT U&"\00""#,
            r#"SELECT U&"\0000""#,
            r#"SELECT U&"\D83D""#,
            r#"SELECT U&"\D83Dx""#,
            r#"SELECT U&"\DE00\D83D""#,
            r#"SELECT U&"\zzzz""#,
            r#"SELECT U&"a" UESCAPE 'ab'"#,
            r#"SELECT U&"a" UESCAPE '+'"#,
            r#"SELECT U&"a" UESCAPE 'a'"#,
        ] {
            assert!(decoded(bad).starts_with("ERR"), "{bad}: {}", decoded(bad));
        }
    }

    #[test]
    fn identifiers_fold_as_each_engine_folds_them() {
        let quoted = Ident::with_quote('"', "PG_Sleep");
        let plain = Ident::new("PG_Sleep");
        assert_eq!(ident(Engine::Postgres, &plain), "pg_sleep");
        assert_eq!(ident(Engine::Postgres, &quoted), "PG_Sleep");
        assert_eq!(ident(Engine::Oracle, &plain), "PG_SLEEP");
        assert_eq!(ident(Engine::Oracle, &quoted), "PG_Sleep");
        assert_eq!(ident(Engine::Mysql, &quoted), "pg_sleep");
        let long = Ident::new(format!("{}_tail", "a".repeat(60)));
        assert_eq!(ident(Engine::Postgres, &long).len(), 63);
        let wide = Ident::with_quote('"', "é".repeat(40));
        assert_eq!(ident(Engine::Postgres, &wide), "é".repeat(31));
    }
}
