//! Oracle, split the way SQL*Plus reads a script.
//!
//! Like SQL*Plus: plain SQL ends at `;` (not sent) or at a line holding only
//! `/`; PL/SQL units (see `sqlplus::is_plsql`, `CREATE TYPE` included) keep
//! their inner `;`s and end only at a `/` line, and are returned with their
//! final `END;`. A line holding only `.` ends a statement without running it;
//! a `/` or `RUN` before the next statement runs it, otherwise it is reported
//! as skipped. `'…'` (with `''`), `"…"`, `q'[…]'`-style
//! quotes (`nq'…'` too), `--` and `/* */` (not nested) are honoured, and
//! `REM[ARK]` lines are comments. SQL*Plus commands at the start of a
//! statement are one line long (plus `-` continuation lines) and skipped,
//! except `EXEC[UTE] x`, sent as the block `BEGIN x; END;` exactly as
//! SQL*Plus sends it, and `EXIT`/`QUIT`, which end the script.
//!
//! Differences, on purpose:
//! - A `/` line right after a statement that already ran (`CREATE …;` then
//!   `/`, common in hand-written scripts) makes SQL*Plus run it a second time,
//!   which fails (ORA-00955) or, worse, repeats DML. It is reported as
//!   skipped instead of being sent twice.
//! - `;` ends plain SQL anywhere on a line, not only at its end (SQL*Plus
//!   would send `a; b` as one statement and the server would reject it).
//! - Blank lines do not end a statement (as with `SET SQLBLANKLINES ON`).
//! - A `/` line inside a quote or comment is part of it, and `&` substitution
//!   variables are not expanded.

use crate::lex::{
    at, at_line_start, block_comment, is_kw, line_end, lone_token_line, quoted, skip_blanks,
    trim_ascii,
};
use crate::out::Out;
use crate::sqlplus::{self, Command};
use crate::StatementKind;

/// The SQL*Plus buffer: the last statement entered, which `/` runs.
enum Buffer {
    Empty,
    /// Already sent; `/` would run it again.
    Ran,
    /// Ended by a `.` line and not sent yet.
    Held {
        start: usize,
        end: usize,
        kind: StatementKind,
    },
}

fn ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c >= 0x80
}

fn ident_part(c: u8) -> bool {
    ident_start(c) || c.is_ascii_digit() || matches!(c, b'_' | b'$' | b'#')
}

pub(crate) fn split(out: &mut Out, mut pos: usize) {
    let b = out.bytes();
    let mut buffer = Buffer::Empty;
    loop {
        pos = skip_gap(out, pos);
        if pos >= b.len() {
            break;
        }
        if at_line_start(b, pos) {
            if let Some(next) = lone_token_line(b, pos, "/") {
                run_buffer(out, pos, &mut buffer);
                pos = next;
                continue;
            }
            if let Some(next) = lone_token_line(b, pos, ".") {
                pos = next;
                continue;
            }
        }
        if at(b, pos) == b'@' {
            pos = client_command(out, pos, "@ (run a script)");
            continue;
        }
        let words = first_words(b, pos);
        let word = |i: usize| words.get(i).copied().unwrap_or_default();
        match sqlplus::command(word(0), word(1)) {
            Some(Command::Remark) => pos = line_end(b, pos),
            Some(Command::Run) => {
                run_buffer(out, pos, &mut buffer);
                pos = line_end(b, pos);
            }
            Some(Command::Exec) => {
                // Sending something else first would put statements out of
                // script order; a held statement that waits that long is
                // almost surely abandoned, so it is reported instead.
                drop_held(out, &mut buffer);
                pos = exec(out, pos, word(0).len());
            }
            Some(Command::Quit) => {
                let end = client_command(out, pos, "EXIT (end of script)");
                out.ignored_after_quit(pos, end, "EXIT");
                break;
            }
            Some(Command::Other(name)) => pos = client_command(out, pos, name),
            None => {
                drop_held(out, &mut buffer);
                let kind = if sqlplus::is_plsql(&words) {
                    StatementKind::PlsqlBlock
                } else {
                    StatementKind::Sql
                };
                pos = statement(out, pos, kind, &mut buffer);
            }
        }
    }
    drop_held(out, &mut buffer);
}

