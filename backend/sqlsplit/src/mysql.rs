//! MySQL and MariaDB, split the way the `mysql`/`mariadb` client splits
//! (checked against the MariaDB 10.11 client).
//!
//! Like the client: the current delimiter (`;` until a `DELIMITER` line
//! changes it, to any string of up to 15 bytes) ends a statement outside
//! quotes and comments, and so do `\g` and `\G`; `'…'`, `"…"` and `` `…` ``
//! all take backslash escapes and doubled quotes (the client treats the three
//! alike); `#` and `-- ` (dashes then a blank or control byte: `--x` is not a
//! comment) run to the end of the line; `/* */` does not nest, and `/*!…*/`
//! and `/*+…*/` are SQL text, not comments, so a delimiter inside them ends
//! the statement, as in the client. `\c` clears the statement.
//!
//! A named client command is recognised only as the first word of a line
//! while no statement is pending, as the client does: `DELIMITER` (skipped,
//! and it changes the delimiter), `quit`/`exit` (ends the script), `use db`
//! (returned as the SQL `USE db`, which the server runs the same way as the
//! client's own command), and the rest (`source`, `tee`, `status`, …), which
//! are skipped. `source` files are not expanded.

use crate::lex::{at, at_line_start, block_comment, is_kw, line_end, quoted, skip_blanks, word_at};
use crate::out::Out;
use crate::StatementKind;

/// The client keeps the delimiter in a 16-byte buffer, so longer ones are cut.
const MAX_DELIMITER: usize = 15;

/// Client commands that are run by the client and never sent.
const CLIENT_COMMANDS: &[&str] = &[
    "charset",
    "clear",
    "connect",
    "edit",
    "ego",
    "go",
    "help",
    "nopager",
    "notee",
    "nowarning",
    "pager",
    "print",
    "prompt",
    "rehash",
    "source",
    "status",
    "system",
    "tee",
    "warnings",
];

