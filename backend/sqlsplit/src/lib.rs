//! Script splitter: turns a SQL script into the statements each engine's own
//! command-line client would send to the server, one by one.
//!
//! The rules follow the clients DBAs already use — `psql`, `mysql`/`mariadb`,
//! SQL*Plus and the `sqlite3` shell — so a script that works there splits the
//! same way here. The crate is pure: no I/O, no allocation beyond the result,
//! linear in the script's length, and it never panics, whatever the input.
//!
//! Conventions shared by every dialect:
//! - `Statement::sql` is the exact text to send. The terminator (`;`, the
//!   MySQL `DELIMITER`, `\g`, a `/` line) is *not* included, except that an
//!   Oracle PL/SQL unit keeps its final `;` (`END;`) because the PL/SQL
//!   compiler needs it; the `/` line is never included.
//! - Comments inside a statement are kept (optimizer hints live there);
//!   whitespace and comments before a statement are dropped and
//!   `Statement::line` is the 1-based line of its first real token.
//!   Trailing whitespace is trimmed.
//! - Client-side commands (psql `\` meta-commands, `DELIMITER`, SQL*Plus
//!   `SET`/`PROMPT`/…, sqlite3 dot-commands) are not sent; each is reported in
//!   `Split::skipped` with the reason, so a job log can show what was ignored.
//! - A client "quit" command (`\q`, `EXIT`, `.quit`) ends the script, as it
//!   does in the client; anything after it is ignored with a warning.
//! - Problems never abort the split: an unterminated string, comment or
//!   dollar quote, or a last statement without terminator, is returned as far
//!   as it goes and reported in `Split::warnings`.
//!
//! Each dialect module documents where it deliberately differs from its client.

#![forbid(unsafe_code)]

mod lex;
mod mysql;
mod oracle;
mod out;
mod postgres;
mod redact;
mod sqlite;
mod sqlplus;

pub use redact::{redact, Redacted};

use serde::{Deserialize, Serialize};

/// The client whose splitting rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    /// PostgreSQL, as `psql -f` splits.
    Postgres,
    /// MySQL and MariaDB, as the `mysql`/`mariadb` client splits.
    Mysql,
    /// Oracle, as SQL*Plus splits.
    Oracle,
    /// SQLite, as the `sqlite3` shell splits.
    Sqlite,
}

/// One statement to send to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    /// Exactly what to send: without its terminator (see the crate docs for
    /// the Oracle PL/SQL exception), trailing whitespace trimmed.
    pub sql: String,
    /// 1-based script line of the statement's first real token.
    pub line: usize,
    /// What kind of unit this is.
    pub kind: StatementKind,
}

/// What a returned statement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    /// An ordinary SQL statement.
    Sql,
    /// An Oracle PL/SQL unit (anonymous block, stored unit, type, or an
    /// SQL*Plus `EXEC` rewritten as `BEGIN …; END;`).
    PlsqlBlock,
    /// A client command. Never returned in `statements` today: client
    /// commands are reported in `Split::skipped`; the variant exists so the
    /// API can describe them.
    ClientCommand,
}

/// The result of splitting a script.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Split {
    /// Statements to send, in script order.
    pub statements: Vec<Statement>,
    /// Client-side lines that are not sent, with the reason.
    pub skipped: Vec<Skipped>,
    /// Problems found while splitting; the split still went on.
    pub warnings: Vec<Warning>,
}

/// A client-side command or line that is not sent to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// 1-based line where it starts.
    pub line: usize,
    /// Its text, trimmed.
    pub text: String,
    /// Why it is not sent, e.g. "SQL*Plus command SET is not sent to the server".
    pub reason: String,
}

/// Something suspicious in the script, reported alongside the split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// 1-based line the warning is about.
    pub line: usize,
    /// What is wrong, in words.
    pub message: String,
}

/// Splits `script` into the statements `dialect`'s own client would send.
///
/// Never panics and never fails: problems are reported in `Split::warnings`.
/// A UTF-8 byte order mark at the start is ignored.
pub fn split(dialect: Dialect, script: &str) -> Split {
    let mut out = out::Out::new(script);
    let start = if script.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    match dialect {
        Dialect::Postgres => postgres::split(&mut out, start),
        Dialect::Mysql => mysql::split(&mut out, start),
        Dialect::Oracle => oracle::split(&mut out, start),
        Dialect::Sqlite => sqlite::split(&mut out, start),
    }
    out.finish()
}
