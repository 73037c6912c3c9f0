//! PostgreSQL, split the way `psql -f` splits (its lexer `psqlscan.l`, 15).
//!
//! Like psql: `;` ends a statement only outside quotes, comments and
//! parentheses, and outside the `BEGIN … END` of a SQL-standard function body
//! (`CREATE [OR REPLACE] FUNCTION|PROCEDURE … BEGIN ATOMIC … END`); `/* */`
//! comments nest; `$tag$` quotes are recognised where psql recognises them
//! (not inside an identifier such as `a$b$`, and `$1` is a parameter);
//! `E'…'` strings take backslash escapes, and so do plain strings after
//! `SET standard_conforming_strings = off` (psql follows that setting too).
//! A `\` outside quotes starts a meta-command running to the end of its line:
//! `\g`-style ones send the statement, `\;` is a literal `;`, `\q` ends the
//! script, and all others are reported as skipped.
//!
//! Differences, on purpose: psql variables (`:name`) are not interpolated;
//! for `COPY … FROM STDIN` the data lines up to `\.` are skipped with a
//! warning, since there is no COPY channel in a statement list.

use crate::lex::{at, block_comment, is_kw, line_end, next_line, quoted, skip_blanks, word_at};
use crate::out::Out;
use crate::StatementKind;

/// psql's identifier bytes; unlike most dialects `$` may not start one.
fn ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

fn ident_part(c: u8) -> bool {
    ident_start(c) || c.is_ascii_digit() || c == b'$'
}

/// What a meta-command does to the statement being collected.
enum Meta {
    /// `\g` and friends: send the statement now.
    Send,
    /// `\q`: stop reading the script.
    Quit,
    /// Anything else: not sent; the statement goes on.
    Other,
}

pub(crate) fn split(out: &mut Out, mut pos: usize) {
    let b = out.bytes();
    // Like psql, start from the server default (on since PostgreSQL 9.1).
    let mut std_strings = true;
    loop {
        pos = skip_gap(out, pos);
        if pos >= b.len() {
            return;
        }
        if at(b, pos) == b'\\' {
            let end = line_end(b, pos);
            if let Meta::Quit = meta(out, pos, end) {
                out.ignored_after_quit(pos, end, "psql \\q");
                return;
            }
            pos = end;
            continue;
        }
        match statement(out, pos, &mut std_strings) {
            Some(next) => pos = next,
            None => return,
        }
    }
}

/// Skips whitespace and comments between statements.
fn skip_gap(out: &mut Out, mut pos: usize) -> usize {
    let b = out.bytes();
    loop {
        pos = skip_blanks(b, pos);
        match (at(b, pos), at(b, pos + 1)) {
            (b'-', b'-') => pos = line_end(b, pos),
            (b'/', b'*') => match block_comment(b, pos, true) {
                Some(end) => pos = end,
                None => {
                    out.unterminated(pos, "block comment");
                    return b.len();
                }
            },
            _ => return pos,
        }
    }
}

/// Reports the meta-command `start..end` as skipped, or says what it does.
fn meta(out: &mut Out, start: usize, end: usize) -> Meta {
    let b = out.bytes();
    let name = word_at(b, start + 1, |c| !c.is_ascii_whitespace() && c != b'\\');
    let action = match name {
        b"g" | b"gx" | b"gset" | b"gexec" | b"crosstabview" => Meta::Send,
        b"q" | b"quit" => Meta::Quit,
        _ => Meta::Other,
    };
    let name = String::from_utf8_lossy(name);
    out.skipped(
        start,
        end,
        format!("psql meta-command \\{name} is not sent to the server"),
    );
    action
}

/// Tracks psql's heuristic for SQL-standard function bodies: after
/// `CREATE [OR REPLACE] FUNCTION|PROCEDURE`, `BEGIN`/`CASE`…`END` at
/// parenthesis depth 0 nest, and `;` inside them does not end the statement.
#[derive(Default)]
struct Body {
    parens: usize,
    begins: usize,
    firsts: [u8; 4],
    words: usize,
}

impl Body {
    fn word(&mut self, w: &[u8]) {
        let lead = ["create", "function", "procedure", "or", "replace"];
        if self.words < 4 && lead.iter().any(|k| is_kw(w, k)) {
            self.firsts[self.words] = at(w, 0).to_ascii_lowercase();
        }
        self.words += 1;
        let f = self.firsts;
        let routine = f[0] == b'c'
            && (f[1] == b'f'
                || f[1] == b'p'
                || (f[1] == b'o' && f[2] == b'r' && (f[3] == b'f' || f[3] == b'p')));
        if !routine || self.parens > 0 {
            return;
        }
        if is_kw(w, "begin") || (is_kw(w, "case") && self.begins > 0) {
            self.begins += 1;
        } else if is_kw(w, "end") {
            self.begins = self.begins.saturating_sub(1);
        }
    }
}