/// Skips whitespace and comments between statements.
fn skip_gap(out: &mut Out, mut pos: usize) -> usize {
    let b = out.bytes();
    loop {
        pos = skip_blanks(b, pos);
        match (at(b, pos), at(b, pos + 1)) {
            (b'-', b'-') => pos = line_end(b, pos),
            (b'/', b'*') => match block_comment(b, pos, false) {
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

/// Up to eight words at `pos`, across lines and comments: enough to tell a
/// SQL*Plus command or a PL/SQL unit apart.
fn first_words(b: &[u8], mut pos: usize) -> Vec<&[u8]> {
    let mut words = Vec::new();
    while words.len() < 8 {
        pos = skip_blanks(b, pos);
        match (at(b, pos), at(b, pos + 1)) {
            (b'-', b'-') => pos = line_end(b, pos),
            (b'/', b'*') => pos = block_comment(b, pos, false).unwrap_or(b.len()),
            (c, _) if ident_start(c) => {
                let w = crate::lex::word_at(b, pos, ident_part);
                pos += w.len();
                words.push(w);
            }
            _ => break,
        }
    }
    words
}

/// `/` or `RUN`: sends a held statement; one that already ran is not re-sent.
fn run_buffer(out: &mut Out, pos: usize, buffer: &mut Buffer) {
    let end = line_end(out.bytes(), pos);
    match *buffer {
        Buffer::Held { start, end, kind } => out.statement(start, end, kind),
        Buffer::Ran => out.skipped(
            pos,
            end,
            "'/' would make SQL*Plus run the previous statement a second time; it is sent once"
                .into(),
        ),
        Buffer::Empty => out.skipped(
            pos,
            end,
            "'/' with nothing entered before it runs nothing".into(),
        ),
    }
    *buffer = Buffer::Ran;
}

/// A statement ended by `.` and then replaced without being run.
fn drop_held(out: &mut Out, buffer: &mut Buffer) {
    if let Buffer::Held { start, end, .. } = *buffer {
        out.skipped(
            start,
            end,
            "ended by a '.' line and never run with '/'".into(),
        );
        *buffer = Buffer::Empty;
    }
}

/// End of a SQL*Plus command at `pos`: its line, plus the following lines
/// while a line ends with the `-` continuation mark.
fn command_end(b: &[u8], pos: usize) -> usize {
    let mut end = line_end(b, pos);
    while end < b.len() && trim_ascii(b.get(pos..end).unwrap_or_default()).ends_with(b"-") {
        end = line_end(b, end + 1);
    }
    end
}

fn client_command(out: &mut Out, pos: usize, name: &str) -> usize {
    let end = command_end(out.bytes(), pos);
    out.skipped(
        pos,
        end,
        format!("SQL*Plus command {name} is not sent to the server"),
    );
    end
}

/// `EXEC[UTE] call`: SQL*Plus wraps the call in an anonymous block.
fn exec(out: &mut Out, pos: usize, word_len: usize) -> usize {
    let b = out.bytes();
    let end = command_end(b, pos);
    let body: Vec<&str> = out
        .src
        .get(pos + word_len..end)
        .unwrap_or_default()
        .lines()
        .map(|l| l.trim_end().strip_suffix('-').unwrap_or(l).trim_end())
        .collect();
    let call = body.join("\n");
    let call = call.trim().trim_end_matches(';').trim_end();
    if call.is_empty() {
        out.skipped(
            pos,
            end,
            "SQL*Plus EXECUTE without a statement sends nothing".into(),
        );
    } else {
        out.statement_text(
            pos,
            format!("BEGIN {call}; END;"),
            StatementKind::PlsqlBlock,
        );
    }
    end
}

/// Collects one statement from `start` and returns where to go on.
fn statement(out: &mut Out, start: usize, kind: StatementKind, buffer: &mut Buffer) -> usize {
    let b = out.bytes();
    let plsql = kind == StatementKind::PlsqlBlock;
    let mut i = start;
    while i < b.len() {
        let c = at(b, i);
        let next = match c {
            b'\n' => {
                if let Some(next) = lone_token_line(b, i + 1, "/") {
                    out.statement(start, i, kind);
                    *buffer = Buffer::Ran;
                    return next;
                }
                if let Some(next) = lone_token_line(b, i + 1, ".") {
                    *buffer = Buffer::Held {
                        start,
                        end: i,
                        kind,
                    };
                    return next;
                }
                Ok(i + 1)
            }
            b';' if !plsql => {
                out.statement(start, i, kind);
                *buffer = Buffer::Ran;
                return i + 1;
            }
            b'\'' => quoted(b, i, false).ok_or("string literal"),
            b'"' => quoted(b, i, false).ok_or("quoted identifier"),
            b'-' if at(b, i + 1) == b'-' => Ok(line_end(b, i)),
            b'/' if at(b, i + 1) == b'*' => block_comment(b, i, false).ok_or("block comment"),
            c if ident_start(c) => {
                let w = crate::lex::word_at(b, i, ident_part);
                let end = i + w.len();
                let q = is_kw(w, "q") || is_kw(w, "nq");
                if q && at(b, end) == b'\'' {
                    q_quote(out, end).ok_or("q-quoted string")
                } else {
                    Ok(end)
                }
            }
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
    let terminator = if plsql { "'/' line" } else { "';' or '/' line" };
    out.last_statement(start, kind, terminator);
    *buffer = Buffer::Ran;
    b.len()
}

/// End of an alternative quote `q'<open>…<close>'` whose `'` is at `pos`.
/// A blank after the quote opens no q-quote: it is then a plain string.
fn q_quote(out: &Out, pos: usize) -> Option<usize> {
    let b = out.bytes();
    let open = out.src.get(pos + 1..)?.chars().next();
    let open = match open {
        Some(c) if !c.is_whitespace() => c,
        _ => return quoted(b, pos, false),
    };
    let close = match open {
        '[' => ']',
        '{' => '}',
        '(' => ')',
        '<' => '>',
        c => c,
    };
    let body = pos + 1 + open.len_utf8();
    let needle = format!("{close}'");
    let found = out.src.get(body..)?.find(&needle)?;
    Some(body + found + needle.len())
}
