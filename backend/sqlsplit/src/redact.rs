//! Redaction of password literals: `CREATE|ALTER USER|ROLE … PASSWORD '…'`, `IDENTIFIED BY …`
//! (also `GRANT … IDENTIFIED BY`, Oracle `CREATE DATABASE LINK … IDENTIFIED BY`, a bare or
//! `"quoted"` Oracle password, `REPLACE old`), `IDENTIFIED WITH|VIA plugin BY|AS|USING '…'`,
//! `SET PASSWORD [FOR u] = '…'`, `PASSWORD('…')`, `MASTER_PASSWORD = '…'` and the like,
//! PostgreSQL `ENCRYPTED PASSWORD`, server `OPTIONS (password '…')` and a subscription's
//! `CONNECTION '…'`.
//!
//! The script is read with the dialect's own lexing (quotes, escapes, dollar quotes, Oracle
//! `q'[…]'`, nested or executable comments), so a `PASSWORD` inside a comment or a string is
//! not a keyword and a quote inside a comment does not open a string. The literal is replaced
//! by `'***'` (`"***"` for a quoted identifier, `***` for a bare word) followed by the line
//! breaks it held, so statements keep their lines. Strings and dollar-quoted bodies that
//! themselves hold such SQL (`EXECUTE 'CREATE ROLE … PASSWORD ''…'''`, a `DO $$ … $$` block)
//! are redacted inside too.

use crate::lex::{at, block_comment, is_word_byte, line_end, quoted, word_end};
use crate::Dialect;

/// A script with its password literals replaced, and what was replaced (to scrub messages
/// that echo the statement, such as a syntax error).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redacted {
    /// The script as it may be shown.
    pub text: String,
    /// The values taken out, unquoted.
    pub secrets: Vec<String>,
}

impl Redacted {
    /// `message` with every secret of this script replaced by `***`.
    pub fn scrub(&self, message: &str) -> String {
        let mut secrets: Vec<&String> = self.secrets.iter().filter(|s| !s.is_empty()).collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let mut out = message.to_string();
        for s in secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "***");
            }
        }
        out
    }
}

/// Replaces the password literals of `script`, read as `dialect` reads it.
pub fn redact(dialect: Dialect, script: &str) -> Redacted {
    let mut secrets = Vec::new();
    let text = redact_into(dialect, script, &mut secrets, 0);
    Redacted { text, secrets }
}

/// How deep strings holding SQL are redacted inside.
const MAX_DEPTH: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Word,
    /// A string literal, prefix included (`E'…'`, `N'…'`, `_utf8mb4'…'`, `q'[…]'`, `$x$…$x$`).
    Str,
    /// A quoted identifier (`"…"`, `` `…` ``, `[…]`).
    Ident,
    Punct(u8),
}

#[derive(Debug, Clone, Copy)]
struct Tok {
    kind: Kind,
    start: usize,
    end: usize,
    /// Where the content of a quoted token lies.
    body: (usize, usize),
    /// The string takes backslash escapes.
    backslash: bool,
    /// The body is the value as is (dollar quotes, Oracle q-quotes): nothing to undo.
    raw: bool,
}

