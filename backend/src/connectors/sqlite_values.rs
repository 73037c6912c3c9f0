//! SQLite values and errors: typed cells from a value's storage class refined by the column's
//! declared type, and rusqlite errors named by SQLite's result code.

use rusqlite::types::ValueRef;

use super::support::iso_datetime;
use super::{Cell, Column, DbError, DbErrorKind};

pub(crate) fn columns(
    meta: &[(String, Option<String>)],
    first_row: Option<&[ValueRef<'_>]>,
) -> Vec<Column> {
    meta.iter()
        .enumerate()
        .map(|(i, (name, decl))| Column {
            name: name.clone(),
            type_name: decl.clone().unwrap_or_else(|| {
                first_row
                    .and_then(|r| r.get(i))
                    .map_or("", |v| storage_class(*v))
                    .to_string()
            }),
        })
        .collect()
}

fn storage_class(v: ValueRef<'_>) -> &'static str {
    match v {
        ValueRef::Null => "NULL",
        ValueRef::Integer(_) => "INTEGER",
        ValueRef::Real(_) => "REAL",
        ValueRef::Text(_) => "TEXT",
        ValueRef::Blob(_) => "BLOB",
    }
}

/// A cell from the value's storage class, refined by the column's declared type (SQLite has no
/// date or boolean storage: they are text or integers by convention, which the declaration tells).
pub(crate) fn cell(v: ValueRef<'_>, decl: Option<&str>) -> Cell {
    let decl = decl.unwrap_or("").to_ascii_uppercase();
    match v {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(i) if decl.contains("BOOL") => Cell::Bool(i != 0),
        ValueRef::Integer(i) => Cell::Int(i),
        ValueRef::Real(f) if f.is_finite() => Cell::Float(f),
        ValueRef::Real(f) => Cell::Text(f.to_string()),
        ValueRef::Blob(b) => Cell::Bytes(hex::encode(b)),
        ValueRef::Text(t) => {
            let s = String::from_utf8_lossy(t).into_owned();
            if decl.contains("DATETIME") || decl.contains("TIMESTAMP") {
                Cell::Timestamp(iso_datetime(&s))
            } else if decl == "DATE" {
                Cell::Date(s)
            } else if decl == "TIME" {
                Cell::Time(s)
            } else if decl.contains("JSON") {
                Cell::json(s)
            } else {
                Cell::Text(s)
            }
        }
    }
}

/// A rusqlite error as a DbError named by SQLite's result code ("SQLITE_CONSTRAINT_UNIQUE").
pub(crate) fn classify(e: &rusqlite::Error, timed_out: bool) -> DbError {
    match e {
        rusqlite::Error::SqliteFailure(err, msg) => {
            let kind = match err.code {
                rusqlite::ErrorCode::OperationInterrupted if timed_out => DbErrorKind::Timeout,
                rusqlite::ErrorCode::OperationInterrupted => DbErrorKind::Cancelled,
                rusqlite::ErrorCode::AuthorizationForStatementDenied => DbErrorKind::Auth,
                _ => DbErrorKind::Statement,
            };
            let message = msg.clone().unwrap_or_else(|| err.to_string());
            DbError::new(kind, Some(code_name(err.extended_code)), message)
        }
        // A prepare error that points at a token: keep SQLite's message, add where it is.
        rusqlite::Error::SqlInputError {
            error, msg, offset, ..
        } => DbError::new(
            DbErrorKind::Statement,
            Some(code_name(error.extended_code)),
            format!("{msg} (at byte {offset})"),
        ),
        rusqlite::Error::MultipleStatement | rusqlite::Error::InvalidQuery => {
            DbError::new(DbErrorKind::Statement, None, e.to_string())
        }
        other => DbError::internal(other.to_string()),
    }
}

/// SQLite's name for a result code: the common extended constraint codes by name, otherwise
/// the primary code's name (the low byte of an extended code).
pub(crate) fn code_name(extended: i32) -> String {
    let name = match extended {
        275 => "SQLITE_CONSTRAINT_CHECK",
        787 => "SQLITE_CONSTRAINT_FOREIGNKEY",
        1299 => "SQLITE_CONSTRAINT_NOTNULL",
        1555 => "SQLITE_CONSTRAINT_PRIMARYKEY",
        2067 => "SQLITE_CONSTRAINT_UNIQUE",
        _ => {
            const PRIMARY: [&str; 29] = [
                "SQLITE_OK",
                "SQLITE_ERROR",
                "SQLITE_INTERNAL",
                "SQLITE_PERM",
                "SQLITE_ABORT",
                "SQLITE_BUSY",
                "SQLITE_LOCKED",
                "SQLITE_NOMEM",
                "SQLITE_READONLY",
                "SQLITE_INTERRUPT",
                "SQLITE_IOERR",
                "SQLITE_CORRUPT",
                "SQLITE_NOTFOUND",
                "SQLITE_FULL",
                "SQLITE_CANTOPEN",
                "SQLITE_PROTOCOL",
                "SQLITE_EMPTY",
                "SQLITE_SCHEMA",
                "SQLITE_TOOBIG",
                "SQLITE_CONSTRAINT",
                "SQLITE_MISMATCH",
                "SQLITE_MISUSE",
                "SQLITE_NOLFS",
                "SQLITE_AUTH",
                "SQLITE_FORMAT",
                "SQLITE_RANGE",
                "SQLITE_NOTADB",
                "SQLITE_NOTICE",
                "SQLITE_WARNING",
            ];
            let primary = usize::try_from(extended & 0xff).unwrap_or(usize::MAX);
            return PRIMARY
                .get(primary)
                .map_or_else(|| format!("SQLITE_{extended}"), |n| (*n).to_string());
        }
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_codes_are_named_as_sqlite_names_them() {
        assert_eq!(code_name(1), "SQLITE_ERROR");
        assert_eq!(code_name(9), "SQLITE_INTERRUPT");
        assert_eq!(code_name(2067), "SQLITE_CONSTRAINT_UNIQUE");
        assert_eq!(code_name(8 | (5 << 8)), "SQLITE_READONLY");
    }

    #[test]
    fn declared_types_refine_storage_classes() {
        assert_eq!(
            cell(ValueRef::Integer(1), Some("boolean")),
            Cell::Bool(true)
        );
        assert_eq!(
            cell(ValueRef::Text(b"2024-01-02 03:04:05"), Some("DATETIME")),
            Cell::Timestamp("2024-01-02T03:04:05".into())
        );
        assert_eq!(cell(ValueRef::Text(b""), None), Cell::Text(String::new()));
        assert_eq!(cell(ValueRef::Null, Some("TEXT")), Cell::Null);
    }
}
