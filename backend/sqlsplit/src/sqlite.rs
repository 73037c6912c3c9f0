//! SQLite, split the way the `sqlite3` shell splits (3.40).
//!
//! The shell runs its buffer when `sqlite3_complete()` says it is complete,
//! so statement ends follow that function's token state machine, reproduced
//! here: `;` ends a statement outside `'…'`, `"…"`, `` `…` ``, `[…]`, `--`
//! and `/* */`, except in `CREATE [TEMP] TRIGGER`, which ends only at `;`,
//! `END`, `;` in a row — so a `CASE … END` inside a trigger body never ends
//! it, and SQLite has no nested blocks that could. Like the shell, a line
//! starting (in its first column) with `.` while no statement is pending is
//! a dot-command (skipped; `.quit`/`.exit` end the script), one starting with
//! `#` is a comment, and a line holding only `/` or `go` ends the statement
//! when it is otherwise complete.

use crate::lex::{
    at, at_column_one, at_line_start, block_comment, is_kw, is_word_byte, line_end,
    lone_token_line, quoted, skip_blanks, word_at,
};
use crate::out::Out;
use crate::StatementKind;

/// Token classes of `sqlite3_complete()`.
#[derive(Clone, Copy)]
enum Tok {
    Semi = 0,
    Ws,
    Other,
    Explain,
    Create,
    Temp,
    Trigger,
    End,
}

/// State after a complete statement (`sqlite3_complete()`'s START).
const START: u8 = 1;

/// `sqlite3_complete()`'s transitions: rows are states (0 invalid, 1 start,
/// 2 normal, 3 explain, 4 create, 5 trigger, 6 `;` in trigger, 7 `;END` in
/// trigger), columns are `Tok` values.
const TRANS: [[u8; 8]; 8] = [
    [1, 0, 2, 3, 4, 2, 2, 2],
    [1, 1, 2, 3, 4, 2, 2, 2],
    [1, 2, 2, 2, 2, 2, 2, 2],
    [1, 3, 3, 2, 4, 2, 2, 2],
    [1, 4, 2, 2, 2, 4, 5, 2],
    [6, 5, 5, 5, 5, 5, 5, 5],
    [6, 6, 5, 5, 5, 5, 5, 7],
    [1, 7, 5, 5, 5, 5, 5, 5],
];

fn step(state: u8, tok: Tok) -> u8 {
    TRANS
        .get(usize::from(state))
        .and_then(|row| row.get(tok as usize))
        .copied()
        .unwrap_or(START)
}

pub(crate) fn split(out: &mut Out, mut pos: usize) {
    let b = out.bytes();
    loop {
        pos = skip_blanks(b, pos);
        if pos >= b.len() {
            return;
        }
        let c = at(b, pos);
        if at_column_one(b, pos) && c == b'.' {
            let end = line_end(b, pos);
            let name = word_at(b, pos + 1, |c| !c.is_ascii_whitespace());
            if is_kw(name, "quit") || is_kw(name, "exit") {
                out.skipped(pos, end, "sqlite3 dot-command ends the script".into());
                out.ignored_after_quit(pos, end, "the dot-command");
                return;
            }
            let name = String::from_utf8_lossy(name);
            out.skipped(
                pos,
                end,
                format!("sqlite3 dot-command .{name} is not sent to the database"),
            );
            pos = end;
        } else if at_column_one(b, pos) && c == b'#' {
            pos = line_end(b, pos);
        } else if let Some(next) = terminator_line(b, pos) {
            // Nothing is pending, so the shell runs an empty statement.
            pos = next;
        } else if c == b'-' && at(b, pos + 1) == b'-' {
            pos = line_end(b, pos);
        } else if c == b'/' && at(b, pos + 1) == b'*' {
            match block_comment(b, pos, false) {
                Some(end) => pos = end,
                None => {
                    out.unterminated(pos, "block comment");
                    return;
                }
            }
        } else {
            match statement(out, pos) {
                Some(next) => pos = next,
                None => return,
            }
        }
    }
}

/// A line holding only `/` (Oracle style) or `go` (SQL Server style), which
/// the shell reads as `;`. Returns the offset past it.
fn terminator_line(b: &[u8], pos: usize) -> Option<usize> {
    if !at_line_start(b, pos) {
        return None;
    }
    lone_token_line(b, pos, "/").or_else(|| lone_token_line(b, pos, "go"))
}

/// Collects one statement from `start`; `None` when the script ends in it.
fn statement(out: &mut Out, start: usize) -> Option<usize> {
    let b = out.bytes();
    let mut state = 0u8;
    let mut i = start;
    while i < b.len() {
        let c = at(b, i);
        if c == b'\n' {
            if let Some(next) = terminator_line(b, i + 1) {
                if step(state, Tok::Semi) == START {
                    out.statement(start, i, StatementKind::Sql);
                    return Some(next);
                }
            }
        }
        let (tok, next) = match c {
            b';' => (Tok::Semi, Some(i + 1)),
            b'-' if at(b, i + 1) == b'-' => (Tok::Ws, Some(line_end(b, i))),
            b'/' if at(b, i + 1) == b'*' => (Tok::Ws, block_comment(b, i, false)),
            b'\'' | b'"' | b'`' => (Tok::Other, quoted(b, i, false)),
            b'[' => (
                Tok::Other,
                b.get(i..)
                    .unwrap_or_default()
                    .iter()
                    .position(|&c| c == b']')
                    .map(|n| i + n + 1),
            ),
            c if c.is_ascii_whitespace() => (Tok::Ws, Some(i + 1)),
            c if is_word_byte(c) => {
                let w = word_at(b, i, is_word_byte);
                (keyword(w), Some(i + w.len()))
            }
            _ => (Tok::Other, Some(i + 1)),
        };
        let Some(next) = next else {
            let what = match c {
                b'/' => "block comment",
                b'"' | b'`' | b'[' => "quoted identifier",
                _ => "string literal",
            };
            out.unterminated(i, what);
            break;
        };
        state = step(state, tok);
        if matches!(tok, Tok::Semi) && state == START {
            out.statement(start, i, StatementKind::Sql);
            return Some(next);
        }
        i = next;
    }
    out.last_statement(start, StatementKind::Sql, "';'");
    None
}

fn keyword(w: &[u8]) -> Tok {
    if is_kw(w, "create") {
        Tok::Create
    } else if is_kw(w, "trigger") {
        Tok::Trigger
    } else if is_kw(w, "temp") || is_kw(w, "temporary") {
        Tok::Temp
    } else if is_kw(w, "end") {
        Tok::End
    } else if is_kw(w, "explain") {
        Tok::Explain
    } else {
        Tok::Other
    }
}