fn redact_into(dialect: Dialect, script: &str, secrets: &mut Vec<String>, depth: usize) -> String {
    let toks = tokens(dialect, script.as_bytes());
    let mut cuts: Vec<(usize, usize, String)> = Vec::new();
    let mut taken = vec![false; toks.len()];
    let word = |i: usize, kw: &str| -> bool {
        toks.get(i)
            .is_some_and(|t| t.kind == Kind::Word && eq_kw(script, t, kw))
    };
    let punct = |i: usize, c: u8| toks.get(i).is_some_and(|t| t.kind == Kind::Punct(c));
    let mut take = |i: usize, bare_ok: bool, cuts: &mut Vec<(usize, usize, String)>| -> bool {
        let Some(t) = toks.get(i) else { return false };
        if taken[i] {
            return true;
        }
        let replacement = match t.kind {
            Kind::Str => "'***'",
            Kind::Ident => "\"***\"",
            Kind::Word if bare_ok => "***",
            _ => return false,
        };
        let raw = script.get(t.start..t.end).unwrap_or_default();
        let body = script.get(t.body.0..t.body.1).unwrap_or_default();
        secrets.push(unquote(body, t));
        let newlines = raw.matches('\n').count();
        cuts.push((
            t.start,
            t.end,
            format!("{replacement}{}", "\n".repeat(newlines)),
        ));
        taken[i] = true;
        true
    };
    let oracle = dialect == Dialect::Oracle;
    for i in 0..toks.len() {
        if toks[i].kind != Kind::Word {
            continue;
        }
        if is_password_word(script, &toks[i]) {
            // PASSWORD 'x', PASSWORD('x'), MASTER_PASSWORD = 'x', OLD_PASSWORD('x')
            let j = if punct(i + 1, b'=') || punct(i + 1, b'(') {
                i + 2
            } else {
                i + 1
            };
            take(j, false, &mut cuts);
            if word(i.wrapping_sub(1), "set") {
                // SET PASSWORD FOR user = 'x': the value follows the first '='.
                let mut j = i + 1;
                while j < toks.len() && !punct(j, b';') && !punct(j, b'=') {
                    j += 1;
                }
                if punct(j, b'=') && !word(j + 1, "password") {
                    take(j + 1, false, &mut cuts);
                }
            }
        } else if word(i, "identified") && word(i + 1, "by") {
            let mut j = i + 2;
            if word(j, "password") || (oracle && word(j, "values")) {
                j += 1;
            }
            if take(j, oracle, &mut cuts) && word(j + 1, "replace") {
                take(j + 2, oracle, &mut cuts);
            }
        } else if word(i, "identified") && (word(i + 1, "with") || word(i + 1, "via")) {
            // IDENTIFIED WITH plugin BY 'x' | AS 'hash'; MariaDB VIA plugin USING 'x' [OR …]
            let mut j = i + 3;
            while j < toks.len() && !punct(j, b';') && !punct(j, b',') {
                if word(j, "by") || word(j, "as") || word(j, "using") {
                    take(j + 1, false, &mut cuts);
                }
                j += 1;
            }
        } else if word(i, "connection") {
            // CREATE|ALTER SUBSCRIPTION … CONNECTION 'host=… password=…'
            take(i + 1, false, &mut cuts);
        }
    }
    // Strings and bodies that hold SQL of their own.
    if depth < MAX_DEPTH {
        for (i, t) in toks.iter().enumerate() {
            if t.kind != Kind::Str || taken[i] {
                continue;
            }
            let body = script.get(t.body.0..t.body.1).unwrap_or_default();
            if !mentions_secret(body) {
                continue;
            }
            let inner = unquote(body, t);
            let before = secrets.len();
            let redacted = redact_into(dialect, &inner, secrets, depth + 1);
            if secrets.len() > before {
                let raw = script.get(t.start..t.body.0).unwrap_or_default();
                let close = script.get(t.body.1..t.end).unwrap_or_default();
                let inner = if t.raw {
                    redacted
                } else {
                    redacted.replace('\'', "''")
                };
                cuts.push((t.start, t.end, format!("{raw}{inner}{close}")));
            }
        }
    }
    cuts.sort_by_key(|c| c.0);
    let mut out = String::with_capacity(script.len());
    let mut from = 0;
    for (start, end, with) in cuts {
        if start < from {
            continue;
        }
        out.push_str(script.get(from..start).unwrap_or_default());
        out.push_str(&with);
        from = end;
    }
    out.push_str(script.get(from..).unwrap_or_default());
    out
}

fn eq_kw(script: &str, t: &Tok, kw: &str) -> bool {
    script
        .get(t.start..t.end)
        .is_some_and(|w| w.eq_ignore_ascii_case(kw))
}

/// `PASSWORD`, and names ending in `_PASSWORD` (`MASTER_PASSWORD`, `OLD_PASSWORD`).
fn is_password_word(script: &str, t: &Tok) -> bool {
    let w = script.get(t.start..t.end).unwrap_or_default();
    let n = w.len();
    n >= 8
        && w.get(n - 8..)
            .is_some_and(|end| end.eq_ignore_ascii_case("password"))
        && (n == 8 || w.as_bytes().get(n - 9) == Some(&b'_'))
}

fn mentions_secret(body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    lower.contains("password") || lower.contains("identified") || lower.contains("connection")
}

