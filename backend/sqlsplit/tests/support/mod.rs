//! Helpers shared by the integration tests.
#![allow(dead_code)]

use sqlsplit::{split, Dialect, Split, StatementKind};

/// The SQL texts `dialect` would send for `script`.
pub fn sqls(dialect: Dialect, script: &str) -> Vec<String> {
    split(dialect, script)
        .statements
        .into_iter()
        .map(|s| s.sql)
        .collect()
}

/// The start lines of the statements.
pub fn lines(split: &Split) -> Vec<usize> {
    split.statements.iter().map(|s| s.line).collect()
}

pub fn kinds(split: &Split) -> Vec<StatementKind> {
    split.statements.iter().map(|s| s.kind).collect()
}

/// The texts of the skipped client lines.
pub fn skipped(split: &Split) -> Vec<&str> {
    split.skipped.iter().map(|s| s.text.as_str()).collect()
}

pub const ALL: [Dialect; 4] = [
    Dialect::Postgres,
    Dialect::Mysql,
    Dialect::Oracle,
    Dialect::Sqlite,
];