pub(crate) fn split(out: &mut Out, mut pos: usize) {
    let b = out.bytes();
    let mut delim = String::from(";");
    loop {
        pos = skip_gap(out, pos);
        if pos >= b.len() {
            return;
        }
        let mut use_stmt = false;
        if at_line_start(b, pos) {
            let word = word_at(b, pos, |c| c.is_ascii_alphabetic());
            let ends_word = matches!(at(b, pos + word.len()), 0 | b';')
                || at(b, pos + word.len()).is_ascii_whitespace();
            if at(b, pos) == b'\\' {
                match at(b, pos + 1) {
                    b'd' => {
                        pos = delimiter(out, pos, pos + 2, &mut delim);
                        continue;
                    }
                    b'q' => return quit(out, pos),
                    b'g' | b'G' => {
                        pos += 2;
                        continue;
                    }
                    _ => {}
                }
            } else if ends_word && is_kw(word, "delimiter") {
                pos = delimiter(out, pos, pos + word.len(), &mut delim);
                continue;
            } else if ends_word && (is_kw(word, "quit") || is_kw(word, "exit")) {
                return quit(out, pos);
            } else if ends_word && CLIENT_COMMANDS.iter().any(|k| is_kw(word, k)) {
                let end = command_end(out, pos, &delim);
                let name = String::from_utf8_lossy(word).to_lowercase();
                out.skipped(
                    pos,
                    end,
                    format!("mysql client command {name} is not sent to the server"),
                );
                pos = end;
                continue;
            }
            use_stmt = ends_word && is_kw(word, "use");
        }
        match statement(out, pos, &delim, use_stmt) {
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
        match (at(b, pos), at(b, pos + 1), at(b, pos + 2)) {
            (b'#', _, _) => pos = line_end(b, pos),
            (b'-', b'-', c) if c <= b' ' => pos = line_end(b, pos),
            (b'/', b'*', c) if c != b'!' && c != b'+' => match block_comment(b, pos, false) {
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

fn quit(out: &mut Out, pos: usize) {
    let end = line_end(out.bytes(), pos);
    out.skipped(pos, end, "mysql client command quit ends the script".into());
    out.ignored_after_quit(pos, end, "quit");
}

/// Where a one-line client command ends: at the delimiter or the line's end.
fn command_end(out: &Out, pos: usize, delim: &str) -> usize {
    let b = out.bytes();
    let end = line_end(b, pos);
    let line = out.src.get(pos..end).unwrap_or_default();
    match line.find(delim) {
        Some(i) => pos + i + delim.len(),
        None => end,
    }
}

/// Handles a `DELIMITER x` line (`arg` is just past the command word) and
/// returns where the next statement may start.
fn delimiter(out: &mut Out, pos: usize, arg: usize, delim: &mut String) -> usize {
    let b = out.bytes();
    let end = line_end(b, pos);
    let arg = skip_blanks(b, arg).min(end);
    let quote = at(b, arg);
    let value = if matches!(quote, b'\'' | b'"' | b'`') {
        let rest = b.get(arg + 1..end).unwrap_or_default();
        let close = rest.iter().position(|&c| c == quote).unwrap_or(rest.len());
        rest.get(..close).unwrap_or_default()
    } else {
        word_at(b, arg, |c| !c.is_ascii_whitespace())
    };
    let mut value = String::from_utf8_lossy(value).into_owned();
    if value.len() > MAX_DELIMITER {
        let mut cut = MAX_DELIMITER;
        while !value.is_char_boundary(cut) {
            cut -= 1;
        }
        value.truncate(cut);
    }
    out.skipped(
        pos,
        end,
        "mysql client command DELIMITER is not sent to the server".into(),
    );
    if value.is_empty() || value.contains('\\') {
        let why = if value.is_empty() {
            "needs a delimiter"
        } else {
            "cannot contain a backslash"
        };
        out.warn(
            pos,
            format!("DELIMITER {why}; the delimiter stays '{delim}'"),
        );
    } else {
        *delim = value;
    }
    end
}

/// Collects one statement from `start`; `use_stmt` also ends it at the end
/// of its line, as the client's own `use` command does.
fn statement(out: &mut Out, start: usize, delim: &str, use_stmt: bool) -> Option<usize> {
    let b = out.bytes();
    let d = delim.as_bytes();
    let mut i = start;
    while i < b.len() {
        if b.get(i..i + d.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(d))
        {
            out.statement(start, i, StatementKind::Sql);
            return Some(i + d.len());
        }
        let c = at(b, i);
        let next = match (c, at(b, i + 1)) {
            (b'\n', _) if use_stmt => {
                out.statement(start, i, StatementKind::Sql);
                return Some(i);
            }
            (b'\'' | b'"' | b'`', _) => quoted(b, i, true).ok_or(if c == b'`' {
                "quoted identifier"
            } else {
                "string literal"
            }),
            (b'#', _) => Ok(line_end(b, i)),
            (b'-', b'-') if at(b, i + 2) <= b' ' => Ok(line_end(b, i)),
            (b'/', b'*') if !matches!(at(b, i + 2), b'!' | b'+') => {
                block_comment(b, i, false).ok_or("block comment")
            }
            (b'\\', b'g' | b'G') => {
                out.statement(start, i, StatementKind::Sql);
                return Some(i + 2);
            }
            (b'\\', b'c') => {
                out.skipped(
                    start,
                    i + 2,
                    "mysql client command \\c clears the statement: it is not sent".into(),
                );
                return Some(i + 2);
            }
            (b'\\', _) => Ok(i + 2),
            _ => Ok(i + 1),
        };
        match next {
            Ok(n) => i = n,
            Err(what) => {
                out.unterminated(i, what);
                i = b.len();
            }
        }
    }
    out.last_statement(start, StatementKind::Sql, &format!("delimiter '{delim}'"));
    None
}