/// The value a quoted body stands for: doubled quotes (and, where the string takes them,
/// backslash escapes of quotes and backslashes) undone.
fn unquote(body: &str, t: &Tok) -> String {
    match t.kind {
        Kind::Str if t.raw => body.to_string(),
        Kind::Str => {
            let mut s = body.replace("''", "'");
            if t.backslash {
                s = s.replace("\\'", "'").replace("\\\\", "\\");
            }
            s
        }
        Kind::Ident => body.replace("\"\"", "\"").replace("``", "`"),
        _ => body.to_string(),
    }
}

/// The script's tokens as `dialect` lexes them; whitespace and comments are left out.
fn tokens(dialect: Dialect, b: &[u8]) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut i = 0;
    let tok = |kind, start, end, body, backslash| Tok {
        kind,
        start,
        end,
        body,
        backslash,
        raw: false,
    };
    while i < b.len() {
        let c = at(b, i);
        let next = at(b, i + 1);
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        // Comments.
        if c == b'-' && next == b'-' && (dialect != Dialect::Mysql || at(b, i + 2) <= b' ') {
            i = line_end(b, i);
            continue;
        }
        if c == b'#' && dialect == Dialect::Mysql {
            i = line_end(b, i);
            continue;
        }
        if c == b'/' && next == b'*' {
            if dialect == Dialect::Mysql && matches!(at(b, i + 2), b'!' | b'+') {
                // Executable comment: its text is SQL. Skip the opener and its version.
                i += 3;
                while at(b, i).is_ascii_digit() {
                    i += 1;
                }
                continue;
            }
            i = block_comment(b, i, dialect == Dialect::Postgres).unwrap_or(b.len());
            continue;
        }
        if c == b'*' && next == b'/' && dialect == Dialect::Mysql {
            i += 2;
            continue;
        }
        // Quoted runs.
        let string = |start: usize, open: usize, backslash: bool| {
            let end = quoted(b, open, backslash).unwrap_or(b.len());
            let body_end = if end > open + 1 && at(b, end - 1) == at(b, open) {
                end - 1
            } else {
                end
            };
            tok(Kind::Str, start, end, (open + 1, body_end), backslash)
        };
        match c {
            b'\'' => {
                let t = string(i, i, dialect == Dialect::Mysql);
                i = t.end;
                out.push(t);
                continue;
            }
            b'"' if dialect == Dialect::Mysql => {
                let t = string(i, i, true);
                i = t.end;
                out.push(t);
                continue;
            }
            b'"' | b'`' => {
                let end = quoted(b, i, dialect == Dialect::Mysql).unwrap_or(b.len());
                let body_end = if end > i + 1 { end - 1 } else { end };
                out.push(tok(Kind::Ident, i, end, (i + 1, body_end), false));
                i = end;
                continue;
            }
            b'[' if dialect == Dialect::Sqlite => {
                let end = b
                    .get(i..)
                    .and_then(|r| r.iter().position(|&x| x == b']'))
                    .map_or(b.len(), |p| i + p + 1);
                out.push(tok(
                    Kind::Ident,
                    i,
                    end,
                    (i + 1, end.saturating_sub(1)),
                    false,
                ));
                i = end;
                continue;
            }
            b'$' if dialect == Dialect::Postgres => {
                if let Some(t) = dollar(b, i) {
                    i = t.end;
                    out.push(t);
                    continue;
                }
            }
            _ => {}
        }
        if is_word_byte(c) && c != b'$' {
            let end = word_end(b, i, is_word_byte);
            let w = b.get(i..end).unwrap_or_default();
            let lower: Vec<u8> = w.to_ascii_lowercase();
            // A prefixed string: E'…' (escapes), N'…', B'…', X'…', _charset'…', U&'…', q'[…]'.
            if at(b, end) == b'\'' {
                if dialect == Dialect::Oracle && (lower == b"q" || lower == b"nq") {
                    let t = q_quote(b, i, end);
                    i = t.end;
                    out.push(t);
                    continue;
                }
                let prefixed = matches!(lower.as_slice(), b"n" | b"b" | b"x")
                    || (dialect == Dialect::Postgres && lower == b"e")
                    || (dialect == Dialect::Mysql && lower.first() == Some(&b'_'));
                if prefixed {
                    let escapes = lower == b"e" || dialect == Dialect::Mysql;
                    let t = string(i, end, escapes);
                    i = t.end;
                    out.push(t);
                    continue;
                }
            }
            if dialect == Dialect::Postgres
                && lower == b"u"
                && at(b, end) == b'&'
                && matches!(at(b, end + 1), b'\'' | b'"')
            {
                let open = end + 1;
                let close = quoted(b, open, false).unwrap_or(b.len());
                let kind = if at(b, open) == b'\'' {
                    Kind::Str
                } else {
                    Kind::Ident
                };
                out.push(tok(
                    kind,
                    i,
                    close,
                    (open + 1, close.saturating_sub(1)),
                    false,
                ));
                i = close;
                continue;
            }
            out.push(tok(Kind::Word, i, end, (i, end), false));
            i = end;
            continue;
        }
        out.push(tok(Kind::Punct(c), i, i + 1, (i, i + 1), false));
        // Skip the rest of a multi-byte character.
        i += 1;
        while i < b.len() && (at(b, i) & 0xC0) == 0x80 {
            i += 1;
        }
    }
    out
}