/// Collects one statement starting at `start`. Returns where to go on, or
/// `None` when the script ends (or quits) inside it.
fn statement(out: &mut Out, start: usize, std_strings: &mut bool) -> Option<usize> {
    let b = out.bytes();
    let mut body = Body::default();
    // Meta-commands met inside the statement: psql keeps them out of it.
    let mut holes = Vec::new();
    let mut i = start;
    while i < b.len() {
        let c = at(b, i);
        let opened = i;
        let next = match c {
            b'\'' => quoted(b, i, !*std_strings).ok_or("string literal"),
            b'"' => quoted(b, i, false).ok_or("quoted identifier"),
            b'$' => dollar_quote(out, i).ok_or("dollar-quoted string"),
            b'-' if at(b, i + 1) == b'-' => Ok(line_end(b, i)),
            b'/' if at(b, i + 1) == b'*' => block_comment(b, i, true).ok_or("block comment"),
            b'(' => {
                body.parens += 1;
                Ok(i + 1)
            }
            b')' => {
                body.parens = body.parens.saturating_sub(1);
                Ok(i + 1)
            }
            b';' if body.parens == 0 && body.begins == 0 => {
                return Some(finish(out, (start, i, &holes), i + 1, std_strings));
            }
            b'\\' if at(b, i + 1) == b';' => Ok(i + 2),
            b'\\' => {
                let end = line_end(b, i);
                match meta(out, i, end) {
                    Meta::Send => return Some(finish(out, (start, i, &holes), end, std_strings)),
                    Meta::Quit => {
                        out.warn(i, "psql \\q ends the script; the unfinished statement before it is not sent".into());
                        out.ignored_after_quit(i, end, "psql \\q");
                        return None;
                    }
                    Meta::Other => {
                        holes.push((i, end));
                        Ok(end)
                    }
                }
            }
            c if ident_start(c) => {
                let w = word_at(b, i, ident_part);
                let end = i + w.len();
                if (w == b"e" || w == b"E") && at(b, end) == b'\'' {
                    quoted(b, end, true).ok_or("escape string literal")
                } else {
                    body.word(w);
                    Ok(end)
                }
            }
            _ => Ok(i + 1),
        };
        match next {
            Ok(n) => i = n,
            Err(what) => {
                out.unterminated(opened, what);
                i = b.len();
            }
        }
    }
    out.last_statement_with_holes(start, &holes, StatementKind::Sql, "';'");
    None
}

/// End of the `$tag$ … $tag$` quote at `pos`; `Some(pos + 1)` when the `$`
/// opens no quote (a `$1` parameter); `None` when the quote never closes.
fn dollar_quote(out: &Out, pos: usize) -> Option<usize> {
    let b = out.bytes();
    let tag = word_at(b, pos + 1, |c| ident_start(c) || c.is_ascii_digit());
    let opens = at(b, pos + 1 + tag.len()) == b'$' && tag.first().is_none_or(|&c| ident_start(c));
    if !opens {
        return Some(pos + 1);
    }
    let body = pos + tag.len() + 2;
    let delim = out.src.get(pos..body)?;
    let found = out.src.get(body..)?.find(delim)?;
    Some(body + found + delim.len())
}

/// Records the statement `start..end` (minus meta-command holes), applies
/// its side effects on how psql reads what follows, and returns where to go
/// on from `resume`.
fn finish(
    out: &mut Out,
    (start, end, holes): (usize, usize, &[(usize, usize)]),
    resume: usize,
    std_strings: &mut bool,
) -> usize {
    out.statement_with_holes(start, end, holes, StatementKind::Sql);
    let text = out
        .src
        .get(start..end)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == '=' || c == '\'' || c == '(' || c == ')')
        .filter(|w| !w.is_empty())
        .collect();
    if let Some(on) = std_strings_setting(&words) {
        *std_strings = on;
    }
    let copy_in =
        words.first() == Some(&"copy") && words.windows(2).any(|w| w == ["from", "stdin"]);
    if copy_in {
        return skip_copy_data(out, start, resume);
    }
    resume
}

/// The value a `SET`/`RESET` statement gives `standard_conforming_strings`.
fn std_strings_setting(words: &[&str]) -> Option<bool> {
    let value = match words {
        ["reset", "standard_conforming_strings" | "all"] => "on",
        ["set", "session" | "local", "standard_conforming_strings", rest @ ..]
        | ["set", "standard_conforming_strings", rest @ ..] => match rest {
            ["to", v] | [v] => v,
            _ => return None,
        },
        _ => return None,
    };
    match value {
        "on" | "true" | "yes" | "1" | "default" => Some(true),
        "off" | "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// Skips the inline data of `COPY … FROM STDIN` (up to a `\.` line), which
/// psql streams through the COPY protocol instead of sending as SQL.
fn skip_copy_data(out: &mut Out, copy: usize, resume: usize) -> usize {
    let b = out.bytes();
    let data = next_line(b, resume);
    let mut i = data;
    let mut lines = 0usize;
    while i < b.len() {
        if crate::lex::lone_token_line(b, i, "\\.").is_some() {
            break;
        }
        lines += 1;
        i = next_line(b, i);
    }
    let end = next_line(b, i);
    if end > data {
        out.skipped(
            data,
            line_end(b, data),
            format!(
                "COPY data ({lines} lines up to \\.) is not sent: it needs psql's COPY protocol"
            ),
        );
    }
    out.warn(
        copy,
        "COPY … FROM STDIN needs its data sent through the COPY protocol; the inline data is skipped".into(),
    );
    end
}
