//! SQL*Plus vocabulary: which first words are client commands (with the
//! abbreviations SQL*Plus accepts) and which statements are PL/SQL units,
//! which SQL*Plus reads until a `/` line instead of stopping at `;`.

use crate::lex::is_kw;

/// What a SQL*Plus command at the start of a statement does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    /// `EXEC[UTE] x`: SQL*Plus sends `BEGIN x; END;`.
    Exec,
    /// `EXIT`/`QUIT`: the script ends here.
    Quit,
    /// `R[UN]`: runs the SQL buffer, like a `/` line.
    Run,
    /// `REM[ARK]`: a comment line.
    Remark,
    /// Any other command, by its full name: not sent.
    Other(&'static str),
}

/// Full name and the shortest abbreviation SQL*Plus accepts. Only commands
/// whose abbreviations cannot be the first word of SQL are listed, so
/// `SAVEPOINT`, `RENAME` or `COMMENT` are never taken for `SAVE`, `REM`, `COL`.
const COMMANDS: &[(&str, usize)] = &[
    ("ACCEPT", 3),
    ("ARCHIVE", 7),
    ("ATTRIBUTE", 4),
    ("BREAK", 3),
    ("BTITLE", 3),
    ("CLEAR", 2),
    ("COLUMN", 3),
    ("COMPUTE", 4),
    ("CONNECT", 4),
    ("COPY", 4),
    ("DEFINE", 3),
    ("DESCRIBE", 4),
    ("DISCONNECT", 4),
    ("EXECUTE", 4),
    ("EXIT", 4),
    ("GET", 3),
    ("HELP", 4),
    ("HOST", 2),
    ("PASSWORD", 5),
    ("PAUSE", 3),
    ("PRINT", 3),
    ("PROMPT", 3),
    ("QUIT", 4),
    ("RECOVER", 7),
    ("REMARK", 3),
    ("REPFOOTER", 4),
    ("REPHEADER", 4),
    ("RUN", 1),
    ("SAVE", 3),
    ("SET", 3),
    ("SHOW", 3),
    ("SHUTDOWN", 8),
    ("SPOOL", 3),
    ("START", 3),
    ("STARTUP", 7),
    ("STORE", 5),
    ("TIMING", 4),
    ("TTITLE", 3),
    ("UNDEFINE", 5),
    ("VARIABLE", 3),
    ("WHENEVER", 8),
    ("XQUERY", 6),
];

/// `SET` starts these Oracle SQL statements; any other `SET` is SQL*Plus's.
const SQL_SET: &[&str] = &["transaction", "role", "constraint", "constraints"];

/// The SQL*Plus command a statement starting with `first second` is, if any.
pub(crate) fn command(first: &[u8], second: &[u8]) -> Option<Command> {
    let (name, _) = COMMANDS.iter().find(|(name, min)| {
        first.len() >= *min
            && first.len() <= name.len()
            && name
                .as_bytes()
                .get(..first.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(first))
    })?;
    Some(match *name {
        "SET" if SQL_SET.iter().any(|k| is_kw(second, k)) => return None,
        "EXECUTE" => Command::Exec,
        "EXIT" | "QUIT" => Command::Quit,
        "RUN" => Command::Run,
        "REMARK" => Command::Remark,
        other => Command::Other(other),
    })
}

/// Whether a statement starting with `words` is a PL/SQL unit: `DECLARE`,
/// `BEGIN`, `WITH FUNCTION|PROCEDURE`, or `CREATE [OR REPLACE]
/// [[NON]EDITIONABLE|EDITIONING] [AND RESOLVE|COMPILE] [NOFORCE]` followed by
/// `PROCEDURE|FUNCTION|PACKAGE|TRIGGER|TYPE|LIBRARY|JAVA`. SQL*Plus reads
/// those, `CREATE TYPE … AS OBJECT` included, until a `/` line.
pub(crate) fn is_plsql(words: &[&[u8]]) -> bool {
    let w = |i: usize| words.get(i).copied().unwrap_or_default();
    if is_kw(w(0), "declare") || is_kw(w(0), "begin") {
        return true;
    }
    if is_kw(w(0), "with") {
        return is_kw(w(1), "function") || is_kw(w(1), "procedure");
    }
    if !is_kw(w(0), "create") {
        return false;
    }
    let mut i = 1;
    if is_kw(w(i), "or") && is_kw(w(i + 1), "replace") {
        i += 2;
    }
    if ["editionable", "noneditionable", "editioning"]
        .iter()
        .any(|k| is_kw(w(i), k))
    {
        i += 1;
    }
    if is_kw(w(i), "and") && (is_kw(w(i + 1), "resolve") || is_kw(w(i + 1), "compile")) {
        i += 2;
    }
    if is_kw(w(i), "noforce") {
        i += 1;
    }
    [
        "procedure",
        "function",
        "package",
        "trigger",
        "type",
        "library",
        "java",
    ]
    .iter()
    .any(|k| is_kw(w(i), k))
}