/// A PostgreSQL `$tag$ … $tag$` string at `pos`, or `None` when the `$` opens none (`$1`).
fn dollar(b: &[u8], pos: usize) -> Option<Tok> {
    let tag_end = word_end(b, pos + 1, |c| {
        c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
    });
    if at(b, tag_end) != b'$' || at(b, pos + 1).is_ascii_digit() {
        return None;
    }
    let delim = b.get(pos..=tag_end)?;
    let body = tag_end + 1;
    let rest = b.get(body..)?;
    let found = rest.windows(delim.len()).position(|w| w == delim);
    let (body_end, end) = match found {
        Some(p) => (body + p, body + p + delim.len()),
        None => (b.len(), b.len()),
    };
    Some(Tok {
        kind: Kind::Str,
        start: pos,
        end,
        body: (body, body_end),
        backslash: false,
        raw: true,
    })
}

/// An Oracle `q'<open> … <close>'` string; `quote` is the offset of its `'`.
fn q_quote(b: &[u8], start: usize, quote: usize) -> Tok {
    let open = at(b, quote + 1);
    let close = match open {
        b'[' => b']',
        b'{' => b'}',
        b'(' => b')',
        b'<' => b'>',
        other => other,
    };
    let body = quote + 2;
    let mut i = body;
    let mut end = (b.len(), b.len());
    while i + 1 < b.len() {
        if at(b, i) == close && at(b, i + 1) == b'\'' {
            end = (i, i + 2);
            break;
        }
        i += 1;
    }
    Tok {
        kind: Kind::Str,
        start,
        end: end.1,
        body: (body.min(end.0), end.0),
        backslash: false,
        raw: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(s: &str) -> String {
        redact(Dialect::Postgres, s).text
    }
    fn my(s: &str) -> String {
        redact(Dialect::Mysql, s).text
    }
    fn ora(s: &str) -> String {
        redact(Dialect::Oracle, s).text
    }

    #[test]
    fn postgres_role_passwords_are_redacted_in_every_spelling() {
        assert_eq!(
            pg("CREATE ROLE x LOGIN PASSWORD 'S3cret'"),
            "CREATE ROLE x LOGIN PASSWORD '***'"
        );
        assert_eq!(
            pg("alter user x with encrypted password 'md5abc' valid until 'infinity'"),
            "alter user x with encrypted password '***' valid until 'infinity'"
        );
        assert_eq!(
            pg("CREATE ROLE x PASSWORD E'a\\'b'"),
            "CREATE ROLE x PASSWORD '***'"
        );
        assert_eq!(
            pg("CREATE ROLE x PASSWORD $p$S3;cret$p$;"),
            "CREATE ROLE x PASSWORD '***';"
        );
        assert_eq!(
            pg("CREATE ROLE x PASSWORD U&'S3\\0063ret'"),
            "CREATE ROLE x PASSWORD '***'"
        );
        assert_eq!(
            pg("CREATE ROLE x PASSWORD 'it''s'"),
            "CREATE ROLE x PASSWORD '***'"
        );
        let r = redact(Dialect::Postgres, "CREATE ROLE x PASSWORD 'it''s'");
        assert_eq!(r.secrets, ["it's"]);
    }

    #[test]
    fn comments_and_strings_that_say_password_are_left_alone() {
        let s = "-- PASSWORD 'not this'\n/* IDENTIFIED BY 'nor /* nested */ this' */ SELECT 'PASSWORD' AS c, 'x'";
        assert_eq!(pg(s), s);
        // A quote inside a comment does not open a string that hides the real literal.
        assert_eq!(
            pg("-- it's\nCREATE ROLE x PASSWORD 'S3cret'"),
            "-- it's\nCREATE ROLE x PASSWORD '***'"
        );
        assert_eq!(
            my("# it's\nCREATE USER u IDENTIFIED BY 'S3cret'"),
            "# it's\nCREATE USER u IDENTIFIED BY '***'"
        );
        assert_eq!(
            my("SELECT 1 -- it's\n; SET PASSWORD = 'S3cret'"),
            "SELECT 1 -- it's\n; SET PASSWORD = '***'"
        );
        let identified_in_a_string = "SELECT 'IDENTIFIED BY', 'x' FROM t";
        assert_eq!(my(identified_in_a_string), identified_in_a_string);
        assert_eq!(ora(identified_in_a_string), identified_in_a_string);
    }

    #[test]
    fn sql_inside_strings_and_bodies_is_redacted_too() {
        assert_eq!(
            pg("DO $$ BEGIN EXECUTE 'CREATE ROLE x PASSWORD ''S3cret'''; END $$;"),
            "DO $$ BEGIN EXECUTE 'CREATE ROLE x PASSWORD ''***'''; END $$;"
        );
        let r = redact(
            Dialect::Oracle,
            "BEGIN EXECUTE IMMEDIATE 'CREATE USER u IDENTIFIED BY S3cret'; END;",
        );
        assert_eq!(
            r.text,
            "BEGIN EXECUTE IMMEDIATE 'CREATE USER u IDENTIFIED BY ***'; END;"
        );
        assert_eq!(r.secrets, ["S3cret"]);
    }

    #[test]
    fn mysql_and_mariadb_account_statements_are_redacted() {
        assert_eq!(
            my("CREATE USER 'u'@'%' IDENTIFIED BY 'S3cret', 'v'@'%' IDENTIFIED BY \"Other\""),
            "CREATE USER 'u'@'%' IDENTIFIED BY '***', 'v'@'%' IDENTIFIED BY '***'"
        );
        assert_eq!(
            my("ALTER USER u IDENTIFIED WITH caching_sha2_password BY 'S3cret' REPLACE 'old'"),
            "ALTER USER u IDENTIFIED WITH caching_sha2_password BY '***' REPLACE 'old'"
        );
        assert_eq!(
            my("CREATE USER u IDENTIFIED WITH mysql_native_password AS '*ABCD'"),
            "CREATE USER u IDENTIFIED WITH mysql_native_password AS '***'"
        );
        assert_eq!(
            my("CREATE USER u IDENTIFIED VIA ed25519 USING PASSWORD('S3cret') OR unix_socket"),
            "CREATE USER u IDENTIFIED VIA ed25519 USING PASSWORD('***') OR unix_socket"
        );
        assert_eq!(
            my("SET PASSWORD FOR 'u'@'%' = 'S3cret'"),
            "SET PASSWORD FOR 'u'@'%' = '***'"
        );
        assert_eq!(
            my("SET PASSWORD FOR u = PASSWORD('S3cret')"),
            "SET PASSWORD FOR u = PASSWORD('***')"
        );
        assert_eq!(
            my("GRANT ALL ON *.* TO u IDENTIFIED BY PASSWORD '*hash'"),
            "GRANT ALL ON *.* TO u IDENTIFIED BY PASSWORD '***'"
        );
        assert_eq!(
            my("CHANGE MASTER TO MASTER_PASSWORD = 'S3cret'"),
            "CHANGE MASTER TO MASTER_PASSWORD = '***'"
        );
        assert_eq!(
            my("CREATE USER u IDENTIFIED BY 'a\\'b;c'; SELECT 1"),
            "CREATE USER u IDENTIFIED BY '***'; SELECT 1"
        );
        // An executable comment is code.
        assert_eq!(
            my("/*!50000 CREATE USER u IDENTIFIED BY 'S3cret' */"),
            "/*!50000 CREATE USER u IDENTIFIED BY '***' */"
        );
        // No literal to hide.
        let random = "ALTER USER u IDENTIFIED BY RANDOM PASSWORD";
        assert_eq!(my(random), random);
    }

    #[test]
    fn oracle_passwords_bare_quoted_and_in_database_links_are_redacted() {
        assert_eq!(
            ora("CREATE USER u IDENTIFIED BY tiger"),
            "CREATE USER u IDENTIFIED BY ***"
        );
        assert_eq!(
            ora("ALTER USER u IDENTIFIED BY \"N3w;pw\" REPLACE old_pw"),
            "ALTER USER u IDENTIFIED BY \"***\" REPLACE ***"
        );
        assert_eq!(
            ora("CREATE DATABASE LINK l CONNECT TO scott IDENTIFIED BY tiger USING 'orcl'"),
            "CREATE DATABASE LINK l CONNECT TO scott IDENTIFIED BY *** USING 'orcl'"
        );
        assert_eq!(
            ora("GRANT CONNECT TO u IDENTIFIED BY pw"),
            "GRANT CONNECT TO u IDENTIFIED BY ***"
        );
        assert_eq!(
            ora("CREATE USER u IDENTIFIED BY VALUES 'S:ABC'"),
            "CREATE USER u IDENTIFIED BY VALUES '***'"
        );
        // q-quotes are strings; a quote inside does not end them.
        let q = "SELECT q'[it's IDENTIFIED]' FROM dual";
        assert_eq!(ora(q), q);
        let r = redact(Dialect::Oracle, "CREATE USER u IDENTIFIED BY \"a\"\"b\"");
        assert_eq!(r.secrets, ["a\"b"]);
    }

    #[test]
    fn a_subscription_connection_string_and_server_options_are_redacted() {
        assert_eq!(
            pg("CREATE SUBSCRIPTION s CONNECTION 'host=h password=S3cret' PUBLICATION p"),
            "CREATE SUBSCRIPTION s CONNECTION '***' PUBLICATION p"
        );
        assert_eq!(
            pg("CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'u', password 'S3cret')"),
            "CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'u', password '***')"
        );
    }

    #[test]
    fn a_multi_line_literal_keeps_the_lines_of_what_follows() {
        let s = "CREATE ROLE x PASSWORD 'a\nb\nc';\nSELECT 1;";
        let r = redact(Dialect::Postgres, s);
        assert_eq!(r.text, "CREATE ROLE x PASSWORD '***'\n\n;\nSELECT 1;");
        let lines = |t: &str| -> Vec<usize> {
            crate::split(Dialect::Postgres, t)
                .statements
                .iter()
                .map(|s| s.line)
                .collect()
        };
        assert_eq!(lines(&r.text), lines(s));
    }

    #[test]
    fn scrub_takes_every_secret_out_of_a_message() {
        let r = redact(
            Dialect::Mysql,
            "CREATE USER IF 'u'@'%' IDENTIFIED BY 'S3cret'",
        );
        let msg = "You have an error near ''u'@'%' IDENTIFIED BY 'S3cret'' at line 1";
        assert_eq!(
            r.scrub(msg),
            "You have an error near ''u'@'%' IDENTIFIED BY '***'' at line 1"
        );
    }

    #[test]
    fn unterminated_and_odd_input_never_panics() {
        for s in [
            "CREATE ROLE x PASSWORD '",
            "CREATE ROLE x PASSWORD $a$",
            "IDENTIFIED BY",
            "PASSWORD",
            "SET PASSWORD",
            "CREATE USER u IDENTIFIED BY q'[",
            "é PASSWORD 'ü' ☃",
            "$",
            "U&",
        ] {
            for d in [
                Dialect::Postgres,
                Dialect::Mysql,
                Dialect::Oracle,
                Dialect::Sqlite,
            ] {
                let r = redact(d, s);
                for secret in r.secrets.iter().filter(|x| x.len() > 1) {
                    assert!(!r.text.contains(secret.as_str()), "{d:?} {s}: {r:?}");
                }
            }
        }
        assert_eq!(
            pg("CREATE ROLE x PASSWORD '"),
            "CREATE ROLE x PASSWORD '***'"
        );
    }
}
